import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { type DuckDbType, specificsFields } from '../events/curated.js';
import type { QuarantineRecord, StagedEvent } from '../events/types.js';
import { CURATED_GLUE_ENV, glueColumns } from '../iceberg/glue-schema.js';
import { newTableMetadata } from '../iceberg/metadata.js';
import { LATE_SHELF, PREFIX } from '../lake/layout.js';
import type { FirelakeConfig } from './config.js';
import { ATHENA_RESULTS_PREFIX } from './lake-bucket.js';

// The Glue Data Catalog over the lake: curated events as an Apache Iceberg table, staging and
// quarantine as gzip NDJSON with partition projection, so Athena finds new minutes without
// crawlers or MSCK REPAIR TABLE. Columns come from events/curated.ts and events/types.ts (through
// the Iceberg schema for curated), the same source as the data.
//
// The curated table is created as Glue creates Iceberg tables (OpenTableFormatInput.IcebergInput,
// MetadataOperation CREATE, format version 2: Glue writes an empty table's metadata under the
// location); compaction's first commit replaces that metadata with Firelake's (the partition spec,
// the snapshots) through UpdateTable (iceberg/glue-catalog.ts), and Athena reads the snapshot the
// table's `metadata_location` names. Its partitions are the Iceberg spec's (day of created_at,
// language): no projection, no partition keys, every language visible.

const HIVE_TYPE: Record<DuckDbType, string> = {
  VARCHAR: 'string',
  BIGINT: 'bigint',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
};

/** event_specifics as a Hive struct: the union of every event's fields (events/curated.ts). */
export function specificsHiveType(): string {
  return `struct<${specificsFields()
    .map((f) => `${f.name}:${HIVE_TYPE[f.type]}`)
    .join(',')}>`;
}

/** The curated table's Glue name: Athena queries `<database>.curated_events`. */
export const CURATED_TABLE_NAME = 'curated_events';

/** The curated table's columns as Glue shows them: its Iceberg schema's, `language` included. */
export function curatedGlueColumns(): glue.CfnTable.ColumnProperty[] {
  return glueColumns(newTableMetadata('s3://lake/curated/events', 0)).map((c) => ({
    name: c.Name,
    type: c.Type,
  }));
}

/** What a function may do to the curated table: read its current version, or commit new ones. */
export type CuratedAccess = 'read' | 'commit';

/** Glue actions per access: GetTable reads the pointer, UpdateTable swaps it (the commit). */
export const CURATED_GLUE_ACTIONS: Record<CuratedAccess, string[]> = {
  read: ['glue:GetTable'],
  commit: ['glue:GetTable', 'glue:UpdateTable'],
};

// Typed by the staging/quarantine line types: a field added there fails the type-check here.
// Timestamps stay strings: the JSON SerDe does not parse ISO-8601 with a zone reliably.
const STAGING_COLUMNS: Record<keyof StagedEvent, string> = {
  event_uuid: 'string',
  event_name: 'string',
  event_type: 'string',
  event_subtype: 'string',
  created_at: 'string',
  received_at: 'string',
  user_uuid: 'string',
  language: 'string',
  event_specifics: '',
  subscription_status: 'string',
  subscription_type: 'string',
  country: 'string',
  enrichment_status: 'string',
  // The JSON SerDe gives an object's JSON text to a string column.
  extras: 'string',
  replayed_from: 'string',
};

const QUARANTINE_COLUMNS: Record<keyof QuarantineRecord, string> = {
  reason: 'string',
  received_at: 'string',
  record_id: 'string',
  event_uuid: 'string',
  event_name: 'string',
  created_at: 'string',
  errors: 'array<struct<path:string,message:string>>',
  payload: 'string',
  payload_base64: 'string',
  first_record_id: 'string',
  replayed_from: 'string',
};

export interface GlueCatalogProps {
  namePrefix: string;
  catalog: FirelakeConfig['catalog'];
  bucket: s3.IBucket;
}

const two = (name: string, min: number, max: number) => ({
  [`projection.${name}.type`]: 'integer',
  [`projection.${name}.range`]: `${min},${max}`,
  [`projection.${name}.digits`]: '2',
});

