import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { chooseBrowser } from './browser-path.js';

// Debian's chromium when installed, else the one the npm package @sparticuz/chromium ships
// (test/support/browser-path.ts says how to force either), driven by puppeteer-core.
export async function launchBrowser(): Promise<Browser> {
  const { path } = chooseBrowser();
  return puppeteer.launch({
    executablePath: path,
    // Root on CI: chromium's sandbox needs a user namespace it does not get there.
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}
/** What a page did that a person would not want: console errors, page errors, failed or extra requests. */
export interface PageWatch {
  consoleErrors: string[];
  failedRequests: string[];
  requests: string[];
}

export function watchPage(page: Page): PageWatch {
  const watch: PageWatch = { consoleErrors: [], failedRequests: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') watch.consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => watch.consoleErrors.push(`pageerror: ${(e as Error).message}`));
  page.on('request', (r) => watch.requests.push(r.url()));
  page.on('requestfailed', (r) => watch.failedRequests.push(`${r.url()}: ${r.failure()?.errorText}`));
  return watch;
}
