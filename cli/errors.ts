/** The CLI's errors; `run.ts` turns each into its exit code. Each sets `name`, which survives minification. */

/** Bad flags or arguments, or no credentials for a remote API: names the flag and how to fix it (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    readonly fix: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** The API answered 4xx: what it said, and its error body for `--json` (exit 3). */
export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    message: string,
    readonly fix: string | undefined,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The API could not be reached, answered 5xx or something unreadable (exit 4). */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  constructor(
    message: string,
    readonly fix: string,
    readonly body?: unknown,
    /** Whether a call may have reached the API (false when every attempt failed to connect). */
    readonly mayHaveArrived = true,
  ) {
    super(message);
  }
}

/** A usage error of `command`. */
export function usage(command: string, message: string, fix: string): UsageError {
  return new UsageError(message, fix, command);
}
