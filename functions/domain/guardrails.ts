import {
  AttachPolicyCommand,
  CreatePolicyCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  OrganizationsClient,
  type PolicySummary,
  UpdatePolicyCommand,
} from '@aws-sdk/client-organizations';
import { renderSettings, type VendConfig } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { aws, isAwsError, VendFailureError } from '../shared/errors.ts';
import {
  policyContent,
  QUARANTINE_POLICY_NAME,
  quarantineDocument,
  renderPolicy,
  samePolicy,
} from '../shared/policy-document.ts';
import { type AccountContext, applyChanges, type Change, type Converger } from './converger.ts';

/**
 * Service control policies on a vended account, acting as the management account: the profile's policies (Vend's
 * own, created and kept at their rendered documents, or existing ones named by id) attached, and `vend-quarantine`
 * attached while the account is being vended and detached once it is ready. Policies Vend does not name are left
 * alone. See README, "Guardrails".
 */

const SCP = 'SERVICE_CONTROL_POLICY';

/** A policy as Vend attaches it: by name, with the content Vend keeps it at (none for an existing one named by id). */
export interface Guardrail {
  name: string;
  description?: string;
  /** The rendered document's text; absent for an existing policy (`id`), which Vend never edits. */
  content?: string;
  /** An existing policy's id, from the configuration. */
  id?: string;
}

/** What the account's SCPs must be. */
export interface GuardrailsDesired {
  /** Attached (and, for Vend's own, kept at their content). */
  policies: Guardrail[];
  /** `vend-quarantine` attached (true) or not (false). */
  quarantined: boolean;
  /**
   * Policies the account's profile no longer lists (a rolled-out profile change), by name: detached where attached.
   * Vend's own are found by name, existing ones by the id the configuration still gives.
   */
  retired?: readonly string[];
}

/** The quarantine policy as Vend keeps it. */
export function quarantineGuardrail(config: VendConfig): Guardrail {
  return {
    name: QUARANTINE_POLICY_NAME,
    description: 'Vend: denies everything but Vend itself while an account is being vended',
    content: policyContent(quarantineDocument(renderSettings(config))),
  };
}

/** The profile's policies, from the configuration, rendered as Vend sends them. Names the configuration lacks are left out. */
export function profileGuardrails(config: VendConfig, names: readonly string[] | undefined): Guardrail[] {
  return (names ?? []).flatMap((name): Guardrail[] => {
    const entry = config.policies[name];
    if (!entry) return [];
    if (entry.id) return [{ name, id: entry.id }];
    if (!entry.document) return [];
    return [
      {
        name,
        ...(entry.description !== undefined ? { description: entry.description } : {}),
        content: policyContent(renderPolicy(entry.document, renderSettings(config))),
      },
    ];
  });
}

/** The guardrails a desired state attaches, by name, as the status and messages list them. */
export const guardrailNames = (desired: GuardrailsDesired): string[] => desired.policies.map((p) => p.name);

export const guardrailsConverger: Converger<GuardrailsDesired> = {
  aspect: 'guardrails',
  async plan(desired, account) {
    const { deps } = account;
    const existing = await listPolicies(deps);
    const attached = await attachedTo(deps, account.accountId);
    const changes: Change[] = [];
    const quarantine = quarantineGuardrail(deps.config);
    const managed = [...desired.policies, ...(desired.quarantined ? [quarantine] : [])];
    for (const policy of managed) {
      if (policy.id || policy.content === undefined) continue;
      const found = existing.get(policy.name);
      if (!found?.Id) changes.push(createChange(policy));
      else if (!samePolicy(await contentOf(deps, found.Id), policy.content))
        changes.push(restoreChange(policy, found.Id));
    }
    for (const policy of managed) {
      const id = policy.id ?? existing.get(policy.name)?.Id;
      if (id !== undefined && attached.has(id)) continue;
      changes.push(attachChange(policy));
    }
    for (const name of desired.retired ?? []) {
      if (managed.some((policy) => policy.name === name)) continue;
      const id = account.deps.config.policies[name]?.id ?? existing.get(name)?.Id;
      if (id !== undefined && attached.has(id)) changes.push(detachChange(name, id));
    }
    const quarantineId = existing.get(QUARANTINE_POLICY_NAME)?.Id;
    if (!desired.quarantined && quarantineId !== undefined && attached.has(quarantineId))
      changes.push(detachChange(QUARANTINE_POLICY_NAME, quarantineId));
    return changes;
  },
  apply: applyChanges,
};

