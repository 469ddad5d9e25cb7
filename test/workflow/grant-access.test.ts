import {
  DeleteAccountAssignmentCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepDrift } from '../../functions/drift/sweep.ts';
import { grantAccess } from '../../functions/grant-access/core.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { LocalRunner } from '../../local/runner.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { type Env, eventually, startEnv, vend } from './drift-harness.ts';
import { startWorkflowEnv, stepInput, TEST_CONFIG, TEST_SPEED, type WorkflowEnv } from './harness.ts';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
const INSTANCE_ARN = 'arn:aws:sso:::instance/ssoins-7223f1e0c0ffee01';
const PORTAL = 'https://d-9067c0ffee.awsapps.com/start';

const IDENTITY_CONFIG = {
  ...TEST_CONFIG,
  identityCenter: {
    instanceArn: INSTANCE_ARN,
    permissionSets: [
      {
        name: 'VendDeveloper',
        description: 'Builds and runs workloads',
        sessionDuration: 'PT8H',
        managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'],
      },
    ],
  },
  profiles: {
    default: {
      ...TEST_CONFIG.profiles!.default,
      identityCenter: {
        assignments: [
          { permissionSet: 'VendDeveloper', groups: ['developers'], owner: true, requester: true },
        ],
      },
    },
  },
};

function ssoAdmin(endpoint: string): SSOAdminClient {
  return new SSOAdminClient({ endpoint, region: 'us-east-1', credentials: ADMIN });
}

/** The permission set's ARN, found by name as an administrator would. */
async function permissionSetArn(sso: SSOAdminClient, name: string): Promise<string> {
  const { PermissionSets } = await sso.send(new ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
  for (const arn of PermissionSets ?? []) {
    const { PermissionSet } = await sso.send(
      new DescribePermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: arn }),
    );
    if (PermissionSet?.Name === name) return arn;
  }
  throw new Error(`no permission set ${name}`);
}

async function assignments(sso: SSOAdminClient, accountId: string, psArn: string) {
  const { AccountAssignments } = await sso.send(
    new ListAccountAssignmentsCommand({
      InstanceArn: INSTANCE_ARN,
      AccountId: accountId,
      PermissionSetArn: psArn,
    }),
  );
  return (AccountAssignments ?? []).map(({ PrincipalType, PrincipalId }) => ({ PrincipalType, PrincipalId }));
}

/** The identity store ids of the seeded users and groups, by user name or display name. */
function seededIds(env: WorkflowEnv | Env) {
  const cloud = 'pipeline' in env ? env.pipeline.cloud.cloud : env.cloud.cloud;
  const instance = (
    cloud.state as unknown as {
      identityCenter: {
        instances: {
          users: Record<string, { userId: string; userName: string }>;
          groups: Record<string, { groupId: string; displayName: string }>;
        }[];
      };
    }
  ).identityCenter.instances[0]!;
  return {
    user: (name: string) => Object.values(instance.users).find((user) => user.userName === name)!.userId,
    group: (name: string) =>
      Object.values(instance.groups).find((group) => group.displayName === name)!.groupId,
  };
}

