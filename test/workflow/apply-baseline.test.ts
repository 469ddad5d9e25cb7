import {
  AttachRolePolicyCommand,
  CreateAccountAliasCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetAccountPasswordPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMClient as IAMClientClass,
  ListAccountAliasesCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAccountPasswordPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import {
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyBaseline } from '../../functions/apply-baseline/core.ts';
import { accountAlias } from '../../functions/domain/alias.ts';
import { convergeBaseline } from '../../functions/domain/baseline.ts';
import { resolveProfile } from '../../functions/shared/config.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import {
  countingCalls,
  createMemberAccount,
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  TEST_CONFIG,
  testRequest,
  type WorkflowEnv,
  withFault,
} from './harness.ts';

const SECURITY_ADMIN = { accessKeyId: 'security-admin', secretAccessKey: 'local' };

const ADMIN_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Action: 'sts:AssumeRole',
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    },
  ],
};
const READ_ONLY_TRUST = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'vend-audit-7f3a' } },
    },
  ],
};
const DENY_BILLING = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action: 'aws-portal:*', Resource: '*' }],
};

/** IAM acting in the account, as its administrators would see it. */
async function iamIn(env: WorkflowEnv, accountId: string): Promise<IAMClient> {
  return (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(IAMClient);
}

const decoded = (document: string | undefined) => JSON.parse(decodeURIComponent(document ?? ''));

async function attachedPolicies(iam: IAMClient, roleName: string): Promise<string[]> {
  const { AttachedPolicies } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  return (AttachedPolicies ?? []).map((policy) => policy.PolicyArn ?? '').sort();
}

async function inlinePolicies(iam: IAMClient, roleName: string): Promise<Record<string, unknown>> {
  const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  const entries = [];
  for (const name of PolicyNames ?? []) {
    const { PolicyDocument } = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }),
    );
    entries.push([name, decoded(PolicyDocument)]);
  }
  return Object.fromEntries(entries);
}

/** IAM changes recorded in an account since the audit trail's `mark`. */
function iamChangesSince(env: WorkflowEnv, mark: number, accountId: string): string[] {
  return env.cloud.cloud
    .auditSince(mark)
    .filter((event) => event.eventSource === 'iam.amazonaws.com' && event.recipientAccountId === accountId)
    .map((event) => event.eventName);
}

const auditMark = (env: WorkflowEnv) => env.cloud.cloud.state.audit.at(-1)?.sequence ?? 0;

