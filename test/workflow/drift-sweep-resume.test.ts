import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handleDrift } from '../../functions/drift/core.ts';
import { SWEEP_STOP_MARGIN_MS, sweepDrift } from '../../functions/drift/sweep.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { MemoryMetrics } from '../../functions/shared/metrics.ts';
import { METRIC } from '../../functions/shared/metrics-names.ts';
import type { DriftStore } from '../../functions/store/drift.ts';
import type { SweepStore } from '../../functions/store/sweep.ts';
import { deleteRoleByHand, type Env, history, roleExists, startEnv, vend } from './drift-harness.ts';

/** The pipeline's deps, counting the accounts each sweep checks (each check takes the account's drift lock once). */
function counting(env: Env): { deps: Deps; checks: string[]; metrics: MemoryMetrics } {
  const checks: string[] = [];
  const drift = new Proxy(env.pipeline.deps.drift, {
    get(target, property: keyof DriftStore) {
      if (property === 'acquireLock') {
        return async (...args: Parameters<DriftStore['acquireLock']>) => {
          const taken = await target.acquireLock(...args);
          if (taken) checks.push(args[0]);
          return taken;
        };
      }
      const value = target[property];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const metrics = new MemoryMetrics();
  return { deps: { ...env.pipeline.deps, drift, metrics }, checks, metrics };
}

function countOf(ids: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of ids) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

describe('a drift sweep that stops and resumes', () => {
  let env: Env;
  let accounts: string[];
  beforeAll(async () => {
    env = await startEnv({ driftEvents: false });
    accounts = [await vend(env), await vend(env), await vend(env)];
  });
  afterAll(() => env.pipeline.close());
  beforeEach(async () => {
    // No run left over from another test.
    const left = await env.pipeline.deps.sweep.get();
    if (left) await env.pipeline.deps.sweep.claim('x', 'cleanup', 0, Number.MAX_SAFE_INTEGER);
    if (left) await env.pipeline.deps.sweep.finish(left.runId, 'cleanup');
  });

  it('stops before its time runs out half-way, resumes at the next invocation, and checks each account once', async () => {
    const first = accounts[2]!; // the registry lists the newest first
    await deleteRoleByHand(env, first, 'VendReadOnly');
    const { deps, checks, metrics } = counting(env);
    const slackBefore = env.pipeline.slack.messages().length;
    // Plenty of time until one account is checked, then less than the margin.
    const remainingTimeMs = () => (checks.length >= 1 ? SWEEP_STOP_MARGIN_MS - 1 : 10 * 60_000);

    const stopped = await sweepDrift(deps, { concurrency: 1, pageSize: 2 }, { remainingTimeMs });

    expect(stopped).toMatchObject({ outcome: 'stopped', checked: 1 });
    expect(checks).toEqual([first]);
    const checkpoint = (await env.pipeline.deps.sweep.get())!;
    expect(checkpoint).toMatchObject({ runId: stopped.runId, done: [first], checked: 1 });
    expect(checkpoint.leaseOwner).toBeUndefined();
    expect(env.pipeline.slack.messages()).toHaveLength(slackBefore);

    const resumed = await sweepDrift(
      deps,
      { concurrency: 1, pageSize: 2 },
      { remainingTimeMs: () => 10 * 60_000 },
    );

    expect(resumed).toMatchObject({ outcome: 'swept', runId: stopped.runId, checked: 3, inSync: 2 });
    expect(countOf(checks)).toEqual(Object.fromEntries(accounts.map((id) => [id, 1])));
    // The finding made before the stop is in the run's one message.
    expect(resumed.findings).toEqual([expect.objectContaining({ accountId: first, outcome: 'fixed' })]);
    expect(await roleExists(env, first, 'VendReadOnly')).toBe(true);
    const messages = env.pipeline.slack.messages().slice(slackBefore);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Checked 3 vended account(s): 1 put back');
    expect(await env.pipeline.deps.sweep.get()).toBeUndefined();
    expect(metrics.total(METRIC.driftDetected)).toBe(1);
    expect(metrics.total(METRIC.driftFixed)).toBe(1);
  });

  it('stops when the local pipeline stops it, and the next sweep resumes the run', async () => {
    const { deps, checks } = counting(env);
    const stop = new AbortController();
    const signalAfterFirst = new Proxy(deps.sweep, {
      get(target, property: keyof SweepStore) {
        if (property === 'markChecked') {
          return async (...args: Parameters<SweepStore['markChecked']>) => {
            const marked = await target.markChecked(...args);
            stop.abort();
            return marked;
          };
        }
        const value = target[property];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });

    const stopped = await sweepDrift(
      { ...deps, sweep: signalAfterFirst },
      { concurrency: 1 },
      { signal: stop.signal },
    );
    expect(stopped).toMatchObject({ outcome: 'stopped', checked: 1 });

    const resumed = await sweepDrift(deps, { concurrency: 1 });
    expect(resumed).toMatchObject({ outcome: 'swept', runId: stopped.runId, checked: 3 });
    expect(countOf(checks)).toEqual(Object.fromEntries(accounts.map((id) => [id, 1])));
  });

  it('leaves a run another invocation holds alone, and takes it over once that one gave it back', async () => {
    const { sweep } = env.pipeline.deps;
    const claim = await sweep.claim('run-elsewhere', 'elsewhere', Date.now() + 60_000);
    expect(claim.kind).toBe('started');
    const { deps, checks } = counting(env);

    expect(await sweepDrift(deps)).toMatchObject({ outcome: 'busy', runId: 'run-elsewhere', checked: 0 });
    expect(checks).toEqual([]);

    await sweep.release('run-elsewhere', 'elsewhere');
    expect(await sweepDrift(deps)).toMatchObject({ outcome: 'swept', runId: 'run-elsewhere', checked: 3 });
    // The one that gave it back cannot write into it any more.
    expect(await sweep.markChecked('run-elsewhere', 'elsewhere', accounts[0]!)).toBe(false);
  });

  it("reads the Lambda context's remaining time: a scheduled invocation with too little left checks nothing", async () => {
    const { deps, checks } = counting(env);
    const scheduled = { source: 'aws.events', 'detail-type': 'Scheduled Event', id: 'e-1', detail: {} };

    const result = await handleDrift(deps, scheduled, {
      getRemainingTimeInMillis: () => SWEEP_STOP_MARGIN_MS - 1,
    });

    expect(result).toMatchObject({ outcome: 'stopped', checked: 0 });
    expect(checks).toEqual([]);
    expect(await handleDrift(deps, scheduled, { getRemainingTimeInMillis: () => 15 * 60_000 })).toMatchObject(
      {
        outcome: 'swept',
        checked: 3,
      },
    );
  });

  it('records what it found in the drift history under the run, once per account', async () => {
    const accountId = accounts[0]!;
    await deleteRoleByHand(env, accountId, 'VendAdmin');
    const result = await sweepDrift(env.pipeline.deps, { concurrency: 2, pageSize: 1 });
    expect(result).toMatchObject({ outcome: 'swept', checked: 3 });
    const entries = (await history(env, accountId)).filter((entry) => entry.id.includes(result.runId));
    expect(entries).toHaveLength(1);
  });
});
