import type { AwsCredentialIdentity } from '@aws-sdk/types';

/**
 * What the CLI touches outside itself, injectable so tests drive it without a terminal, a network or a clock:
 * `main.ts` passes the process's; tests pass a fake server's fetch, string sinks, an instant sleep and a seeded
 * random source.
 */
export interface VendIo {
  fetch: typeof globalThis.fetch;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** Waits between polls of `--watch` and before a retried call. */
  sleep: (ms: number) => Promise<void>;
  /** A number in [0, 1) for the retries' jitter. Default: Math.random. */
  random?: () => number;
  /** Whether stdout is a terminal: `--watch` redraws in place there, and appends lines otherwise. */
  isTTY: boolean;
  /** The terminal's width, to keep redrawn lines from wrapping. */
  columns?: number;
  /**
   * The caller's AWS credentials, or undefined when there are none. Default: `AWS_ACCESS_KEY_ID` and
   * `AWS_SECRET_ACCESS_KEY` from `env`, else the AWS SDK's default provider chain (profiles, SSO, web identity,
   * container and instance metadata).
   */
  credentials?: (options: { local: boolean }) => Promise<AwsCredentialIdentity | undefined>;
  readFile?: (path: string) => Promise<string>;
  /** Makes the Idempotency-Key of a `request` given none. */
  newIdempotencyKey?: () => string;
}

/** The exit codes scripts can rely on; `vend --help` documents them. */
export const EXIT = {
  /** Done; for `status` and `--watch`: the request succeeded, or is still under way without `--watch`. */
  ok: 0,
  /** The request failed (its status is `failed`). */
  requestFailed: 1,
  /** Bad flags or arguments, or no credentials for a remote API: nothing was sent. */
  usage: 2,
  /** The API refused the call (4xx). */
  refused: 3,
  /** The API could not be reached, answered 5xx, or answered something unreadable. */
  unavailable: 4,
} as const;
