import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  InvalidInputException,
  LimitExceededException,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  type Role,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import type { BaselineRole } from '../shared/config.ts';
import { aws, isAwsError, VendFailureError } from '../shared/errors.ts';
import { canonicalJson } from '../shared/text.ts';
import { type AccountContext, type Applied, applyChanges, type Change, type Converger } from './converger.ts';

/** The tag on every role the baseline creates, so that people (and the drift sweep) know who owns it. */
export const MANAGED_ROLE_TAG = { Key: 'vend:managed', Value: 'true' } as const;

/**
 * One baseline role (aspect `role:<RoleName>`), acting through the organization's access role: created with its
 * policies when missing; else its trust policy, description, maximum session, Vend's tag, managed and inline
 * policies put back one by one. Other tags are left alone: people tag roles for their own reasons.
 */
export function roleConverger(roleName: string): Converger<BaselineRole> {
  const aspect = `role:${roleName}`;
  return {
    aspect,
    async plan(role, account) {
      const iam = await iamOf(account);
      if (account.expectNew) return [createRole(aspect, role)];
      const current = await getRole(iam, role.name);
      if (!current) return [createRole(aspect, role)];
      return planExisting(aspect, iam, role, current);
    },
    apply: applyChanges,
  };
}

/**
 * A role a profile no longer lists (aspect `role:<RoleName>`): deleted, with its policies, only when it carries
 * Vend's tag (`MANAGED_ROLE_TAG`), the mark of a role Vend created or took over as a baseline role. A role of that
 * name without the tag is someone else's, and is left alone; a missing one is already as wanted.
 */
export function retiredRoleConverger(roleName: string): Converger<{ name: string }> {
  const aspect = `role:${roleName}`;
  return {
    aspect,
    async plan({ name }, account) {
      const current = await getRole(await iamOf(account), name);
      if (!current || !isManaged(current)) return [];
      return [deleteRole(aspect, name)];
    },
    apply: applyChanges,
  };
}

/** Whether a role carries Vend's tag. */
function isManaged(role: Role): boolean {
  return (
    role.Tags?.some((tag) => tag.Key === MANAGED_ROLE_TAG.Key && tag.Value === MANAGED_ROLE_TAG.Value) ===
    true
  );
}

/** Deleting a role: IAM refuses while policies are attached or inline (DeleteConflict), so those go first. */
function deleteRole(aspect: string, name: string): Change {
  return {
    aspect,
    summary: `delete role ${name}, which the profile no longer lists`,
    async run(account): Promise<Applied> {
      const iam = await iamOf(account);
      // Each call finding nothing (the role or the policy gone meanwhile) is as wanted.
      const unlessGone = (error: unknown): 'gone' => {
        if (error instanceof NoSuchEntityException) return 'gone';
        throw error;
      };
      const attached = await attachedPolicies(iam, name).catch(unlessGone);
      const inline = await inlinePolicyNames(iam, name).catch(unlessGone);
      if (attached === 'gone' || inline === 'gone') return { done: [], created: false };
      for (const arn of attached)
        await aws(iam.send(new DetachRolePolicyCommand({ RoleName: name, PolicyArn: arn }))).catch(
          unlessGone,
        );
      for (const policy of inline)
        await aws(iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy }))).catch(
          unlessGone,
        );
      if ((await aws(iam.send(new DeleteRoleCommand({ RoleName: name }))).catch(unlessGone)) === 'gone')
        return { done: [], created: false };
      return { done: [`deleted role ${name}, which the profile no longer lists`], created: false };
    },
  };
}

