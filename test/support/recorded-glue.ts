import * as glue from '@aws-sdk/client-glue';
import { GlueClient } from '@aws-sdk/client-glue';
import { NormalizedSchema } from '@smithy/core/schema';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { clientConfig } from '../../aws/clients.js';

// A MOCK of the AWS Glue Data Catalog: no Glue runs offline. It is the real GlueClient (the
// production retry policy of aws/clients.ts, the SDK's own awsJson1_1 serializer and error
// deserializer) with a request handler that answers from a scripted table instead of the network.
// Every request is checked against the SDK's Glue schemas (`@aws-sdk/client-glue` exports each
// shape as `<Shape>$`, read through @smithy/core's NormalizedSchema): before serialization, the
// command's input may use only members its shape defines and must have the required ones (a
// static structure schema lists its required members first and counts them in its 7th slot);
// on the wire, the JSON body must again be a valid instance of the input shape, and every answer
// a valid instance of the output shape. A request that fails the check fails the command.
//
// What the table does follows the Glue API reference: GetTable answers the table with its
// VersionId; UpdateTable replaces the table with TableInput when VersionId is absent or equal to
// the current one (then the VersionId advances), and answers ConcurrentModificationException
// otherwise; EntityNotFoundException for a table that does not exist.

/** The table as GetTable answers it (wire shape: Glue's `Table`). */
export interface RecordedTable {
  Name: string;
  DatabaseName: string;
  TableType?: string;
  Description?: string;
  Parameters?: Record<string, string>;
  StorageDescriptor?: Record<string, unknown>;
  PartitionKeys?: unknown[];
  VersionId: string;
}

export interface RecordedRequest {
  operation: string;
  /** The command's input as the caller gave it. */
  input: Record<string, unknown>;
  /** The JSON body the SDK sent. */
  wire: Record<string, unknown>;
  /** What the mock answered: `ok`, an error code, or `no answer`. */
  outcome: string;
}

/**
 * A scripted fault, consumed by the next requests of an operation:
 * - `drop`: the request never reaches the table; the caller gets a network error.
 * - `apply-then-drop`: the table applies it, the answer is lost (a network error).
 * - an error code (`AccessDeniedException`, ...): a 400 with that code, nothing applied.
 * - a function: runs before the request is answered (another writer commits meanwhile).
 */
export type Fault = 'drop' | 'apply-then-drop' | { error: string; status?: number } | (() => Promise<void>);

const SCHEMAS = glue as unknown as Record<string, unknown>;

/** Problems of a value against a Glue shape, as `path: problem` lines (empty when valid). */
export function shapeProblems(schema: unknown, value: unknown, path = '$'): string[] {
  const out: string[] = [];
  check(NormalizedSchema.of(schema as never), value, path, out);
  return out;
}

function check(ns: NormalizedSchema, value: unknown, path: string, out: string[]): void {
  if (value === undefined || value === null) return;
  if (ns.isStructSchema()) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      out.push(`${path}: ${ns.getName()} is a structure`);
      return;
    }
    const sc = ns.getSchema() as unknown as [number, string, string, unknown, string[], unknown[], number?];
    const names = sc[4];
    const required = sc[6] ?? 0;
    const record = value as Record<string, unknown>;
    for (const k of Object.keys(record))
      if (!names.includes(k) && record[k] !== undefined)
        out.push(`${path}.${k}: not a member of ${ns.getName()}`);
    for (const k of names.slice(0, required))
      if (record[k] === undefined) out.push(`${path}.${k}: required by ${ns.getName()}`);
    for (const [k, member] of ns.structIterator()) check(member, record[k], `${path}.${k}`, out);
  } else if (ns.isListSchema()) {
    if (!Array.isArray(value)) out.push(`${path}: a list`);
    else for (const [i, v] of value.entries()) check(ns.getValueSchema(), v, `${path}[${i}]`, out);
  } else if (ns.isMapSchema()) {
    if (typeof value !== 'object' || Array.isArray(value)) out.push(`${path}: a map`);
    else for (const [k, v] of Object.entries(value)) check(ns.getValueSchema(), v, `${path}.${k}`, out);
  } else if (ns.isStringSchema()) {
    if (typeof value !== 'string') out.push(`${path}: a string`);
  } else if (ns.isBooleanSchema()) {
    if (typeof value !== 'boolean') out.push(`${path}: a boolean`);
  } else if (ns.isNumericSchema()) {
    if (typeof value !== 'number') out.push(`${path}: a number`);
  } else if (ns.isTimestampSchema()) {
    if (!(value instanceof Date) && typeof value !== 'number') out.push(`${path}: a timestamp`);
  }
}

