import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import type { LambdaAccount } from '../infra/preflight.js';
import { FirelakeError } from '../lake/errors.js';

/** What a LambdaClient, or anything with its `send`, is asked for. */
export interface LambdaSender {
  send(command: GetAccountSettingsCommand): Promise<{
    AccountLimit?: { ConcurrentExecutions?: number; UnreservedConcurrentExecutions?: number };
  }>;
}

export class LambdaSettingsError extends FirelakeError {
  static override readonly code: string = 'LAMBDA_SETTINGS_UNREADABLE';
  override name = 'LambdaSettingsError';
}

/** The account's Lambda limits in the client's region (GetAccountSettings). */
export async function readLambdaAccount(lambda: LambdaSender): Promise<LambdaAccount> {
  let out: Awaited<ReturnType<LambdaSender['send']>>;
  try {
    out = await lambda.send(new GetAccountSettingsCommand({}));
  } catch (error) {
    throw new LambdaSettingsError(
      `could not read the account's Lambda settings (GetAccountSettings): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const limit = out.AccountLimit?.ConcurrentExecutions;
  const unreserved = out.AccountLimit?.UnreservedConcurrentExecutions;
  if (limit === undefined || unreserved === undefined) {
    throw new LambdaSettingsError('GetAccountSettings answered without AccountLimit.ConcurrentExecutions');
  }
  return { concurrentExecutions: limit, unreservedConcurrentExecutions: unreserved };
}
