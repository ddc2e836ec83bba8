import { Aws, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { tableNameFor } from '../lake/settings.js';
import { TABLES, type TableId } from '../transform/tables.js';
import { capacityOf, type FirelakeConfig } from './config.js';

// The transform's DynamoDB tables, built from transform/tables.ts TABLES: the same key
// definitions the transform and local/dynamodb.ts use, so the stack cannot disagree with them.

/**
 * The DynamoDB calls the transform makes on each table (transform/dynamo.ts: a conditional
 * PutItem for dedup markers and state, BatchGetItem for reads). Nothing else is granted;
 * test/unit/infra-stack.test.ts checks this list against the commands the transform's code sends.
 */
export const TRANSFORM_TABLE_ACTIONS: Record<TableId, readonly string[]> = {
  dedup: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
  users: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
  subscriptions: ['dynamodb:PutItem', 'dynamodb:BatchGetItem'],
};

export interface StateTablesProps {
  namePrefix: string;
  tables: FirelakeConfig['tables'];
  removalPolicy: RemovalPolicy;
}

// Key types of TABLES in DynamoDB's terms (every key is a string today).
const ATTRIBUTE_TYPE = { S: dynamodb.AttributeType.STRING } as const;

export class StateTables extends Construct {
  readonly tables: Record<TableId, dynamodb.Table>;

  constructor(scope: Construct, id: string, props: StateTablesProps) {
    super(scope, id);
    const { billing } = props.tables;
    // Retained tables outlive the stack: a fixed name would make the next deploy after a
    // `cdk destroy` fail ("already exists"). Theirs ends with the first 8 hex digits of the
    // stack's id, the same for the stack's life and new for each stack created. Tables deleted
    // with the stack keep the plain name, as locally.
    const retained = props.removalPolicy === RemovalPolicy.RETAIN;
    const stackSuffix = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
    const make = (tableId: TableId): dynamodb.Table => {
      const def: (typeof TABLES)[TableId] = TABLES[tableId];
      const capacity = billing.mode === 'provisioned' ? capacityOf(billing, tableId) : undefined;
      const pitr =
        tableId === 'dedup'
          ? (props.tables.dedupPointInTimeRecovery ?? props.tables.pointInTimeRecovery)
          : props.tables.pointInTimeRecovery;
      const table = new dynamodb.Table(this, tableId, {
        tableName: retained
          ? Fn.join('-', [tableNameFor(props.namePrefix, tableId), stackSuffix])
          : tableNameFor(props.namePrefix, tableId),
        partitionKey: { name: def.partitionKey.name, type: ATTRIBUTE_TYPE[def.partitionKey.type] },
        sortKey:
          'sortKey' in def ? { name: def.sortKey.name, type: ATTRIBUTE_TYPE[def.sortKey.type] } : undefined,
        timeToLiveAttribute: 'ttlAttribute' in def ? def.ttlAttribute : undefined,
        billingMode:
          billing.mode === 'on-demand'
            ? dynamodb.BillingMode.PAY_PER_REQUEST
            : dynamodb.BillingMode.PROVISIONED,
        readCapacity: capacity?.minRead,
        writeCapacity: capacity?.minWrite,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: pitr },
        removalPolicy: props.removalPolicy,
      });
      if (!pitr) {
        Validations.of(table).acknowledge({
          id: 'AwsSolutions-DDB3',
          reason:
            tableId === 'dedup'
              ? 'Dedup markers matter only inside the dedup window, and compaction drops duplicates a lost table lets through (tables.dedupPointInTimeRecovery = false).'
              : 'Point-in-time recovery turned off by configuration (tables.pointInTimeRecovery = false).',
        });
      }
      if (billing.mode === 'provisioned' && capacity) {
        table
          .autoScaleReadCapacity({ minCapacity: capacity.minRead, maxCapacity: capacity.maxRead })
          .scaleOnUtilization({ targetUtilizationPercent: billing.targetUtilization });
        table
          .autoScaleWriteCapacity({ minCapacity: capacity.minWrite, maxCapacity: capacity.maxWrite })
          .scaleOnUtilization({ targetUtilizationPercent: billing.targetUtilization });
      }
      return table;
    };
    this.tables = { dedup: make('dedup'), users: make('users'), subscriptions: make('subscriptions') };
  }

  /**
   * Wires one table to a function: the environment variable the function reads the name from
   * (TABLES[id].envVar) and the IAM grant for exactly `actions`, set together so neither can be
   * forgotten (the pattern of Powertools' bindTable).
   */
  bindTable(fn: lambda.Function, tableId: TableId, actions: readonly string[]): void {
    const table = this.tables[tableId];
    fn.addEnvironment(TABLES[tableId].envVar, table.tableName);
    table.grant(fn, ...actions);
  }

  /** Every table the transform uses, with the calls it makes on each. */
  bindTransform(fn: lambda.Function): void {
    for (const tableId of Object.keys(TRANSFORM_TABLE_ACTIONS) as TableId[]) {
      this.bindTable(fn, tableId, TRANSFORM_TABLE_ACTIONS[tableId]);
    }
  }
}
