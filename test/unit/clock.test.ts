import { describe, expect, it } from 'vitest';
import { manualClock } from '../../local/cloud/clock.ts';
import { seededRandom } from '../../local/cloud/random.ts';

describe('manualClock', () => {
  it('runs due callbacks in time order when advanced, and not before', () => {
    const clock = manualClock(0);
    const ran: string[] = [];
    clock.schedule(300, () => ran.push('c'));
    clock.schedule(100, () => ran.push('a'));
    const cancel = clock.schedule(200, () => ran.push('cancelled'));
    clock.schedule(200, () => ran.push('b'));
    cancel();
    clock.advance(99);
    expect(ran).toEqual([]);
    clock.advance(201);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(clock.now()).toBe(300);
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for the same seed and differs for another', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const draw = (r: ReturnType<typeof seededRandom>) => Array.from({ length: 5 }, () => r.next());
    const first = draw(a);
    expect(draw(b)).toEqual(first);
    expect(draw(c)).not.toEqual(first);
    expect(first.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
