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
  /**
   * Wraps each client once it is built: Powertools Tracer's `captureAWSv3Client` on AWS, so every call is an X-Ray
   * subsegment; absent locally (no tracing).
   */
  instrument?: <C>(client: C) => C;
}

/** What an AWS SDK v3 client's constructor takes, of what Vend sets. */
export interface AwsClientConfig {
  region: string;
  endpoint?: string;
  credentials?: AwsCredentialIdentity;
  maxAttempts?: number;
  /** Resolves every call to this URL (see ClientOptions.accountHostPrefix). */
  endpointProvider?: () => { url: URL };
  disableHostPrefix?: boolean;
}

/** An AWS SDK v3 client class, such as `OrganizationsClient`. */
export type AwsClientClass<C> = new (config: AwsClientConfig) => C;

export interface ClientOptions {
  /** The client's region; the session's when absent. Global services (Organizations, IAM, Route53, Budgets) ignore it. */
  region?: string;
  /**
   * Attempts per call, overriding the SDK's default. CreateAccount takes 1: it has no idempotency token, so an
   * SDK retry after a lost response could create a second account; the state machine retries the whole step.
   */
  maxAttempts?: number;
  /**
   * The client's endpoint rules put the account id in front of the host (S3 Control:
   * `{AccountId}.s3-control.{Region}.amazonaws.com`, also in front of a custom endpoint's host, which then does
   * not resolve). With a custom endpoint the client is pinned to it as given, host prefix off; on AWS nothing
   * changes.
   */
  accountHostPrefix?: boolean;
}

/**
 * SDK clients for one identity, each built on first use and kept. A function names the client classes it uses
 * where it uses them, so its bundle loads only those packages (an SDK client package costs tens of milliseconds
 * of cold start, EC2's hundreds).
 */
export class ClientSession {
  private readonly clients = new Map<AwsClientClass<unknown>, Map<string, unknown>>();

  constructor(
    private readonly settings: AwsSettings,
    private readonly credentials?: AwsCredentialIdentity,
    private readonly region = settings.region,
  ) {}

  client<C>(Client: AwsClientClass<C>, options: ClientOptions = {}): C {
    const region = options.region ?? this.region;
    // The local runtime's one attempt wins: its retries run on the simulated clock.
    const maxAttempts = this.settings.maxAttempts ?? options.maxAttempts;
    const key = `${region}/${maxAttempts ?? ''}/${options.accountHostPrefix ? 'pinned' : ''}`;
    let byKey = this.clients.get(Client);
    if (!byKey) {
      byKey = new Map();
      this.clients.set(Client, byKey);
    }
    const existing = byKey.get(key);
    if (existing) return existing as C;
    const credentials = this.credentials ?? this.settings.credentials;
    const built = new Client({
      region,
      ...(maxAttempts ? { maxAttempts } : {}),
      ...(this.settings.endpoint ? { endpoint: this.settings.endpoint } : {}),
      ...(this.settings.endpoint && options.accountHostPrefix ? pinnedEndpoint(this.settings.endpoint) : {}),
      ...(credentials ? { credentials } : {}),
    });
    const client = this.settings.instrument ? this.settings.instrument(built) : built;
    byKey.set(key, client);
    return client;
  }
}

/** A custom endpoint as the one URL a client calls, without the account id host prefix. */
function pinnedEndpoint(endpoint: string): Pick<AwsClientConfig, 'endpointProvider' | 'disableHostPrefix'> {
  const url = new URL(endpoint);
  return { endpointProvider: () => ({ url }), disableHostPrefix: true };
}

/** Clients acting in one member account through one of its roles. */
export interface AccountSession {
  accountId: string;
  client<C>(Client: AwsClientClass<C>, options?: ClientOptions): C;
}

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/**
 * Assumes a role in another account and returns a session acting there, cached until shortly before the
 * credentials expire. An AccessDenied on a freshly created account means its IAM is not consistent yet
 * (AWS documents minutes), which the workflow retries: it surfaces as AccountNotReadyError.
 */
export class CrossAccount {
  private readonly cache = new Map<string, { session: AccountSession; expiresAt: number }>();

  constructor(
    private readonly settings: AwsSettings,
    private readonly management: ClientSession,
    private readonly sessionName = 'vend',
    /** The clock the credentials' Expiration is on: real time on AWS, the local cloud's simulated clock locally. */
    private readonly now: () => number = Date.now,
  ) {}

  async clientsFor(
    accountId: string,
    roleName: string,
    options: { externalId?: string; region?: string } = {},
  ): Promise<AccountSession> {
    const region = options.region ?? this.settings.region;
    const key = `${accountId}/${roleName}/${region}`;
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt - REFRESH_MARGIN_MS > this.now()) return cached.session;
    const roleArn = `arn:aws:iam::${accountId}:role/${roleName}`;
    let result: AssumeRoleCommandOutput;
    try {
      result = await aws(
        this.management.client(STSClient).send(
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
    const clients = new ClientSession(this.settings, credentials, region);
    const session: AccountSession = { accountId, client: (Client, opts) => clients.client(Client, opts) };
    this.cache.set(key, { session, expiresAt: raw.Expiration?.getTime() ?? this.now() + 15 * 60 * 1000 });
    return session;
  }
}
