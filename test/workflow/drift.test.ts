import { CloseAccountCommand, TagResourceCommand, UntagResourceCommand } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVend } from '../../cli/run.ts';
import { accountSchema } from '../../functions/api/schemas.ts';
import { handleDrift, handleDriftEvent } from '../../functions/drift/core.ts';
import { readConfigFile } from '../../functions/shared/config.ts';
import { type AuditEvent, toEventBridgeEvent } from '../../local/cloud/index.ts';
import { DEFAULT_CONFIG } from '../../local/pipeline.ts';
import {
  ADMIN_ARN,
  accountIdOf,
  deleteRoleByHand,
  driftMessages,
  type Env,
  eventually,
  history,
  moveByHand,
  PIPELINE_ROLE,
  parentOf,
  roleExists,
  startEnv,
  tagsOf,
  vend,
  vendChanges,
} from './drift-harness.ts';

describe('drift fix: changes made by hand to a vended account are put back', () => {
  let env: Env;
  let accountId: string;

  beforeAll(async () => {
    env = await startEnv({ apiPort: 0 });
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  it('moves an account moved to another OU back, and says so in exactly one Slack message', async () => {
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const before = env.pipeline.slack.messages().length;

    await moveByHand(env, accountId, 'Sandbox');

    await eventually(
      env,
      () => parentOf(env, accountId),
      (parent) => parent === desired.organizationalUnit.id,
      'the account back in its OU',
    );
    await env.pipeline.events.idle();
    const messages = driftMessages(env, accountId, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Drift fixed');
    expect(messages[0]!.payload.text).toContain(ADMIN_ARN);
    expect(messages[0]!.rendered).toContain('Workloads/Dev');

    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      source: 'event',
      eventName: 'MoveAccount',
      aspects: ['organizationalUnit'],
      by: ADMIN_ARN,
      outcome: 'fixed',
      announcement: 'sent',
    });
    expect(entry!.what).toContain(`to ${env.ous.get('Sandbox')}`);
    expect(entry!.action).toContain('back to Workloads/Dev');
    expect(vendChanges(env, accountId).filter((event) => event.eventName === 'MoveAccount')).toHaveLength(2);
  });

  it("does not treat Vend's own corrective MoveAccount as drift: no second fix, no second message", async () => {
    const corrective = vendChanges(env, accountId)
      .filter((event) => event.eventName === 'MoveAccount')
      .at(-1)!;
    expect(corrective.userIdentity).toMatchObject({
      sessionContext: { sessionIssuer: { arn: PIPELINE_ROLE } },
    });
    const delivery = env.pipeline.events.deliveries.find((d) => d.event.id === corrective.eventID);
    expect(delivery?.result).toMatchObject({ outcome: 'ignored', reason: "Vend's own change" });
    expect((await history(env, accountId)).filter((entry) => entry.eventName === 'MoveAccount')).toHaveLength(
      1,
    );
  });

  it('puts back the tags Vend owns that were removed or changed, and leaves other tags alone', async () => {
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const before = env.pipeline.slack.messages().length;
    const entriesBefore = (await history(env, accountId)).length;

    await env.admin.send(
      new TagResourceCommand({ ResourceId: accountId, Tags: [{ Key: 'project', Value: '42' }] }),
    );
    await env.admin.send(
      new UntagResourceCommand({ ResourceId: accountId, TagKeys: ['team', 'vend:owner'] }),
    );
    await env.admin.send(
      new TagResourceCommand({
        ResourceId: accountId,
        Tags: [{ Key: 'vend:request-id', Value: '<!channel> forged' }],
      }),
    );

    const tags = await eventually(
      env,
      () => tagsOf(env, accountId),
      (current) => Object.entries(desired.tags).every(([key, value]) => current[key] === value),
      'the tags back',
    );
    await env.pipeline.events.idle();
    expect(tags).toMatchObject({ ...desired.tags, project: '42' });
    expect(desired.tags).toMatchObject({ team: 'payments', 'vend:owner': 'alice@example.com' });

    const entries = (await history(env, accountId)).slice(0, -entriesBefore || undefined);
    // The cost-center tag is not Vend's: no drift. The untag and the forged value are.
    expect(entries.map((entry) => entry.eventName).sort()).toEqual(['TagResource', 'UntagResource']);
    const fixes = entries.filter((entry) => entry.outcome === 'fixed');
    expect(fixes.length).toBeGreaterThanOrEqual(1);
    expect(vendChanges(env, accountId).filter((event) => event.eventName === 'TagResource')).toHaveLength(
      fixes.length,
    );
    const messages = driftMessages(env, accountId, before);
    expect(messages).toHaveLength(fixes.length);
    // The forged value is shown as text, never as a channel ping.
    for (const message of messages) expect(JSON.stringify(message.payload)).not.toContain('<!channel>');
  });

  it('leaves alone an account Vend did not vend', async () => {
    const before = env.pipeline.slack.messages().length;
    await moveByHand(env, '111111111111', 'Sandbox');
    await env.pipeline.events.idle();
    expect(await parentOf(env, '111111111111')).toBe(env.ous.get('Sandbox'));
    const delivery = env.pipeline.events.deliveries.findLast(
      (d) =>
        d.event.detail.eventName === 'MoveAccount' &&
        accountIdOf(d.event.detail as AuditEvent) === '111111111111',
    );
    expect(delivery?.result).toMatchObject({ outcome: 'ignored', reason: 'an account Vend did not vend' });
    expect(env.pipeline.slack.messages().slice(before)).toEqual([]);
    expect(vendChanges(env, '111111111111')).toEqual([]);
    await moveByHand(env, '111111111111', 'Shared/Security');
  });

  it('recreates a baseline role deleted in the account when the sweep runs, once', async () => {
    const before = env.pipeline.slack.messages().length;
    await deleteRoleByHand(env, accountId, 'VendAdmin');
    expect(await roleExists(env, accountId, 'VendAdmin')).toBe(false);

    const result = await env.pipeline.sweep();

    expect(await roleExists(env, accountId, 'VendAdmin')).toBe(true);
    const finding = result.findings.find((f) => f.accountId === accountId);
    expect(finding).toMatchObject({ outcome: 'fixed', failures: [] });
    expect(finding!.changes).toContain('created role VendAdmin');
    const [entry] = await history(env, accountId);
    expect(entry).toMatchObject({
      source: 'sweep',
      aspects: ['baseline'],
      outcome: 'fixed',
      announcement: 'sent',
    });
    const messages = env.pipeline.slack.messages().slice(before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('Drift sweep');
    expect(messages[0]!.rendered).toContain('created role VendAdmin');

    // Nothing left to do: the next sweep changes nothing and says nothing.
    const again = await env.pipeline.sweep();
    expect(again.findings).toEqual([]);
    expect(again.inSync).toBe(again.checked);
    expect(env.pipeline.slack.messages().slice(before)).toHaveLength(1);
  });

  it('shows the drift in the API and the CLI', async () => {
    const response = await fetch(`${env.pipeline.api!.url}/accounts/${accountId}`);
    const account = accountSchema.parse(await response.json());
    expect(account.drift.status).toBe('in-sync');
    expect(account.drift.aspects).toMatchObject({
      organizationalUnit: { status: 'in-sync' },
      baseline: { status: 'in-sync' },
    });
    expect(account.drift.history.map((entry) => entry.outcome)).toContain('fixed');

    const out: string[] = [];
    const io = {
      fetch: globalThis.fetch,
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => out.push(text) },
      env: {},
      sleep: async () => {},
      isTTY: false,
      credentials: async () => undefined,
    };
    expect(await runVend(['drift', accountId, '--api-url', env.pipeline.api!.url], io)).toBe(0);
    const text = out.join('');
    expect(text).toContain('MoveAccount');
    expect(text).toContain(ADMIN_ARN);
    expect(text).toContain('fixed');
  });

  it('marks an account closed by hand as closed, reports it, and changes nothing', async () => {
    const closing = await vend(env);
    const before = env.pipeline.slack.messages().length;
    await env.admin.send(new CloseAccountCommand({ AccountId: closing }));
    await eventually(
      env,
      async () => (await env.pipeline.deps.accounts.get(closing))?.status,
      (status) => status === 'closed',
      'the account marked closed',
    );
    await env.pipeline.events.idle();
    const [entry] = await history(env, closing);
    expect(entry).toMatchObject({
      eventName: 'CloseAccount',
      aspects: ['membership'],
      outcome: 'reported',
      by: ADMIN_ARN,
    });
    const messages = driftMessages(env, closing, before);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.payload.text).toContain('left the organization');
    // The sweep leaves closed accounts alone.
    const swept = await env.pipeline.sweep();
    expect(swept.findings.map((f) => f.accountId)).not.toContain(closing);
  });
});

