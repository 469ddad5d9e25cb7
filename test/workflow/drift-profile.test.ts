import { DescribeNotificationsForBudgetCommand } from '@aws-sdk/client-budgets';
import { UntagRoleCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sweepDrift } from '../../functions/drift/sweep.ts';
import { resolveProfile, type VendConfig } from '../../functions/shared/config.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import {
  adminClientsIn,
  adminIamIn,
  deleteRoleByHand,
  type Env,
  history,
  roleExists,
  startEnv,
  vend,
} from './drift-harness.ts';

/**
 * Accounts are vended to their OU's profile and kept at it: the drift sweep puts back what the recorded profile
 * lists and nothing else, and rolls a later change of the profile out (only reporting it in report mode). The
 * tests below run in order on the same accounts: each one starts where the one before left them.
 */

/** The pipeline's configuration with the profiles changed by `change`, and the drift mode. */
function configWith(
  env: Env,
  change: (profiles: VendConfig['profiles']) => void,
  mode: 'fix' | 'report' = 'fix',
): VendConfig {
  const config = structuredClone(env.pipeline.deps.config);
  change(config.profiles);
  return { ...config, drift: { ...config.drift, mode } };
}

const withConfig = (env: Env, config: VendConfig): Deps => ({ ...env.pipeline.deps, config });