describe('Identity Center access through the real state machine', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;
  let runner: LocalRunner;
  let sso: SSOAdminClient;
  let counter = 0;

  beforeAll(async () => {
    sink = await startSlackSink({ port: 0, print: false });
    env = await startWorkflowEnv({ config: IDENTITY_CONFIG, slackWebhookUrl: async () => sink.url });
    runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
    sso = ssoAdmin(env.cloud.endpoint);
  });
  afterAll(async () => {
    runner.abortAll();
    await env.close();
    await sink.close();
  });

  async function vendFor(owner: string, requester: string) {
    const before = sink.messages().length;
    const record = await submitRequest(
      env.deps,
      runner,
      {
        name: `idc-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
        organizationalUnit: 'Workloads/Dev',
        owner,
        requester: { slackUserId: 'U012ALICE' },
      },
      requester,
    );
    const execution = await runner.get(record.requestId)!.done;
    const stored = (await env.deps.requests.get(record.requestId))!;
    return { execution, stored, messages: sink.messages().slice(before) };
  }

  it('gives the owner, the requester and the group the profile permission set, and the message the portal', async () => {
    // Prepare: bob asks, alice owns; both have Identity Center users.
    const ids = seededIds(env);

    // Act
    const { execution, stored, messages } = await vendFor(
      'alice@example.com',
      'arn:aws:sts::000000000000:assumed-role/Developer/bob',
    );

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    const accountId = stored.accountId!;
    const psArn = await permissionSetArn(sso, 'VendDeveloper');
    const { AttachedManagedPolicies } = await sso.send(
      new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn: psArn }),
    );
    expect(AttachedManagedPolicies?.map((policy) => policy.Arn)).toEqual([
      'arn:aws:iam::aws:policy/PowerUserAccess',
    ]);
    expect(await assignments(sso, accountId, psArn)).toEqual(
      expect.arrayContaining([
        { PrincipalType: 'GROUP', PrincipalId: ids.group('developers') },
        { PrincipalType: 'USER', PrincipalId: ids.user('alice') },
        { PrincipalType: 'USER', PrincipalId: ids.user('bob') },
      ]),
    );
    expect(stored.steps.grantAccess).toMatchObject({ status: 'succeeded' });
    expect(stored.steps.grantAccess?.detail).toContain('assigned VendDeveloper for owner alice@example.com');
    expect(messages).toHaveLength(1);
    const text = JSON.stringify(messages[0]!.payload);
    expect(text).toContain(`<${PORTAL}|access portal>`);
    expect(text).toContain('permission set *VendDeveloper*');
    expect(text).not.toContain('not assigned');
  });

  it('still readies the account when the owner and requester have no user, and says who and why', async () => {
    const ids = seededIds(env);

    const { execution, stored, messages } = await vendFor(
      'dave@example.com',
      'arn:aws:iam::000000000000:user/local-developer',
    );

    expect(execution.status).toBe('SUCCEEDED');
    expect(stored.status).toBe('succeeded');
    const psArn = await permissionSetArn(sso, 'VendDeveloper');
    expect(await assignments(sso, stored.accountId!, psArn)).toEqual([
      { PrincipalType: 'GROUP', PrincipalId: ids.group('developers') },
    ]);
    const detail = stored.steps.grantAccess?.detail ?? '';
    expect(detail).toContain(
      'owner dave@example.com not assigned VendDeveloper: no Identity Center user has the email or user name dave@example.com',
    );
    expect(detail).toContain(
      'requester local-developer not assigned VendDeveloper: no Identity Center user has the user name or email local-developer',
    );
    const text = JSON.stringify(messages[0]!.payload);
    expect(text).toContain('not assigned: the owner dave@example[.]com (VendDeveloper)');
    expect(text).toContain('not assigned: the requester local-developer (VendDeveloper)');
  });

  /** Queues how the next account assignment creation ends, through the local cloud's control API. */
  async function nextAssignment(outcome: {
    state: 'SUCCEEDED' | 'FAILED';
    failureReason?: string;
    delayMs?: number;
  }) {
    const response = await fetch(`${env.cloud.endpoint}/_local/identity-center/assignment-outcomes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(outcome),
    });
    expect(response.status).toBe(201);
  }

  it('retries while an assignment is still being created, and ends with every assignment in place', async () => {
    // The first creation takes ten minutes: longer than the step polls, so the state machine retries the step.
    await nextAssignment({ state: 'SUCCEEDED', delayMs: 600_000 });
    const ids = seededIds(env);

    const { execution, stored } = await vendFor(
      'alice@example.com',
      'arn:aws:sts::000000000000:assumed-role/Developer/bob',
    );

    expect(execution.status).toBe('SUCCEEDED');
    expect(stored.steps.grantAccess?.attempts).toBeGreaterThan(1);
    const psArn = await permissionSetArn(sso, 'VendDeveloper');
    expect(await assignments(sso, stored.accountId!, psArn)).toEqual(
      expect.arrayContaining([
        { PrincipalType: 'GROUP', PrincipalId: ids.group('developers') },
        { PrincipalType: 'USER', PrincipalId: ids.user('alice') },
        { PrincipalType: 'USER', PrincipalId: ids.user('bob') },
      ]),
    );
  });

  it('fails the request at grantAccess, with AWS reason, when an assignment creation fails', async () => {
    await nextAssignment({
      state: 'FAILED',
      failureReason: 'Received a 404 status error: Not supported policy.',
    });

    const { execution, stored } = await vendFor(
      'alice@example.com',
      'arn:aws:sts::000000000000:assumed-role/Developer/bob',
    );

    expect(execution.status).toBe('FAILED');
    expect(stored.status).toBe('failed');
    expect(stored.failure).toMatchObject({
      step: 'grantAccess',
      reason:
        'Identity Center could not complete the assignment of VendDeveloper for group developers: Received a 404 status error: Not supported policy.',
    });
  });

  it('does nothing, and says so, when no Identity Center is configured', async () => {
    const { stored } = await vendFor('alice@example.com', 'arn:aws:iam::000000000000:user/alice');
    const deps: Deps = { ...env.deps, config: { ...env.deps.config, identityCenter: undefined } };
    // A re-run of the step, as a deployment without identityCenter would run it.
    const output = await grantAccess(deps, stepInput(stored.request));
    expect(output).toEqual({
      step: 'grantAccess',
      configured: false,
      note: 'no Identity Center is configured (identityCenter)',
      permissionSets: [],
      granted: [],
      unassigned: [],
    });
  });
});