describe('drift events that are malformed, foreign or not drift', () => {
  let env: Env;
  let accountId: string;
  beforeAll(async () => {
    env = await startEnv({ driftEvents: false });
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  const apiCall = (eventName: string, requestParameters: unknown, extra: Record<string, unknown> = {}) => ({
    version: '0',
    id: `evt-${Math.random().toString(36).slice(2)}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.organizations',
    account: '000000000000',
    time: '2026-11-22T10:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventSource: 'organizations.amazonaws.com',
      eventName,
      eventTime: '2026-11-22T10:00:00Z',
      userIdentity: { type: 'Root', arn: ADMIN_ARN },
      requestParameters,
      ...extra,
    },
  });

  it('drops malformed and unknown events without throwing', async () => {
    const dropped = [
      null,
      'MoveAccount',
      42,
      [],
      {},
      { id: 'x', source: 'aws.organizations', 'detail-type': 'AWS API Call via CloudTrail', detail: {} },
      { ...apiCall('MoveAccount', {}), detail: { eventName: 'MoveAccount' } },
      apiCall('CreateOrganizationalUnit', { parentId: 'r-abcd', name: 'x' }),
      {
        ...apiCall('RunInstances', {}),
        source: 'aws.ec2',
        detail: { eventSource: 'ec2.amazonaws.com', eventName: 'RunInstances' },
      },
      apiCall('MoveAccount', { sourceParentId: 'ou-a', destinationParentId: 'ou-b' }),
      apiCall('MoveAccount', { accountId: 'not-an-account' }),
      apiCall('UntagResource', null),
    ];
    for (const event of dropped) {
      await expect(handleDriftEvent(env.pipeline.deps, event)).resolves.toMatchObject({ outcome: 'dropped' });
      await expect(handleDrift(env.pipeline.deps, event)).resolves.toMatchObject({ outcome: 'dropped' });
    }
  });

  it('ignores failed calls, creations ending, resources that are no account, and tags Vend does not own', async () => {
    const cases: [unknown, string][] = [
      [
        apiCall('MoveAccount', { accountId }, { errorCode: 'AccessDenied' }),
        'the call failed (AccessDenied): nothing changed',
      ],
      [
        {
          ...apiCall('CreateAccountResult', null),
          'detail-type': 'AWS Service Event via CloudTrail',
          detail: {
            eventSource: 'organizations.amazonaws.com',
            eventName: 'CreateAccountResult',
            serviceEventDetails: {},
          },
        },
        'an account creation ended: nothing to fix',
      ],
      [
        apiCall('TagResource', { resourceId: 'ou-abcd-12345678', tags: [{ key: 'a', value: 'b' }] }),
        'not an account: ou-abcd-12345678',
      ],
      [
        apiCall('UntagResource', { resourceId: accountId, tagKeys: ['not-vends'] }),
        'touches no tag Vend owns',
      ],
      [
        apiCall('MoveAccount', {
          accountId: '111111111111',
          sourceParentId: 'ou-a',
          destinationParentId: 'ou-b',
        }),
        'an account Vend did not vend',
      ],
      [
        apiCall(
          'MoveAccount',
          { accountId, sourceParentId: 'ou-a', destinationParentId: 'ou-b' },
          {
            userIdentity: {
              type: 'AssumedRole',
              arn: 'arn:aws:sts::000000000000:assumed-role/VendPipeline/vend',
              sessionContext: { sessionIssuer: { arn: PIPELINE_ROLE } },
            },
          },
        ),
        "Vend's own change",
      ],
    ];
    for (const [event, reason] of cases) {
      await expect(handleDriftEvent(env.pipeline.deps, event)).resolves.toMatchObject({
        outcome: 'ignored',
        reason,
      });
    }
    expect(await history(env, accountId)).toEqual([]);
    // Only the move into its OU while it was vended.
    expect(vendChanges(env, accountId).map((event) => event.eventName)).toEqual(['MoveAccount']);
  });

  it('marks an account removed from the organization as removed and reports it, once per event', async () => {
    const event = apiCall('RemoveAccountFromOrganization', { accountId });
    const first = await handleDriftEvent(env.pipeline.deps, event);
    expect(first).toMatchObject({ outcome: 'reported', accountId });
    expect((await env.pipeline.deps.accounts.get(accountId))?.status).toBe('removed');
    await expect(handleDriftEvent(env.pipeline.deps, structuredClone(event))).resolves.toMatchObject({
      outcome: 'ignored',
      reason: 'the account is removed',
    });
    expect(await history(env, accountId)).toHaveLength(1);
  });
});

describe('drift in report-only mode', () => {
  let env: Env;
  let accountId: string;
  beforeAll(async () => {
    const config = readConfigFile(DEFAULT_CONFIG);
    env = await startEnv({ config: { ...config, drift: { ...config.drift, mode: 'report' } } });
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  it('changes nothing, and reports each drift in the history and on Slack', async () => {
    const desired = (await env.pipeline.deps.accounts.get(accountId))!;
    const before = env.pipeline.slack.messages().length;
    const auditBefore = env.pipeline.cloud.cloud.state.auditSequence;

    await moveByHand(env, accountId, 'Workloads/Prod');
    await env.admin.send(new UntagResourceCommand({ ResourceId: accountId, TagKeys: ['vend:owner'] }));
    await deleteRoleByHand(env, accountId, 'VendReadOnly');
    await env.pipeline.events.idle();
    const sweep = await env.pipeline.sweep();

    expect(await parentOf(env, accountId)).toBe(env.ous.get('Workloads/Prod'));
    expect(await tagsOf(env, accountId)).not.toHaveProperty('vend:owner');
    expect(await roleExists(env, accountId, 'VendReadOnly')).toBe(false);
    // Vend made no change at all since: no Organizations, IAM, Budgets or Route 53 call that changes anything.
    const changesByVend = env.pipeline.cloud.cloud
      .auditSince(auditBefore - 1)
      .filter(
        (event) =>
          (event.userIdentity as { arn?: string }).arn?.includes('/vend') &&
          !event.readOnly &&
          event.eventSource !== 'sts.amazonaws.com',
      );
    expect(changesByVend).toEqual([]);

    const entries = await history(env, accountId);
    expect(entries.map((entry) => entry.outcome)).toEqual(['reported', 'reported', 'reported']);
    expect(entries.find((entry) => entry.eventName === 'MoveAccount')?.action).toBe(
      `would move it back to ${desired.organizationalUnit.path} (${desired.organizationalUnit.id})`,
    );
    const finding = sweep.findings.find((f) => f.accountId === accountId)!;
    expect(finding.outcome).toBe('reported');
    expect(finding.changes).toEqual(
      expect.arrayContaining([
        'would create role VendReadOnly with its policies',
        `would move it back to ${desired.organizationalUnit.path} (${desired.organizationalUnit.id})`,
        'would restore the tag(s) vend:owner',
      ]),
    );
    expect((await env.pipeline.deps.drift.get(accountId))?.aspects).toMatchObject({
      organizationalUnit: { status: 'drifted' },
      tags: { status: 'drifted' },
      baseline: { status: 'drifted' },
      budget: { status: 'in-sync' },
      dns: { status: 'in-sync' },
    });
    const messages = env.pipeline.slack.messages().slice(before);
    expect(messages).toHaveLength(3);
    expect(messages.filter((m) => m.payload.text?.includes('Reported only'))).toHaveLength(2);
    expect(messages.some((m) => m.rendered.includes('report mode'))).toBe(true);
  });
});

describe('a burst of drift events', () => {
  let env: Env;
  let accounts: string[];
  beforeAll(async () => {
    // Several events at a time, as concurrent Lambda invocations would handle them.
    env = await startEnv({ driftConcurrency: 8 });
    env.pipeline.cloud.cloud.settings.maxCreationsInProgress = 20;
    accounts = await Promise.all(Array.from({ length: 20 }, () => vend(env)));
  }, 60_000);
  afterAll(() => env.pipeline.close());

  it('leaves each of 20 accounts as vended after 100 changes by hand, with no fix made twice', async () => {
    const desired = new Map(
      await Promise.all(
        accounts.map(async (id) => [id, (await env.pipeline.deps.accounts.get(id))!] as const),
      ),
    );
    const auditBefore = env.pipeline.cloud.cloud.state.auditSequence;
    const before = env.pipeline.slack.messages().length;
    const changes = [
      (id: string) => moveByHand(env, id, 'Sandbox'),
      (id: string) =>
        env.admin.send(new UntagResourceCommand({ ResourceId: id, TagKeys: ['vend:owner', 'team'] })),
      (id: string) => moveByHand(env, id, 'Workloads/Prod'),
      (id: string) =>
        env.admin.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: 'team', Value: 'forged' }] })),
      (id: string) => moveByHand(env, id, 'Sandbox'),
    ];
    // 20 people at once, each making 5 changes to one account; a move may lose a race with Vend's fix and fail.
    await Promise.all(
      accounts.map(async (id) => {
        for (const change of changes) await change(id).catch(() => undefined);
      }),
    );
    await eventually(
      env,
      async () => {
        await env.pipeline.events.idle();
        return Promise.all(
          accounts.map(async (id) => ({ parent: await parentOf(env, id), tags: await tagsOf(env, id) })),
        );
      },
      (states) =>
        states.every(
          (state, i) =>
            state.parent === desired.get(accounts[i]!)!.organizationalUnit.id &&
            Object.entries(desired.get(accounts[i]!)!.tags).every(([k, v]) => state.tags[k] === v),
        ),
      'every account back as vended',
    );
    await env.pipeline.events.idle();

    const foreign = env.pipeline.cloud.cloud
      .auditSince(auditBefore - 1)
      .filter(
        (event) =>
          event.eventSource === 'organizations.amazonaws.com' &&
          ['MoveAccount', 'TagResource', 'UntagResource'].includes(event.eventName) &&
          !event.errorCode &&
          (event.userIdentity as { arn?: string }).arn === ADMIN_ARN,
      );
    expect(foreign.length).toBeGreaterThanOrEqual(60);
    let fixes = 0;
    for (const id of accounts) {
      const entries = await history(env, id);
      const own = foreign.filter((event) => accountIdOf(event) === id);
      // Each change by hand is recorded once (acted on once), and nothing else is.
      expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
      expect(entries.map((entry) => entry.id).sort()).toEqual(own.map((event) => event.eventID).sort());
      // Each recorded fix is exactly one corrective call by Vend, and every corrective call is a recorded fix.
      const fixed = entries.filter((entry) => entry.outcome === 'fixed');
      const corrective = vendChanges(env, id).filter((event) => event.sequence >= auditBefore);
      expect(corrective).toHaveLength(fixed.length);
      expect(entries.every((entry) => entry.outcome === 'fixed' || entry.outcome === 'in-sync')).toBe(true);
      expect(driftMessages(env, id, before)).toHaveLength(fixed.length);
      fixes += fixed.length;
    }
    expect(fixes).toBeGreaterThanOrEqual(40);

    // EventBridge delivers at least once: every event again, twice and all at once, changes nothing more.
    const calls = vendChanges(env).length;
    const messages = env.pipeline.slack.messages().length;
    const again = await Promise.all(
      [...foreign, ...foreign].map((event) => handleDriftEvent(env.pipeline.deps, toEventBridgeEvent(event))),
    );
    expect(new Set(again.map((result) => result.outcome))).toEqual(new Set(['duplicate']));
    expect(vendChanges(env)).toHaveLength(calls);
    expect(env.pipeline.slack.messages()).toHaveLength(messages);
  }, 60_000);
});