/** The input and output schemas of a Glue operation, from the SDK's exports. */
function operationSchemas(operation: string): { input: unknown; output: unknown } {
  const op = SCHEMAS[`${operation}$`] as [number, string, string, unknown, unknown, unknown] | undefined;
  if (op?.[0] !== 9) throw new Error(`recorded Glue: the SDK has no operation ${operation}`);
  return { input: op[4], output: op[5] };
}

class ShapeError extends Error {
  constructor(operation: string, where: string, problems: string[]) {
    super(`recorded Glue: ${operation} ${where} does not fit the SDK's shape: ${problems.join('; ')}`);
    this.name = 'ShapeError';
  }
}

export class RecordedGlue {
  readonly client: GlueClient;
  readonly requests: RecordedRequest[] = [];
  /** The table, or undefined when it does not exist. */
  table: RecordedTable | undefined;
  private readonly faults = new Map<string, Fault[]>();
  private pendingInput: Record<string, unknown> | undefined;

  constructor(table: RecordedTable | undefined) {
    this.table = table ? structuredClone(table) : undefined;
    this.client = new GlueClient({
      ...clientConfig({ region: 'eu-west-1' }),
      credentials: { accessKeyId: 'RECORDED', secretAccessKey: 'RECORDED' },
      requestHandler: { handle: (request: HttpRequest) => this.handle(request) },
    });
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName).replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        const problems = shapeProblems(operationSchemas(operation).input, input);
        if (problems.length > 0) throw new ShapeError(operation, 'input', problems);
        this.pendingInput = structuredClone(input);
        return next(args);
      },
      { step: 'initialize', name: 'recordedGlueShapeCheck' },
    );
  }

  /** Scripts the next `times` requests of an operation. */
  fail(operation: string, fault: Fault, times = 1): this {
    const queue = this.faults.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(operation, queue);
    return this;
  }

  /** Operations received, in order. */
  operations(): string[] {
    return this.requests.map((r) => r.operation);
  }

  private async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.replace(/^AWSGlue\./, '');
    const body: unknown = request.body;
    const text = body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : String(body ?? '{}');
    const wire = JSON.parse(text) as Record<string, unknown>;
    const schemas = operationSchemas(operation);
    const problems = shapeProblems(schemas.input, wire);
    if (problems.length > 0) throw new ShapeError(operation, 'request body', problems);
    const recorded: RecordedRequest = {
      operation,
      input: this.pendingInput ?? {},
      wire,
      outcome: 'ok',
    };
    this.requests.push(recorded);
    const fault = this.faults.get(operation)?.shift();
    if (typeof fault === 'function') await fault();
    if (fault === 'drop') {
      recorded.outcome = 'no answer';
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    if (typeof fault === 'object') {
      recorded.outcome = fault.error;
      return this.error(fault.status ?? 400, fault.error, 'scripted');
    }
    const answer = this.answer(operation, wire);
    if ('error' in answer) {
      recorded.outcome = answer.error;
      return this.error(400, answer.error, answer.message);
    }
    const outputProblems = shapeProblems(schemas.output, answer.body);
    if (outputProblems.length > 0) throw new ShapeError(operation, 'answer', outputProblems);
    if (fault === 'apply-then-drop') {
      recorded.outcome = 'applied, no answer';
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    return {
      response: {
        statusCode: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1' },
        body: Buffer.from(JSON.stringify(answer.body)),
      },
    };
  }

  private answer(
    operation: string,
    input: Record<string, unknown>,
  ): { body: Record<string, unknown> } | { error: string; message: string } {
    const t = this.table;
    const found = t && input.DatabaseName === t.DatabaseName;
    if (operation === 'GetTable') {
      if (!found || input.Name !== t.Name)
        return { error: 'EntityNotFoundException', message: `Table ${String(input.Name)} not found.` };
      return { body: { Table: { ...structuredClone(t), CreateTime: 1_765_000_000 } } };
    }
    if (operation === 'UpdateTable') {
      const tableInput = input.TableInput as Record<string, unknown> | undefined;
      if (!tableInput) return { error: 'InvalidInputException', message: 'TableInput is required' };
      if (!found || tableInput.Name !== t.Name)
        return { error: 'EntityNotFoundException', message: `Table ${String(tableInput.Name)} not found.` };
      if (input.VersionId !== undefined && input.VersionId !== t.VersionId)
        return {
          error: 'ConcurrentModificationException',
          message: 'Update table failed due to concurrent modifications.',
        };
      this.table = {
        ...(structuredClone(tableInput) as unknown as RecordedTable),
        DatabaseName: t.DatabaseName,
        VersionId: String(Number(t.VersionId) + 1),
      };
      return { body: {} };
    }
    throw new Error(`recorded Glue: no script for ${operation}`);
  }

  private error(status: number, code: string, message: string): { response: HttpResponse } {
    return {
      response: {
        statusCode: status,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': code },
        body: Buffer.from(JSON.stringify({ __type: code, Message: message })),
      },
    };
  }
}
