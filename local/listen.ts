import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on `port` (0: any free one) and `host`; the bound port and the host as a URL spells it. */
export async function listen(
  server: Server,
  port = 0,
  host = '127.0.0.1',
): Promise<{ port: number; host: string }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound, address } = server.address() as AddressInfo;
  return { port: bound, host: address.includes(':') ? `[${address}]` : address };
}
