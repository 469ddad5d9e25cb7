/**
 * An error the local cloud returns to a client in the wire shape of the service that raised it.
 * `code` is AWS's exception name (or Query error code), so the SDK raises the same typed exception it would
 * against AWS.
 */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  readonly code: string;
  /** HTTP status; when absent the service's catalogue decides. */
  readonly status: number | undefined;
  /** Extra members of the error shape, for example `Reason` of Organizations' ConstraintViolationException. */
  readonly fields: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { status?: number; fields?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.code = code;
    this.status = options.status;
    this.fields = options.fields ?? {};
  }
}

/** Status of errors that are the same across services. */
const commonStatus: Record<string, number> = {
  AccessDenied: 403,
  AccessDeniedException: 403,
  InternalFailure: 500,
  InternalError: 500,
  ServiceException: 500,
  ServiceFailure: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
  Throttling: 400,
  ThrottlingException: 400,
  TooManyRequestsException: 400,
  RequestLimitExceeded: 503,
  ExpiredToken: 400,
  InvalidClientTokenId: 403,
  MissingAuthenticationToken: 403,
  IncompleteSignature: 400,
};

export function statusOf(error: AwsError, catalogue: Record<string, number>): number {
  return error.status ?? catalogue[error.code] ?? commonStatus[error.code] ?? 400;
}
