import {
  LeaveOrganizationCommand,
  OrganizationsClient,
  RemoveAccountFromOrganizationCommand,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDriftEvent } from '../../functions/drift/core.ts';
import { sweepDrift } from '../../functions/drift/sweep.ts';
import { MemoryMetrics } from '../../functions/shared/metrics.ts';
import { METRIC } from '../../functions/shared/metrics-names.ts';
import { toEventBridgeEvent } from '../../local/cloud/index.ts';
import { ADMIN, driftMessages, type Env, eventually, history, startEnv, vend } from './drift-harness.ts';

/** Organizations as the member account itself, through a role assumed in it (its root user or admin would do). */
async function organizationsInside(env: Env, accountId: string): Promise<OrganizationsClient> {
  const sts = new STSClient({
    endpoint: env.pipeline.cloud.endpoint,
    region: 'us-east-1',
    credentials: ADMIN,
  });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'inside',
    }),
  );
  return new OrganizationsClient({
    endpoint: env.pipeline.cloud.endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    },
  });
}

async function controlPost(env: Env, path: string): Promise<void> {
  const response = await fetch(`${env.pipeline.cloud.endpoint}${path}`, { method: 'POST' });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
}

const status = async (env: Env, accountId: string) =>
  (await env.pipeline.deps.accounts.get(accountId))?.status;

describe('accounts that leave the organization, as the drift events tell', () => {
  let env: Env;
  beforeAll(async () => {
    env = await startEnv();
  });
  afterAll(() => env.pipeline.close());

  it('marks an account that left from inside as removed, from the departure event the management account gets', async () => {
    const accountId = await vend(env);
    const before = env.pipeline.slack.messages().length;

    await (await organizationsInside(env, accountId)).send(new LeaveOrganizationCommand({}));

    await eventually(
      env,
      () => status(env, accountId),
      (value) => value === 'removed',
      'the account marked removed',
    );
    await env.pipeline.events.idle();
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      eventName: 'AccountDepartedOrganization',
      aspects: ['membership'],
      outcome: 'reported',
      what: 'departed from the organization (LEFT)',
      action: 'the registry now shows the account removed',
    });
    // The call itself is in the member's trail: it never reached the management account's bus.
    const delivered = env.pipeline.events.deliveries.map((delivery) => delivery.event.detail.eventName);
    expect(delivered).not.toContain('LeaveOrganization');
    expect(driftMessages(env, accountId, before)).toHaveLength(1);
  });

  it('treats LeaveOrganization as membership drift where the bus receives the member account events', async () => {
    const accountId = await vend(env);
    await env.pipeline.events.idle();
    const saved = env.pipeline.events.publish;
    env.pipeline.events.publish = () => undefined;
    try {
      await (await organizationsInside(env, accountId)).send(new LeaveOrganizationCommand({}));
    } finally {
      env.pipeline.events.publish = saved;
    }
    const call = env.pipeline.cloud.cloud
      .auditSince(0)
      .findLast((event) => event.eventName === 'LeaveOrganization')!;
    const metrics = new MemoryMetrics();

    const result = await handleDriftEvent({ ...env.pipeline.deps, metrics }, toEventBridgeEvent(call));

    expect(result).toMatchObject({ outcome: 'reported', accountId, what: 'left the organization' });
    expect(await status(env, accountId)).toBe('removed');
    expect(metrics.total(METRIC.driftDetected)).toBe(1);
    expect(metrics.total(METRIC.driftFixed)).toBe(0);
  });

  it('reads the departed account from a departure event whose details are not nested', async () => {
    const accountId = await vend(env);
    const event = {
      version: '0',
      id: `departed-${accountId}`,
      'detail-type': 'AWS Service Event via CloudTrail',
      source: 'aws.organizations',
      detail: {
        eventSource: 'organizations.amazonaws.com',
        eventName: 'AccountDepartedOrganization',
        eventType: 'AwsServiceEvent',
        userIdentity: { accountId: '000000000000', invokedBy: 'AWS Internal' },
        serviceEventDetails: { accountId, departureMethod: 'CLEANED', departureTime: '2026-12-02T12:00:00Z' },
      },
    };

    const result = await handleDriftEvent(env.pipeline.deps, event);

    expect(result).toMatchObject({
      outcome: 'reported',
      accountId,
      what: 'departed from the organization (CLEANED)',
    });
    expect(await status(env, accountId)).toBe('closed');
  });

  it('marks an account removed by the management account as removed, once for the call and its departure event', async () => {
    const accountId = await vend(env);
    await env.pipeline.events.idle();
    const before = env.pipeline.slack.messages().length;
    const deliveredBefore = env.pipeline.events.deliveries.length;

    await env.admin.send(new RemoveAccountFromOrganizationCommand({ AccountId: accountId }));

    await eventually(
      env,
      () => status(env, accountId),
      (value) => value === 'removed',
      'the account marked removed',
    );
    await env.pipeline.events.idle();
    const deliveries = env.pipeline.events.deliveries
      .slice(deliveredBefore)
      .filter((delivery) => (delivery.result as { accountId?: string })?.accountId === accountId);
    expect(deliveries.map((delivery) => delivery.event.detail.eventName).sort()).toEqual([
      'AccountDepartedOrganization',
      'RemoveAccountFromOrganization',
    ]);
    expect(
      (await history(env, accountId)).filter((entry) => entry.aspects.includes('membership')),
    ).toHaveLength(1);
    expect(driftMessages(env, accountId, before)).toHaveLength(1);
  });
});