describe('drift follows the profile', () => {
  let env: Env;
  let sandbox: [string, string];
  let dev: string;
  const recorded = async (accountId: string) => (await env.pipeline.deps.accounts.get(accountId))!;
  const addReadOnly = (profiles: VendConfig['profiles']) => {
    profiles.Sandbox!.baselineRoles = ['VendAdmin', 'VendReadOnly'];
  };

  beforeAll(async () => {
    env = await startEnv({ driftEvents: false });
    sandbox = [await vend(env, 'Sandbox'), await vend(env, 'Sandbox')];
    dev = await vend(env, 'Workloads/Dev');
  });
  afterAll(() => env.pipeline.close());
  beforeEach(async () => {
    // No sweep run left over from another test.
    const left = await env.pipeline.deps.sweep.get();
    if (left) await env.pipeline.deps.sweep.claim('x', 'cleanup', 0, Number.MAX_SAFE_INTEGER);
    if (left) await env.pipeline.deps.sweep.finish(left.runId, 'cleanup');
  });

  it('vends a Sandbox account with only the role its profile lists, and records the profile with it', async () => {
    const [accountId] = sandbox;
    expect(await roleExists(env, accountId, 'VendAdmin')).toBe(true);
    expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(false);
    expect(await roleExists(env, dev, 'VendReadOnly')).toBe(true);
    const account = await recorded(accountId);
    expect(account.profile).toEqual(resolveProfile(env.pipeline.deps.config, 'Sandbox'));
    expect(account.profile?.baselineRoles).toEqual(['VendAdmin']);
    const ready = env.pipeline.slack
      .messages()
      .filter((message) => message.payload.text?.includes('ready') && message.rendered.includes(accountId));
    expect(ready).toHaveLength(1);
    expect(ready[0]!.rendered).toContain('VendAdmin');
    expect(ready[0]!.rendered).not.toContain('VendReadOnly');
  });

  it('puts back the profile’s role deleted by hand, and creates no role the profile does not list', async () => {
    const [accountId] = sandbox;
    await deleteRoleByHand(env, accountId, 'VendAdmin');

    const result = await env.pipeline.sweep();

    const finding = result.findings.find((f) => f.accountId === accountId)!;
    expect(finding.outcome).toBe('fixed');
    expect(finding.changes).toContain('created role VendAdmin');
    expect(finding.changes.join('; ')).not.toContain('VendReadOnly');
    expect(await roleExists(env, accountId, 'VendAdmin')).toBe(true);
    expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(false);
    expect(result.findings.map((f) => f.accountId)).toEqual([accountId]);
  });

  it('in report mode reports a changed profile’s rollout, and changes nothing, not even the record', async () => {
    const before = await Promise.all(sandbox.map(recorded));
    const slackBefore = env.pipeline.slack.messages().length;

    const result = await sweepDrift(withConfig(env, configWith(env, addReadOnly, 'report')));

    for (const accountId of sandbox) {
      expect(result.findings.find((f) => f.accountId === accountId)).toMatchObject({
        outcome: 'reported',
        changes: ['profile Sandbox changed: would create role VendReadOnly with its policies'],
      });
      expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(false);
      const [entry] = await history(env, accountId);
      expect(entry).toMatchObject({
        source: 'sweep',
        aspects: ['baseline'],
        outcome: 'reported',
        what: 'found by the drift sweep: the profile Sandbox changed: it lists role(s) VendAdmin, VendReadOnly',
      });
      expect((await env.pipeline.deps.drift.get(accountId))?.aspects.baseline?.status).toBe('drifted');
    }
    expect(await Promise.all(sandbox.map(recorded))).toEqual(before);
    expect(result.findings.find((f) => f.accountId === dev)).toBeUndefined();
    const messages = env.pipeline.slack.messages().slice(slackBefore);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.rendered).toContain('profile Sandbox changed: would create role VendReadOnly');
  });

  it('in fix mode rolls the changed profile out: creates the role, records the profile; the next sweep finds nothing', async () => {
    const config = configWith(env, addReadOnly);

    const result = await sweepDrift(withConfig(env, config));

    for (const accountId of sandbox) {
      const finding = result.findings.find((f) => f.accountId === accountId)!;
      expect(finding.outcome).toBe('fixed');
      expect(finding.changes).toHaveLength(1);
      expect(finding.changes[0]).toMatch(/^profile Sandbox changed: created role VendReadOnly, /);
      expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(true);
      const account = await recorded(accountId);
      expect(account.profile).toEqual(resolveProfile(config, 'Sandbox'));
      expect((await env.pipeline.deps.drift.get(accountId))?.aspects.baseline?.status).toBe('in-sync');
    }
    expect(result.findings.find((f) => f.accountId === dev)).toBeUndefined();

    const again = await sweepDrift(withConfig(env, config));
    expect(again.findings).toEqual([]);
  });

  it('rolls a role the profile no longer lists back out: deletes it where Vend created it, never elsewhere', async () => {
    const [created, untagged] = sandbox;
    // Someone takes the role over: without Vend's tag it is no longer Vend's to delete.
    await (await adminIamIn(env, untagged)).send(
      new UntagRoleCommand({ RoleName: 'VendReadOnly', TagKeys: ['vend:managed'] }),
    );

    // The pipeline's own configuration: Sandbox lists VendAdmin only again.
    const result = await env.pipeline.sweep();

    expect(result.findings.find((f) => f.accountId === created)).toMatchObject({
      outcome: 'fixed',
      changes: ['profile Sandbox changed: deleted role VendReadOnly, which the profile no longer lists'],
    });
    expect(await roleExists(env, created, 'VendReadOnly')).toBe(false);
    expect(result.findings.find((f) => f.accountId === untagged)).toBeUndefined();
    expect(await roleExists(env, untagged, 'VendReadOnly')).toBe(true);
    expect(await roleExists(env, created, 'VendAdmin')).toBe(true);
    for (const accountId of sandbox) {
      expect((await recorded(accountId)).profile?.baselineRoles).toEqual(['VendAdmin']);
    }
  });

  it('raises the budget alerts to a new floor, keeping the ones there; reported first in report mode', async () => {
    const floor = (profiles: VendConfig['profiles']) => {
      profiles['Workloads/Dev']!.budget = {
        thresholds: [
          { percent: 50, type: 'ACTUAL' },
          { percent: 80, type: 'ACTUAL' },
          { percent: 100, type: 'FORECASTED' },
        ],
      };
    };
    const before = await recorded(dev);
    const { budgets } = await adminClientsIn(env, dev);
    const notifications = async () =>
      (
        await budgets.send(
          new DescribeNotificationsForBudgetCommand({ AccountId: dev, BudgetName: before.budget.name }),
        )
      )
        .Notifications!.map((n) => `${n.Threshold}% ${n.NotificationType}`)
        .sort();

    const reported = await sweepDrift(withConfig(env, configWith(env, floor, 'report')));

    expect(reported.findings).toEqual([
      expect.objectContaining({
        accountId: dev,
        outcome: 'reported',
        changes: ['profile Workloads/Dev changed: would add notification ACTUAL > 50%'],
      }),
    ]);
    expect(await notifications()).toEqual(['100% FORECASTED', '80% ACTUAL']);
    expect(await recorded(dev)).toEqual(before);

    const fixed = await sweepDrift(withConfig(env, configWith(env, floor)));

    expect(fixed.findings).toEqual([
      expect.objectContaining({
        accountId: dev,
        outcome: 'fixed',
        changes: ['profile Workloads/Dev changed: added notification ACTUAL > 50%'],
      }),
    ]);
    expect(await notifications()).toEqual(['100% FORECASTED', '50% ACTUAL', '80% ACTUAL']);
    const after = await recorded(dev);
    expect(after.budget.thresholds).toEqual([...before.budget.thresholds, { percent: 50, type: 'ACTUAL' }]);
    expect(after.profile?.budget.thresholds).toHaveLength(3);
  });

  it('keeps an account recorded without a profile at the configuration’s profile for its OU, then records it', async () => {
    const [accountId] = sandbox;
    const { profile: _, ...old } = await recorded(accountId);
    await env.pipeline.deps.accounts.put(old);

    const reported = await sweepDrift(
      withConfig(env, {
        ...env.pipeline.deps.config,
        drift: { ...env.pipeline.deps.config.drift, mode: 'report' },
      }),
    );
    expect(reported.findings.find((f) => f.accountId === accountId)).toBeUndefined();
    expect((await recorded(accountId)).profile).toBeUndefined();

    const fixed = await env.pipeline.sweep();
    expect(fixed.findings.find((f) => f.accountId === accountId)).toBeUndefined();
    expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(false);
    expect((await recorded(accountId)).profile).toEqual(resolveProfile(env.pipeline.deps.config, 'Sandbox'));
  });
});
