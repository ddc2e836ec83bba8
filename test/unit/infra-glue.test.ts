import { Match } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { CURATED_GLUE_ENV } from '../../iceberg/glue-schema.js';
import { CURATED_TABLE_NAME } from '../../infra/glue-catalog.js';
import {
  actionsOf,
  defaultPolicyOf,
  identityStatements,
  logicalId,
  ofType,
  type Synthesized,
  synth,
} from '../infra-synth.js';

// The curated Iceberg table in the synthesized stack, and the Glue access of the functions that
// commit it: exactly GetTable and UpdateTable on that table (its catalog and database included,
// as Glue authorizes them), the variables that name it set by the same binding.

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

const DATABASE = 'firelake_lake';
const arnText = (r: unknown) => JSON.stringify(r);
const glueStatements = () =>
  identityStatements(s).filter((x) => actionsOf(x.statement).some((a) => a.startsWith('glue:')));

describe('curated glue table', () => {
  it('is an Iceberg table (format 2) that CloudFormation creates as Glue creates one', () => {
    s.template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: DATABASE,
      OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE', Version: '2' } },
      TableInput: Match.objectLike({
        Name: CURATED_TABLE_NAME,
        TableType: 'EXTERNAL_TABLE',
        StorageDescriptor: Match.objectLike({
          Location: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/curated/events/$')])] },
        }),
      }),
    });
  });

  it('replaces the Hive curated table; staging and quarantine stay NDJSON tables', () => {
    const tables = ofType(s, 'AWS::Glue::Table').map(([, t]) => t.Properties!);
    const names = tables.map((t) => (t.TableInput as { Name: string }).Name).sort();
    expect(names).toEqual([CURATED_TABLE_NAME, 'quarantine', 'staging_events']);
    const iceberg = tables.filter((t) => t.OpenTableFormatInput !== undefined);
    expect(iceberg.map((t) => (t.TableInput as { Name: string }).Name)).toEqual([CURATED_TABLE_NAME]);
    for (const name of ['staging_events', 'quarantine'])
      s.template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: name,
          StorageDescriptor: Match.objectLike({
            SerdeInfo: { SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
          }),
        }),
      });
  });
});

describe('compaction glue access', () => {
  const committing = (): [string, lambda.Function][] => [
    ['compaction', s.stack.compaction.fn],
    ['fan-out unit', s.stack.compactionFanOut.unitFn],
    ['fan-out commit', s.stack.compactionFanOut.commitFn],
  ];

  it.each([
    ['compaction', 'commit'],
    ['fan-out unit', 'commit'],
    ['fan-out commit', 'commit'],
    ['fan-out plan', 'read'],
  ] as const)('gives the %s function the table in its environment and %s access to it', (name, access) => {
    const fn =
      name === 'fan-out plan' ? s.stack.compactionFanOut.planFn : committing().find(([n]) => n === name)![1];
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({
          [CURATED_GLUE_ENV.database]: DATABASE,
          [CURATED_GLUE_ENV.table]: CURATED_TABLE_NAME,
        }),
      },
    });
    const env = (
      s.resources[logicalId(s, fn)]!.Properties!.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(env[CURATED_GLUE_ENV.table]).toBe(CURATED_TABLE_NAME);
    const policy = defaultPolicyOf(s, fn.role!);
    const statements = glueStatements().filter((x) => x.policy === policy);
    expect(statements).toHaveLength(1);
    const [{ statement }] = statements as [(typeof statements)[number]];
    expect(actionsOf(statement).sort()).toEqual(
      access === 'commit' ? ['glue:GetTable', 'glue:UpdateTable'] : ['glue:GetTable'],
    );
    const resources = (statement.Resource as unknown[]).map(arnText);
    expect(resources).toHaveLength(3);
    expect(resources[0]).toMatch(/:glue:eu-west-1:123456789012:catalog"/);
    expect(resources[1]).toMatch(new RegExp(`:glue:eu-west-1:123456789012:database/${DATABASE}"`));
    expect(resources[2]).toMatch(
      new RegExp(`:glue:eu-west-1:123456789012:table/${DATABASE}/${CURATED_TABLE_NAME}"`),
    );
  });

  it('grants Glue actions to no other role, and no Glue action beyond GetTable and UpdateTable', () => {
    const expected = new Set(
      [...committing().map(([, fn]) => fn), s.stack.compactionFanOut.planFn].map((fn) =>
        defaultPolicyOf(s, fn.role!),
      ),
    );
    const statements = glueStatements();
    expect(new Set(statements.map((x) => x.policy))).toEqual(expected);
    for (const x of statements)
      for (const a of actionsOf(x.statement)) expect(['glue:GetTable', 'glue:UpdateTable']).toContain(a);
  });

  it('passes cdk-nag with the Glue grants', () => {
    expect(s.nagErrors()).toEqual([]);
  });
});
