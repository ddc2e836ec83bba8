import { describe, expect, it } from 'vitest';
import { AWS_DELIVERY } from '../../lake/delivery.js';
import { partitionKeysAt } from '../../lake/layout.js';
import {
  evaluatePartitionKeys,
  evaluatePrefix,
  formatJavaDate,
  objectKey,
  PrefixEvaluationError,
  randomString,
} from '../../local/prefix.js';

const AT = Date.UTC(2026, 0, 5, 7, 8, 9, 45);

describe('prefix evaluation', () => {
  it('evaluates the lake prefix from the Lambda partition keys', () => {
    const keys = partitionKeysAt('quarantine', Date.UTC(2026, 10, 20, 23, 59, 1));
    expect(evaluatePrefix(AWS_DELIVERY.prefix, { partitionKeys: keys })).toBe(
      'quarantine/year=2026/month=11/day=20/hour=23/minute=59/',
    );
  });

  it('evaluates the error prefix with the error output type and the arrival day', () => {
    expect(
      evaluatePrefix(AWS_DELIVERY.errorPrefix, { errorOutputType: 'processing-failed', timestampMs: AT }),
    ).toBe('errors/processing-failed/year=2026/month=01/day=05/');
  });

  it('leaves timestamp and firehose expressions for write time when only partition keys are known', () => {
    const partial = evaluatePartitionKeys('!{partitionKeyFromLambda:a}/!{timestamp:yyyy}/', { a: 'x' });
    expect(partial).toBe('x/!{timestamp:yyyy}/');
    expect(evaluatePrefix(partial, { timestampMs: AT })).toBe('x/2026/');
  });

  it('refuses a record whose partition key is missing or empty', () => {
    expect(() => evaluatePartitionKeys(AWS_DELIVERY.prefix, { dataset: 'staging' })).toThrow(
      PrefixEvaluationError,
    );
    expect(() => evaluatePrefix('!{partitionKeyFromLambda:a}/', { partitionKeys: { a: '' } })).toThrow(/"a"/);
  });

  it('refuses unknown namespaces and error-output-type outside the error prefix', () => {
    expect(() => evaluatePrefix('!{partitionKeyFromQuery:a}/', {})).toThrow(/unknown namespace/);
    expect(() => evaluatePrefix('!{firehose:error-output-type}/', {})).toThrow(/error prefix/);
  });

  it('refuses an evaluated prefix over 512 characters', () => {
    expect(() =>
      evaluatePrefix('!{partitionKeyFromLambda:a}/', { partitionKeys: { a: 'x'.repeat(512) } }),
    ).toThrow(/512/);
  });

  it('gives 11 alphanumeric characters for firehose:random-string, different each time', () => {
    const a = evaluatePrefix('r=!{firehose:random-string}/', {});
    expect(a).toMatch(/^r=[A-Za-z0-9]{11}\/$/);
    expect(new Set(Array.from({ length: 20 }, randomString)).size).toBe(20);
  });
});

describe('Java timestamp patterns', () => {
  it.each([
    ['yyyy/MM/dd/HH', '2026/01/05/07'],
    ['yyyy-MM-dd HH:mm:ss.SSS', '2026-01-05 07:08:09.045'],
    ["yyyy'T'HH", '2026T07'],
    ["'year='yyyy/'month='M", 'year=2026/month=1'],
    ['yy MMM d D', '26 Jan 5 5'],
    ['hh a', '07 AM'],
    ["''yyyy''", "'2026'"],
  ])('formats %s as %s (UTC)', (pattern, expected) => {
    expect(formatJavaDate(pattern, AT)).toBe(expected);
  });

  it('uses UTC, not the local zone, across a day boundary', () => {
    expect(formatJavaDate('yyyy-MM-dd HH', Date.UTC(2026, 11, 31, 23, 30))).toBe('2026-12-31 23');
  });

  it('refuses pattern letters it cannot format faithfully', () => {
    expect(() => formatJavaDate('yyyy ZZ', AT)).toThrow(/"Z"/);
    expect(() => formatJavaDate("yyyy 'open", AT)).toThrow(/quote/);
  });
});

describe('object names', () => {
  it('names objects <prefix><stream>-<version>-<yyyy>-<MM>-<dd>-<HH>-<mm>-<ss>-<uuid>.gz', () => {
    const uuid = '0b2f6c1e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(objectKey('staging/x/', { name: 'firelake-events', version: 1 }, AT, uuid, '.gz')).toBe(
      `staging/x/firelake-events-1-2026-01-05-07-08-09-${uuid}.gz`,
    );
  });
});
