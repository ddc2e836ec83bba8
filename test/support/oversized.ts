import { request } from 'node:http';

/**
 * POSTs a PutRecordBatch body of `mb` MiB to the local Firehose, its length declared up front and
 * written as the socket drains (exactly the bytes declared: a write that returns false has still
 * queued its chunk). Resolves with the HTTP status answered.
 */
export function postDeclaredBody(endpoint: string, mb: number): Promise<number> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        headers: {
          'x-amz-target': 'Firehose_20150804.PutRecordBatch',
          'content-type': 'application/x-amz-json-1.1',
          'content-length': mb * 1024 * 1024,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      while (sent < mb) {
        sent++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}
