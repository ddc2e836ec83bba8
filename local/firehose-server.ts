import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import { FirelakeError } from '../lake/errors.js';
import type { DeliveryStream, PutResult } from './delivery-stream.js';
import { describeDeliveryStream, SUPPORTED_OPERATIONS, UNSUPPORTED_OPERATIONS } from './firehose-describe.js';
import { listen } from './listen.js';

// The Firehose API on loopback, as @aws-sdk/client-firehose speaks it (awsJson 1.1): POST /
// with X-Amz-Target Firehose_20150804.<Operation>, JSON bodies, errors as JSON with __type.
// SigV4 signatures are accepted without verification: this endpoint has no account.

const TARGET_PREFIX = 'Firehose_20150804.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
// Base64 of 4 MiB plus JSON framing, with room: a larger body is refused before parsing.
const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** How long the rest of a refused body is read and dropped before its connection is cut. */
const REFUSED_BODY_DRAIN_MS = 10_000;

export interface FirehoseServer {
  /** http://127.0.0.1:<port>, for AWS_ENDPOINT_URL_FIREHOSE. */
  endpoint: string;
  port: number;
  /**
   * Stops taking connections, answers the requests in flight (waiting at most `graceMs` for
   * them) and closes every connection: an idle keep-alive socket or a half-sent request never
   * holds a stop.
   */
  close(graceMs?: number): Promise<void>;
}

export interface FirehoseServerOptions {
  streams: readonly DeliveryStream[];
  host?: string;
  port?: number;
  accountId?: string;
  /** The lake's location, for DescribeDeliveryStream. */
  lakeLocation?: string;
  log?: (line: string) => void;
  /** How long the rest of a refused oversized body is read before its connection is cut. */
  refusedBodyDrainMs?: number;
}

