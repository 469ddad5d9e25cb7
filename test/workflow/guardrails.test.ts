import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, GetRoleCommand, IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  DescribePolicyCommand,
  DisablePolicyTypeCommand,
  EnablePolicyTypeCommand,
  ListParentsCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestView } from '../../functions/api/views.ts';
import type { VendConfigInput } from '../../functions/shared/config.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { LocalRunner } from '../../local/runner.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { startWorkflowEnv, TEST_CONFIG, TEST_SPEED, type WorkflowEnv } from './harness.ts';

const SECURITY = { accessKeyId: 'security-admin', secretAccessKey: 'test' };

/** A guardrail that denies every IAM change: with Vend's exemption, to everyone but Vend. */
const DENY_IAM_CHANGES = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyIamChanges',
      Effect: 'Deny',
      Action: ['iam:Create*', 'iam:Delete*', 'iam:Put*', 'iam:Attach*', 'iam:Detach*', 'iam:Update*'],
      Resource: '*',
    },
  ],
};

const CONFIG: VendConfigInput = {
  ...TEST_CONFIG,
  policies: {
    'vend-baseline-guardrails': { file: 'policies/vend-baseline-guardrails.json' },
    'deny-iam-changes': { description: 'No IAM changes but Vend', document: DENY_IAM_CHANGES },
  },
  profiles: {
    default: {
      rootEmail: { source: 'request-in-domains', allowedDomains: ['example.com'] },
      policies: ['vend-baseline-guardrails'],
    },
    'Workloads/Prod': { policies: ['vend-baseline-guardrails', 'deny-iam-changes'] },
  },
};

/**
 * A principal of the account that is not Vend's: the security team's read-only role, which the baseline creates
 * (assumed from the security account with its external id).
 */