describe('applyBaseline on a new account', () => {
  let env: WorkflowEnv;
  let request: VendRequest;
  let accountId: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    request = testRequest();
    await storeRequest(env.deps, request);
    accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
  });
  afterAll(() => env.close());

  it('creates the baseline roles, the password policy and the alias, and records the step', async () => {
    const { result: output, calls: reads } = await countingCalls(
      env,
      (service, operation) => service === 'iam' && /^(Get|List)/.test(operation),
      () => applyBaseline(env.deps, stepInput(request)),
    );

    // A new account has nothing to read: the first attempt writes straight away.
    expect(reads).toBe(0);
    expect(output).toMatchObject({
      step: 'applyBaseline',
      version: '1',
      roles: [
        { name: 'VendAdmin', arn: `arn:aws:iam::${accountId}:role/VendAdmin`, action: 'created' },
        { name: 'VendReadOnly', arn: `arn:aws:iam::${accountId}:role/VendReadOnly`, action: 'created' },
      ],
      passwordPolicy: 'applied',
      alias: `acme-${request.accountName}`,
    });
    // Two roles, three policies, the password policy and the alias.
    expect(output.changes).toBe(2 + 3 + 1 + 1);

    const iam = await iamIn(env, accountId);
    const { Role: admin } = await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }));
    expect(decoded(admin?.AssumeRolePolicyDocument)).toEqual(ADMIN_TRUST);
    expect(admin).toMatchObject({
      Description: 'Administrators from the security account, with MFA',
      MaxSessionDuration: 3600,
      Tags: [{ Key: 'vend:managed', Value: 'true' }],
    });
    expect(await attachedPolicies(iam, 'VendAdmin')).toEqual(['arn:aws:iam::aws:policy/AdministratorAccess']);
    expect(await inlinePolicies(iam, 'VendAdmin')).toEqual({});

    const { Role: readOnly } = await iam.send(new GetRoleCommand({ RoleName: 'VendReadOnly' }));
    expect(decoded(readOnly?.AssumeRolePolicyDocument)).toEqual(READ_ONLY_TRUST);
    expect(readOnly?.Tags).toEqual([{ Key: 'vend:managed', Value: 'true' }]);
    expect(await attachedPolicies(iam, 'VendReadOnly')).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect(await inlinePolicies(iam, 'VendReadOnly')).toEqual({ DenyBilling: DENY_BILLING });

    const { PasswordPolicy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    expect(PasswordPolicy).toMatchObject({
      MinimumPasswordLength: 16,
      PasswordReusePrevention: 12,
      RequireSymbols: true,
      RequireNumbers: true,
      RequireUppercaseCharacters: true,
      RequireLowercaseCharacters: true,
      AllowUsersToChangePassword: true,
      ExpirePasswords: false,
      HardExpiry: false,
    });
    expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([
      `acme-${request.accountName}`,
    ]);

    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.applyBaseline).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('lets the security account assume VendReadOnly only with the external id, and VendAdmin only with MFA', async () => {
    const sts = new STSClient({
      endpoint: env.cloud.endpoint,
      region: 'us-east-1',
      credentials: SECURITY_ADMIN,
    });
    const assume = (role: string, extra: Record<string, string> = {}) =>
      sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${accountId}:role/${role}`,
          RoleSessionName: 'auditor',
          ...extra,
        }),
      );

    await expect(assume('VendReadOnly')).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(assume('VendReadOnly', { ExternalId: 'vend-audit-7f3a' })).resolves.toMatchObject({
      Credentials: expect.anything(),
    });
    await expect(assume('VendAdmin')).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(
      assume('VendAdmin', { SerialNumber: 'arn:aws:iam::111111111111:mfa/admin', TokenCode: '123456' }),
    ).resolves.toMatchObject({ Credentials: expect.anything() });
  });

  it('changes nothing when run again, and says so', async () => {
    const mark = auditMark(env);

    const output = await applyBaseline(env.deps, stepInput(request));

    expect(output).toMatchObject({
      roles: [
        { name: 'VendAdmin', action: 'unchanged' },
        { name: 'VendReadOnly', action: 'unchanged' },
      ],
      passwordPolicy: 'unchanged',
      alias: `acme-${request.accountName}`,
      changes: 0,
    });
    expect(iamChangesSince(env, mark, accountId)).toEqual([]);
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.applyBaseline).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      detail: 'baseline 1 already in place',
    });
  });

  it('surfaces IAM throttling as Vend.Throttled, and a later run succeeds', async () => {
    const fault = { service: 'iam', operation: 'GetRole', error: { code: 'Throttling' } };
    await expect(
      withFault(env, fault, () => applyBaseline(env.deps, stepInput(request))),
    ).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
    await expect(applyBaseline(env.deps, stepInput(request))).resolves.toMatchObject({ changes: 0 });
  });
});

describe('applyBaseline with the request’s profile', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());

  it('creates only the roles the profile lists, whatever else baseline.roles defines', async () => {
    const request = testRequest({
      profile: { ...resolveProfile(env.config, 'Workloads/Dev'), baselineRoles: ['VendReadOnly'] },
    });
    await storeRequest(env.deps, request);
    const accountId = await recordAccount(
      env.deps,
      request,
      await createMemberAccount(env, request.accountName),
    );

    const output = await applyBaseline(env.deps, stepInput(request));

    expect(output.roles).toEqual([
      { name: 'VendReadOnly', arn: `arn:aws:iam::${accountId}:role/VendReadOnly`, action: 'created' },
    ]);
    const iam = await iamIn(env, accountId);
    await expect(iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
    expect(await attachedPolicies(iam, 'VendReadOnly')).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });
});

describe('convergeBaseline puts back what was changed by hand', () => {
  let env: WorkflowEnv;
  let accountName: string;
  let accountId: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    accountName = testRequest().accountName;
    accountId = await createMemberAccount(env, accountName);
    await convergeBaseline(env.deps, accountId, accountName);
  });
  afterAll(() => env.close());
  let iam: IAMClient;
  beforeEach(async () => {
    iam = await iamIn(env, accountId);
  });

  it("restores a role's trust policy that someone opened to another account", async () => {
    const opened = {
      ...ADMIN_TRUST,
      Statement: [{ ...ADMIN_TRUST.Statement[0], Principal: { AWS: 'arn:aws:iam::999999999999:root' } }],
    };
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'VendAdmin', PolicyDocument: JSON.stringify(opened) }),
    );

    const { output, changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.roles.find((role) => role.name === 'VendAdmin')?.action).toBe('updated');
    expect(changeLog).toEqual(['restored the trust policy of role VendAdmin']);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }));
    expect(decoded(Role?.AssumeRolePolicyDocument)).toEqual(ADMIN_TRUST);
  });

  it("restores a role's description, maximum session and Vend's tag changed by hand, and keeps others' tags", async () => {
    await iam.send(
      new UpdateRoleCommand({
        RoleName: 'VendAdmin',
        Description: 'anything goes',
        MaxSessionDuration: 43_200,
      }),
    );
    await iam.send(new UntagRoleCommand({ RoleName: 'VendAdmin', TagKeys: ['vend:managed'] }));
    await iam.send(new TagRoleCommand({ RoleName: 'VendAdmin', Tags: [{ Key: 'team', Value: 'security' }] }));

    const dryRun = await convergeBaseline(env.deps, accountId, accountName, { dryRun: true });
    expect(dryRun.changeLog).toEqual([
      'would restore the description and maximum session (43200 s, not 3600 s) of role VendAdmin',
      'would tag role VendAdmin vend:managed=true',
    ]);
    const { output, changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.roles.find((role) => role.name === 'VendAdmin')?.action).toBe('updated');
    expect(changeLog).toEqual([
      'restored the description and maximum session (43200 s, not 3600 s) of role VendAdmin',
      'tagged role VendAdmin vend:managed=true',
    ]);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }));
    expect(Role).toMatchObject({
      Description: 'Administrators from the security account, with MFA',
      MaxSessionDuration: 3600,
    });
    expect(Role?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'vend:managed', Value: 'true' },
        { Key: 'team', Value: 'security' },
      ]),
    );
    expect((await convergeBaseline(env.deps, accountId, accountName)).output.changes).toBe(0);
  });

  it('does not count a trust policy written differently but meaning the same as drift', async () => {
    const same = {
      Statement: [
        {
          Condition: { StringEquals: { 'sts:ExternalId': ['vend-audit-7f3a'] } },
          Action: ['sts:AssumeRole'],
          Principal: { AWS: ['arn:aws:iam::111111111111:root'] },
          Effect: 'Allow',
        },
      ],
      Version: '2012-10-17',
    };
    await iam.send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'VendReadOnly', PolicyDocument: JSON.stringify(same) }),
    );

    const { output } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.changes).toBe(0);
  });

  it('re-attaches a detached managed policy and detaches one attached by hand', async () => {
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess',
      }),
    );

    const { output, changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.roles.find((role) => role.name === 'VendReadOnly')?.action).toBe('updated');
    expect(changeLog).toEqual([
      'detached arn:aws:iam::aws:policy/PowerUserAccess from role VendReadOnly',
      'attached arn:aws:iam::aws:policy/ReadOnlyAccess to role VendReadOnly',
    ]);
    expect(await attachedPolicies(iam, 'VendReadOnly')).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
  });

  it('deletes an inline policy added by hand and restores one that was edited', async () => {
    const allowAll = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyName: 'Backdoor',
        PolicyDocument: JSON.stringify(allowAll),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyName: 'DenyBilling',
        PolicyDocument: JSON.stringify(allowAll),
      }),
    );

    const { changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(changeLog).toEqual([
      'deleted inline policy Backdoor from role VendReadOnly',
      'restored inline policy DenyBilling of role VendReadOnly',
    ]);
    expect(await inlinePolicies(iam, 'VendReadOnly')).toEqual({ DenyBilling: DENY_BILLING });
  });

  it('creates again a role that was deleted', async () => {
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'VendReadOnly', PolicyName: 'DenyBilling' }));
    await iam.send(new DeleteRoleCommand({ RoleName: 'VendReadOnly' }));

    const { output } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.roles).toEqual([
      expect.objectContaining({ name: 'VendAdmin', action: 'unchanged' }),
      expect.objectContaining({ name: 'VendReadOnly', action: 'created' }),
    ]);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'VendReadOnly' }));
    expect(decoded(Role?.AssumeRolePolicyDocument)).toEqual(READ_ONLY_TRUST);
    expect(await attachedPolicies(iam, 'VendReadOnly')).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess']);
    expect(await inlinePolicies(iam, 'VendReadOnly')).toEqual({ DenyBilling: DENY_BILLING });
  });

  it('restores a weakened password policy', async () => {
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 6 }));

    const { output, changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(output.passwordPolicy).toBe('applied');
    expect(changeLog).toEqual(['restored the password policy']);
    const { PasswordPolicy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
    expect(PasswordPolicy).toMatchObject({
      MinimumPasswordLength: 16,
      PasswordReusePrevention: 12,
      RequireSymbols: true,
    });
  });

  it('changes nothing once everything is back', async () => {
    const mark = auditMark(env);
    const { output, changeLog } = await convergeBaseline(env.deps, accountId, accountName);
    expect(output.changes).toBe(0);
    expect(changeLog).toEqual([]);
    expect(iamChangesSince(env, mark, accountId)).toEqual([]);
  });
});

describe('applyBaseline when it cannot finish', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());

  it('surfaces AssumeRole refused in the consistency window as Vend.AccountNotReady, and succeeds once it ends', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const { CreateAccountStatus } = await env.deps
      .client(OrganizationsClient)
      .send(new CreateAccountCommand({ AccountName: request.accountName, Email: request.email }));
    let accountId: string | undefined;
    while (!accountId) {
      await env.deps.sleep(10_000);
      const { CreateAccountStatus: status } = await env.deps
        .client(OrganizationsClient)
        .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus?.Id }));
      accountId = status?.AccountId;
    }
    await recordAccount(env.deps, request, accountId);
    const account = env.cloud.cloud.state.accounts[accountId];
    expect(env.cloud.cloud.clock.now()).toBeLessThan(
      (account?.joinedAt ?? 0) + env.cloud.cloud.settings.consistencyWindowMs,
    );

    await expect(applyBaseline(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.AccountNotReady',
    });
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.failure).toBeUndefined();

    await env.deps.sleep(env.cloud.cloud.settings.consistencyWindowMs);
    await expect(applyBaseline(env.deps, stepInput(request))).resolves.toMatchObject({
      passwordPolicy: 'applied',
    });
  });

  it('fails the request, saying what to do, when another AWS account holds the alias', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
    const alias = `acme-${request.accountName}`;
    const security = new IAMClientClass({
      endpoint: env.cloud.endpoint,
      region: 'us-east-1',
      credentials: SECURITY_ADMIN,
    });
    await security.send(new CreateAccountAliasCommand({ AccountAlias: alias }));

    const failure = await applyBaseline(env.deps, stepInput(request)).catch((error: unknown) => error);

    expect(failure).toMatchObject({
      name: 'Vend.Failed',
      message: expect.stringContaining(`"${alias}" is already taken`),
    });
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.applyBaseline?.status).toBe('failed');
    expect(record?.failure).toMatchObject({
      step: 'applyBaseline',
      reason: expect.stringContaining(alias),
      advice: expect.stringContaining('baseline.accountAliasTemplate'),
    });
    // The rest of the baseline is in place; the alias stays with the account that holds it.
    const iam = await iamIn(env, accountId);
    expect((await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }))).Role).toBeDefined();
    expect((await iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([]);
    expect((await security.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual([alias]);
  });
});

describe('accountAlias', () => {
  it.each([
    ['acme-{accountName}', 'plat-dev-payments', 'acme-plat-dev-payments'],
    ['ACME_{accountName}', 'Plat.Dev Payments', 'acme-plat-dev-payments'],
    ['acme--{accountName}-', 'x', 'acme-x'],
    ['{accountName}', 'a'.repeat(62) + '-b', 'a'.repeat(62)],
  ])('makes %s with %s into %s', (template, name, alias) => {
    expect(accountAlias(template, name)).toBe(alias);
  });
});

describe('convergeBaseline with a role whose maximum session is longer than an hour', () => {
  let env: WorkflowEnv;
  let accountName: string;
  let accountId: string;
  beforeAll(async () => {
    const baseline = TEST_CONFIG.baseline!;
    env = await startWorkflowEnv({
      config: {
        ...TEST_CONFIG,
        baseline: {
          ...baseline,
          roles: baseline.roles!.map((role) =>
            role.name === 'VendAdmin' ? { ...role, maxSessionDurationSeconds: 14_400 } : role,
          ),
        },
      },
    });
    accountName = testRequest().accountName;
    accountId = await createMemberAccount(env, accountName);
    await convergeBaseline(env.deps, accountId, accountName);
  });
  afterAll(() => env.close());

  it('keeps the maximum session when it fixes only the description', async () => {
    const iam = await iamIn(env, accountId);
    await iam.send(
      new UpdateRoleCommand({
        RoleName: 'VendAdmin',
        Description: 'changed by hand',
        MaxSessionDuration: 14_400,
      }),
    );

    const { changeLog } = await convergeBaseline(env.deps, accountId, accountName);

    expect(changeLog).toEqual(['restored the description of role VendAdmin']);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }));
    expect(Role).toMatchObject({
      Description: 'Administrators from the security account, with MFA',
      MaxSessionDuration: 14_400,
    });
  });
});
