import { DescribeVpcsCommand } from '@aws-sdk/client-ec2';
import { CreateRoleCommand, ListRolesCommand } from '@aws-sdk/client-iam';
import {
  AccessDeniedException,
  AttachPolicyCommand,
  CreatePolicyCommand,
  DetachPolicyCommand,
  ListAccountsCommand,
  ListParentsCommand,
  ListRootsCommand,
  type OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FULL_AWS_ACCESS_ID } from '../../local/cloud/policies.ts';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const SECURITY = '111111111111';
const SECURITY_ROOT: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const EXPLICIT = 'with an explicit deny in a service control policy';

/** Trusts the management account, so that the administrator key can assume the role. */
const TRUST_MANAGEMENT = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' }, Action: 'sts:AssumeRole' },
  ],
});

const DENY_EC2_OUTSIDE_US = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'DenyOutsideApprovedRegions',
      Effect: 'Deny',
      Action: 'ec2:*',
      Resource: '*',
      Condition: { StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'us-west-2'] } },
    },
  ],
};

const DENY_IAM_EXCEPT_ACCESS_ROLE = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'ProtectIam',
      Effect: 'Deny',
      Action: 'iam:*',
      Resource: '*',
      Condition: { ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/OrganizationAccountAccessRole' } },
    },
  ],
};

