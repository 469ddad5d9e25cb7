import type { CloudState, OrganizationalUnitRecord, PolicyRecord } from './state.ts';

/** The only policy type the local cloud implements (Organizations API Reference, PolicyType). */
export const SERVICE_CONTROL_POLICY = 'SERVICE_CONTROL_POLICY';

/** The id of the AWS managed SCP that every root, OU and account starts with. */
export const FULL_AWS_ACCESS_ID = 'p-FullAWSAccess';

/**
 * `FullAWSAccess` as AWS ships it: allow every action on every resource (Organizations User Guide, "Service control
 * policies", the default FullAWSAccess policy). AWS managed: attachable, never editable or deletable.
 */
export function fullAwsAccessPolicy(createdAt: number): PolicyRecord {
  return {
    id: FULL_AWS_ACCESS_ID,
    name: 'FullAWSAccess',
    description: 'Allows access to every operation',
    type: SERVICE_CONTROL_POLICY,
    awsManaged: true,
    content: JSON.stringify(
      { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      null,
      2,
    ),
    createdAt,
    targets: [],
  };
}

/** Whether SCPs are enabled on the root. */
export function scpEnabled(state: CloudState): boolean {
  return state.enabledPolicyTypes.includes(SERVICE_CONTROL_POLICY);
}

/**
 * A root, OU or account that joins the tree gets `FullAWSAccess` while SCPs are enabled ("Every root, OU, and
 * account must have at least one SCP attached", API Reference, DetachPolicy; new OUs and accounts start with the
 * default policy, User Guide, "Service control policies").
 */
export function attachDefaultPolicies(state: CloudState, targetId: string): void {
  const fullAccess = state.policies[FULL_AWS_ACCESS_ID];
  if (!scpEnabled(state) || !fullAccess || fullAccess.targets.includes(targetId)) return;
  fullAccess.targets.push(targetId);
}

/** The ids of the root, every OU and every account of the organization. */
function organizationTargets(state: CloudState): string[] {
  return [
    state.organization.rootId,
    ...Object.keys(state.organizationalUnits),
    ...Object.values(state.accounts)
      .filter((account) => !account.departed)
      .map((account) => account.id),
  ];
}

/**
 * Enables SCPs on the root: every entity starts with only `FullAWSAccess` (User Guide, "Disabling a policy type":
 * when re-enabled, "all entities in the organization root are initially attached to only the default FullAWSAccess
 * SCP").
 */
export function enableServiceControlPolicies(state: CloudState): void {
  if (!state.policies[FULL_AWS_ACCESS_ID]) state.policies[FULL_AWS_ACCESS_ID] = fullAwsAccessPolicy(0);
  if (!scpEnabled(state)) state.enabledPolicyTypes.push(SERVICE_CONTROL_POLICY);
  for (const policy of Object.values(state.policies)) policy.targets = [];
  state.policies[FULL_AWS_ACCESS_ID]!.targets = organizationTargets(state);
}

/**
 * Disables SCPs on the root: every SCP is detached from every entity, none is deleted (User Guide, "Disabling a
 * policy type").
 */
export function disableServiceControlPolicies(state: CloudState): void {
  state.enabledPolicyTypes = state.enabledPolicyTypes.filter((type) => type !== SERVICE_CONTROL_POLICY);
  for (const policy of Object.values(state.policies)) policy.targets = [];
}

/** Detaches every policy from a target that leaves the organization. */
export function detachEverything(state: CloudState, targetId: string): void {
  for (const policy of Object.values(state.policies)) {
    policy.targets = policy.targets.filter((target) => target !== targetId);
  }
}

/**
 * Brings a state saved before policies existed up to date. Those local clouds answered ListRoots with
 * SERVICE_CONTROL_POLICY ENABLED, so SCPs stay enabled, with `FullAWSAccess` on every entity, as AWS has it.
 */
export function backfillPolicies(state: CloudState): void {
  if (state.policies !== undefined && state.enabledPolicyTypes !== undefined) return;
  state.policies = {};
  state.enabledPolicyTypes = [];
  enableServiceControlPolicies(state);
}

/** One level of the tree above an account, with the SCP documents attached there. */
export interface ScpLevel {
  targetId: string;
  type: 'ROOT' | 'ORGANIZATIONAL_UNIT' | 'ACCOUNT';
  policies: { policyId: string; name: string; document: ScpDocument }[];
}

/** A parsed SCP document (its grammar is checked when it is stored: `scpDocumentProblem`). */
export interface ScpDocument {
  Version: string;
  Statement: Record<string, unknown> | Record<string, unknown>[];
}

/**
 * The SCPs that bind `accountId`, per level from the root through each OU down to the account itself: a call is
 * allowed only if every level has an SCP that allows it and none denies it (User Guide, "SCP evaluation"). Pure:
 * reads the state, changes nothing. Returns [] when SCPs are not enabled or the account is not a member (no SCP
 * applies). The management account gets its levels too, although SCPs never restrict it: the evaluator exempts it.
 */
export function effectiveServiceControlPolicies(state: CloudState, accountId: string): ScpLevel[] {
  const account = Object.hasOwn(state.accounts, accountId) ? state.accounts[accountId] : undefined;
  if (!account || account.departed || !scpEnabled(state)) return [];
  const chain: { targetId: string; type: ScpLevel['type'] }[] = [{ targetId: account.id, type: 'ACCOUNT' }];
  let parentId: string | undefined = account.parentId;
  while (parentId !== undefined) {
    const ou: OrganizationalUnitRecord | undefined = state.organizationalUnits[parentId];
    if (ou) {
      chain.unshift({ targetId: ou.id, type: 'ORGANIZATIONAL_UNIT' });
      parentId = ou.parentId;
    } else {
      chain.unshift({ targetId: parentId, type: 'ROOT' });
      parentId = undefined;
    }
  }
  const policies = Object.values(state.policies).filter((policy) => policy.type === SERVICE_CONTROL_POLICY);
  return chain.map((level) => ({
    ...level,
    policies: policies
      .filter((policy) => policy.targets.includes(level.targetId))
      .map((policy) => ({
        policyId: policy.id,
        name: policy.name,
        document: JSON.parse(policy.content) as ScpDocument,
      })),
  }));
}

const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const ACTION = /^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$/;

/**
 * What is wrong with an SCP document, or undefined when it is a valid one. The grammar of the Organizations User
 * Guide, "SCP syntax": a JSON object with `Version` (2012-10-17) and `Statement` (one statement or a non-empty
 * list); each statement has `Effect` Allow or Deny, exactly one of `Action`/`NotAction` (a string or list of
 * `service:action` patterns, or `*`), exactly one of `Resource`/`NotResource`, optionally `Sid` and `Condition`
 * (operator -> key -> values); `Principal` and `NotPrincipal` are not supported in SCPs.
 */
export function scpDocumentProblem(content: string): string | undefined {
  let document: unknown;
  try {
    document = JSON.parse(content);
  } catch {
    return 'the content is not valid JSON';
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    return 'the policy must be a JSON object';
  const { Version, Statement, ...rest } = document as Record<string, unknown>;
  const unknownKey = Object.keys(rest).find((key) => key !== 'Id');
  if (unknownKey !== undefined) return `unsupported element ${unknownKey}`;
  if (Version !== '2012-10-17' && Version !== '2008-10-17')
    return 'Version must be "2012-10-17" (or "2008-10-17")';
  const statements = Array.isArray(Statement) ? Statement : [Statement];
  if (Statement === undefined || statements.length === 0) return 'the policy has no Statement';
  for (const [index, statement] of statements.entries()) {
    const problem = statementProblem(statement);
    if (problem) return `Statement ${index + 1}: ${problem}`;
  }
  return undefined;
}

function statementProblem(statement: unknown): string | undefined {
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement))
    return 'a statement must be a JSON object';
  const fields = statement as Record<string, unknown>;
  const unsupported = Object.keys(fields).find((key) => !STATEMENT_KEYS.has(key));
  if (unsupported !== undefined) return `${unsupported} is not supported in an SCP`;
  if (fields.Sid !== undefined && (typeof fields.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(fields.Sid)))
    return 'Sid must be a string of letters and digits';
  if (fields.Effect !== 'Allow' && fields.Effect !== 'Deny') return 'Effect must be "Allow" or "Deny"';
  const actionProblem = oneOf(fields, 'Action', 'NotAction', (value) => ACTION.test(value));
  if (actionProblem) return actionProblem;
  const resourceProblem = oneOf(
    fields,
    'Resource',
    'NotResource',
    (value) => value === '*' || value.startsWith('arn:'),
  );
  if (resourceProblem) return resourceProblem;
  if (fields.Condition !== undefined) return conditionProblem(fields.Condition);
  return undefined;
}

/** Exactly one of `name` and `notName`, a string or a non-empty list of strings that each pass `valid`. */
function oneOf(
  fields: Record<string, unknown>,
  name: string,
  notName: string,
  valid: (value: string) => boolean,
): string | undefined {
  const present = [name, notName].filter((key) => fields[key] !== undefined);
  if (present.length !== 1) return `a statement needs exactly one of ${name} and ${notName}`;
  const key = present[0]!;
  const raw = fields[key];
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) return `${key} must not be empty`;
  const bad = values.find((value) => typeof value !== 'string' || !valid(value));
  return bad === undefined ? undefined : `${key} has an invalid value ${JSON.stringify(bad)}`;
}

function conditionProblem(condition: unknown): string | undefined {
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition))
    return 'Condition must be a JSON object of operators';
  for (const [operator, keys] of Object.entries(condition)) {
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
      return `Condition operator ${operator} must map condition keys to values`;
    for (const [key, values] of Object.entries(keys)) {
      const list = Array.isArray(values) ? values : [values];
      if (list.some((value) => !['string', 'boolean', 'number'].includes(typeof value)))
        return `Condition key ${key} must have a string, number or boolean value, or a list of them`;
    }
  }
  return undefined;
}
