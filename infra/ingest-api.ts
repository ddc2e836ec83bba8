import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { envelopeSchema } from '../events/schemas.js';
import { FIREHOSE_LIMITS } from '../lake/delivery.js';
import type { FirelakeConfig } from './config.js';

// The optional HTTP ingest API: API Gateway (REST) puts events straight into the pipeline, no
// Lambda in the path. POST /events takes one event, POST /events/batch an array of up to 500.
// Bodies are validated against the envelope schema of events/schemas.ts (the transform still
// validates the specifics). With a Kinesis source the API writes to the Kinesis stream,
// partitioned by user uuid (per-user order); otherwise to Firehose.

export interface IngestApiProps {
  namePrefix: string;
  api: FirelakeConfig['api'];
  stream: firehose.IDeliveryStream;
  streamName: string;
  sourceStream?: kinesis.IStream;
}

type Draft07 = { [key: string]: unknown };

/** events/schemas.ts schemas are draft-07; API Gateway models are draft-04 (same keywords here). */
export function toApiGatewaySchema(schema: Draft07): apigateway.JsonSchema {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === '$id') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, Draft07>).map(([k, v]) => [k, toApiGatewaySchema(v)]),
      );
    } else if (key === 'oneOf' || key === 'anyOf' || key === 'allOf') {
      out[key] = (value as Draft07[]).map(toApiGatewaySchema);
    } else if (key === 'items') {
      out.items = toApiGatewaySchema(value as Draft07);
    } else {
      out[key] = value;
    }
  }
  return out as apigateway.JsonSchema;
}

/** VTL: the partition key of one event `$e` (user uuid, else the user's own uuid, else the event uuid). */
const PARTITION_KEY_VTL = [
  '#set($pk = "$!e.event_specifics.user_uuid")',
  '#if($pk == "")#set($pk = "$!e.event_specifics.uuid")#end',
  '#if($pk == "")#set($pk = "$!e.event_uuid")#end',
].join('\n');

/** Characters of a packed record (VTL measures UTF-16 characters; ASCII events: bytes). */
export const API_PACK_CHARS = 5000;

/**
 * VTL of POST /events/batch to Firehose: the array's events packed newline-delimited into
 * records of at most API_PACK_CHARS characters and 500 events (the stream's RecordDeAggregation
 * splits them again; docs/packing.md), or one event per record with `?pack=off`.
 * Firehose then answers per record: with packing, resend the whole batch when FailedPutCount > 0
 * (dedup makes the repeats tombstones), or use `?pack=off` for an answer per event.
 */
export function firehoseBatchTemplate(streamName: string): string {
  return [
    `{"DeliveryStreamName": "${streamName}", "Records": [`,
    "#if($input.params('pack') == 'off')",
    "#set($i = 0)#foreach($e in $input.path('$'))",
    '{"Data": "$util.base64Encode($input.json("$[$i]"))"}#if($foreach.hasNext),#end',
    '#set($i = $i + 1)#end',
    '#else',
    // $nl is a newline: the separator of JSON sub-records.
    '#set($nl = "\n")#set($pack = "")#set($n = 0)#set($first = true)#set($i = 0)',
    "#foreach($e in $input.path('$'))",
    '#set($line = $input.json("$[$i]"))',
    `#if($n > 0 && ($n == ${FIREHOSE_LIMITS.maxRecordsPerBatch} || $pack.length() + $line.length() + 1 > ${API_PACK_CHARS}))`,
    '#if(!$first),#end{"Data": "$util.base64Encode($pack)"}#set($first = false)#set($pack = "")#set($n = 0)',
    '#end',
    '#if($n == 0)#set($pack = $line)#else#set($pack = "$pack$nl$line")#end',
    '#set($n = $n + 1)#set($i = $i + 1)',
    '#end',
    '#if($n > 0)#if(!$first),#end{"Data": "$util.base64Encode($pack)"}#end',
    '#end',
    ']}',
  ].join('\n');
}

