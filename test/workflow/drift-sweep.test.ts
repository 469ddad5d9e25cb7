import { DeleteBudgetCommand, DescribeBudgetCommand, UpdateBudgetCommand } from '@aws-sdk/client-budgets';
import { UntagResourceCommand } from '@aws-sdk/client-organizations';
import { DisassociateVPCFromHostedZoneCommand, ListHostedZonesByVPCCommand } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sweepDrift } from '../../functions/drift/sweep.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import type { DriftStore } from '../../functions/store/drift.ts';
import {
  ADMIN_ARN,
  adminClientsIn,
  deleteRoleByHand,
  type Env,
  eventually,
  history,
  roleExists,
  startEnv,
  tagsOf,
  vend,
} from './drift-harness.ts';

describe('the drift sweep', () => {
  let env: Env;
  let accounts: string[];
  beforeAll(async () => {
    env = await startEnv();
    accounts = [await vend(env), await vend(env), await vend(env)];
  });
  afterAll(() => env.pipeline.close());
  afterEach(() => env.pipeline.cloud.cloud.faults.clear());

  it('puts back a budget changed and a DNS association removed by hand', async () => {
    const [accountId] = accounts as [string];
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const { budgets, route53 } = await adminClientsIn(env, accountId);
    await budgets.send(
      new UpdateBudgetCommand({
        AccountId: accountId,
        NewBudget: {
          BudgetName: desired.budget.name,
          BudgetLimit: { Amount: '999', Unit: 'USD' },
          TimeUnit: 'MONTHLY',
          BudgetType: 'COST',
        },
      }),
    );
    const vpc = { VPCId: desired.dns!.vpcId, VPCRegion: desired.dns!.region as 'us-east-1' };
    await route53.send(
      new DisassociateVPCFromHostedZoneCommand({ HostedZoneId: desired.dns!.hostedZoneId, VPC: vpc }),
    );

    const result = await env.pipeline.sweep();

    const finding = result.findings.find((f) => f.accountId === accountId)!;
    expect(finding.outcome).toBe('fixed');
    expect(finding.changes).toEqual([
      `restored the budget to ${desired.budget.monthlyLimitUsd} USD a month (was COST MONTHLY 999 USD)`,
      `associated the VPC ${vpc.VPCId} (us-east-1) with the private hosted zone ${desired.dns!.hostedZoneId}`,
    ]);
    const { Budget } = await budgets.send(
      new DescribeBudgetCommand({ AccountId: accountId, BudgetName: desired.budget.name }),
    );
    expect(Number(Budget!.BudgetLimit!.Amount)).toBe(desired.budget.monthlyLimitUsd);
    const { HostedZoneSummaries } = await route53.send(
      new ListHostedZonesByVPCCommand({ VPCId: vpc.VPCId, VPCRegion: vpc.VPCRegion }),
    );
    expect(HostedZoneSummaries!.map((zone) => zone.HostedZoneId)).toContain(desired.dns!.hostedZoneId);
    expect(env.pipeline.cloud.cloud.state.hostedZones[desired.dns!.hostedZoneId]!.authorizations).toEqual([]);
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({ source: 'sweep', aspects: ['budget', 'dns'], outcome: 'fixed' });
    expect(result.inSync).toBe(result.checked - 1);
  });

  it('finds an Organizations change whose event was missed', async () => {
    const accountId = accounts[1]!;
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    // The pipeline's event rule is off here: the untagging reaches the drift function through no event.
    const { pipeline } = env;
    const saved = pipeline.events.publish;
    pipeline.events.publish = () => undefined;
    try {
      await env.admin.send(new UntagResourceCommand({ ResourceId: accountId, TagKeys: ['vend:owner'] }));
    } finally {
      pipeline.events.publish = saved;
    }
    const result = await pipeline.sweep();
    expect(result.findings.find((f) => f.accountId === accountId)?.changes).toEqual([
      'restored the tag(s) vend:owner',
    ]);
    expect(await tagsOf(env, accountId)).toMatchObject(desired.tags);
  });

  it('goes on with the other accounts when one fails, and reports the failure', async () => {
    const broken = accounts[2]!;
    const other = accounts[0]!;
    await deleteRoleByHand(env, other, 'VendReadOnly');
    // Budgets refuses every call in the broken account (as a missing permission would); the others work.
    env.pipeline.cloud.cloud.faults.add({
      service: 'budgets',
      accountId: broken,
      error: { code: 'AccessDeniedException', message: 'not allowed' },
    });
    const before = env.pipeline.slack.messages().length;

    const result = await env.pipeline.sweep({ concurrency: 1 });

    const failure = result.findings.find((f) => f.accountId === broken)!;
    expect(failure.outcome).toBe('failed');
    // In words, by exception name: AWS's own text goes to the log, not to the history or Slack.
    expect(failure.failures).toEqual(['budget: AWS refused a call (AccessDeniedException)']);
    const fixed = result.findings.find((f) => f.accountId === other)!;
    expect(fixed.outcome).toBe('fixed');
    expect(fixed.changes).toContain('created role VendReadOnly');
    expect(await roleExists(env, other, 'VendReadOnly')).toBe(true);
    const [entry] = await history(env, broken);
    expect(entry).toMatchObject({
      source: 'sweep',
      outcome: 'failed',
      reason: 'budget: AWS refused a call (AccessDeniedException)',
    });
    expect((await env.pipeline.deps.drift.get(broken))?.aspects.budget?.status).toBe('drifted');
    const messages = env.pipeline.slack.messages().slice(before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('1 put back');
    expect(messages[0]!.payload.text).toContain('1 not fully checked or fixed');
    expect(JSON.stringify(messages[0]!.payload)).not.toContain('not allowed');
  });

  it('paces itself: at most `concurrency` accounts at a time, pausing between accounts', async () => {
    let active = 0;
    let most = 0;
    const drift = new Proxy(env.pipeline.deps.drift, {
      get(target, property: keyof DriftStore) {
        if (property === 'acquireLock') {
          return async (...args: Parameters<DriftStore['acquireLock']>) => {
            const taken = await target.acquireLock(...args);
            if (taken) most = Math.max(most, ++active);
            return taken;
          };
        }
        if (property === 'releaseLock') {
          return async (...args: Parameters<DriftStore['releaseLock']>) => {
            active--;
            return target.releaseLock(...args);
          };
        }
        const value = target[property];
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const pauses: number[] = [];
    const deps: Deps = {
      ...env.pipeline.deps,
      drift,
      sleep: (ms) => {
        pauses.push(ms);
        return env.pipeline.deps.sleep(ms);
      },
    };
    const result = await sweepDrift(deps, { concurrency: 2, delayBetweenAccountsMs: 7000 });
    expect(result.checked).toBe(3);
    expect(most).toBe(2);
    // Two workers over three accounts: one pause, by the worker that took a second account.
    expect(pauses.filter((ms) => ms === 7000)).toHaveLength(1);
  });

  it('in report mode changes nothing: the budget deleted by hand stays deleted, and is reported', async () => {
    const accountId = accounts[1]!;
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const { budgets } = await adminClientsIn(env, accountId);
    await budgets.send(new DeleteBudgetCommand({ AccountId: accountId, BudgetName: desired.budget.name }));
    const deps: Deps = {
      ...env.pipeline.deps,
      config: { ...env.pipeline.deps.config, drift: { ...env.pipeline.deps.config.drift, mode: 'report' } },
    };

    const result = await sweepDrift(deps);

    expect(result.findings.find((f) => f.accountId === accountId)).toMatchObject({
      outcome: 'reported',
      changes: [
        `would create budget ${desired.budget.name} of ${desired.budget.monthlyLimitUsd} USD a month with 2 notification(s)`,
      ],
    });
    await expect(
      budgets.send(new DescribeBudgetCommand({ AccountId: accountId, BudgetName: desired.budget.name })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    // Fix mode puts it back.
    await env.pipeline.sweep();
    await expect(
      budgets.send(new DescribeBudgetCommand({ AccountId: accountId, BudgetName: desired.budget.name })),
    ).resolves.toMatchObject({ Budget: { BudgetName: desired.budget.name } });
  });
});

describe('the drift sweep on a schedule', () => {
  let env: Env;
  let accountId: string;
  beforeAll(async () => {
    env = await startEnv({ sweepIntervalMs: 60_000 });
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  it('runs every sweepIntervalMs of the pipeline clock, without being asked', async () => {
    await deleteRoleByHand(env, accountId, 'VendAdmin');
    // A run that finds the account locked by another check (the pipeline's drift events run beside it) records
    // that it could not check it, and the next run does: wait for the run that fixes it.
    const entries = await eventually(
      env,
      () => history(env, accountId),
      (found) => found.some((entry) => entry.outcome === 'fixed'),
      'a sweep to record the fix',
    );
    const entry = entries.find((found) => found.outcome === 'fixed');
    expect(entry).toMatchObject({ source: 'sweep', aspects: ['baseline'], outcome: 'fixed' });
    expect(entry!.action).toContain('created role VendAdmin');
    expect(await roleExists(env, accountId, 'VendAdmin')).toBe(true);
  });
});

describe('drift events when AWS or Slack fail', () => {
  let env: Env;
  let accountId: string;
  beforeAll(async () => {
    env = await startEnv();
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());
  afterEach(() => {
    env.pipeline.cloud.cloud.faults.clear();
    env.pipeline.slack.failNext(200, 0);
  });

  it('retries an event whose handling was throttled, and acts on it once', async () => {
    // The first two attempts are throttled: the event is given back and delivered again.
    env.pipeline.cloud.cloud.faults.add({
      service: 'organizations',
      operation: 'ListTagsForResource',
      error: { code: 'TooManyRequestsException' },
      times: 2,
    });
    await env.admin.send(new UntagResourceCommand({ ResourceId: accountId, TagKeys: ['team'] }));
    await env.pipeline.events.idle();
    const delivery = env.pipeline.events.deliveries.findLast(
      (d) => d.event.detail.eventName === 'UntagResource',
    )!;
    expect(delivery).toMatchObject({ attempts: 3, result: { outcome: 'fixed' } });
    expect(await tagsOf(env, accountId)).toMatchObject({ team: 'payments' });
    const entries = (await history(env, accountId)).filter((entry) => entry.id === delivery.event.id);
    expect(entries).toHaveLength(1);
  });

  it('puts the account back even when Slack is down; the announcement waits in the outbox and is delivered once', async () => {
    env.pipeline.slack.failNext(503, 3);
    await env.admin.send(new UntagResourceCommand({ ResourceId: accountId, TagKeys: ['team'] }));
    await env.pipeline.events.idle();
    expect(await tagsOf(env, accountId)).toMatchObject({ team: 'payments' });
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      eventName: 'UntagResource',
      by: ADMIN_ARN,
      outcome: 'fixed',
      announcement: 'pending',
    });
    const id = `drift#${entry!.id}`;
    expect(await env.pipeline.deps.outbox.get(id)).toMatchObject({ kind: 'drift', state: 'pending' });
    const mentions = () =>
      env.pipeline.slack.messages().filter((m) => JSON.stringify(m.payload).includes(entry!.id)).length;
    expect(mentions()).toBe(0);

    await eventually(
      env,
      async () => {
        await env.pipeline.deliver();
        return mentions();
      },
      (count) => count > 0,
      'the deliverer to deliver the drift announcement',
    );
    await env.pipeline.deliver();

    expect(mentions()).toBe(1);
    expect(await env.pipeline.deps.outbox.get(id)).toMatchObject({ state: 'delivered' });
    expect((await history(env, accountId)).find((e) => e.id === entry!.id)).toMatchObject({
      announcement: 'sent',
    });
  });
});
