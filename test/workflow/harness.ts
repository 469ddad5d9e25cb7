import { randomUUID } from 'node:crypto';
import {
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { CompleteRequestInput } from '../../functions/complete-request/core.ts';
import type { CaughtError, RecordFailureInput } from '../../functions/record-failure/core.ts';
import { parseConfig, type VendConfig, type VendConfigInput } from '../../functions/shared/config.ts';
import { buildDeps, type Deps } from '../../functions/shared/deps.ts';
import type { RequestRecord, VendRequest } from '../../functions/shared/model.ts';
import type { StepInput } from '../../functions/shared/steps.ts';
import { type LocalCloud, type Seed, startLocalCloud, steppedClock } from '../../local/cloud/index.ts';
import { seededRandom } from '../../local/cloud/random.ts';
import { ensureRegistryTable, type LocalDynamo, startDynamo } from '../../local/dynamo.ts';
import { TEST_SEED } from '../local-cloud/harness.ts';

/** The test organization, plus the pipeline's own role and key in the management account. */
export const WORKFLOW_SEED: Seed = {
  ...TEST_SEED,
  roles: [
    ...(TEST_SEED.roles ?? []),
    {
      account: 'management',
      name: 'VendPipeline',
      trustedAccounts: ['management'],
      managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
    },
  ],
  accessKeys: [
    ...(TEST_SEED.accessKeys ?? []),
    { accessKeyId: 'vend-pipeline', account: 'management', role: 'VendPipeline', sessionName: 'vend' },
  ],
  settings: {
    creationDelayMs: 180_000,
    consistencyWindowMs: 60_000,
    serviceActivationMs: 120_000,
    defaultVpcDelayMs: 60_000,
  },
};

export const TEST_CONFIG: VendConfigInput = {
  organization: { allowedOrganizationalUnits: ['Sandbox', 'Workloads/Dev', 'Workloads/Prod'] },
  naming: { prefixes: { 'Workloads/Dev': 'plat-dev-', 'Workloads/Prod': 'plat-prod-', Sandbox: 'sbx-' } },
  email: { template: 'aws+{accountName}@example.com' },
  creation: { firstWaitSeconds: 60, backoffRate: 1.5, maxWaitSeconds: 600, deadlineMinutes: 60 },
  baseline: {
    version: '1',
    roles: [
      {
        name: 'VendAdmin',
        description: 'Administrators from the security account, with MFA',
        trustedAccountId: '111111111111',
        requireMfa: true,
        managedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      },
      {
        name: 'VendReadOnly',
        trustedAccountId: '111111111111',
        externalId: 'vend-audit-7f3a',
        managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
        inlinePolicies: {
          DenyBilling: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Deny', Action: 'aws-portal:*', Resource: '*' }],
          },
        },
      },
    ],
    passwordPolicy: { minimumPasswordLength: 16, passwordReusePrevention: 12 },
    accountAliasTemplate: 'acme-{accountName}',
  },
  budget: { defaultMonthlyLimitUsd: 200, subscribers: ['finops@example.com'] },
  // Workflow tests give root emails of their own (the API tests check the template-only default).
  profiles: { default: { rootEmail: { source: 'request-in-domains', allowedDomains: ['example.com'] } } },
  dns: { hubAccountId: '222222222222', hostedZoneId: 'Z0VENDTESTINTERNAL01', roleName: 'VendDnsAuthorizer' },
};

/** Simulated seconds per real millisecond in workflow tests: a 3-minute creation takes 180 ms. */
export const TEST_SPEED = 1000;

export interface WorkflowEnv {
  cloud: LocalCloud;
  dynamo: LocalDynamo;
  config: VendConfig;
  deps: Deps;
  close(): Promise<void>;
}

/**
 * The local cloud on a scaled clock, dynalite with the registry table, and step dependencies acting as Vend.
 * `slackWebhookUrl` gives the steps a webhook (a Slack sink's URL); without it no Slack is configured.
 */
export async function startWorkflowEnv(
  options: {
    config?: VendConfigInput;
    seed?: Seed;
    speed?: number;
    slackWebhookUrl?: Deps['slackWebhookUrl'];
  } = {},
): Promise<WorkflowEnv> {
  const speed = options.speed ?? TEST_SPEED;
  const clock = steppedClock(speed);
  const cloud = await startLocalCloud({ port: 0, seed: options.seed ?? WORKFLOW_SEED, clock });
  const dynamo = await startDynamo();
  const tableName = `vend-test-${randomUUID().slice(0, 8)}`;
  await ensureRegistryTable(dynamo.endpoint, tableName);
  const config = parseConfig(options.config ?? TEST_CONFIG, 'test configuration');
  const deps = buildDeps({
    config,
    aws: {
      region: 'us-east-1',
      endpoint: cloud.endpoint,
      credentials: { accessKeyId: 'vend-pipeline', secretAccessKey: 'local' },
      // The SDK's retry delays are real time; on the simulated clock the state machine does the retrying.
      maxAttempts: 1,
    },
    tableName,
    dynamoEndpoint: dynamo.endpoint,
    slackWebhookUrl: options.slackWebhookUrl ?? (async () => undefined),
    allowLoopbackSlackWebhook: true,
    sleep: (ms) => new Promise((resolve) => clock.schedule(ms, () => resolve())),
    random: seededRandom(1).next,
    now: () => clock.now(),
  });
  return {
    cloud,
    dynamo,
    config,
    deps,
    async close() {
      await cloud.close();
      await dynamo.close();
    },
  };
}

