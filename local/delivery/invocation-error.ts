import { FirelakeError } from '../../lake/errors.js';

/** Why an invocation of the transform failed, with Firehose's error code (`Lambda.FunctionError`, ...). */
export class InvocationError extends FirelakeError {
  static override readonly code: string = 'TRANSFORM_INVOCATION_FAILED';
  constructor(
    readonly errorCode: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'InvocationError';
  }
}