describe('accounts closed, suspended or gone without an event, as the sweep finds them', () => {
  let env: Env;
  let accounts: string[];
  beforeAll(async () => {
    env = await startEnv({ driftEvents: false });
    accounts = [await vend(env), await vend(env), await vend(env), await vend(env)];
  });
  afterAll(() => env.pipeline.close());

  it('reports a closing, closed, suspended or departed account as membership drift and updates the registry', async () => {
    const [closing, closed, suspended, left] = accounts as [string, string, string, string];
    // A closure that takes a day of the simulated clock: still pending when the sweep looks.
    env.pipeline.cloud.cloud.settings.closureDelayMs = 24 * 60 * 60_000;
    await controlPost(env, `/_local/accounts/${closing}/close-from-inside`);
    await controlPost(env, `/_local/accounts/${closed}/close-from-inside`);
    env.pipeline.cloud.cloud.state.accounts[closed]!.closesAt = env.pipeline.cloud.cloud.clock.now();
    env.pipeline.cloud.cloud.settle();
    await controlPost(env, `/_local/accounts/${suspended}/suspend`);
    await (await organizationsInside(env, left)).send(new LeaveOrganizationCommand({}));
    const metrics = new MemoryMetrics();
    const before = env.pipeline.slack.messages().length;

    const result = await sweepDrift({ ...env.pipeline.deps, metrics });

    expect(result).toMatchObject({ outcome: 'swept', checked: 4 });
    const byAccount = Object.fromEntries(result.findings.map((finding) => [finding.accountId, finding]));
    expect(byAccount[closing]).toMatchObject({
      outcome: 'reported',
      changes: ['the account is pending closure: the registry now shows the account closed'],
    });
    expect(byAccount[closed]!.changes).toEqual([
      'the account is closed: the registry now shows the account closed',
    ]);
    expect(byAccount[suspended]!.changes).toEqual([
      'the account is suspended: the registry now shows the account closed',
    ]);
    expect(byAccount[left]!.changes).toEqual([
      'the account is no longer in the organization: the registry now shows the account removed',
    ]);
    expect(await Promise.all(accounts.map((id) => status(env, id)))).toEqual([
      'closed',
      'closed',
      'closed',
      'removed',
    ]);
    const [entry] = await history(env, closing);
    expect(entry).toMatchObject({ source: 'sweep', aspects: ['membership'], outcome: 'reported' });
    expect((await env.pipeline.deps.drift.get(closing))?.aspects.membership?.status).toBe('drifted');
    expect(metrics.total(METRIC.driftDetected)).toBe(4);
    expect(metrics.total(METRIC.driftFixed)).toBe(0);
    expect(env.pipeline.slack.messages().slice(before)).toHaveLength(1);

    // Nothing left to check: the next sweep leaves them alone.
    expect(await sweepDrift(env.pipeline.deps)).toMatchObject({ outcome: 'swept', checked: 0, findings: [] });
  });
});
