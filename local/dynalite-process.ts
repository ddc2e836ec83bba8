import { type DynaliteOptions, type LocalDynamo, startDynalite } from './dynamodb.js';

// Child-process entry of startDynalite({ separateProcess: true }): dynalite on its own core, so
// the transform's DynamoDB calls do not share one event loop with the server answering them.
// Options come as JSON in argv[2]; the endpoint goes back over IPC; the parent leaving ends it.
// It makes and removes its socket's folder itself: it also stops when the parent was killed.

const options = JSON.parse(process.argv[2] ?? '{}') as DynaliteOptions;
let dynamo: LocalDynamo | undefined;
let stopping = false;
let closing: Promise<void> | undefined;
const stop = () => {
  stopping = true;
  if (!dynamo || closing) return;
  closing = dynamo.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
// Before the endpoint is sent: the parent may stop it at once, and a SIGTERM that came before
// its handler would end the process without a close.
process.on('disconnect', stop);
process.on('SIGTERM', stop);
// Ctrl-C reaches the whole process group: the parent decides when DynamoDB stops.
process.on('SIGINT', () => {});
dynamo = await startDynalite(options);
if (stopping) stop();
else process.send?.({ endpoint: dynamo.endpoint, socketPath: dynamo.socketPath });
