import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

// Debian's chromium, driven by puppeteer-core (no browser download): .ci/run installs it when
// /usr/bin/chromium is missing. FIRELAKE_CHROMIUM points elsewhere.
export const CHROMIUM = process.env.FIRELAKE_CHROMIUM ?? '/usr/bin/chromium';

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no browser at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set FIRELAKE_CHROMIUM`,
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
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
