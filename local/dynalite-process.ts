import { type DynaliteOptions, startDynalite } from './dynamodb.js';

// Child-process entry of startDynalite({ separateProcess: true }): dynalite on its own core, so
// the transform's DynamoDB calls do not share one event loop with the server answering them.
// Options come as JSON in argv[2]; the endpoint goes back over IPC; the parent leaving ends it.

// It makes and removes its socket's folder itself: it also stops when the parent was killed.
const options = JSON.parse(process.argv[2] ?? '{}') as DynaliteOptions;
const dynamo = await startDynalite(options);
process.send?.({ endpoint: dynamo.endpoint, socketPath: dynamo.socketPath });
const stop = () => {
  dynamo.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
// Ctrl-C reaches the whole process group: the parent decides when DynamoDB stops.
process.on('SIGINT', () => {});
