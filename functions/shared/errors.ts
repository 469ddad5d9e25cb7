/**
 * Workflow errors. Their `name` is the contract with the state machine's Retry and Catch `ErrorEquals`
 * (a test checks that every name the ASL mentions is here, and the other way round). Each sets `name`
 * literally so that it survives minification.
 */

/** AWS asked us to slow down (TooManyRequestsException, Throttling, ThrottlingException ...): retry with back-off. */
export class ThrottledError extends Error {
  override readonly name = 'Vend.Throttled';
}

/** Another change to the same resource is in progress (ConcurrentModificationException, PriorRequestNotComplete). */
export class ConcurrentModificationError extends Error {
  override readonly name = 'Vend.ConcurrentModification';
}

/** A transient failure on AWS's side (5xx, network): retry. */
export class TransientError extends Error {
  override readonly name = 'Vend.Transient';
}

/** The organization has as many account creations in progress as it allows: wait for a slot, then retry. */
export class CreationSlotsFullError extends Error {
  override readonly name = 'Vend.CreationSlotsFull';
}

/** The new account's IAM is not usable yet (AssumeRole refused shortly after creation): retry over minutes. */
export class AccountNotReadyError extends Error {
  override readonly name = 'Vend.AccountNotReady';
}

/** Slack did not take the message (rate limited or down): retry later. */
export class SlackUnavailableError extends Error {
  override readonly name = 'Vend.SlackUnavailable';
}

/**
 * A failure that retrying will not mend: the request ends, and the requester is told why and what to do.
 * `advice` is written for the requester.
 */
export class VendFailureError extends Error {
  override readonly name = 'Vend.Failed';
  constructor(
    message: string,
    readonly advice: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Every workflow error name, for the contract test with the ASL. */
export const WORKFLOW_ERROR_NAMES = [
  'Vend.Throttled',
  'Vend.ConcurrentModification',
  'Vend.Transient',
  'Vend.CreationSlotsFull',
  'Vend.AccountNotReady',
  'Vend.SlackUnavailable',
  'Vend.Failed',
] as const;

const THROTTLING = new Set([
  'TooManyRequestsException',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ProvisionedThroughputExceededException',
]);
const CONCURRENT = new Set([
  'ConcurrentModificationException',
  'PriorRequestNotComplete',
  'ConcurrentModification',
]);
const TRANSIENT = new Set([
  'ServiceException',
  'ServiceFailure',
  'ServiceFailureException',
  'InternalFailure',
  'InternalError',
  'InternalErrorException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/**
 * Maps an AWS SDK error to the workflow error that says how to treat it, by exception name and HTTP status,
 * never by message text. Errors that are not transient are returned as they are.
 */
export function classifyAwsError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const name = error.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const message = `${name}: ${error.message}`;
  if (THROTTLING.has(name)) return new ThrottledError(message, { cause: error });
  if (CONCURRENT.has(name)) return new ConcurrentModificationError(message, { cause: error });
  if (TRANSIENT.has(name) || (status !== undefined && status >= 500))
    return new TransientError(message, { cause: error });
  const code = (error as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EPIPE') {
    return new TransientError(message, { cause: error });
  }
  return error;
}

/** Runs an AWS call and rethrows its failure as the workflow error that says how to treat it. */
export async function aws<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw classifyAwsError(error);
  }
}

/** Whether an SDK error has the given exception name. */
export function isAwsError(error: unknown, ...names: string[]): error is Error {
  return error instanceof Error && names.includes(error.name);
}
