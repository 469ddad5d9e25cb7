import { beforeEach, describe, expect, it } from 'vitest';
import { sweepMessage } from '../../functions/drift/messages.ts';
import type { SweepFinding } from '../../functions/shared/model.ts';
import { SWEEP_FINDINGS_KEPT } from '../../functions/store/sweep.ts';
import { useStores } from './store-harness.ts';

const TABLE = 'vend-sweep-store-test';
const env = useStores(TABLE);

const accountId = (n: number) => String(100_000_000_000 + n);
const finding = (n: number, outcome: SweepFinding['outcome']): SweepFinding => ({
  accountId: accountId(n),
  accountName: `acct-${n}`,
  outcome,
  changes: [`change ${n}`],
  failures: [],
});

describe('the sweep checkpoint', () => {
  beforeEach(async () => {
    const left = await env.stores.sweep.get();
    if (left) {
      await env.stores.sweep.claim('cleanup', 'cleanup', 0, Number.MAX_SAFE_INTEGER);
      await env.stores.sweep.finish(left.runId, 'cleanup');
    }
  });

  it('marks an account checked once per run, and only for the owner holding the run', async () => {
    const claim = await env.stores.sweep.claim('run-1', 'me', Date.now() + 60_000);
    expect(claim.kind).toBe('started');

    expect(await env.stores.sweep.markChecked('run-1', 'me', accountId(1))).toBe(true);
    expect(await env.stores.sweep.markChecked('run-1', 'me', accountId(1))).toBe(false);
    expect(await env.stores.sweep.markChecked('run-1', 'someone-else', accountId(2))).toBe(false);
    expect(await env.stores.sweep.markChecked('run-2', 'me', accountId(2))).toBe(false);
    expect(await env.stores.sweep.claim('run-3', 'someone-else', Date.now() + 60_000)).toEqual({
      kind: 'busy',
      runId: 'run-1',
    });

    expect(await env.stores.sweep.get()).toMatchObject({
      runId: 'run-1',
      done: [accountId(1)],
      checked: 1,
      inSync: 1,
    });
    expect(await env.stores.sweep.nextPage('run-1', 'me', 'cursor-2')).toBe(true);
    expect(await env.stores.sweep.get()).toMatchObject({ cursor: 'cursor-2', done: [], checked: 1 });
  });

  it(`keeps ${SWEEP_FINDINGS_KEPT} findings and counts the rest by outcome, and the message counts them all`, async () => {
    await env.stores.sweep.claim('big-run', 'me', Date.now() + 60_000);
    for (let n = 0; n < SWEEP_FINDINGS_KEPT; n++) {
      expect(await env.stores.sweep.markChecked('big-run', 'me', accountId(n), finding(n, 'fixed'))).toBe(
        true,
      );
    }
    expect(
      await env.stores.sweep.markChecked('big-run', 'me', accountId(1000), finding(1000, 'failed')),
    ).toBe(true);
    expect(
      await env.stores.sweep.markChecked('big-run', 'me', accountId(1001), finding(1001, 'reported')),
    ).toBe(true);

    const final = (await env.stores.sweep.finish('big-run', 'me'))!;

    expect(final.checked).toBe(SWEEP_FINDINGS_KEPT + 2);
    expect(final.findings).toHaveLength(SWEEP_FINDINGS_KEPT);
    expect(final.omitted).toEqual({ fixed: 0, reported: 1, failed: 1 });
    const message = sweepMessage({
      mode: 'fix',
      checked: final.checked,
      findings: final.findings,
      omitted: final.omitted,
    });
    expect(message.text).toContain(`${SWEEP_FINDINGS_KEPT} put back, 1 drifted`);
    expect(message.text).toContain('1 not fully checked or fixed');
    expect(JSON.stringify(message.blocks)).toContain(`and ${SWEEP_FINDINGS_KEPT - 20 + 2} more`);
    expect(await env.stores.sweep.get()).toBeUndefined();
    // Some 200 conditional writes to dynalite, one after another: seconds on a busy two-core machine.
  }, 30_000);
});
