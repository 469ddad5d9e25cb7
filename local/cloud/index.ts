import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { type Clock, systemClock } from './clock.ts';
import { type AuditListener, Cloud } from './cloud.ts';
import { backfillPolicies } from './policies.ts';
import { seededRandom } from './random.ts';
import { type LatencyOptions, latencyTable, type RateLimitOptions } from './rate-limits.ts';
import {
  applyIdentityCenter,
  applySeed,
  emptyState,
  type ParsedSeed,
  parseSeed,
  readSeedFile,
  type Seed,
} from './seed.ts';
import { createLocalCloudServer } from './server.ts';
import { account } from './services/account.ts';
import { budgets } from './services/budgets.ts';
import { ec2 } from './services/ec2.ts';
import { iam } from './services/iam.ts';
import { identityStore } from './services/identitystore.ts';
import { organizations } from './services/organizations.ts';
import { route53 } from './services/route53.ts';
import { s3Control } from './services/s3-control.ts';
import { ssoAdmin } from './services/sso-admin.ts';
import { sts } from './services/sts.ts';
import type { CloudState } from './state.ts';

export { toEventBridgeEvent } from './audit.ts';
export { type Clock, manualClock, scaledClock, steppedClock, systemClock } from './clock.ts';
export type { Cloud } from './cloud.ts';
export type { FaultRule } from './faults.ts';
export { accessPortalUrl } from './identity-center.ts';
export { effectiveServiceControlPolicies, type ScpDocument, type ScpLevel } from './policies.ts';
export {
  AWS_LATENCY_MS,
  AWS_RATE_LIMITS,
  type LatencyOptions,
  type RateLimitOptions,
  type TokenBucketLimit,
} from './rate-limits.ts';
export type { Seed } from './seed.ts';
export type { AuditEvent, CloudSettings } from './state.ts';

export const SERVICES = [
  organizations,
  sts,
  iam,
  budgets,
  route53,
  ec2,
  s3Control,
  account,
  ssoAdmin,
  identityStore,
];

export interface LocalCloudOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. @default 4566 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** A seed object, or the path of a seed JSON file. Ignored when `dataFile` already holds a state. */
  seed?: Seed | string;
  /** @default the system clock */
  clock?: Clock;
  /** Where state is kept across restarts; in memory only when absent. */
  dataFile?: string;
  /** Overrides the seed's `randomSeed`. */
  randomSeed?: number;
  /**
   * Per-operation request rates: `off`, `aws` (AWS's published quotas where it publishes them, documented local
   * defaults elsewhere: AWS_RATE_LIMITS), or `{ profile, limits }` to change single keys
   * (`{"profile":"aws","limits":{"organizations:CreateAccount":{"ratePerSecond":1,"burst":2}}}`). Throttled calls
   * get each service's own throttling error. `npm start` and `npm run local-cloud` use `aws`
   * (VEND_CLOUD_RATE_LIMITS). @default 'off', so that tests not about throttling are not throttled
   */
  rateLimits?: RateLimitOptions;
  /**
   * Per-service call latency on the cloud's clock: `off`, `aws` (AWS_LATENCY_MS), or `{ profile, services }`.
   * `npm start` and `npm run local-cloud` use `aws` (VEND_CLOUD_LATENCY). @default 'off'
   */
  latency?: LatencyOptions;
}

export interface LocalCloud {
  /** `http://127.0.0.1:PORT`: the value for `AWS_ENDPOINT_URL` and the SDK's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly cloud: Cloud;
  /** The management account's id. */
  readonly managementAccountId: string;
  subscribe(listener: AuditListener): () => void;
  close(): Promise<void>;
}

/** Starts the local cloud's HTTP server; resolves once it listens. */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const clock = options.clock ?? systemClock;
  const seed: ParsedSeed =
    typeof options.seed === 'string' ? readSeedFile(options.seed) : parseSeed(options.seed ?? {}, 'seed');
  const random = seededRandom(options.randomSeed ?? seed.randomSeed);

  let cloud: Cloud;
  if (options.dataFile && existsSync(options.dataFile)) {
    const state = JSON.parse(readFileSync(options.dataFile, 'utf8')) as CloudState;
    if (state.version !== 1)
      throw new Error(`${options.dataFile}: unknown state version ${String(state.version)}`);
    backfillSecrets(state);
    backfillPolicies(state);
    cloud = new Cloud(state, clock, random, options.dataFile);
    if (state.identityCenter === undefined && seed.identityCenter) {
      applyIdentityCenter(cloud, seed.identityCenter);
      cloud.commit();
    }
  } else {
    cloud = new Cloud(emptyState(seed), clock, random, options.dataFile);
    applySeed(cloud, seed);
    cloud.commit();
  }

  cloud.rateLimits.configure(options.rateLimits ?? 'off');
  cloud.latency = latencyTable(options.latency ?? 'off');
  const server = createLocalCloudServer(cloud, SERVICES);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4566, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    endpoint: `http://${address}:${port}`,
    port,
    cloud,
    managementAccountId: cloud.state.organization.managementAccountId,
    subscribe: (listener) => cloud.subscribe(listener),
    async close() {
      cloud.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A state saved before credentials kept their secret: seeded keys get the seed's default secret (the key id), and
 * temporary credentials, whose secret is lost, are forgotten (AssumeRole again).
 */
function backfillSecrets(state: CloudState): void {
  for (const [id, credential] of Object.entries(state.credentials)) {
    if (credential.secretAccessKey !== undefined) continue;
    if (credential.sessionToken === undefined) credential.secretAccessKey = id;
    else delete state.credentials[id];
  }
}
