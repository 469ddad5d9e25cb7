import { describe, expect, it } from 'vitest';
import { backoffDelayMs, retry } from '../../functions/shared/retry.ts';
import { seededRandom } from '../../local/cloud/random.ts';

class FlakyError extends Error {
  override readonly name = 'FlakyError';
}

describe('the retry helper', () => {
  it('retries what is retryable until it succeeds, waiting a jittered back-off each time', async () => {
    // Prepare
    const waits: number[] = [];
    let calls = 0;
    // Act
    const result = await retry(
      async () => {
        calls++;
        if (calls < 3) throw new FlakyError('not yet');
        return 'done';
      },
      {
        retryable: (error) => error instanceof FlakyError,
        baseDelayMs: 100,
        random: () => 0.5,
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    );
    // Assess
    expect(result).toBe('done');
    expect(waits).toEqual([50, 100]);
  });

  it('rethrows at once what is not retryable', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new Error('permanent');
      },
      { retryable: (error) => error instanceof FlakyError, random: () => 0.5, sleep: async () => {} },
    );
    await expect(failing).rejects.toThrow('permanent');
    expect(calls).toBe(1);
  });

  it('gives up with the last error after maxAttempts', async () => {
    let calls = 0;
    const failing = retry(
      async () => {
        calls++;
        throw new FlakyError(`attempt ${calls}`);
      },
      { retryable: () => true, maxAttempts: 4, random: () => 0.5, sleep: async () => {} },
    );
    await expect(failing).rejects.toThrow('attempt 4');
    expect(calls).toBe(4);
  });

  it('caps the back-off and waits at least what the failure asked for', () => {
    const policy = { retryable: () => true, baseDelayMs: 100, maxDelayMs: 400, random: () => 0.999 };
    expect(backoffDelayMs(policy, 10)).toBe(399);
    const asking = { ...policy, random: () => 0, requestedDelayMs: () => 2000 };
    expect(backoffDelayMs(asking, 1, new FlakyError('slow down'))).toBe(2000);
  });

  it('is deterministic with a seeded random source', () => {
    const delays = (seed: number) => {
      const { next: random } = seededRandom(seed);
      return [1, 2, 3, 4].map((attempt) => backoffDelayMs({ retryable: () => true, random }, attempt));
    };
    expect(delays(7)).toEqual(delays(7));
  });
});
