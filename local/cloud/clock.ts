/**
 * Time as the local cloud sees it. Creation delays, consistency windows and credential expiry are measured on
 * this clock, so tests and benchmarks can run minutes of simulated time in milliseconds.
 */
export interface Clock {
  /** Milliseconds since the epoch, simulated. */
  now(): number;
  /** Runs `callback` after `ms` simulated milliseconds; returns a function that cancels it. */
  schedule(ms: number, callback: () => void): () => void;
}

/** Real time. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, callback) {
    const timer = setTimeout(callback, Math.max(0, ms));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/**
 * Simulated time running `speed` times faster than real time, from `start` (default: now).
 * `scaledClock(1000)` makes one simulated second last one real millisecond.
 */
export function scaledClock(speed: number, start = Date.now()): Clock {
  if (!(speed > 0)) throw new RangeError(`clock speed must be positive, got ${speed}`);
  const realStart = Date.now();
  return {
    now: () => start + (Date.now() - realStart) * speed,
    schedule(ms, callback) {
      const timer = setTimeout(callback, Math.max(0, ms / speed));
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}

/**
 * Simulated time that moves only when a scheduled callback falls due: a callback scheduled `ms` ahead runs after
 * `ms / speed` real milliseconds and first moves the clock to its due time. Between callbacks the clock stands
 * still, so however slow or loaded the machine, no window (a consistency window, a credential's lifetime, a
 * creation's delay) passes while the code under test is merely running: only waiting moves time. Tests use it
 * so that their outcome does not depend on the machine's speed; `scaledClock` is for runs that should feel like
 * real time.
 */
export function steppedClock(speed: number, start = Date.now()): Clock {
  if (!(speed > 0)) throw new RangeError(`clock speed must be positive, got ${speed}`);
  let now = start;
  return {
    now: () => now,
    schedule(ms, callback) {
      const due = now + Math.max(0, ms);
      const timer = setTimeout(
        () => {
          if (due > now) now = due;
          callback();
        },
        Math.max(0, ms / speed),
      );
      timer.unref();
      return () => clearTimeout(timer);
    },
  };
}

/** A clock that moves only when told to: `advance(ms)` runs every callback that falls due, in order. */
export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(epochMs: number): void;
}

export function manualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  let sequence = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const runDue = () => {
    for (;;) {
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of pending) {
        if (entry[1].at <= now && (!next || entry[1].at < next[1].at)) next = entry;
      }
      if (!next) return;
      pending.delete(next[0]);
      next[1].callback();
    }
  };
  return {
    now: () => now,
    schedule(ms, callback) {
      const id = sequence++;
      pending.set(id, { at: now + Math.max(0, ms), callback });
      return () => pending.delete(id);
    },
    advance(ms) {
      now += ms;
      runDue();
    },
    set(epochMs) {
      now = epochMs;
      runDue();
    },
  };
}