/** An API error as Firehose returns it: HTTP status, `__type`, message. */
class ApiError extends FirelakeError {
  static override readonly code: string = 'FIREHOSE_API_ERROR';
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function startFirehoseServer(options: FirehoseServerOptions): Promise<FirehoseServer> {
  const streams = new Map(options.streams.map((s) => [s.name, s]));
  const accountId = options.accountId ?? '000000000000';
  const log = options.log ?? (() => {});

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      log(`firehose endpoint: ${(error as Error).stack ?? error}`);
      if (!res.headersSent) send(res, 500, { __type: 'InternalFailure', message: 'internal error' });
    });
  });
  server.keepAliveTimeout = 65_000;
  const createdAtMs = Date.now();

  // Requests in flight per connection: at a stop, idle connections are closed at once and busy
  // ones once their answer is sent.
  const inFlight = new Map<Socket, number>();
  let stopping = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const left = (inFlight.get(socket) ?? 1) - 1;
      if (inFlight.has(socket)) inFlight.set(socket, left);
      if (stopping && left === 0) socket.destroy();
    };
    res.once('finish', finish);
    res.once('close', finish);
    if (stopping) res.shouldKeepAlive = false;
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/') {
        throw new ApiError(
          'UnknownOperationException',
          `${req.method} ${req.url} is not a Firehose operation`,
          404,
        );
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (!target.startsWith(TARGET_PREFIX)) {
        throw new ApiError('UnknownOperationException', 'missing or unknown X-Amz-Target');
      }
      const body = await readJson(req, options.refusedBodyDrainMs ?? REFUSED_BODY_DRAIN_MS);
      const operation = target.slice(TARGET_PREFIX.length);
      switch (operation) {
        case 'PutRecordBatch':
          return send(res, 200, await durable(streamOf(body), putRecordBatch(body)));
        case 'PutRecord':
          return send(res, 200, await durable(streamOf(body), putRecord(body)));
        case 'ListDeliveryStreams':
          return send(res, 200, listDeliveryStreams([...streams.keys()], body));
        case 'DescribeDeliveryStream':
          return send(
            res,
            200,
            describeDeliveryStream(streamOf(body), {
              accountId,
              lakeLocation: options.lakeLocation,
              createdAtMs,
            }),
          );
        default:
          throw new ApiError(
            UNSUPPORTED_OPERATIONS.has(operation) ? 'InvalidArgumentException' : 'UnknownOperationException',
            `${operation} is not supported by the local Firehose (firelake serve); it answers ${SUPPORTED_OPERATIONS.join(', ')}`,
          );
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // A refused oversized body was read to its end and dropped (readBody): close.
      if (error.status === 413) res.shouldKeepAlive = false;
      send(res, error.status, { __type: error.type, message: error.message });
    }
  }

  /** stream.put, with a write-ahead log that can no longer be written answered as Firehose would. */
  function take(stream: DeliveryStream, data: Buffer[]): PutResult[] {
    try {
      return stream.put(data);
    } catch (error) {
      throw new ApiError('ServiceUnavailableException', (error as Error).message, 503);
    }
  }

  /** Answers only once the accepted records are in the write-ahead log (wal.ts). */
  async function durable<T>(stream: DeliveryStream, answer: T): Promise<T> {
    try {
      await stream.committed();
    } catch (error) {
      throw new ApiError(
        'ServiceUnavailableException',
        `the local Firehose could not log the records durably: ${(error as Error).message}`,
        503,
      );
    }
    return answer;
  }

  function streamOf(body: Record<string, unknown>): DeliveryStream {
    const name = body.DeliveryStreamName;
    if (typeof name !== 'string' || name.length === 0) {
      throw new ApiError(
        'ValidationException',
        "1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
      );
    }
    const stream = streams.get(name);
    if (!stream) {
      throw new ApiError(
        'ResourceNotFoundException',
        `Firehose ${name} under account ${accountId} not found.`,
      );
    }
    return stream;
  }

  function putRecordBatch(body: Record<string, unknown>) {
    const stream = streamOf(body);
    const records = body.Records;
    if (
      !Array.isArray(records) ||
      records.length < 1 ||
      records.length > FIREHOSE_LIMITS.maxRecordsPerBatch
    ) {
      throw new ApiError('ValidationException', recordCountMessage(records));
    }
    const data = records.map((r, i) => decodeRecord(r, `records.${i + 1}.member.data`));
    const total = data.reduce((sum, d) => sum + d.length, 0);
    if (total > FIREHOSE_LIMITS.maxBatchBytes) {
      throw new ApiError(
        'InvalidArgumentException',
        `Records size exceeds ${FIREHOSE_LIMITS.maxBatchBytes / (1024 * 1024)} MB limit`,
      );
    }
    const results: PutResult[] = take(stream, data);
    const failed = results.filter((r) => 'ErrorCode' in r).length;
    return { FailedPutCount: failed, Encrypted: false, RequestResponses: results };
  }

  function putRecord(body: Record<string, unknown>) {
    const stream = streamOf(body);
    const data = decodeRecord(body.Record, 'record.data');
    const [result] = take(stream, [data]);
    if (!result || 'ErrorCode' in result) {
      throw new ApiError('ServiceUnavailableException', result?.ErrorMessage ?? 'Slow down.', 503);
    }
    return { RecordId: result.RecordId, Encrypted: false };
  }

  const { port, host } = await listen(server, options.port, options.host);
  return {
    endpoint: `http://${host}:${port}`,
    port,
    close: (graceMs = 3_000) =>
      new Promise<void>((resolve) => {
        stopping = true;
        server.close(() => resolve());
        for (const [socket, n] of inFlight) if (n === 0) socket.destroy();
        // A request still being sent after the grace period (a stalled client) is cut off.
        setTimeout(() => {
          for (const socket of inFlight.keys()) socket.destroy();
        }, graceMs).unref();
      }),
  };
}

/**
 * Firehose's validation message for a Records list of the wrong length: its validator shows the
 * list as Java prints it (https://github.com/boto/boto3/issues/1156 quotes one for a long list).
 */
function recordCountMessage(records: unknown): string {
  if (!Array.isArray(records)) {
    return "1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null";
  }
  if (records.length === 0) {
    return "1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1";
  }
  const shown = records.map(
    (_, i) => `com.amazonaws.firehose.v20150804.Record@${(((i + 1) * 0x9e3779b1) >>> 0).toString(16)}`,
  );
  return `1 validation error detected: Value '[${shown.join(', ')}]' at 'records' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordsPerBatch}`;
}

