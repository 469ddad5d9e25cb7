/**
 * The one retry helper: exponential back-off with full jitter, an explicit test of what is retryable, and an
 * injected random source and sleep, so tests are seeded and run on a simulated clock. Waiting for minutes belongs
 * in the state machine (a Wait state or a Retry), not here: a Lambda retries only for seconds.
 */

/** How to retry; every field but `retryable` and `random` has a default. */
export interface RetryPolicy {
  /** Whether a failure is worth another attempt; anything else is rethrown at once. */
  readonly retryable: (error: unknown, attempt: number) => boolean;
  /** Attempts in all, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** The cap of the first back-off, in milliseconds; it doubles each attempt. @default 200 */
  readonly baseDelayMs?: number;
  /** The largest back-off cap, in milliseconds. @default 5000 */
  readonly maxDelayMs?: number;
  /** A number in [0, 1): `deps.random`, seeded locally and in tests. */
  readonly random: () => number;
  /** Waits; the local runtime passes its simulated clock's. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * A delay the failure itself asks for (a Retry-After), in milliseconds; the back-off waits at least that long.
   * @default none
   */
  readonly requestedDelayMs?: (error: unknown) => number | undefined;
}

const timerSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The wait before attempt `attempt + 1` (attempt counts from 1): full jitter, a random share of
 * `min(maxDelayMs, baseDelayMs * 2^(attempt-1))`, as AWS's architecture blog recommends ("Exponential Backoff And
 * Jitter"), and at least what the failure asked for.
 */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, error?: unknown): number {
  const base = policy.baseDelayMs ?? 200;
  const cap = Math.min(policy.maxDelayMs ?? 5000, base * 2 ** (attempt - 1));
  const jittered = Math.floor(policy.random() * cap);
  const asked = error === undefined ? undefined : policy.requestedDelayMs?.(error);
  return Math.max(jittered, asked ?? 0);
}

/** Runs `work` until it succeeds, fails with what is not retryable, or runs out of attempts (the last error). */
export async function retry<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const maxAttempts = policy.maxAttempts ?? 5;
  const sleep = policy.sleep ?? timerSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || !policy.retryable(error, attempt)) throw error;
      await sleep(backoffDelayMs(policy, attempt, error));
    }
  }
}