/** Runs `work` while the local cloud injects `fault` on every matching call, then stops injecting it. */
export async function withFault<T>(
  env: WorkflowEnv,
  fault: Parameters<WorkflowEnv['cloud']['cloud']['faults']['add']>[0],
  work: () => Promise<T>,
): Promise<T> {
  const added = env.cloud.cloud.faults.add(fault);
  try {
    return await work();
  } finally {
    env.cloud.cloud.faults.remove(added.id);
  }
}

/** What `work` returned, and how many calls the local cloud answered meanwhile that `filter` picks. */
export async function countingCalls<T>(
  env: WorkflowEnv,
  filter: (service: string, operation: string) => boolean,
  work: () => Promise<T>,
): Promise<{ result: T; calls: number }> {
  const before = env.cloud.cloud.callCount(filter);
  const result = await work();
  return { result, calls: env.cloud.cloud.callCount(filter) - before };
}

/** A request as submission would store it, for testing one step at a time. */
export function testRequest(overrides: Partial<VendRequest> = {}): VendRequest {
  const name = overrides.name ?? `payments-${randomUUID().slice(0, 6)}`;
  const accountName = overrides.accountName ?? `plat-dev-${name}`;
  return {
    requestId: overrides.requestId ?? `req-${randomUUID()}`,
    name,
    accountName,
    email: `aws+${accountName}@example.com`,
    organizationalUnit: { id: 'ou-unset', path: 'Workloads/Dev' },
    owner: 'alice@example.com',
    requester: { principal: 'arn:aws:iam::000000000000:user/alice', slackUserId: 'U012ALICE' },
    budget: {
      monthlyLimitUsd: 200,
      thresholds: [
        { percent: 80, type: 'ACTUAL' },
        { percent: 100, type: 'FORECASTED' },
      ],
    },
    tags: { team: 'payments' },
    submittedAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Stores a request in the registry (reservations included), as submission does. */
export async function storeRequest(deps: Deps, request: VendRequest): Promise<RequestRecord> {
  const now = new Date().toISOString();
  const record: RequestRecord = {
    requestId: request.requestId,
    status: 'pending',
    request,
    steps: {},
    createdAt: now,
    updatedAt: now,
  };
  await deps.requests.create(record);
  return record;
}

/** A step's input as the state machine gives it in the request's own execution (named after the request). */
export function stepInput(request: Pick<VendRequest, 'requestId'>): StepInput {
  const { requestId } = request;
  return { requestId, execution: { name: requestId, input: { requestId } } };
}

/**
 * The input a failure state gives "Record failure" in the request's own execution, from the state's fields
 * (`failure`, `creation`, ...); with `stage: 'notify'`, the input of "Record notification failure".
 */
export function failureInput(
  fields: { request: VendRequest; stage?: 'notify'; failure?: CaughtError } & Record<string, unknown>,
): RecordFailureInput {
  const { request, stage, failure, ...state } = fields;
  return stage === 'notify'
    ? { ...stepInput(request), stage, ...(failure ? { failure } : {}) }
    : { ...stepInput(request), state: { ...(failure ? { failure } : {}), ...state } };
}

/** The input "Announce ready" gets in the request's own execution. */
export function announceInput(fields: {
  request: VendRequest;
  accountId?: string;
  configured?: unknown[];
}): CompleteRequestInput {
  return { ...stepInput(fields.request), ...(fields.configured ? { configured: fields.configured } : {}) };
}

/** Records the request's account in the registry and returns the step input of the request's own execution. */
export async function accountStepInput(
  deps: Deps,
  request: VendRequest,
  accountId: string,
): Promise<StepInput> {
  await recordAccount(deps, request, accountId);
  return stepInput(request);
}

/** Records the request's account in the registry, as "Check account creation" does once the account exists. */
export async function recordAccount(deps: Deps, request: VendRequest, accountId: string): Promise<string> {
  await deps.requests.update(request.requestId, { accountId });
  return accountId;
}

/**
 * Creates a member account straight through Organizations and waits until it exists and its services are usable
 * (IAM, then EC2 and the default VPC).
 */
export async function createMemberAccount(env: WorkflowEnv, name: string): Promise<string> {
  const { CreateAccountStatus } = await env.deps
    .client(OrganizationsClient)
    .send(new CreateAccountCommand({ AccountName: name, Email: `${name}@example.com` }));
  const { settings } = env.cloud.cloud;
  for (;;) {
    const { CreateAccountStatus: status } = await env.deps
      .client(OrganizationsClient)
      .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }));
    if (status?.State === 'SUCCEEDED') {
      const accountId = status.AccountId!;
      const account = env.cloud.cloud.state.accounts[accountId]!;
      await env.deps.sleep(
        Math.max(
          0,
          account.joinedAt +
            Math.max(
              settings.consistencyWindowMs,
              settings.serviceActivationMs + settings.defaultVpcDelayMs,
            ) -
            env.cloud.cloud.clock.now(),
        ),
      );
      return accountId;
    }
    if (status?.State === 'FAILED') throw new Error(`creation failed: ${status.FailureReason}`);
    await env.deps.sleep(10_000);
  }
}
