import { describe, expect, it } from 'vitest';
import { retryDelaySeconds } from '../../local/runner.ts';

describe('the runner waits each retry as Step Functions would', () => {
  const throttled = {
    ErrorEquals: ['Vend.Throttled'],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxAttempts: 5,
    MaxDelaySeconds: 10,
  };
  const anything = { ErrorEquals: ['States.ALL'], IntervalSeconds: 1 };

  it('backs off by BackoffRate from IntervalSeconds, at most MaxDelaySeconds, for MaxAttempts retries', () => {
    const attempts: number[] = [];
    const delays = Array.from({ length: 6 }, () =>
      retryDelaySeconds([throttled], 'Vend.Throttled', attempts, () => 0.5),
    );
    expect(delays).toEqual([2, 4, 8, 10, 10, undefined]);
  });

  it('waits a random share of the delay with FULL jitter', () => {
    const attempts: number[] = [];
    const jittered = { ...throttled, JitterStrategy: 'FULL' as const };
    expect(retryDelaySeconds([jittered], 'Vend.Throttled', attempts, () => 0.25)).toBe(0.5);
    expect(retryDelaySeconds([jittered], 'Vend.Throttled', attempts, () => 0.25)).toBe(1);
  });

  it('uses the first retrier that matches, and counts each retrier apart', () => {
    const attempts: number[] = [];
    expect(retryDelaySeconds([throttled, anything], 'Vend.Transient', attempts, Math.random)).toBe(1);
    expect(retryDelaySeconds([throttled, anything], 'Vend.Throttled', attempts, Math.random)).toBe(2);
    expect(retryDelaySeconds([throttled, anything], 'Vend.Transient', attempts, Math.random)).toBe(2);
    expect(attempts).toEqual([1, 2]);
  });

  it('does not retry an error no retrier names', () => {
    expect(retryDelaySeconds([throttled], 'Vend.Failed', [], Math.random)).toBeUndefined();
  });
});
