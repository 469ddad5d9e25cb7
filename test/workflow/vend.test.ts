import { GetRoleCommand, IAMClient, ListAccountAliasesCommand } from '@aws-sdk/client-iam';
import { ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { deliverMessages } from '../../functions/deliver-messages/core.ts';
import { RequestRejectedError } from '../../functions/shared/errors.ts';
import { explainCreationFailure } from '../../functions/shared/failure-reasons.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { LocalRunner } from '../../local/runner.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { pollOnClock } from '../local-cloud/wait.ts';
import { startWorkflowEnv, TEST_SPEED, type WorkflowEnv } from './harness.ts';

const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };

async function inAccount(env: WorkflowEnv, accountId: string) {
  const sts = new STSClient({ endpoint: env.cloud.endpoint, region: 'us-east-1', credentials: ADMIN });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'check',
    }),
  );
  const credentials = {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  };
  return { iam: new IAMClient({ endpoint: env.cloud.endpoint, region: 'us-east-1', credentials }) };
}

let counter = 0;
const body = (overrides: Record<string, unknown> = {}) => ({
  name: `svc-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
  organizationalUnit: 'Workloads/Dev',
  owner: 'alice@example.com',
  requester: { slackUserId: 'U012ALICE' },
  tags: { team: 'payments' },
  ...overrides,
});

describe('vending an account through the real state machine', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;
  let runner: LocalRunner;

  beforeAll(async () => {
    sink = await startSlackSink({ port: 0, print: false });
    env = await startWorkflowEnv({ slackWebhookUrl: async () => sink.url });
    runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
  });
  afterAll(async () => {
    runner.abortAll();
    await env.close();
    await sink.close();
  });
  afterEach(() => env.cloud.cloud.faults.clear());

  async function vend(overrides: Record<string, unknown> = {}) {
    const record = await submitRequest(
      env.deps,
      runner,
      body(overrides),
      'arn:aws:iam::000000000000:user/alice',
    );
    const execution = await runner.get(record.requestId)!.done;
    const stored = await env.deps.requests.get(record.requestId);
    return { record, execution, stored: stored! };
  }

  it('ends with the account in its OU, baselined, budgeted, in the private DNS, announced once, and registered', async () => {
    const before = sink.messages().length;
    // The happy path's cost: IAM consistent and EC2 active as soon as the account exists (the consistency and
    // activation windows have tests of their own, and cost retries, not steps).
    const { settings } = env.cloud.cloud;
    const windows = {
      serviceActivationMs: settings.serviceActivationMs,
      defaultVpcDelayMs: settings.defaultVpcDelayMs,
      consistencyWindowMs: settings.consistencyWindowMs,
    };
    Object.assign(settings, { serviceActivationMs: 0, defaultVpcDelayMs: 0, consistencyWindowMs: 0 });
    onTestFinished(() => {
      Object.assign(settings, windows);
    });
    const { execution, stored } = await vend();
    expect(execution.status).toBe('SUCCEEDED');
    expect(stored.status).toBe('succeeded');
    const accountId = stored.accountId!;
    expect(accountId).toMatch(/^\d{12}$/);

    const parents = await env.deps
      .client(OrganizationsClient)
      .send(new ListParentsCommand({ ChildId: accountId }));
    expect(parents.Parents?.[0]?.Id).toBe(stored.request.organizationalUnit.id);

    const { iam } = await inAccount(env, accountId);
    const admin = await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }));
    const trust = JSON.parse(decodeURIComponent(admin.Role!.AssumeRolePolicyDocument!));
    expect(trust.Statement[0]).toMatchObject({
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    });
    expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([
      `acme-${stored.request.accountName}`,
    ]);
    expect(env.cloud.cloud.state.accounts[accountId]!.iam.passwordPolicy).toMatchObject({
      MinimumPasswordLength: 16,
    });
    expect(Object.keys(env.cloud.cloud.state.accounts[accountId]!.budgets)).toEqual([
      `vend-${stored.request.accountName}`,
    ]);

    const hub = env.cloud.cloud.state.hostedZones.Z0VENDTESTINTERNAL01!;
    const vpcId = Object.values(env.cloud.cloud.state.accounts[accountId]!.vpcs)[0]!.vpcId;
    expect(hub.vpcs).toContainEqual({ VPCRegion: 'us-east-1', VPCId: vpcId });
    expect(hub.authorizations).toEqual([]);

    const messages = sink.messages().slice(before);
    expect(messages).toHaveLength(1);
    expect(JSON.stringify(messages[0]!.payload)).toContain('<@U012ALICE>');
    expect(JSON.stringify(messages[0]!.payload)).toContain(accountId);

    const desired = await env.deps.accounts.get(accountId);
    expect(desired).toMatchObject({
      accountId,
      organizationalUnit: { path: 'Workloads/Dev' },
      status: 'active',
      baselineVersion: '1',
      dns: { hostedZoneId: 'Z0VENDTESTINTERNAL01', vpcId, region: 'us-east-1' },
      budget: { name: `vend-${stored.request.accountName}`, monthlyLimitUsd: 200 },
      alias: `acme-${stored.request.accountName}`,
    });
    expect(JSON.stringify(messages[0]!.payload)).toContain(vpcId);
    expect(execution.transitions).toBeLessThanOrEqual(20);
  });

  it('retries while the new account refuses AssumeRole, as AWS does for minutes after creating it', async () => {
    // What the local cloud's consistency window does, made deterministic: the first three AssumeRole calls refused.
    env.cloud.cloud.faults.add({
      service: 'sts',
      operation: 'AssumeRole',
      error: { code: 'AccessDenied', status: 403 },
      times: 3,
    });
    const { execution, stored } = await vend();
    expect(execution.status).toBe('SUCCEEDED');
    const attempts = (['applyBaseline', 'applyBudget', 'connectDns'] as const).map(
      (step) => stored.steps[step]?.attempts ?? 0,
    );
    expect(attempts.reduce((a, b) => a + b)).toBeGreaterThan(3);
  });

  it.each(
    Object.keys({
      EMAIL_ALREADY_EXISTS: 1,
      ACCOUNT_LIMIT_EXCEEDED: 1,
      INVALID_ADDRESS: 1,
      INVALID_EMAIL: 1,
      CONCURRENT_ACCOUNT_MODIFICATION: 1,
      INTERNAL_FAILURE: 1,
      GOVCLOUD_ACCOUNT_ALREADY_EXISTS: 1,
      MISSING_BUSINESS_VALIDATION: 1,
      FAILED_BUSINESS_VALIDATION: 1,
      PENDING_BUSINESS_VALIDATION: 1,
      INVALID_IDENTITY_FOR_BUSINESS_VALIDATION: 1,
      UNKNOWN_BUSINESS_VALIDATION: 1,
      MISSING_PAYMENT_INSTRUMENT: 1,
      INVALID_PAYMENT_INSTRUMENT: 1,
      UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED: 1,
      SOMETHING_AWS_ADDS_LATER: 1,
    }),
  )('ends a request whose creation fails with %s, telling the requester what to do', async (reason) => {
    env.cloud.cloud.settings.nextCreationOutcomes.push({
      state: 'FAILED',
      failureReason: reason,
      delayMs: 30_000,
    });
    const before = sink.messages().length;
    const { execution, stored, record } = await vend();
    expect(execution.status).toBe('FAILED');
    const explained = explainCreationFailure(reason);
    expect(stored).toMatchObject({
      status: 'failed',
      failure: { step: 'waitForAccount', reason: explained.reason, advice: explained.advice },
    });
    const messages = sink.messages().slice(before);
    expect(messages).toHaveLength(1);
    expect(JSON.stringify(messages[0]!.payload)).toContain(
      explained.advice.slice(0, 30).replace(/[<>&]/g, ''),
    );
    // Nothing was created, so the name and email are free again.
    expect(await env.deps.requests.reservationHolder('email', record.request.email)).toBeUndefined();
  });

  it.each([
    ['organizations', 'CreateAccount', 'TooManyRequestsException'],
    ['organizations', 'DescribeCreateAccountStatus', 'TooManyRequestsException'],
    ['organizations', 'ListParents', 'ConcurrentModificationException'],
    ['organizations', 'MoveAccount', 'ConcurrentModificationException'],
    ['sts', 'AssumeRole', 'Throttling'],
    ['iam', 'CreateRole', 'Throttling'],
    ['iam', 'AttachRolePolicy', 'Throttling'],
    ['iam', 'UpdateAccountPasswordPolicy', 'Throttling'],
    ['iam', 'CreateAccountAlias', 'ServiceFailure'],
    ['budgets', 'CreateBudget', 'ThrottlingException'],
    ['ec2', 'DescribeVpcs', 'RequestLimitExceeded'],
    ['route53', 'CreateVPCAssociationAuthorization', 'PriorRequestNotComplete'],
    ['route53', 'AssociateVPCWithHostedZone', 'PriorRequestNotComplete'],
    ['route53', 'DeleteVPCAssociationAuthorization', 'Throttling'],
  ])('retries %s %s failing with %s, and still vends one account', async (service, operation, code) => {
    env.cloud.cloud.faults.add({ service, operation, error: { code }, times: 2 });
    const { execution, stored } = await vend();
    expect(execution.status).toBe('SUCCEEDED');
    expect(stored.status).toBe('succeeded');
    expect(env.cloud.cloud.faults.list()).toHaveLength(0);
    const created = Object.values(env.cloud.cloud.state.createAccountRequests).filter(
      (c) => c.accountName === stored.request.accountName,
    );
    expect(created).toHaveLength(1);
  });

  it('blames the parallel step that failed, not the ones cancelled with it, when retries run out', async () => {
    env.cloud.cloud.faults.add({
      service: 'budgets',
      operation: 'CreateBudget',
      error: { code: 'ThrottlingException' },
      times: 1000,
    });
    const { execution, stored } = await vend();
    expect(execution.status).toBe('FAILED');
    expect(stored.failure).toMatchObject({ step: 'applyBudget' });
    expect(stored.steps.applyBudget?.status).toBe('failed');
    expect(stored.steps.applyBaseline?.status).not.toBe('failed');
    expect(stored.failure?.reason).toMatch(/slow down/);
  });

  it('lets one of two concurrent requests for the same email through and refuses the other clearly', async () => {
    const email = `shared-${Date.now()}@example.com`;
    const results = await Promise.allSettled([
      submitRequest(env.deps, runner, body({ email }), 'arn:aws:iam::000000000000:user/alice'),
      submitRequest(
        env.deps,
        runner,
        body({ email: email.toUpperCase() }),
        'arn:aws:iam::000000000000:user/bob',
      ),
    ]);
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.reason).toBeInstanceOf(RequestRejectedError);
    expect(refused[0]!.reason).toMatchObject({ statusCode: 409, field: 'email' });
    await runner.get((accepted[0] as PromiseFulfilledResult<{ requestId: string }>).value.requestId)!.done;
    const withEmail = Object.values(env.cloud.cloud.state.accounts).filter(
      (a) => a.email.toLowerCase() === email.toLowerCase(),
    );
    expect(withEmail).toHaveLength(1);
  });

  it('delivers the ready message once when Slack is down for a while, then back', async () => {
    const before = sink.messages().length;
    sink.failNext(503, 4);
    const { execution, stored } = await vend();
    expect(execution.status).toBe('SUCCEEDED');
    expect(stored.notification).toMatchObject({ kind: 'success', status: 'pending' });
    expect(sink.messages().slice(before)).toHaveLength(0);

    await pollOnClock(
      env.deps.sleep,
      async () => {
        await deliverMessages(env.deps);
        if (sink.messages().length > before) return true;
        await env.deps.sleep(59_000);
        return false;
      },
      (ok) => ok,
      'the deliverer to deliver the ready message',
    );
    await deliverMessages(env.deps);
    expect(sink.messages().slice(before)).toHaveLength(1);
    expect((await env.deps.requests.get(stored.requestId))?.notification).toMatchObject({ status: 'sent' });
  });

  it('still vends the account when Slack refuses for good, and records that the requester was not told', async () => {
    // 400 invalid_payload: the message itself is refused (a 404 would make Vend read the webhook again and retry).
    sink.failNext(400, 1000);
    try {
      const { execution, stored } = await vend();
      expect(execution.status).toBe('SUCCEEDED');
      expect(stored.status).toBe('succeeded');
      expect(stored.notification).toMatchObject({ kind: 'success', status: 'failed' });
    } finally {
      sink.failNext(400, 0);
    }
  });

  it('fails at the DNS step, naming the VPC, when the request names a VPC the account does not have', async () => {
    const before = sink.messages().length;
    const { execution, stored, record } = await vend({
      vpc: { id: 'vpc-0123456789abcdef0', region: 'us-east-1' },
    });
    expect(execution.status).toBe('FAILED');
    expect(stored.status).toBe('failed');
    expect(stored.failure).toMatchObject({
      step: 'connectDns',
      reason: expect.stringContaining('vpc-0123456789abcdef0'),
    });
    expect(stored.accountId).toMatch(/^\d{12}$/);
    // An account exists now: its name and email stay reserved.
    expect(await env.deps.requests.reservationHolder('email', record.request.email)).toBe(record.requestId);
    expect(JSON.stringify(sink.messages().slice(before)[0]?.payload)).toContain('vpc-0123456789abcdef0');
  });
});