async function readOnlySession(env: WorkflowEnv, accountId: string, region = 'us-east-1') {
  const sts = new STSClient({ endpoint: env.cloud.endpoint, region: 'us-east-1', credentials: SECURITY });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/VendReadOnly`,
      RoleSessionName: 'audit',
      ExternalId: 'vend-audit-7f3a',
    }),
  );
  const credentials = {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
  const options = { endpoint: env.cloud.endpoint, region, credentials, maxAttempts: 1 };
  return { iam: new IAMClient(options), ec2: new EC2Client(options) };
}

async function refusal(call: Promise<unknown>): Promise<{ name: string; message: string }> {
  try {
    await call;
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message };
  }
  throw new Error('the call was allowed');
}

describe('guardrails: service control policies from quarantine to ready', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;
  let runner: LocalRunner;
  let organizations: OrganizationsClient;
  /** What a test looks at just before a Task state's step runs. */
  let beforeTask: ((state: string, input: unknown) => Promise<void>) | undefined;
  let counter = 0;

  beforeAll(async () => {
    sink = await startSlackSink({ port: 0, print: false });
    env = await startWorkflowEnv({ config: CONFIG, slackWebhookUrl: async () => sink.url });
    runner = new LocalRunner({
      deps: env.deps,
      speed: TEST_SPEED,
      beforeTask: (state, input) => beforeTask?.(state, input) ?? Promise.resolve(),
    });
    organizations = new OrganizationsClient({
      endpoint: env.cloud.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    // The happy path's windows closed: the account's IAM and EC2 answer as soon as it exists.
    Object.assign(env.cloud.cloud.settings, {
      serviceActivationMs: 0,
      defaultVpcDelayMs: 0,
      consistencyWindowMs: 0,
    });
  });
  afterAll(async () => {
    runner.abortAll();
    await env.close();
    await sink.close();
  });
  afterEach(() => {
    beforeTask = undefined;
    env.cloud.cloud.faults.clear();
  });

  async function vend(organizationalUnit = 'Workloads/Dev') {
    const record = await submitRequest(
      env.deps,
      runner,
      {
        name: `guard-${++counter}`,
        organizationalUnit,
        owner: 'alice@example.com',
        email: `guard-${counter}@example.com`,
        requester: { slackUserId: 'U012ALICE' },
        tags: { team: 'payments' },
      },
      'arn:aws:iam::000000000000:user/alice',
    );
    const execution = await runner.get(record.requestId)!.done;
    return { execution, stored: (await env.deps.requests.get(record.requestId))! };
  }

  async function attached(accountId: string): Promise<string[]> {
    const { Policies } = await organizations.send(
      new ListPoliciesForTargetCommand({ TargetId: accountId, Filter: 'SERVICE_CONTROL_POLICY' }),
    );
    return (Policies ?? []).map((policy) => policy.Name!).sort();
  }

  it('quarantines the account while it is configured, then leaves it with its guardrails only', async () => {
    const seen: { parent?: string; attached?: string[]; refused?: { name: string; message: string } } = {};
    beforeTask = async (state, input) => {
      if (state !== 'Move to OU') return;
      // Configured (the baseline created VendReadOnly), still in the root, not yet in its OU.
      const record = await env.deps.requests.get((input as { requestId: string }).requestId);
      const accountId = record!.accountId!;
      const { Parents } = await organizations.send(new ListParentsCommand({ ChildId: accountId }));
      seen.parent = Parents![0]!.Type;
      seen.attached = await attached(accountId);
      const { iam } = await readOnlySession(env, accountId);
      seen.refused = await refusal(iam.send(new ListRolesCommand({})));
    };

    const { execution, stored } = await vend();

    expect(execution.status).toBe('SUCCEEDED');
    expect(seen.parent).toBe('ROOT');
    expect(seen.attached).toEqual(['FullAWSAccess', 'vend-quarantine']);
    expect(seen.refused?.name).toBe('AccessDenied');
    expect(seen.refused?.message).toContain('explicit deny in a service control policy');

    const accountId = stored.accountId!;
    expect(await attached(accountId)).toEqual(['FullAWSAccess', 'vend-baseline-guardrails']);
    const { iam } = await readOnlySession(env, accountId);
    await expect(iam.send(new ListRolesCommand({}))).resolves.toBeDefined();
    expect(requestView(stored).guardrails).toEqual(['vend-baseline-guardrails']);
    expect(JSON.stringify(sink.messages().at(-1)!.payload)).toContain('vend-baseline-guardrails');
  });

  it('refuses a call from inside a vended account in a region outside organization.allowedRegions', async () => {
    const { stored } = await vend();
    const accountId = stored.accountId!;

    const inside = await readOnlySession(env, accountId, 'us-west-2');
    await expect(inside.ec2.send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    const outside = await readOnlySession(env, accountId, 'eu-west-1');
    const refused = await refusal(outside.ec2.send(new DescribeVpcsCommand({})));
    expect(refused.name).toBe('UnauthorizedOperation');
    expect(refused.message).toContain('explicit deny in a service control policy');
  });

  it('renders the regions from the configuration and exempts the access role in every Deny', async () => {
    const { Policies } = await organizations.send(
      new ListPoliciesCommand({ Filter: 'SERVICE_CONTROL_POLICY' }),
    );
    const id = Policies!.find((policy) => policy.Name === 'vend-baseline-guardrails')!.Id!;
    const { Policy } = await organizations.send(new DescribePolicyCommand({ PolicyId: id }));
    const document = JSON.parse(Policy!.Content!);
    const region = document.Statement.find((s: { Sid: string }) => s.Sid === 'DenyOutsideAllowedRegions');
    expect(region.Condition.StringNotEquals['aws:RequestedRegion']).toEqual(['us-east-1', 'us-west-2']);
    for (const statement of document.Statement) {
      expect(statement.Condition.ArnNotLike['aws:PrincipalArn']).toEqual([
        'arn:aws:iam::*:role/OrganizationAccountAccessRole',
      ]);
    }
  });

  it('vends under a guardrail that denies IAM changes to everyone but Vend, which binds the others', async () => {
    const { execution, stored } = await vend('Workloads/Prod');

    expect(execution.status).toBe('SUCCEEDED');
    const accountId = stored.accountId!;
    expect(await attached(accountId)).toEqual([
      'FullAWSAccess',
      'deny-iam-changes',
      'vend-baseline-guardrails',
    ]);
    // Vend's own principal still changes IAM in the account (what the baseline and the drift fix do) ...
    const clients = await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole');
    await expect(
      clients.client(IAMClient).send(new GetRoleCommand({ RoleName: 'VendReadOnly' })),
    ).resolves.toBeDefined();
    await expect(
      clients.client(IAMClient).send(
        new CreateRoleCommand({
          RoleName: 'VendProbe',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: 'arn:aws:iam::111111111111:root' },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      ),
    ).resolves.toBeDefined();
    // ... and nobody else does.
    const { iam } = await readOnlySession(env, accountId);
    const refused = await refusal(
      iam.send(new CreateRoleCommand({ RoleName: 'Sneaky', AssumeRolePolicyDocument: '{}' })),
    );
    expect(refused.name).toBe('AccessDenied');
    expect(refused.message).toContain('explicit deny in a service control policy');
  });

  it('leaves a failed request quarantined, and says so in its status and its message', async () => {
    env.cloud.cloud.faults.add({
      service: 'budgets',
      operation: 'CreateBudget',
      error: { code: 'AccessDeniedException', message: 'not allowed' },
    });

    const { execution, stored } = await vend();

    expect(execution.status).toBe('FAILED');
    expect(stored.status).toBe('failed');
    const accountId = stored.accountId!;
    expect(await attached(accountId)).toEqual(['FullAWSAccess', 'vend-quarantine']);
    expect(requestView(stored).failure).toMatchObject({ step: 'applyBudget', quarantined: true });
    const message = JSON.stringify(sink.messages().at(-1)!.payload);
    expect(message).toContain('failed');
    expect(message).toContain('vend-quarantine');
  });

  it('fails a request before creating any account when the organization has SCPs off, saying how to turn them on', async () => {
    const { Roots } = await organizations.send(new ListRootsCommand({}));
    const RootId = Roots![0]!.Id!;
    await organizations.send(new DisablePolicyTypeCommand({ RootId, PolicyType: 'SERVICE_CONTROL_POLICY' }));
    try {
      const creations = Object.keys(env.cloud.cloud.state.createAccountRequests).length;
      const { execution, stored } = await vend();

      expect(execution.status).toBe('FAILED');
      expect(stored.accountId).toBeUndefined();
      expect(Object.keys(env.cloud.cloud.state.createAccountRequests)).toHaveLength(creations);
      expect(requestView(stored).failure).toMatchObject({
        step: 'createAccount',
        reason: 'service control policies are not enabled in the organization',
      });
      expect(requestView(stored).failure?.advice).toContain('aws organizations enable-policy-type');
    } finally {
      await organizations.send(new EnablePolicyTypeCommand({ RootId, PolicyType: 'SERVICE_CONTROL_POLICY' }));
    }
  });
});
