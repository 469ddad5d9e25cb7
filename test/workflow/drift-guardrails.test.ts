import {
  AttachPolicyCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  UpdatePolicyCommand,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samePolicy } from '../../functions/shared/policy-document.ts';
import { ADMIN_ARN, driftMessages, type Env, eventually, history, startEnv, vend } from './drift-harness.ts';

/** The names of the SCPs attached to the account itself, as an administrator lists them. */
async function guardrailsOf(env: Env, accountId: string): Promise<string[]> {
  const { Policies } = await env.admin.send(
    new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }),
  );
  return (Policies ?? []).map((policy) => policy.Name!).sort();
}

async function policyId(env: Env, name: string): Promise<string> {
  const { Policies } = await env.admin.send(new ListPoliciesCommand({ Filter: 'SERVICE_CONTROL_POLICY' }));
  const id = Policies?.find((policy) => policy.Name === name)?.Id;
  if (!id) throw new Error(`no policy ${name}`);
  return id;
}

describe('drift fix: guardrails changed by hand on a vended account are put back', () => {
  let env: Env;
  let accountId: string;

  beforeAll(async () => {
    env = await startEnv({ apiPort: 0 });
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  it('leaves a vended account with FullAWSAccess and vend-baseline-guardrails, and without vend-quarantine', async () => {
    expect(await guardrailsOf(env, accountId)).toEqual(['FullAWSAccess', 'vend-baseline-guardrails']);
  });

  it('attaches vend-baseline-guardrails again when someone detaches it, and says so once', async () => {
    const before = env.pipeline.slack.messages().length;
    const id = await policyId(env, 'vend-baseline-guardrails');

    await env.admin.send(new DetachPolicyCommand({ PolicyId: id, TargetId: accountId }));

    await eventually(
      env,
      () => guardrailsOf(env, accountId),
      (names) => names.includes('vend-baseline-guardrails'),
      'vend-baseline-guardrails attached again',
    );
    await env.pipeline.events.idle();
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      source: 'event',
      eventName: 'DetachPolicy',
      aspects: ['guardrails'],
      by: ADMIN_ARN,
      outcome: 'fixed',
    });
    expect(entry!.action).toContain('attached the policy vend-baseline-guardrails');
    const messages = driftMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Drift fixed');
  });

  it('detaches vend-quarantine attached to a ready account', async () => {
    const id = await policyId(env, 'vend-quarantine');

    await env.admin.send(new AttachPolicyCommand({ PolicyId: id, TargetId: accountId }));

    await eventually(
      env,
      () => guardrailsOf(env, accountId),
      (names) => !names.includes('vend-quarantine'),
      'vend-quarantine detached',
    );
    await env.pipeline.events.idle();
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({ eventName: 'AttachPolicy', aspects: ['guardrails'], outcome: 'fixed' });
    expect(entry!.action).toContain('detached the policy vend-quarantine');
  });

  it('restores the content of vend-baseline-guardrails when someone edits it', async () => {
    const id = await policyId(env, 'vend-baseline-guardrails');
    const describe = async () =>
      (await env.admin.send(new DescribePolicyCommand({ PolicyId: id }))).Policy!.Content!;
    const original = await describe();
    const weakened = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' }],
    });

    await env.admin.send(new UpdatePolicyCommand({ PolicyId: id, Content: weakened }));

    await eventually(env, describe, (content) => samePolicy(content, original), 'the content restored');
    await env.pipeline.events.idle();
    const messages = env.pipeline.slack
      .messages()
      .filter((message) => JSON.stringify(message.payload).includes('vend-baseline-guardrails was changed'));
    expect(messages).toHaveLength(1);
    expect(JSON.stringify(messages[0]!.payload)).toContain('Vend put it back');
  });

  it('the sweep attaches a guardrail whose detachment no event told of, and report mode only reports it', async () => {
    const id = await policyId(env, 'vend-baseline-guardrails');
    const policy = env.pipeline.cloud.cloud.state.policies[id]!;
    // A detachment whose CloudTrail event never arrived: changed behind the event bus's back.
    policy.targets = policy.targets.filter((target) => target !== accountId);
    expect(await guardrailsOf(env, accountId)).not.toContain('vend-baseline-guardrails');

    const config = env.pipeline.deps.config;
    const drift = config.drift;
    Object.assign(config, { drift: { ...drift, mode: 'report' } });
    try {
      const reported = await env.pipeline.sweep({ delayBetweenAccountsMs: 0 });
      const finding = reported.findings.find((candidate) => candidate.accountId === accountId);
      expect(finding?.outcome).toBe('reported');
      expect(finding?.changes).toContain('would attach the policy vend-baseline-guardrails');
      expect(await guardrailsOf(env, accountId)).not.toContain('vend-baseline-guardrails');
    } finally {
      Object.assign(config, { drift });
    }

    const fixed = await env.pipeline.sweep({ delayBetweenAccountsMs: 0 });
    const finding = fixed.findings.find((candidate) => candidate.accountId === accountId);
    expect(finding?.outcome).toBe('fixed');
    expect(finding?.changes).toContain('attached the policy vend-baseline-guardrails');
    expect(await guardrailsOf(env, accountId)).toContain('vend-baseline-guardrails');
  });

  it("rolls a profile's changed policies out: attaches the ones it now lists, detaches the ones it dropped", async () => {
    const config = env.pipeline.deps.config;
    const { policies, profiles } = config;
    const extra = {
      description: 'Vend test: no CloudTrail trail deletion',
      document: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: 'cloudtrail:DeleteTrail', Resource: '*' }],
      },
    };
    Object.assign(config, {
      policies: { ...policies, 'vend-test-no-trail-deletion': extra },
      profiles: {
        ...profiles,
        'Workloads/Dev': { ...profiles['Workloads/Dev'], policies: ['vend-test-no-trail-deletion'] },
      },
    });
    try {
      const swept = await env.pipeline.sweep({ delayBetweenAccountsMs: 0 });
      const finding = swept.findings.find((candidate) => candidate.accountId === accountId);
      expect(finding?.changes).toEqual(
        expect.arrayContaining([
          'created the policy vend-test-no-trail-deletion',
          'attached the policy vend-test-no-trail-deletion',
          'detached the policy vend-baseline-guardrails',
        ]),
      );
      expect(await guardrailsOf(env, accountId)).toEqual(['FullAWSAccess', 'vend-test-no-trail-deletion']);
      expect((await env.pipeline.deps.accounts.get(accountId))?.profile?.policies).toEqual([
        'vend-test-no-trail-deletion',
      ]);

      // Rolled out and recorded: the next sweep finds nothing to do.
      const again = await env.pipeline.sweep({ delayBetweenAccountsMs: 0 });
      expect(again.findings.find((candidate) => candidate.accountId === accountId)).toBeUndefined();
    } finally {
      Object.assign(config, { policies, profiles });
    }
  });
});
