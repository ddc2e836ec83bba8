import { open, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

// A file-URL adapter for readers that fetch every file they read (icebird, hyparquet): a folder
// lake's Iceberg metadata names its files by file:///... URIs, which Node's fetch does not
// serve. This answers GET and HEAD of file: URLs from disk as an object store would, byte ranges
// included (206 with Content-Range), and hands every other URL to the real fetch. The readers'
// own parsing of what they fetch is what runs; only the transport is local.

/** Calls `body` with globalThis.fetch serving file: URLs; the real fetch is restored after. */
export async function withFileUrlFetch<T>(body: () => Promise<T>): Promise<T> {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith('file:')) return realFetch(input, init);
    return serveFile(fileURLToPath(url), init);
  }) as typeof fetch;
  try {
    return await body();
  } finally {
    globalThis.fetch = realFetch;
  }
}

async function serveFile(path: string, init: RequestInit | undefined): Promise<Response> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    return new Response(null, { status: 404, statusText: 'Not Found' });
  }
  const length = (n: number) => ({ 'content-length': String(n) });
  if ((init?.method ?? 'GET').toUpperCase() === 'HEAD')
    return new Response(null, { status: 200, headers: length(size) });
  const range = new Headers(init?.headers).get('range');
  if (!range) return new Response(await read(path, 0, size), { status: 200, headers: length(size) });
  const m = /^bytes=(\d+)-(\d*)$/.exec(range);
  const start = m ? Number(m[1]) : Number.NaN;
  const end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  if (!m || start > end) {
    return new Response(null, { status: 416, headers: { 'content-range': `bytes */${size}` } });
  }
  return new Response(await read(path, start, end - start + 1), {
    status: 206,
    headers: { ...length(end - start + 1), 'content-range': `bytes ${start}-${end}/${size}` },
  });
}

async function read(path: string, position: number, n: number): Promise<Uint8Array> {
  const handle = await open(path);
  try {
    const buffer = Buffer.alloc(n);
    await handle.read(buffer, 0, n, position);
    return buffer;
  } finally {
    await handle.close();
  }
}
