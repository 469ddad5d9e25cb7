import { TagResourceCommand } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVend } from '../../cli/run.ts';
import { accountSchema } from '../../functions/api/schemas.ts';
import { PLATFORM_ADMIN, seedWithApprovers } from '../api/approvers.ts';
import {
  ADMIN_ARN,
  driftMessages,
  type Env,
  eventually,
  history,
  moveByHand,
  parentOf,
  startEnv,
  tagsOf,
  vend,
  vendChanges,
} from './drift-harness.ts';

/** Runs the vend CLI against the pipeline's API, signed as the platform administrator. */
async function vendAsAdmin(
  env: Env,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await runVend([...argv, '--api-url', env.pipeline.api!.url], {
    env: { AWS_ACCESS_KEY_ID: PLATFORM_ADMIN.key, AWS_SECRET_ACCESS_KEY: PLATFORM_ADMIN.key },
    stdout: { write: (text: string) => stdout.push(text) },
    stderr: { write: (text: string) => stderr.push(text) },
    fetch,
    sleep: env.pipeline.deps.sleep,
    random: () => 0.5,
    isTTY: false,
  });
  return { code, stdout: stdout.join(''), stderr: stderr.join('') };
}

/** The Slack messages about holding or releasing an account, posted since `from`. */
function holdMessages(env: Env, accountId: string, from: number) {
  return env.pipeline.slack
    .messages()
    .slice(from)
    .filter((message) => /on hold|released from hold/.test(message.payload.text ?? ''))
    .filter((message) => JSON.stringify(message.payload).includes(accountId));
}