const STREAM_TYPES = ['DirectPut', 'KinesisStreamAsSource', 'MSKAsSource', 'DatabaseAsSource'];

/**
 * ListDeliveryStreams as Firehose answers it: names in order, only streams of the asked
 * DeliveryStreamType (every local stream is DirectPut), those after ExclusiveStartDeliveryStreamName,
 * at most Limit (1-10000, default 10) with HasMoreDeliveryStreams when more remain.
 */
export function listDeliveryStreams(names: readonly string[], body: Record<string, unknown>) {
  const { Limit, DeliveryStreamType, ExclusiveStartDeliveryStreamName } = body;
  if (
    Limit !== undefined &&
    (!Number.isInteger(Limit) || (Limit as number) < 1 || (Limit as number) > 10_000)
  ) {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value '${String(Limit)}' at 'limit' failed to satisfy constraint: Member must have value ${(Limit as number) < 1 ? 'greater than or equal to 1' : 'less than or equal to 10000'}`,
    );
  }
  if (DeliveryStreamType !== undefined && !STREAM_TYPES.includes(DeliveryStreamType as string)) {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value '${String(DeliveryStreamType)}' at 'deliveryStreamType' failed to satisfy constraint: Member must satisfy enum value set: [${STREAM_TYPES.join(', ')}]`,
    );
  }
  const after =
    typeof ExclusiveStartDeliveryStreamName === 'string' ? ExclusiveStartDeliveryStreamName : undefined;
  const directPut = DeliveryStreamType === undefined || DeliveryStreamType === 'DirectPut';
  const matching = directPut ? [...names].sort().filter((n) => after === undefined || n > after) : [];
  const limit = (Limit as number | undefined) ?? 10;
  return {
    DeliveryStreamNames: matching.slice(0, limit),
    HasMoreDeliveryStreams: matching.length > limit,
  };
}

function decodeRecord(record: unknown, path: string): Buffer {
  const data = (record as { Data?: unknown } | null)?.Data;
  if (typeof data !== 'string') {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (data.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw new ApiError('SerializationException', `Value at '${path}' is not valid base64`);
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length > FIREHOSE_LIMITS.maxRecordBytes) {
    throw new ApiError(
      'ValidationException',
      `1 validation error detected: Value at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordBytes}`,
    );
  }
  return bytes;
}

/**
 * The request body, or `oversized` once it passes MAX_BODY_BYTES: the rest is still read and
 * dropped before the 413 is sent. Answered with data still unread, the connection was reset when
 * it closed, and a client still sending got EPIPE instead of the 413 (4 clients in 100 on a
 * loaded machine, 0 in 100 now). A refused body that does not end within `drainMs` has its
 * connection cut.
 */
function readBody(req: IncomingMessage, drainMs: number): Promise<Buffer | 'oversized'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let cut: NodeJS.Timeout | undefined;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (!cut) {
        chunks.length = 0;
        // Cut: no 'end' or 'error' follows, so the read settles here (the answer goes nowhere).
        cut = setTimeout(() => {
          req.destroy();
          resolve('oversized');
        }, drainMs);
      }
    });
    req.once('end', () => {
      clearTimeout(cut);
      resolve(size > MAX_BODY_BYTES ? 'oversized' : Buffer.concat(chunks, size));
    });
    req.once('error', (error) => {
      clearTimeout(cut);
      reject(error);
    });
  });
}

async function readJson(req: IncomingMessage, drainMs: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, drainMs);
  if (body === 'oversized') {
    throw new ApiError('InvalidArgumentException', `request body is over ${MAX_BODY_BYTES} bytes`, 413);
  }
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ApiError(
      'SerializationException',
      `request body is not a JSON object: ${(error as Error).message}`,
    );
  }
}

function send(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (typeof body.__type === 'string') headers['x-amzn-errortype'] = body.__type;
  res.writeHead(status, headers);
  res.end(text);
}