/** The organization's SCPs by name. */
async function listPolicies(deps: Deps): Promise<Map<string, PolicySummary>> {
  const byName = new Map<string, PolicySummary>();
  let token: string | undefined;
  do {
    const page = await organizations(
      deps
        .client(OrganizationsClient)
        .send(new ListPoliciesCommand({ Filter: SCP, ...(token ? { NextToken: token } : {}) })),
    );
    for (const policy of page.Policies ?? []) if (policy.Name) byName.set(policy.Name, policy);
    token = page.NextToken;
  } while (token);
  return byName;
}

/** The ids of the SCPs attached to the account itself. */
async function attachedTo(deps: Deps, accountId: string): Promise<Set<string>> {
  const ids = new Set<string>();
  let token: string | undefined;
  do {
    const page = await organizations(
      deps.client(OrganizationsClient).send(
        new ListPoliciesForTargetCommand({
          TargetId: accountId,
          Filter: SCP,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const policy of page.Policies ?? []) if (policy.Id) ids.add(policy.Id);
    token = page.NextToken;
  } while (token);
  return ids;
}

/** The names of the SCPs attached to the account itself, as Organizations lists them. */
export async function attachedGuardrails(deps: Deps, accountId: string): Promise<string[]> {
  const attached = await attachedTo(deps, accountId);
  const byName = await listPolicies(deps);
  const names = [...byName.values()].filter((p) => p.Id && attached.has(p.Id)).map((p) => p.Name ?? '');
  if (attached.has('p-FullAWSAccess') && !names.includes('FullAWSAccess')) names.push('FullAWSAccess');
  return names.sort();
}

/**
 * The policy `policyId` if Vend keeps its content (vend-quarantine, or a configured policy with a document), with
 * that content; undefined for any other policy.
 */
export async function managedPolicy(
  deps: Deps,
  policyId: string,
): Promise<{ guardrail: Guardrail; content: string } | undefined> {
  let policy: Awaited<ReturnType<typeof describe>>;
  try {
    policy = await describe(deps, policyId);
  } catch (error) {
    if (isAwsError(error, 'PolicyNotFoundException')) return undefined;
    throw error;
  }
  const name = policy?.PolicySummary?.Name;
  if (!name || policy?.PolicySummary?.AwsManaged) return undefined;
  const guardrail =
    name === QUARANTINE_POLICY_NAME
      ? quarantineGuardrail(deps.config)
      : profileGuardrails(deps.config, [name]).find((candidate) => candidate.content !== undefined);
  if (!guardrail) return undefined;
  return { guardrail, content: policy?.Content ?? '' };
}

/**
 * The content of a policy Vend keeps, against what Vend renders: restored unless `dryRun`. Undefined for a policy
 * Vend does not keep.
 */
export async function checkPolicyContent(
  deps: Deps,
  policyId: string,
  dryRun: boolean,
): Promise<{ name: string; drifted: boolean; changes: string[] } | undefined> {
  const managed = await managedPolicy(deps, policyId);
  if (!managed) return undefined;
  const { guardrail, content } = managed;
  if (samePolicy(content, guardrail.content ?? ''))
    return { name: guardrail.name, drifted: false, changes: [] };
  if (dryRun)
    return {
      name: guardrail.name,
      drifted: true,
      changes: [`would restore the content of the policy ${guardrail.name}`],
    };
  return { name: guardrail.name, drifted: true, changes: await restoreContent(deps, guardrail, policyId) };
}

async function describe(deps: Deps, policyId: string) {
  const { Policy } = await organizations(
    deps.client(OrganizationsClient).send(new DescribePolicyCommand({ PolicyId: policyId })),
  );
  return Policy;
}

/** Whether `vend-quarantine` is attached to the account now. */
export async function isQuarantined(deps: Deps, accountId: string): Promise<boolean> {
  const id = (await listPolicies(deps)).get(QUARANTINE_POLICY_NAME)?.Id;
  return id !== undefined && (await attachedTo(deps, accountId)).has(id);
}

async function contentOf(deps: Deps, policyId: string): Promise<string> {
  return (await describe(deps, policyId))?.Content ?? '';
}

/** The policy's id: found by name, or created (a concurrent creation by name is found again). */
async function ensurePolicy(deps: Deps, policy: Guardrail): Promise<{ id: string; created: boolean }> {
  if (policy.id) return { id: policy.id, created: false };
  const found = (await listPolicies(deps)).get(policy.name)?.Id;
  if (found) return { id: found, created: false };
  try {
    const { Policy } = await deps.client(OrganizationsClient).send(
      new CreatePolicyCommand({
        Name: policy.name,
        Description: policy.description ?? `Vend: ${policy.name}`,
        Type: SCP,
        Content: policy.content ?? '',
      }),
    );
    const id = Policy?.PolicySummary?.Id;
    if (!id) throw new Error(`CreatePolicy ${policy.name} returned no id`);
    return { id, created: true };
  } catch (error) {
    if (isAwsError(error, 'DuplicatePolicyException')) {
      const again = (await listPolicies(deps)).get(policy.name)?.Id;
      if (again) return { id: again, created: false };
    }
    return organizations(Promise.reject(error));
  }
}

function createChange(policy: Guardrail): Change {
  return {
    aspect: 'guardrails',
    summary: `create the policy ${policy.name}`,
    async run(account) {
      const { created } = await ensurePolicy(account.deps, policy);
      return { done: created ? [`created the policy ${policy.name}`] : [], created: false };
    },
  };
}

function restoreChange(policy: Guardrail, id: string): Change {
  return {
    aspect: 'guardrails',
    summary: `restore the content of the policy ${policy.name}`,
    async run(account) {
      return { done: await restoreContent(account.deps, policy, id), created: false };
    },
  };
}

/** Puts the policy's content back (UpdatePolicy) unless it already says the same; what was done, in words. */
async function restoreContent(deps: Deps, policy: Guardrail, id: string): Promise<string[]> {
  if (samePolicy(await contentOf(deps, id), policy.content ?? '')) return [];
  await organizations(
    deps.client(OrganizationsClient).send(new UpdatePolicyCommand({ PolicyId: id, Content: policy.content })),
  );
  return [`restored the content of the policy ${policy.name}`];
}

function attachChange(policy: Guardrail): Change {
  return {
    aspect: 'guardrails',
    summary: `attach the policy ${policy.name}`,
    async run(account) {
      const { id } = await ensurePolicy(account.deps, policy);
      try {
        await account.deps
          .client(OrganizationsClient)
          .send(new AttachPolicyCommand({ PolicyId: id, TargetId: account.accountId }));
      } catch (error) {
        if (isAwsError(error, 'DuplicatePolicyAttachmentException')) return { done: [], created: false };
        if (isAwsError(error, 'ConstraintViolationException')) {
          throw new VendFailureError(
            `the policy ${policy.name} cannot be attached to account ${account.accountId}: it holds as many service control policies as AWS allows`,
            'Ask your platform team: the profile lists more policies than the account can hold beside FullAWSAccess and vend-quarantine, or someone attached others.',
            { cause: error },
          );
        }
        if (isAwsError(error, 'PolicyNotFoundException')) {
          throw new VendFailureError(
            `the policy ${policy.name} (${id}) does not exist`,
            'Ask your platform team to correct the policy id in the Vend configuration (policies).',
            { cause: error },
          );
        }
        return organizations(Promise.reject(error));
      }
      return { done: [`attached the policy ${policy.name}`], created: false };
    },
  };
}

function detachChange(name: string, id: string): Change {
  return {
    aspect: 'guardrails',
    summary: `detach the policy ${name}`,
    async run(account) {
      try {
        await account.deps
          .client(OrganizationsClient)
          .send(new DetachPolicyCommand({ PolicyId: id, TargetId: account.accountId }));
      } catch (error) {
        if (isAwsError(error, 'PolicyNotAttachedException')) return { done: [], created: false };
        return organizations(Promise.reject(error));
      }
      return { done: [`detached the policy ${name}`], created: false };
    },
  };
}

/** What a request fails with when the organization's root has SCPs off: Vend's guardrails cannot be attached. */
function policyTypeNotEnabled(cause?: unknown): VendFailureError {
  return new VendFailureError(
    'service control policies are not enabled in the organization',
    "Ask your platform team to enable them once, in the management account: aws organizations enable-policy-type --root-id <the root's id> --policy-type SERVICE_CONTROL_POLICY; then ask again.",
    cause !== undefined ? { cause } : undefined,
  );
}

/**
 * Fails unless the organization's root has service control policies enabled (ListRoots' `PolicyTypes`, Organizations
 * API Reference, Root), before the account is created: without them the quarantine cannot be attached, and a
 * request would fail with an account already made.
 */
export async function requireServiceControlPolicies(deps: Deps): Promise<void> {
  const { Roots } = await aws(deps.client(OrganizationsClient).send(new ListRootsCommand({})));
  const enabled = (Roots?.[0]?.PolicyTypes ?? []).some(
    (type) => type.Type === SCP && type.Status === 'ENABLED',
  );
  if (!enabled) throw policyTypeNotEnabled();
}

/**
 * An Organizations call, its errors classified (`aws`), with SCPs not enabled on the root turned into the fix:
 * Vend does not enable the policy type itself (it changes the whole organization; see README, "Guardrails").
 */
async function organizations<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (isAwsError(error, 'PolicyTypeNotEnabledException')) throw policyTypeNotEnabled(error);
    return aws(Promise.reject(error));
  }
}

/** The account as the guardrail converger sees it (re-exported for callers that only converge guardrails). */
export type { AccountContext };