describe('drift never fights incident response: held accounts', () => {
  let env: Env;
  let accountId: string;
  let ouId: string;

  beforeAll(async () => {
    env = await startEnv({ apiPort: 0, seed: seedWithApprovers() });
    accountId = await vend(env);
    ouId = (await env.pipeline.deps.accounts.get(accountId))!.organizationalUnit.id;
  });
  afterAll(() => env.pipeline.close());

  it('records the hold (who, when, why) on the account and announces it once', async () => {
    const before = env.pipeline.slack.messages().length;
    const run = await vendAsAdmin(env, ['hold', accountId, '--reason', 'INC-42: <!channel> leaked key']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Account ${accountId}`);
    expect(run.stdout).toContain('is on hold');

    const account = (await env.pipeline.deps.accounts.get(accountId))!;
    expect(account.hold).toMatchObject({ by: PLATFORM_ADMIN.arn, reason: 'INC-42: <!channel> leaked key' });
    expect(account.holdHistory).toEqual([{ action: 'hold', ...account.hold }]);
    const messages = holdMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    const text = JSON.stringify(messages[0]!.payload);
    expect(text).toContain('put on hold');
    expect(text).toContain('INC-42');
    // The administrator's text cannot ping the channel.
    expect(text).not.toContain('<!channel>');

    // The same hold again changes nothing and announces nothing.
    expect(
      (await vendAsAdmin(env, ['hold', accountId, '--reason', 'INC-42: <!channel> leaked key'])).code,
    ).toBe(0);
    expect((await env.pipeline.deps.accounts.get(accountId))!.holdHistory).toHaveLength(1);
    expect(holdMessages(env, accountId, before)).toHaveLength(1);
  });

  it('reports an account moved by hand while held, and does not move it back', async () => {
    const before = env.pipeline.slack.messages().length;
    await moveByHand(env, accountId, 'Sandbox');
    await eventually(
      env,
      () => history(env, accountId),
      (entries) => entries.some((entry) => entry.eventName === 'MoveAccount' && entry.outcome === 'held'),
      'the move recorded as held',
    );
    await env.pipeline.events.idle();
    expect(await parentOf(env, accountId)).toBe(env.ous.get('Sandbox'));
    expect(vendChanges(env, accountId).filter((event) => event.eventName === 'MoveAccount')).toHaveLength(1);
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      source: 'event',
      by: ADMIN_ARN,
      outcome: 'held',
      announcement: 'sent',
      aspects: ['organizationalUnit'],
    });
    expect(entry!.what).toContain('the account is on hold');
    expect(entry!.action).toContain('would move it back to Workloads/Dev');
    const messages = driftMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Drift on an account on hold');
    expect(messages[0]!.payload.text).toContain('Reported only');
  });

  it('reports tags changed while held, and leaves them', async () => {
    await env.admin.send(
      new TagResourceCommand({ ResourceId: accountId, Tags: [{ Key: 'team', Value: 'intruders' }] }),
    );
    await eventually(
      env,
      () => history(env, accountId),
      (entries) => entries.some((entry) => entry.eventName === 'TagResource' && entry.outcome === 'held'),
      'the tag change recorded as held',
    );
    expect((await tagsOf(env, accountId)).team).toBe('intruders');
  });

  it('the sweep reports a held account once, changing nothing', async () => {
    const before = env.pipeline.slack.messages().length;
    const changes = vendChanges(env, accountId).length;
    const first = await env.pipeline.sweep();
    const finding = first.findings.find((f) => f.accountId === accountId);
    expect(finding).toMatchObject({ outcome: 'reported' });
    expect(finding!.changes[0]).toContain('left as it is: the account is on hold');
    expect(await parentOf(env, accountId)).toBe(env.ous.get('Sandbox'));
    expect((await tagsOf(env, accountId)).team).toBe('intruders');
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({ source: 'sweep', outcome: 'held' });

    const second = await env.pipeline.sweep();
    expect(second.findings.find((f) => f.accountId === accountId)).toBeUndefined();
    expect((await history(env, accountId)).filter((e) => e.source === 'sweep')).toHaveLength(1);
    const sweepMessages = env.pipeline.slack
      .messages()
      .slice(before)
      .filter(
        (m) =>
          (m.payload.text ?? '').startsWith('Drift sweep') && JSON.stringify(m.payload).includes(accountId),
      );
    expect(sweepMessages).toHaveLength(1);
    expect(vendChanges(env, accountId)).toHaveLength(changes);
  });

  it('shows the hold in GET /accounts/{accountId}', async () => {
    const run = await vendAsAdmin(env, ['show', accountId, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const account = accountSchema.parse(JSON.parse(run.stdout));
    expect(account.hold).toMatchObject({ by: PLATFORM_ADMIN.arn, reason: 'INC-42: <!channel> leaked key' });
    expect(account.drift.history[0]!.outcome).toBe('held');
  });

  it('after the release, records and announces it, and the next sweep puts the account back', async () => {
    const before = env.pipeline.slack.messages().length;
    const run = await vendAsAdmin(env, ['release', accountId]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('released from hold');
    const account = (await env.pipeline.deps.accounts.get(accountId))!;
    expect(account.hold).toBeUndefined();
    expect(account.holdHistory!.map((entry) => entry.action)).toEqual(['release', 'hold']);
    expect(account.holdHistory![0]).toMatchObject({ by: PLATFORM_ADMIN.arn });
    const messages = holdMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('released from hold');

    // Released, not yet converged: nothing moved it back on its own.
    expect(await parentOf(env, accountId)).toBe(env.ous.get('Sandbox'));
    const result = await env.pipeline.sweep();
    expect(result.findings.find((f) => f.accountId === accountId)).toMatchObject({ outcome: 'fixed' });
    expect(await parentOf(env, accountId)).toBe(ouId);
    expect((await tagsOf(env, accountId)).team).toBe('payments');
    expect((await history(env, accountId))[0]).toMatchObject({ source: 'sweep', outcome: 'fixed' });
  });
});

describe('drift never fights incident response: quarantine OUs', () => {
  let env: Env;
  let accountId: string;
  let ouId: string;

  beforeAll(async () => {
    env = await startEnv({ apiPort: 0 });
    expect(env.pipeline.config.drift.quarantineOrganizationalUnits).toEqual(['Quarantine']);
    accountId = await vend(env);
    ouId = (await env.pipeline.deps.accounts.get(accountId))!.organizationalUnit.id;
  });
  afterAll(() => env.pipeline.close());

  it('reports an account moved into the quarantine OU, and leaves it there', async () => {
    const before = env.pipeline.slack.messages().length;
    await moveByHand(env, accountId, 'Quarantine');
    await eventually(
      env,
      () => history(env, accountId),
      (entries) => entries.some((entry) => entry.outcome === 'quarantined'),
      'the move recorded as quarantined',
    );
    await env.pipeline.events.idle();
    expect(await parentOf(env, accountId)).toBe(env.ous.get('Quarantine'));
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({ source: 'event', eventName: 'MoveAccount', outcome: 'quarantined' });
    expect(entry!.what).toContain(`the quarantine OU Quarantine (${env.ous.get('Quarantine')})`);
    const messages = driftMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Drift on a quarantined account');
  });

  it('the sweep leaves a quarantined account as it is and reports it once', async () => {
    const first = await env.pipeline.sweep();
    expect(first.findings.find((f) => f.accountId === accountId)?.changes[0]).toContain(
      'left as it is: the account is in the quarantine OU Quarantine',
    );
    expect(await parentOf(env, accountId)).toBe(env.ous.get('Quarantine'));
    const second = await env.pipeline.sweep();
    expect(second.findings.find((f) => f.accountId === accountId)).toBeUndefined();
    expect(vendChanges(env, accountId).filter((event) => event.eventName === 'MoveAccount')).toHaveLength(1);
  });

  it('puts the account back once it is moved out of the quarantine OU', async () => {
    await moveByHand(env, accountId, 'Sandbox');
    await eventually(
      env,
      () => parentOf(env, accountId),
      (parent) => parent === ouId,
      'the account back',
    );
    await env.pipeline.events.idle();
    expect((await history(env, accountId))[0]).toMatchObject({ eventName: 'MoveAccount', outcome: 'fixed' });
  });
});
