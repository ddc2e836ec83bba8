import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { generateRecords } from '../../generator/index.js';
import { launchBrowser, watchPage } from '../support/browser.js';
import { cliArgv } from '../support/compiled.js';

// The live page of `firelake serve`, as a person watches it: the serve process prints its URL on
// stderr, chromium opens it, and while a producer sends through the Firehose endpoint the figures
// on the page rise.

const dir = mkdtempSync(join(tmpdir(), 'firelake-live-'));
let browser: Browser | undefined;
let child: ChildProcess | undefined;
afterAll(async () => {
  await browser?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function figure(page: Page, id: string): Promise<number | null> {
  const value = await page.$eval(`#${id}`, (e) => e.getAttribute('data-value') ?? '');
  return value === '' ? null : Number(value);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the live page of firelake serve', () => {
  it('shows figures that rise while a producer sends, and the events staged', async () => {
    child = spawn(process.execPath, [...cliArgv(), 'serve', '--data-dir', join(dir, 'data'), '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    const env: Record<string, string> = {};
    let liveUrl = '';
    const stderr = createInterface({ input: child.stderr! });
    const urlSeen = new Promise<string>((resolve) => {
      stderr.on('line', (line) => {
        const m = /live page: (http:\/\/\S+)/.exec(line);
        if (m) resolve(m[1]!);
      });
    });
    for await (const line of createInterface({ input: child.stdout! })) {
      const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
      if (m) env[m[1]!] = m[2]!;
      if (env.FIRELAKE_STREAM) break; // the last export line
    }
    liveUrl = await urlSeen;
    expect(liveUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 1000 });
    const watch = watchPage(page);
    await page.goto(liveUrl, { waitUntil: 'load' });
    await until('the first figures', async () =>
      (await figure(page, 'records-in')) === 0 ? true : undefined,
    );

    const client = new FirehoseClient({
      endpoint: env.AWS_ENDPOINT_URL_FIREHOSE,
      region: env.AWS_REGION,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY! },
    });
    // Three rounds of 200 generated records (2% bad), a second or more apart; after each the
    // page must show more records in than before.
    const records = [
      ...generateRecords({
        seed: 7,
        start: Date.now() - 120_000,
        durationMs: 120_000,
        maxRecords: 600,
        ratePerSecond: 5,
        badRate: 0.02,
        badKinds: ['invalid_json', 'unknown_event'],
      }),
    ];
    const seen: number[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const batch = records.slice(round * 200, round * 200 + 200);
        const out = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: env.FIRELAKE_STREAM,
            Records: batch.map((r) => ({ Data: Buffer.from(r.data) })),
          }),
        );
        expect(out.FailedPutCount).toBe(0);
        const before = seen[seen.length - 1] ?? 0;
        seen.push(
          await until(`records in above ${before}`, async () => {
            const n = await figure(page, 'records-in');
            return n !== null && n > before ? n : undefined;
          }),
        );
      }
    } finally {
      client.destroy();
    }
    expect(seen[2]).toBe(records.length);

    // The transform's work reaches the page: records out, staged, quarantined by reason,
    // latency of the objects written, and the last events staged, read back from the lake.
    await until('every record through the transform', async () =>
      (await figure(page, 'records-out')) === records.length ? true : undefined,
    );
    const p50 = await until(
      'a send-to-staged latency',
      async () => (await figure(page, 'latency-p50')) ?? undefined,
    );
    expect(p50).toBeGreaterThan(0);
    expect(await figure(page, 'latency-p99')).toBeGreaterThanOrEqual(p50);
    expect(await figure(page, 'invocations')).toBeGreaterThan(0);
    expect(await figure(page, 'staged')).toBeGreaterThan(0);
    expect(await figure(page, 'quarantined')).toBeGreaterThan(0);
    const reasons = await page.$$eval('#reasons tr td:first-child', (tds) => tds.map((t) => t.textContent));
    expect(reasons).toEqual(expect.arrayContaining(['invalid_json']));
    const last = await until('the last events staged', async () => {
      const names = await page.$$eval('#last tr td:first-child', (tds) =>
        tds.map((t) => t.textContent ?? ''),
      );
      return names.length > 1 && names.every((n) => /^[a-z]+:[a-z_]+$/.test(n)) ? names : undefined;
    });
    expect(last.length).toBeLessThanOrEqual(10);
    const points = await page.$eval('#rates .in', (e) => e.getAttribute('points') ?? '');
    expect(points.split(' ').length).toBeGreaterThan(1);

    expect(watch.consoleErrors).toEqual([]);
    expect(watch.failedRequests).toEqual([]);
    mkdirSync('.test-output', { recursive: true });
    await page.screenshot({ path: '.test-output/live.png', fullPage: true });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
