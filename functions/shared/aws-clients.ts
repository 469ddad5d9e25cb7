import { BudgetsClient } from '@aws-sdk/client-budgets';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { Route53Client } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { AccountNotReadyError, aws, isAwsError } from './errors.ts';

/** Where and as whom the pipeline calls AWS. On AWS only the region is set; locally the endpoint and key too. */
export interface AwsSettings {
  region: string;
  /** The local cloud's URL; undefined on AWS. */
  endpoint?: string;
  /** The pipeline's own credentials; undefined on AWS (the execution role's). */
  credentials?: AwsCredentialIdentity;
  /**
   * Attempts per SDK call (the SDK's default when absent). The local runtime on a simulated clock sets 1: the
   * SDK's retry delays run in real time, the state machine's retries on the simulated clock.
   */
  maxAttempts?: number;
}

/** Clients acting in one member account. */
export interface AccountClients {
  accountId: string;
  iam: IAMClient;
  budgets: BudgetsClient;
  route53: Route53Client;
  ec2: EC2Client;
}

function clientConfig(settings: AwsSettings, credentials?: AwsCredentialIdentity, region = settings.region) {
  const chosen = credentials ?? settings.credentials;
  return {
    region,
    ...(settings.maxAttempts ? { maxAttempts: settings.maxAttempts } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(chosen ? { credentials: chosen } : {}),
  };
}

export function managementClients(settings: AwsSettings) {
  return {
    // CreateAccount has no idempotency token: an SDK retry after a lost response could create a second account.
    // The state machine retries the whole step instead, and the step looks for its earlier creation first.
    organizations: new OrganizationsClient({
      ...clientConfig(settings, undefined, 'us-east-1'),
      maxAttempts: 1,
    }),
    sts: new STSClient(clientConfig(settings)),
  };
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Assumes a role in another account and returns clients acting there, cached until shortly before the
 * credentials expire. An AccessDenied on a freshly created account means its IAM is not consistent yet
 * (AWS documents minutes), which the workflow retries: it surfaces as AccountNotReadyError.
 */
export class CrossAccount {
  private readonly cache = new Map<string, { clients: AccountClients; expiresAt: number }>();

  constructor(
    private readonly settings: AwsSettings,
    private readonly sts: STSClient,
    private readonly sessionName = 'vend',
    /** The clock the credentials' Expiration is on: real time on AWS, the local cloud's simulated clock locally. */
    private readonly now: () => number = Date.now,
  ) {}

  async clientsFor(
    accountId: string,
    roleName: string,
    options: { externalId?: string; region?: string } = {},
  ): Promise<AccountClients> {
    const region = options.region ?? this.settings.region;
    const key = `${accountId}/${roleName}/${region}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > this.now()) return cached.clients;
    const roleArn = `arn:aws:iam::${accountId}:role/${roleName}`;
    let result: AssumeRoleCommandOutput;
    try {
      result = await aws(
        this.sts.send(
          new AssumeRoleCommand({
            RoleArn: roleArn,
            RoleSessionName: this.sessionName,
            ...(options.externalId ? { ExternalId: options.externalId } : {}),
          }),
        ),
      );
    } catch (error) {
      if (isAwsError(error, 'AccessDenied', 'AccessDeniedException')) {
        throw new AccountNotReadyError(`cannot assume ${roleArn} yet: ${error.message}`, { cause: error });
      }
      throw error;
    }
    const raw = result.Credentials;
    if (!raw?.AccessKeyId || !raw.SecretAccessKey)
      throw new Error(`AssumeRole ${roleArn} returned no credentials`);
    const credentials: AwsCredentialIdentity = {
      accessKeyId: raw.AccessKeyId,
      secretAccessKey: raw.SecretAccessKey,
      ...(raw.SessionToken ? { sessionToken: raw.SessionToken } : {}),
    };
    const config = clientConfig(this.settings, credentials, region);
    const clients: AccountClients = {
      accountId,
      iam: new IAMClient(clientConfig(this.settings, credentials, 'us-east-1')),
      budgets: new BudgetsClient(clientConfig(this.settings, credentials, 'us-east-1')),
      route53: new Route53Client(clientConfig(this.settings, credentials, 'us-east-1')),
      ec2: new EC2Client(config),
    };
    this.cache.set(key, { clients, expiresAt: raw.Expiration?.getTime() ?? this.now() + 15 * 60 * 1000 });
    return clients;
  }
}