const DENY_EVERYTHING = {
  Version: '2012-10-17',
  Statement: [{ Sid: 'Quarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
};

/** The error a call rejects with (fails the test when the call succeeds). */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & { $metadata: { httpStatusCode?: number } };
}

describe('service control policies on calls in member accounts', () => {
  let t: TestCloud;
  let org: OrganizationsClient;

  beforeEach(async () => {
    t = await startTestCloud();
    org = t.organizations();
  });
  afterEach(() => t.close());

  async function attach(name: string, document: object, targetId: string): Promise<string> {
    const { Policy } = await org.send(
      new CreatePolicyCommand({
        Name: name,
        Description: name,
        Content: JSON.stringify(document),
        Type: 'SERVICE_CONTROL_POLICY',
      }),
    );
    const id = Policy!.PolicySummary!.Id!;
    await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: targetId }));
    return id;
  }

  /** Assumes a role of the security account with the management account's administrator key. */
  async function assume(roleName: string, path = '/'): Promise<Credentials> {
    const { Credentials: c } = await t.sts().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${SECURITY}:role${path}${roleName}`,
        RoleSessionName: 'scp',
      }),
    );
    return {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
  }

  it('refuses EC2 calls outside the approved regions with UnauthorizedOperation, and allows them inside', async () => {
    await attach('deny-regions', DENY_EC2_OUTSIDE_US, SECURITY);
    const access = await assume('OrganizationAccountAccessRole');

    const error = await failure(t.ec2(access, 'eu-west-1').send(new DescribeVpcsCommand({})));
    expect(error.name).toBe('UnauthorizedOperation');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe(
      `User: arn:aws:sts::${SECURITY}:assumed-role/OrganizationAccountAccessRole/scp is not authorized to perform: ec2:DescribeVpcs on resource: * ${EXPLICIT}`,
    );
    await expect(t.ec2(access, 'us-east-1').send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    await expect(t.ec2(access, 'us-west-2').send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
  });

  it('lets only the access role change IAM when a Deny excepts it by aws:PrincipalArn', async () => {
    const access = await assume('OrganizationAccountAccessRole');
    await t
      .iam(access)
      .send(new CreateRoleCommand({ RoleName: 'Worker', AssumeRolePolicyDocument: TRUST_MANAGEMENT }));
    await attach('protect-iam', DENY_IAM_EXCEPT_ACCESS_ROLE, SECURITY);

    await expect(
      t
        .iam(access)
        .send(new CreateRoleCommand({ RoleName: 'Made', AssumeRolePolicyDocument: TRUST_MANAGEMENT })),
    ).resolves.toBeDefined();
    const worker = await assume('Worker');
    const error = await failure(
      t
        .iam(worker)
        .send(new CreateRoleCommand({ RoleName: 'Sneaky', AssumeRolePolicyDocument: TRUST_MANAGEMENT })),
    );
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toContain(`iam:CreateRole on resource: * ${EXPLICIT}`);
    // Other services are not covered by the Deny; GetCallerIdentity is never refused.
    await expect(t.sts(worker).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    expect(t.cloud.state.accounts[SECURITY]!.iam.roles.Sneaky).toBeUndefined();
  });

  it('limits an OU to what its Allow lists once FullAWSAccess is detached from it', async () => {
    const { Parents } = await org.send(new ListParentsCommand({ ChildId: SECURITY }));
    const ouId = Parents![0]!.Id!;
    await attach(
      'allow-read',
      {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['iam:list*', 'iam:Get*'], Resource: '*' }],
      },
      ouId,
    );
    await org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: ouId }));
    const access = await assume('OrganizationAccountAccessRole');

    await expect(t.iam(access).send(new ListRolesCommand({}))).resolves.toBeDefined();
    const iamError = await failure(
      t
        .iam(access)
        .send(new CreateRoleCommand({ RoleName: 'Made', AssumeRolePolicyDocument: TRUST_MANAGEMENT })),
    );
    expect(iamError.name).toBe('AccessDenied');
    expect(iamError.message).toContain('because no service control policy allows the iam:CreateRole action');
    const ec2Error = await failure(t.ec2(access).send(new DescribeVpcsCommand({})));
    expect(ec2Error.name).toBe('UnauthorizedOperation');
    const orgError = await failure(t.organizations(access).send(new ListRootsCommand({})));
    expect(orgError).toBeInstanceOf(AccessDeniedException);
  });

  it('never limits the management account, even under a Deny on everything at the root', async () => {
    const { Roots } = await org.send(new ListRootsCommand({}));
    await attach('quarantine', DENY_EVERYTHING, Roots![0]!.Id!);

    await expect(org.send(new ListAccountsCommand({}))).resolves.toBeDefined();
    await expect(t.ec2(undefined, 'eu-west-1').send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    await expect(
      t.iam().send(new CreateRoleCommand({ RoleName: 'Admin', AssumeRolePolicyDocument: TRUST_MANAGEMENT })),
    ).resolves.toBeDefined();
    // The management account assumes into the member (not subject to the member's SCPs), but the session acts
    // inside the member and is.
    const access = await assume('OrganizationAccountAccessRole');
    const error = await failure(t.iam(access).send(new ListRolesCommand({})));
    expect(error.message).toContain(EXPLICIT);
  });

  it("refuses a quarantined member's principals the AssumeRole call itself", async () => {
    await attach('quarantine', DENY_EVERYTHING, SECURITY);
    const error = await failure(
      t.sts(SECURITY_ROOT).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/VendDnsAuthorizer',
          RoleSessionName: 'escape',
        }),
      ),
    );
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toBe(
      `User: arn:aws:iam::${SECURITY}:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role/VendDnsAuthorizer ${EXPLICIT}`,
    );
  });

  it('does not limit a service-linked role', async () => {
    const access = await assume('OrganizationAccountAccessRole');
    const path = '/aws-service-role/ops.example.amazonaws.com/';
    // The local cloud lets a role be created on the service-linked path; here it stands in for the service.
    await t.iam(access).send(
      new CreateRoleCommand({
        RoleName: 'AWSServiceRoleForOps',
        Path: path,
        AssumeRolePolicyDocument: TRUST_MANAGEMENT,
      }),
    );
    await attach('quarantine', DENY_EVERYTHING, SECURITY);

    const linked = await assume('AWSServiceRoleForOps', path);
    await expect(t.iam(linked).send(new ListRolesCommand({}))).resolves.toBeDefined();
    await expect(t.ec2(linked, 'eu-west-1').send(new DescribeVpcsCommand({}))).resolves.toBeDefined();
    expect((await failure(t.iam(access).send(new ListRolesCommand({})))).name).toBe('AccessDenied');
  });
});