export class IngestApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly apiKey?: apigateway.IApiKey;
  readonly url: string;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);
    const { api } = props;
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${props.namePrefix}-ingest`,
      description: 'Firelake event ingestion: events straight into the delivery pipeline',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Execution logging needs the account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        throttlingRateLimit: api.rateLimit,
        throttlingBurstLimit: api.burstLimit,
      },
    });
    this.url = this.api.url;

    const role = new iam.Role(this, 'IntegrationRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway: put events into the Firelake stream',
    });
    if (props.sourceStream) props.sourceStream.grantWrite(role);
    else {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: [props.stream.deliveryStreamArn],
        }),
      );
    }

    const event = toApiGatewaySchema(envelopeSchema as unknown as Draft07);
    const single = this.api.addModel('Event', {
      modelName: 'Event',
      contentType: 'application/json',
      schema: { ...event, schema: apigateway.JsonSchemaVersion.DRAFT4, title: 'event' },
    });
    const batch = this.api.addModel('EventBatch', {
      modelName: 'EventBatch',
      contentType: 'application/json',
      schema: {
        schema: apigateway.JsonSchemaVersion.DRAFT4,
        title: 'events',
        type: apigateway.JsonSchemaType.ARRAY,
        minItems: 1,
        maxItems: FIREHOSE_LIMITS.maxRecordsPerBatch,
        items: event,
      },
    });
    const validator = this.api.addRequestValidator('Body', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // Say which field is wrong instead of API Gateway's bare "Invalid request body".
    this.api.addGatewayResponse('BadBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      templates: {
        'application/json': '{"message": "invalid event", "errors": "$context.error.validationErrorString"}',
      },
    });

    const kinesisStream = props.sourceStream;
    const integration = (kind: 'single' | 'batch') => {
      const template = kinesisStream
        ? kind === 'single'
          ? [
              "#set($e = $input.path('$'))",
              PARTITION_KEY_VTL,
              `{"StreamName": "${kinesisStream.streamName}", "PartitionKey": "$util.escapeJavaScript($pk)", "Data": "$util.base64Encode($input.json('$'))"}`,
            ].join('\n')
          : [
              `{"StreamName": "${kinesisStream.streamName}", "Records": [`,
              "#set($i = 0)#foreach($e in $input.path('$'))",
              PARTITION_KEY_VTL,
              '{"PartitionKey": "$util.escapeJavaScript($pk)", "Data": "$util.base64Encode($input.json("$[$i]"))"}#if($foreach.hasNext),#end',
              '#set($i = $i + 1)#end',
              ']}',
            ].join('\n')
        : kind === 'single'
          ? `{"DeliveryStreamName": "${props.streamName}", "Record": {"Data": "$util.base64Encode($input.json('$'))"}}`
          : firehoseBatchTemplate(props.streamName);
      return new apigateway.AwsIntegration({
        service: kinesisStream ? 'kinesis' : 'firehose',
        action: kinesisStream
          ? kind === 'single'
            ? 'PutRecord'
            : 'PutRecords'
          : kind === 'single'
            ? 'PutRecord'
            : 'PutRecordBatch',
        options: {
          credentialsRole: role,
          passthroughBehavior: apigateway.PassthroughBehavior.NEVER,
          requestParameters: { 'integration.request.header.Content-Type': "'application/x-amz-json-1.1'" },
          requestTemplates: { 'application/json': template },
          integrationResponses: [
            // A batch answer carries per-record failures (FailedPutCount/FailedRecordCount):
            // passed through so the producer resends only those, as with the SDK.
            { statusCode: '200', responseTemplates: { 'application/json': "$input.json('$')" } },
            {
              statusCode: '400',
              selectionPattern: '4\\d{2}',
              responseTemplates: { 'application/json': "$input.json('$')" },
            },
            {
              statusCode: '503',
              selectionPattern: '5\\d{2}',
              responseTemplates: { 'application/json': "$input.json('$')" },
            },
          ],
        },
      });
    };
    const methodOptions = (model: apigateway.IModel): apigateway.MethodOptions => ({
      apiKeyRequired: api.auth === 'api-key',
      authorizationType:
        api.auth === 'iam' ? apigateway.AuthorizationType.IAM : apigateway.AuthorizationType.NONE,
      requestValidator: validator,
      requestModels: { 'application/json': model },
      methodResponses: [{ statusCode: '200' }, { statusCode: '400' }, { statusCode: '503' }],
    });
    const events = this.api.root.addResource('events');
    events.addMethod('POST', integration('single'), methodOptions(single));
    events.addResource('batch').addMethod('POST', integration('batch'), methodOptions(batch));

    if (api.auth === 'api-key') {
      const plan = this.api.addUsagePlan('Producers', {
        name: `${props.namePrefix}-producers`,
        throttle: { rateLimit: api.rateLimit, burstLimit: api.burstLimit },
        quota: api.dailyQuota ? { limit: api.dailyQuota, period: apigateway.Period.DAY } : undefined,
      });
      plan.addApiStage({ stage: this.api.deploymentStage });
      this.apiKey = this.api.addApiKey('ProducerKey', {
        apiKeyName: `${props.namePrefix}-producer`,
        description: 'Key for event producers (header x-api-key)',
      });
      plan.addApiKey(this.apiKey);
      Validations.of(this.api).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Producers authenticate with an API key and a usage plan; set firelake:apiAuth=iam for SigV4.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason: 'Machine producers, no user pool: API key (or IAM with firelake:apiAuth=iam).',
        },
      );
    } else {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'Machine producers sign requests with IAM (SigV4); there is no user pool.',
      });
    }
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason: "AWS's policy for API Gateway's account-level logging role, the role execution logs require.",
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Stage throttling and request validation protect the API; attach a WAF web ACL when exposed publicly.',
    });
  }
}