describe('the drift sweep and Identity Center assignments', () => {
  let env: Env;
  let sso: SSOAdminClient;
  let accountId: string;
  beforeAll(async () => {
    // The default configuration: VendDeveloper for the owner and the developers group.
    env = await startEnv();
    sso = ssoAdmin(env.pipeline.cloud.endpoint);
    accountId = await vend(env);
  });
  afterAll(() => env.pipeline.close());

  it('reports a deleted assignment in report mode, then re-creates it in fix mode', async () => {
    const ids = seededIds(env);
    const psArn = await permissionSetArn(sso, 'VendDeveloper');
    const owner = { PrincipalType: 'USER' as const, PrincipalId: ids.user('alice') };
    expect(await assignments(sso, accountId, psArn)).toContainEqual(owner);
    await sso.send(
      new DeleteAccountAssignmentCommand({
        InstanceArn: INSTANCE_ARN,
        TargetId: accountId,
        TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: psArn,
        ...owner,
      }),
    );
    await eventually(
      env,
      () => assignments(sso, accountId, psArn),
      (present) => !present.some((item) => item.PrincipalId === owner.PrincipalId),
      'the deletion of the assignment',
    );

    const deps: Deps = {
      ...env.pipeline.deps,
      config: { ...env.pipeline.deps.config, drift: { ...env.pipeline.deps.config.drift, mode: 'report' } },
    };
    const reported = await sweepDrift(deps);
    expect(reported.findings.find((f) => f.accountId === accountId)).toMatchObject({
      outcome: 'reported',
      changes: ['would assign VendDeveloper for owner alice@example.com'],
    });
    expect(await assignments(sso, accountId, psArn)).not.toContainEqual(owner);

    const fixed = await env.pipeline.sweep();
    expect(fixed.findings.find((f) => f.accountId === accountId)).toMatchObject({
      outcome: 'fixed',
      changes: ['assigned VendDeveloper for owner alice@example.com'],
    });
    expect(await assignments(sso, accountId, psArn)).toContainEqual(owner);
  });
});