export class GlueCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  /** The curated Iceberg table (its pointer moves with each compaction commit). */
  readonly curated: glue.CfnTable;
  readonly staging: glue.CfnTable;
  readonly quarantine: glue.CfnTable;
  /** An Athena workgroup with encrypted results in the lake bucket, ready to query the tables. */
  readonly workgroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: GlueCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Glue names: lower case, underscores.
    this.databaseName = `${props.namePrefix.replace(/-/g, '_')}_lake`;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'Firelake event lake (curated, staging, quarantine)',
      },
    });
    const location = (prefix: string) => `s3://${props.bucket.bucketName}/${prefix}`;
    const year = {
      'projection.year.type': 'date',
      'projection.year.format': 'yyyy',
      'projection.year.range': `${props.catalog.firstYear},NOW`,
      'projection.year.interval': '1',
      'projection.year.interval.unit': 'YEARS',
    };
    const minutePartitions = ['year', 'month', 'day', 'hour', 'minute'].map((name) => ({
      name,
      type: 'string',
    }));
    // Staging's hour runs to 24: each day's late shelf (lake/layout.ts LATE_SHELF).
    const minuteProjection = (prefix: string, lastHour: number) => ({
      'projection.enabled': 'true',
      ...year,
      ...two('month', 1, 12),
      ...two('day', 1, 31),
      ...two('hour', 0, lastHour),
      ...two('minute', 0, 59),
      'storage.location.template': `${location(prefix)}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/minute=\${minute}/`,
    });
    const json = {
      inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
      outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
      serdeInfo: { serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe' },
    };

    // A new logical id and name: CloudFormation creates the Iceberg table before it deletes the
    // Hive table `events` it replaces (data files are not touched).
    this.curated = new glue.CfnTable(this, 'CuratedIceberg', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      openTableFormatInput: { icebergInput: { metadataOperation: 'CREATE', version: '2' } },
      tableInput: {
        name: CURATED_TABLE_NAME,
        description: 'Curated events: an Apache Iceberg table (v2), committed by compaction',
        tableType: 'EXTERNAL_TABLE',
        storageDescriptor: {
          location: location(PREFIX.curatedEvents),
          columns: curatedGlueColumns(),
        },
      },
    });

    this.staging = new glue.CfnTable(this, 'Staging', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: 'staging_events',
        description: 'Staging: the transform output as delivered (gzip NDJSON), by event-time minute',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: minutePartitions,
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          EXTERNAL: 'TRUE',
          ...minuteProjection(PREFIX.staging, Number(LATE_SHELF.hour)),
        },
        storageDescriptor: {
          location: location(PREFIX.staging),
          columns: Object.entries(STAGING_COLUMNS).map(([name, type]) => ({
            name,
            type: name === 'event_specifics' ? specificsHiveType() : type,
          })),
          ...json,
        },
      },
    });

    this.quarantine = new glue.CfnTable(this, 'Quarantine', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: 'quarantine',
        description: 'Quarantined records with their reason, by arrival minute',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: minutePartitions,
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          EXTERNAL: 'TRUE',
          ...minuteProjection(PREFIX.quarantine, 23),
        },
        storageDescriptor: {
          location: location(PREFIX.quarantine),
          columns: Object.entries(QUARANTINE_COLUMNS).map(([name, type]) => ({ name, type })),
          ...json,
        },
      },
    });
    for (const table of [this.curated, this.staging, this.quarantine])
      table.node.addDependency(this.database);

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: props.namePrefix,
      description: 'Firelake lake queries (engine v3, results encrypted, 30 days)',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: location(ATHENA_RESULTS_PREFIX),
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
  }

  /**
   * Wires a compaction function to the curated table: the variables it finds the table by and
   * exactly the Glue actions the access needs, on the catalog, the database and that table (Glue
   * authorizes GetTable and UpdateTable on all three).
   */
  bindCuratedTable(fn: lambda.Function, access: CuratedAccess): void {
    const stack = Stack.of(this);
    fn.addEnvironment(CURATED_GLUE_ENV.database, this.databaseName);
    fn.addEnvironment(CURATED_GLUE_ENV.table, CURATED_TABLE_NAME);
    const arn = (resource: 'catalog' | 'database' | 'table', resourceName?: string) =>
      stack.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: CURATED_GLUE_ACTIONS[access],
        resources: [
          arn('catalog'),
          arn('database', this.databaseName),
          arn('table', `${this.databaseName}/${CURATED_TABLE_NAME}`),
        ],
      }),
    );
  }
}
