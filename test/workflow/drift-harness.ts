/** Helpers of the drift tests: the local pipeline, vending through it, and changing accounts by hand as an administrator. */
import { BudgetsClient } from '@aws-sdk/client-budgets';
import {
  DeleteRoleCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import {
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { Route53Client } from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { DriftRecord } from '../../functions/shared/model.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { type AuditEvent, steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, type LocalPipelineOptions, startLocalPipeline } from '../../local/pipeline.ts';
import { pollOnClock } from '../local-cloud/wait.ts';

/** Simulated seconds per real millisecond. */
export const SPEED = 1000;
/** The administrator's key: someone changing accounts by hand, not Vend. */
export const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
export const ADMIN_ARN = 'arn:aws:iam::000000000000:root';
export const PIPELINE_ROLE = 'arn:aws:iam::000000000000:role/VendPipeline';

export interface Env {
  pipeline: LocalPipeline;
  admin: OrganizationsClient;
  ous: Map<string, string>;
}

export async function startEnv(options: Partial<LocalPipelineOptions> = {}): Promise<Env> {
  const pipeline = await startLocalPipeline({
    cloudPort: 0,
    clock: steppedClock(SPEED),
    speed: SPEED,
    ...options,
  });
  const admin = new OrganizationsClient({
    endpoint: pipeline.cloud.endpoint,
    region: 'us-east-1',
    credentials: ADMIN,
  });
  return { pipeline, admin, ous: await organizationalUnits(admin) };
}

/** Every OU by path, found through Organizations as an administrator would. */
export async function organizationalUnits(admin: OrganizationsClient): Promise<Map<string, string>> {
  const ous = new Map<string, string>();
  const { Roots } = await admin.send(new ListRootsCommand({}));
  const walk = async (parentId: string, prefix: string) => {
    const { OrganizationalUnits } = await admin.send(
      new ListOrganizationalUnitsForParentCommand({ ParentId: parentId }),
    );
    for (const ou of OrganizationalUnits ?? []) {
      const path = `${prefix}${ou.Name}`;
      ous.set(path, ou.Id!);
      await walk(ou.Id!, `${path}/`);
    }
  };
  await walk(Roots![0]!.Id!, '');
  return ous;
}

let counter = 0;
/** Vends an account through the pipeline (API submission, the real state machine) and returns its id. */
export async function vend(env: Env, ou = 'Workloads/Dev'): Promise<string> {
  const record = await submitRequest(
    env.pipeline.deps,
    env.pipeline.runner,
    {
      name: `drift-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
      organizationalUnit: ou,
      owner: 'alice@example.com',
      tags: { team: 'payments', 'cost-center': 'cc-1234' },
    },
    // The local API's unsigned caller: the API shows each caller the accounts it asked for.
    'arn:aws:iam::000000000000:user/local-developer',
  );
  const execution = await env.pipeline.runner.get(record.requestId)!.done;
  if (execution.status !== 'SUCCEEDED') {
    const failed = await env.pipeline.deps.requests.get(record.requestId);
    throw new Error(`vending failed: ${JSON.stringify(execution.error)} ${JSON.stringify(failed?.failure)}`);
  }
  return (await env.pipeline.deps.requests.get(record.requestId))!.accountId!;
}

/** Checks `probe` on the simulated clock until `condition` holds; fails after `timeoutMs` of real time. */
export function eventually<T>(
  env: Env,
  probe: () => Promise<T>,
  condition: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  return pollOnClock(env.pipeline.deps.sleep, probe, condition, what, timeoutMs);
}

export async function parentOf(env: Env, accountId: string): Promise<string> {
  const { Parents } = await env.admin.send(new ListParentsCommand({ ChildId: accountId }));
  return Parents![0]!.Id!;
}

export async function tagsOf(env: Env, accountId: string): Promise<Record<string, string>> {
  const { Tags } = await env.admin.send(new ListTagsForResourceCommand({ ResourceId: accountId }));
  return Object.fromEntries((Tags ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

/** Moves an account as the administrator (from wherever it is now). */
export async function moveByHand(env: Env, accountId: string, path: string): Promise<void> {
  await env.admin.send(
    new MoveAccountCommand({
      AccountId: accountId,
      SourceParentId: await parentOf(env, accountId),
      DestinationParentId: env.ous.get(path)!,
    }),
  );
}

/** Clients acting in a member account, as the administrator through OrganizationAccountAccessRole. */
export async function adminClientsIn(env: Env, accountId: string) {
  const sts = new STSClient({
    endpoint: env.pipeline.cloud.endpoint,
    region: 'us-east-1',
    credentials: ADMIN,
  });
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/OrganizationAccountAccessRole`,
      RoleSessionName: 'by-hand',
    }),
  );
  const config = {
    endpoint: env.pipeline.cloud.endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    },
  };
  return {
    iam: new IAMClient(config),
    budgets: new BudgetsClient(config),
    route53: new Route53Client(config),
  };
}

/** IAM in a member account, as the administrator. */
export async function adminIamIn(env: Env, accountId: string): Promise<IAMClient> {
  return (await adminClientsIn(env, accountId)).iam;
}

export async function deleteRoleByHand(env: Env, accountId: string, roleName: string): Promise<void> {
  const iam = await adminIamIn(env, accountId);
  const { AttachedPolicies } = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }));
  for (const policy of AttachedPolicies ?? [])
    await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn! }));
  await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
}

export async function roleExists(env: Env, accountId: string, roleName: string): Promise<boolean> {
  const iam = await adminIamIn(env, accountId);
  try {
    await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if ((error as Error).name === 'NoSuchEntityException') return false;
    throw error;
  }
}

/** The drift messages about an account posted since `from`. */
export function driftMessages(env: Env, accountId: string, from = 0) {
  return env.pipeline.slack
    .messages()
    .slice(from)
    .filter((message) => /Drift|left the organization/.test(JSON.stringify(message.payload)))
    .filter((message) => JSON.stringify(message.payload).includes(accountId));
}

export async function history(env: Env, accountId: string): Promise<DriftRecord[]> {
  return (await env.pipeline.deps.drift.get(accountId))?.history ?? [];
}

export const accountIdOf = (event: AuditEvent) => {
  const params = event.requestParameters ?? {};
  return (params.accountId ?? params.resourceId) as string | undefined;
};

/** Vend's own successful changes to accounts in Organizations (the fixes), from the audit trail. */
export function vendChanges(env: Env, accountId?: string): AuditEvent[] {
  return env.pipeline.cloud.cloud.state.audit.filter(
    (event) =>
      event.eventSource === 'organizations.amazonaws.com' &&
      ['MoveAccount', 'TagResource', 'UntagResource'].includes(event.eventName) &&
      !event.errorCode &&
      (event.userIdentity as { accessKeyId?: string }).accessKeyId === 'vend-pipeline' &&
      (accountId === undefined || accountIdOf(event) === accountId),
  );
}
