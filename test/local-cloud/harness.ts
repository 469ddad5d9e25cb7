import { AccountClient } from '@aws-sdk/client-account';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  type LocalCloud,
  type LocalCloudOptions,
  manualClock,
  type Seed,
  startLocalCloud,
} from '../../local/cloud/index.ts';

/** The organization most tests start from: a few OUs, a security and a network account with a private zone. */
export const TEST_SEED: Seed = {
  randomSeed: 7,
  managementAccount: { id: '000000000000', name: 'management', email: 'aws-management@example.com' },
  organizationalUnits: [
    { name: 'Sandbox' },
    { name: 'Workloads', children: [{ name: 'Dev' }, { name: 'Prod' }] },
    { name: 'Shared', children: [{ name: 'Security' }, { name: 'Infrastructure' }] },
  ],
  accounts: [
    {
      id: '111111111111',
      name: 'security',
      email: 'aws-security@example.com',
      organizationalUnit: 'Shared/Security',
    },
    {
      id: '222222222222',
      name: 'network',
      email: 'aws-network@example.com',
      organizationalUnit: 'Shared/Infrastructure',
    },
  ],
  roles: [{ account: 'network', name: 'VendDnsAuthorizer', trustedAccounts: ['management'] }],
  accessKeys: [
    { accessKeyId: 'test', account: 'management' },
    { accessKeyId: 'security-admin', account: 'security' },
  ],
  hostedZones: [{ id: 'Z0VENDTESTINTERNAL01', account: 'network', name: 'internal.example.com' }],
  identityCenter: {
    instanceId: 'ssoins-7223f1e0c0ffee01',
    identityStoreId: 'd-9067c0ffee',
    users: [
      { userName: 'alice', email: 'alice@example.com', givenName: 'Alice', familyName: 'Example' },
      { userName: 'bob', email: 'bob@example.com', givenName: 'Bob', familyName: 'Example' },
    ],
    groups: [
      { displayName: 'platform-admins', members: ['bob'] },
      { displayName: 'developers', members: ['alice', 'bob'] },
      { displayName: 'auditors' },
    ],
  },
  settings: { creationDelayMs: 60_000, consistencyWindowMs: 30_000 },
};

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const ADMIN: Credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

/** A local cloud on a free port with a manual clock, and SDK clients pointed at it. */
export async function startTestCloud(options: Partial<LocalCloudOptions> = {}) {
  const clock = manualClock();
  const local: LocalCloud = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, ...options });
  const config = (credentials: Credentials = ADMIN, region = 'us-east-1') => ({
    endpoint: local.endpoint,
    region,
    credentials,
    maxAttempts: 1,
  });
  const sts = (credentials?: Credentials) => new STSClient(config(credentials));
  /** Credentials of a session of the account's OrganizationAccountAccessRole, assumed from the management account. */
  const assumeAccessRole = async (accountId: string, sessionName = 'vend'): Promise<Credentials> => {
    const { Credentials: c } = await sts().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
        RoleSessionName: sessionName,
      }),
    );
    return {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
  };
  return {
    local,
    clock,
    cloud: local.cloud,
    organizations: (credentials?: Credentials) => new OrganizationsClient(config(credentials)),
    sts,
    assumeAccessRole,
    iam: (credentials?: Credentials) => new IAMClient(config(credentials)),
    budgets: (credentials?: Credentials) => new BudgetsClient(config(credentials)),
    route53: (credentials?: Credentials) => new Route53Client(config(credentials)),
    ec2: (credentials?: Credentials, region?: string) => new EC2Client(config(credentials, region)),
    ssoAdmin: (credentials?: Credentials) => new SSOAdminClient(config(credentials)),
    identityStore: (credentials?: Credentials) => new IdentitystoreClient(config(credentials)),
    // S3 Control's endpoint rules put the account id in front of the endpoint's host: pin the client to it.
    s3control: (credentials?: Credentials) =>
      new S3ControlClient({
        ...config(credentials),
        endpointProvider: () => ({ url: new URL(local.endpoint) }),
        disableHostPrefix: true,
      }),
    account: (credentials?: Credentials) => new AccountClient(config(credentials)),
    close: () => local.close(),
  };
}

export type TestCloud = Awaited<ReturnType<typeof startTestCloud>>;
