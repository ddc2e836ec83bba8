import { createServer } from 'node:http';
import { listen } from '../listen.js';
import { LIVE_PAGE } from './page.js';
import type { LiveStats } from './stats.js';

// The live page of `firelake serve`: GET / is the page, GET /stats.json its figures, which the
// page fetches once a second from the same origin. Loopback by default, read-only.

export interface LiveServer {
  url: string;
  close(): Promise<void>;
}

export async function startLiveServer(
  stats: LiveStats,
  options: { host?: string; port?: number } = {},
): Promise<LiveServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(LIVE_PAGE);
    } else if (path === '/stats.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(stats.snapshot()));
    } else if (path === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  const { port, host } = await listen(server, options.port, options.host);
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
