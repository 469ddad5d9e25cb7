/**
 * Every error class of the functions, in one module: the workflow errors, the registry's, the API's, and those of
 * the configuration, Slack and the event-pattern matcher. Each sets `name` literally (it survives minification)
 * and takes `{ cause }`.
 *
 * Workflow errors: their `name` is the contract with the state machine's Retry and Catch `ErrorEquals`
 * (a test checks that every name the ASL mentions is here, and the other way round).
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

/**
 * An asynchronous Identity Center request (an account assignment's creation, a permission set's provisioning) is
 * still in progress after the step's few polls: retry, and the next attempt finds it done.
 */
export class AssignmentInProgressError extends Error {
  override readonly name = 'Vend.AssignmentInProgress';
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

/**
 * An execution that is not the request's own: started under another name than the request id, or with more in
 * its input than the request id. Vend changes nothing and records nothing against the request; never retried.
 */
export class ExecutionRejectedError extends Error {
  override readonly name = 'Vend.ExecutionRejected';
}

/** Every workflow error name, for the contract test with the ASL. */
export const WORKFLOW_ERROR_NAMES = [
  'Vend.Throttled',
  'Vend.ConcurrentModification',
  'Vend.Transient',
  'Vend.CreationSlotsFull',
  'Vend.AccountNotReady',
  'Vend.SlackUnavailable',
  'Vend.AssignmentInProgress',
  'Vend.Failed',
  'Vend.ExecutionRejected',
] as const;

/**
 * Slack refused the message for good (400 invalid_payload, 403, 404 no_service, 410 ...): retrying will not
 * help, so the state machine does not retry it (no Retry names it) and goes to its Catch.
 */
export class SlackRejectedError extends Error {
  override readonly name = 'Vend.SlackRejected';
  constructor(
    readonly status: number,
    readonly body: string,
    options?: { cause?: unknown },
  ) {
    super(`Slack refused the message: HTTP ${status}${body ? ` ${body}` : ''}`, options);
  }
}

/**
 * A registry write whose condition had to hold did not: the record is missing, or holds something the write may
 * not replace (another CreateAccount request id). A fault of the pipeline, never retried.
 */
export class RegistryConditionFailedError extends Error {
  override readonly name = 'RegistryConditionFailedError';
}

/** A request refused before anything started: the status, the field at fault and how to fix it. */
export class RequestRejectedError extends Error {
  override readonly name = 'RequestRejectedError';
  constructor(
    readonly statusCode: 400 | 403 | 404 | 409 | 413 | 415 | 422,
    readonly field: string,
    message: string,
    readonly fix: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/**
 * An answer of the API other than success, for the caller: the status, the field at fault, what is wrong and the
 * fix. `expose` is true below 500 (as middy's http-errors): only then does the caller see the message; a 5xx says
 * nothing internal.
 */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly expose: boolean;
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details: { field?: string; fix?: string; headers?: Record<string, string> } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.expose = statusCode < 500;
  }
}

/** The pipeline's configuration is invalid: the message names each key at fault and what is wrong with it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** An event pattern uses something the matcher does not implement (a content filter, an empty list, a bare value). */
export class UnsupportedPatternError extends Error {
  override readonly name = 'UnsupportedPatternError';
}

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
  // A cross-account session's credentials expired between the cache's look and the call (STS API reference,
  // ExpiredTokenException; services answer ExpiredToken): the next attempt assumes the role again.
  'ExpiredToken',
  'ExpiredTokenException',
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
