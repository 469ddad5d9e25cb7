/** Waits until `condition` holds, checking on every turn of the event loop, or fails after `timeoutMs` of real time. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits until the async `condition` holds, checking again after each answer, or fails after `timeoutMs` of real time. */
export async function waitUntil(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Checks `probe` until `condition` holds, sleeping a simulated second between looks with `sleep` (the pipeline's
 * clock), or fails after `timeoutMs` of real time with the last value seen.
 */
export async function pollOnClock<T>(
  sleep: (ms: number) => Promise<void>,
  probe: () => Promise<T>,
  condition: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (condition(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await sleep(1000);
  }
}
