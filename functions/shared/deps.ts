import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createStores, type Stores } from '../store/stores.ts';
import {
  type AccountSession,
  type AwsClientClass,
  type AwsSettings,
  type ClientOptions,
  ClientSession,
  CrossAccount,
} from './aws-clients.ts';
import type { VendConfig } from './config.ts';
import { MemoryMetrics, type MetricsRecorder } from './metrics.ts';
import { checkWebhookUrl, type WebhookSource } from './slack-secret.ts';

/** How the functions log: Powertools' Logger on AWS, a quiet or console logger locally. */
export interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/**
 * Everything a step needs from the outside world; built once per cold start (or per local pipeline). The
 * registry's stores are its fields: `deps.requests`, `deps.idempotency`, `deps.accounts`, `deps.drift`, `deps.outbox`.
 */
export interface Deps extends Stores {
  config: VendConfig;
  /**
   * A client acting as the pipeline itself (in the management account), built on first use:
   * `deps.client(OrganizationsClient)`. Each function thus loads only the SDK packages it uses.
   */
  client<C>(Client: AwsClientClass<C>, options?: ClientOptions): C;
  /** A session acting in another account through one of its roles: `(await deps.clientsFor(...)).client(IAMClient)`. */
  clientsFor(
    accountId: string,
    roleName: string,
    options?: { externalId?: string; region?: string },
  ): Promise<AccountSession>;
  /**
   * The Slack webhook URL, checked (`checkWebhookUrl`: a URL elsewhere than Slack's webhook hosts is a ConfigError);
   * undefined when no webhook is configured. `refresh` reads the secret again.
   */
  slackWebhookUrl: WebhookSource;
  /** Milliseconds since the epoch: the local runtime's simulated clock, real time on AWS. */
  now(): number;
  /** Waits; the local runtime runs it on its simulated clock. */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1) for the retry helper's jitter: seeded locally and in tests. */
  random(): number;
  log: Log;
  /** Where metrics go: `deps.metrics.count(METRIC.vendsRequested)`. */
  metrics: MetricsRecorder;
}

export interface DepsSettings {
  config: VendConfig;
  aws: AwsSettings;
  tableName: string;
  /** DynamoDB's endpoint when it differs from the other services' (dynalite locally). */
  dynamoEndpoint?: string;
  slackWebhookUrl: WebhookSource;
  /**
   * Accept a Slack webhook on a loopback address over http (the local Slack sink). Only the local pipeline and
   * tests set it, in code: a deployed function never does, whatever its environment says. @default false
   */
  allowLoopbackSlackWebhook?: boolean;
  sleep?: (ms: number) => Promise<void>;
  /** The random source of the retries' jitter: a seeded one locally and in tests, a cryptographic one on AWS. */
  random: () => number;
  /** What time it is for credential expiry: the local runtime's simulated clock; real time when absent. */
  now?: () => number;
  log?: Log;
  /** Powertools Metrics on AWS; an in-memory recorder when absent. */
  metrics?: MetricsRecorder;
}

export const silentLog: Log = { info() {}, warn() {}, error() {} };

export function buildDeps(settings: DepsSettings): Deps {
  const management = new ClientSession(settings.aws);
  const dynamoClient = new DynamoDBClient({
    region: settings.aws.region,
    ...(settings.dynamoEndpoint
      ? { endpoint: settings.dynamoEndpoint }
      : settings.aws.endpoint
        ? { endpoint: settings.aws.endpoint }
        : {}),
    ...(settings.aws.credentials ? { credentials: settings.aws.credentials } : {}),
  });
  const dynamo = settings.aws.instrument ? settings.aws.instrument(dynamoClient) : dynamoClient;
  const stores = createStores(
    DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    settings.tableName,
  );
  const crossAccount = new CrossAccount(settings.aws, management, 'vend', settings.now);
  return {
    config: settings.config,
    ...stores,
    client: (Client, options) => management.client(Client, options),
    clientsFor: (accountId, roleName, options) => crossAccount.clientsFor(accountId, roleName, options),
    slackWebhookUrl: async (options) => {
      const url = await settings.slackWebhookUrl(options);
      return url === undefined
        ? undefined
        : checkWebhookUrl(url, { allowLoopback: settings.allowLoopbackSlackWebhook === true });
    },
    now: settings.now ?? Date.now,
    sleep: settings.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: settings.random,
    log: settings.log ?? silentLog,
    metrics: settings.metrics ?? new MemoryMetrics(),
  };
}