/** The role's ARN as IAM names it (Vend creates its roles without a path). */
export function roleArn(accountId: string, roleName: string, region: string): string {
  const partition = region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

/** The trust policy of a baseline role: the trusted account's principals, with MFA and/or an external id when set. */
export function trustPolicy(role: BaselineRole): PolicyDocument {
  const condition: Record<string, Record<string, string>> = {};
  if (role.requireMfa) condition.Bool = { 'aws:MultiFactorAuthPresent': 'true' };
  if (role.externalId) condition.StringEquals = { 'sts:ExternalId': role.externalId };
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${role.trustedAccountId}:root` },
        Action: 'sts:AssumeRole',
        ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
      },
    ],
  };
}

type PolicyDocument = Record<string, unknown>;

async function iamOf(account: AccountContext): Promise<IAMClient> {
  return (await account.session()).client(IAMClient);
}

/** Creating the role with its trust policy, settings and Vend's tag, then attaching and putting its policies. */
function createRole(aspect: string, role: BaselineRole): Change {
  return {
    aspect,
    summary: `create role ${role.name} with its policies`,
    creates: true,
    async run(account): Promise<Applied> {
      const iam = await iamOf(account);
      try {
        await aws(
          iam.send(
            new CreateRoleCommand({
              RoleName: role.name,
              AssumeRolePolicyDocument: JSON.stringify(trustPolicy(role)),
              ...(role.description !== undefined ? { Description: role.description } : {}),
              MaxSessionDuration: role.maxSessionDurationSeconds,
              Tags: [{ ...MANAGED_ROLE_TAG }],
            }),
          ),
        );
      } catch (error) {
        // Created meanwhile (a concurrent run, or planned without reading): converge the one that is there.
        if (!(error instanceof EntityAlreadyExistsException)) throw configProblem(error, `role ${role.name}`);
        const current = await getRole(iam, role.name);
        if (!current) throw new Error(`IAM returned no role ${role.name}`);
        return applyChanges(await planExisting(aspect, iam, role, current), account);
      }
      // A role just created has no policies yet: attach and put them without listing.
      const policies = await applyChanges(
        [...managedPolicyChanges(aspect, role, []), ...inlinePolicyChanges(aspect, role, [], new Map())],
        account,
      );
      return { done: [`created role ${role.name}`, ...policies.done], created: true };
    },
  };
}

/** What differs between an existing role and the baseline's, in the order it is put back. */
async function planExisting(
  aspect: string,
  iam: IAMClient,
  role: BaselineRole,
  current: Role,
): Promise<Change[]> {
  const changes: Change[] = [];
  const trust = trustPolicy(role);
  if (!sameDocument(parseDocument(current.AssumeRolePolicyDocument), trust)) {
    changes.push(
      write(
        aspect,
        `restore the trust policy of role ${role.name}`,
        `restored the trust policy of role ${role.name}`,
        (client) =>
          aws(
            client.send(
              new UpdateAssumeRolePolicyCommand({
                RoleName: role.name,
                PolicyDocument: JSON.stringify(trust),
              }),
            ),
          ).catch((error: unknown) => {
            throw configProblem(error, `the trust policy of role ${role.name}`);
          }),
      ),
    );
  }
  changes.push(...settingsChanges(aspect, role, current));
  changes.push(...managedPolicyChanges(aspect, role, await attachedPolicies(iam, role.name)));
  const present = await inlinePolicyNames(iam, role.name);
  const wanted = wantedInline(role);
  const documents = new Map<string, string | undefined>();
  for (const name of present) {
    if (wanted.has(name.toLowerCase())) documents.set(name, await getRolePolicy(iam, role.name, name));
  }
  changes.push(...inlinePolicyChanges(aspect, role, present, documents));
  return changes;
}

/** A change making one IAM write with the account's IAM client. */
function write(
  aspect: string,
  summary: string,
  done: string,
  send: (iam: IAMClient) => Promise<unknown>,
): Change {
  return {
    aspect,
    summary,
    async run(account) {
      if ((await send(await iamOf(account))) === 'not-needed') return { done: [], created: false };
      return { done: [done], created: false };
    },
  };
}

/** The role's description (when the baseline gives one), its maximum session and Vend's tag. */
function settingsChanges(aspect: string, role: BaselineRole, current: Role): Change[] {
  const changes: Change[] = [];
  const description = role.description !== undefined && current.Description !== role.description;
  const maxSession = current.MaxSessionDuration !== role.maxSessionDurationSeconds;
  if (description || maxSession) {
    const what = [
      ...(description ? ['description'] : []),
      ...(maxSession
        ? [
            `maximum session (${current.MaxSessionDuration ?? '?'} s, not ${role.maxSessionDurationSeconds} s)`,
          ]
        : []),
    ].join(' and ');
    changes.push(
      write(
        aspect,
        `restore the ${what} of role ${role.name}`,
        `restored the ${what} of role ${role.name}`,
        (iam) =>
          aws(
            iam.send(
              new UpdateRoleCommand({
                RoleName: role.name,
                ...(description ? { Description: role.description } : {}),
                // IAM API reference, UpdateRole: a MaxSessionDuration left out is reset to one hour, so always send it.
                MaxSessionDuration: role.maxSessionDurationSeconds,
              }),
            ),
          ).catch((error: unknown) => {
            throw configProblem(error, `the settings of role ${role.name}`);
          }),
      ),
    );
  }
  if (!isManaged(current)) {
    const tag = `${MANAGED_ROLE_TAG.Key}=${MANAGED_ROLE_TAG.Value}`;
    changes.push(
      write(aspect, `tag role ${role.name} ${tag}`, `tagged role ${role.name} ${tag}`, (iam) =>
        aws(iam.send(new TagRoleCommand({ RoleName: role.name, Tags: [{ ...MANAGED_ROLE_TAG }] }))),
      ),
    );
  }
  return changes;
}

async function getRole(iam: IAMClient, name: string): Promise<Role | undefined> {
  try {
    return (await aws(iam.send(new GetRoleCommand({ RoleName: name })))).Role;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

async function attachedPolicies(iam: IAMClient, roleName: string): Promise<string[]> {
  const attached: string[] = [];
  let marker: string | undefined;
  do {
    const page = await aws(
      iam.send(
        new ListAttachedRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) }),
      ),
    );
    for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) attached.push(policy.PolicyArn);
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return attached;
}

function managedPolicyChanges(aspect: string, role: BaselineRole, present: string[]): Change[] {
  const attached = new Set(present);
  const wanted = new Set(role.managedPolicyArns);
  const changes: Change[] = [];
  // Detach first: a role holds at most 10 managed policies, and the baseline's may replace others.
  for (const arn of attached) {
    if (wanted.has(arn)) continue;
    changes.push(
      write(
        aspect,
        `detach ${arn} from role ${role.name}`,
        `detached ${arn} from role ${role.name}`,
        async (iam) => {
          try {
            await aws(iam.send(new DetachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn })));
          } catch (error) {
            if (!(error instanceof NoSuchEntityException)) throw error;
            return 'not-needed';
          }
        },
      ),
    );
  }
  for (const arn of wanted) {
    if (attached.has(arn)) continue;
    changes.push(
      write(
        aspect,
        `attach ${arn} to role ${role.name}`,
        `attached ${arn} to role ${role.name}`,
        async (iam) => {
          try {
            await aws(iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn })));
          } catch (error) {
            throw configProblem(error, `managed policy ${arn} of role ${role.name}`);
          }
        },
      ),
    );
  }
  return changes;
}

async function inlinePolicyNames(iam: IAMClient, roleName: string): Promise<string[]> {
  const present: string[] = [];
  let marker: string | undefined;
  do {
    const page = await aws(
      iam.send(new ListRolePoliciesCommand({ RoleName: roleName, ...(marker ? { Marker: marker } : {}) })),
    );
    present.push(...(page.PolicyNames ?? []));
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return present;
}

/** The baseline's inline policies by lower-cased name: IAM policy names ignore case. */
function wantedInline(role: BaselineRole): Map<string, { name: string; document: unknown }> {
  return new Map(
    Object.entries(role.inlinePolicies).map(([name, document]) => [name.toLowerCase(), { name, document }]),
  );
}

/** `documents`: the present inline policies the baseline also has, as IAM returned them (undefined: gone meanwhile). */
function inlinePolicyChanges(
  aspect: string,
  role: BaselineRole,
  present: string[],
  documents: Map<string, string | undefined>,
): Change[] {
  const wanted = wantedInline(role);
  const changes: Change[] = [];
  for (const name of present) {
    if (wanted.has(name.toLowerCase())) continue;
    changes.push(
      write(
        aspect,
        `delete inline policy ${name} from role ${role.name}`,
        `deleted inline policy ${name} from role ${role.name}`,
        async (iam) => {
          try {
            await aws(iam.send(new DeleteRolePolicyCommand({ RoleName: role.name, PolicyName: name })));
          } catch (error) {
            if (!(error instanceof NoSuchEntityException)) throw error;
            return 'not-needed';
          }
        },
      ),
    );
  }
  const presentNames = new Map(present.map((name) => [name.toLowerCase(), name]));
  for (const [key, { name, document }] of wanted) {
    const existingName = presentNames.get(key);
    if (existingName !== undefined) {
      const existing = documents.get(existingName);
      if (existing !== undefined && sameDocument(parseDocument(existing), document)) continue;
    }
    const [done, todo] = existingName === undefined ? ['added', 'add'] : ['restored', 'restore'];
    changes.push(
      write(
        aspect,
        `${todo} inline policy ${name} of role ${role.name}`,
        `${done} inline policy ${name} of role ${role.name}`,
        async (iam) => {
          try {
            await aws(
              iam.send(
                new PutRolePolicyCommand({
                  RoleName: role.name,
                  PolicyName: name,
                  PolicyDocument: JSON.stringify(document),
                }),
              ),
            );
          } catch (error) {
            throw configProblem(error, `inline policy ${name} of role ${role.name}`);
          }
        },
      ),
    );
  }
  return changes;
}

async function getRolePolicy(
  iam: IAMClient,
  roleName: string,
  policyName: string,
): Promise<string | undefined> {
  try {
    return (await aws(iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))))
      .PolicyDocument;
  } catch (error) {
    if (error instanceof NoSuchEntityException) return undefined;
    throw error;
  }
}

/** A policy document as IAM returns it: URL-encoded JSON. */
function parseDocument(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  let decoded = text;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    // Not encoded after all.
  }
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

/**
 * Whether two policy documents say the same: key order, the order of list items and a single item written
 * as a list or alone do not matter to IAM, so they do not count as differences.
 */
export function sameDocument(a: unknown, b: unknown): boolean {
  return canonicalJson(unordered(a)) === canonicalJson(unordered(b));
}

/** A document with its lists in one order and one-item lists as the item (key order `canonicalJson` settles). */
function unordered(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(unordered);
    if (items.length === 1) return items[0];
    return items
      .map((item) => [canonicalJson(item), item] as const)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([, item]) => item);
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unordered(item)]));
  }
  return value;
}

/**
 * IAM refusing what the baseline asks for (a policy ARN that does not exist, a malformed document, a quota):
 * retrying will not mend it, the configuration must change. The reason is said in words; IAM's own text stays
 * in the cause, for the logs.
 */
function configProblem(error: unknown, what: string): unknown {
  const reason =
    error instanceof NoSuchEntityException
      ? 'something it names (a managed policy, most likely) does not exist'
      : error instanceof MalformedPolicyDocumentException
        ? 'the policy document is not one IAM accepts'
        : error instanceof LimitExceededException
          ? 'it would exceed an IAM quota of the account'
          : error instanceof InvalidInputException || isAwsError(error, 'ValidationError')
            ? 'IAM found a value in it invalid'
            : undefined;
  if (reason === undefined) return error;
  return new VendFailureError(
    `IAM refused ${what} of the baseline: ${reason}`,
    'This is a problem with the organization baseline, not with your request: ask the platform team to fix baseline.roles in the Vend configuration, then retry the request.',
    { cause: error },
  );
}
