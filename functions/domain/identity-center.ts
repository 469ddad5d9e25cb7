import {
  GetGroupIdCommand,
  GetUserIdCommand,
  ResourceNotFoundException as IdentityNotFoundException,
  IdentitystoreClient,
} from '@aws-sdk/client-identitystore';
import {
  type AccountAssignmentOperationStatus,
  AttachManagedPolicyToPermissionSetCommand,
  ConflictException,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribePermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  DetachManagedPolicyFromPermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  type PermissionSet,
  ProvisionPermissionSetCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  UpdatePermissionSetCommand,
} from '@aws-sdk/client-sso-admin';
import type {
  DeclaredPermissionSet,
  IdentityCenterAssignment,
  IdentityCenterConfig,
} from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { AssignmentInProgressError, aws, VendFailureError } from '../shared/errors.ts';
import {
  type AccountContext,
  accountContext,
  applyChanges,
  type Change,
  type Converger,
  change,
  converge,
} from './converger.ts';

/**
 * IAM Identity Center access to a vended account: the permission sets its profile assigns, to groups (by display
 * name) and to the requester and owner (users found by user name or email). Identity Center is administered from
 * the management account (or a delegated administrator): every call here is the pipeline's own, none is made in
 * the member account. Declared permission sets (`identityCenter.permissionSets`) are created and kept as declared;
 * `existingPermissionSets` are only looked up. Account assignments are created, never deleted: an assignment
 * someone added by hand is theirs.
 */

/** What the account's access must be: the profile's assignments and the people they name. */
export interface AccessTarget {
  assignments: readonly IdentityCenterAssignment[];
  /** The owner's email: looked up as an email, then as a user name. */
  owner: string;
  /** The requester's principal ARN: an assumed role's session name, or an IAM user's name, is looked up. */
  requester?: string;
}

/** One assignment in place (or, in a dry run, that would be). */
export interface Grant {
  permissionSet: string;
  principalType: 'USER' | 'GROUP';
  /** In words: "group developers", "owner alice@example.com". */
  principal: string;
}

/** A person an assignment names who could not be assigned, and why (the request still succeeds). */
export interface Unassigned {
  role: 'owner' | 'requester';
  /** The address or name looked up. */
  who: string;
  permissionSet: string;
  reason: string;
}

/** What the grant-access step returns, and what the ready message and the status read. */
export interface GrantAccessOutput {
  step: 'grantAccess';
  /** False when no Identity Center is configured, or the profile assigns nothing: nothing was done. */
  configured: boolean;
  /** Why nothing was done, when `configured` is false. */
  note?: string;
  /** The access portal's address, where people sign in. */
  portalUrl?: string;
  /** The permission sets assigned in the account, by name. */
  permissionSets: string[];
  granted: Grant[];
  unassigned: Unassigned[];
}

export interface AccessConvergence {
  output: GrantAccessOutput;
  /** In words: what was done, or in a dry run what would be done. */
  changeLog: string[];
}

/** Polls of an asynchronous Identity Center request within one attempt, and the first wait: 1 + 2 + 4 + 8 s. */
export const STATUS_POLLS = 4;
export const FIRST_POLL_MS = 1000;

const NOT_CONFIGURED = 'no Identity Center is configured (identityCenter)';

/** Converges the account's Identity Center access; with `dryRun`, only says what it would change. */
export async function convergeAccess(
  deps: Deps,
  accountId: string,
  target: AccessTarget,
  options: { dryRun?: boolean } = {},
): Promise<AccessConvergence> {
  const config = deps.config.identityCenter;
  const empty = { step: 'grantAccess' as const, permissionSets: [], granted: [], unassigned: [] };
  if (!config) return { output: { ...empty, configured: false, note: NOT_CONFIGURED }, changeLog: [] };
  const dryRun = options.dryRun === true;
  const clients = identityClients(deps, config);
  const identityStoreId = await identityStoreOf(clients.sso, config);
  const portalUrl = config.accessPortalUrl ?? `https://${identityStoreId}.awsapps.com/start`;
  if (target.assignments.length === 0) {
    return {
      output: {
        ...empty,
        configured: false,
        portalUrl,
        note: "the account's profile assigns no permission set",
      },
      changeLog: [],
    };
  }
  const account = accountContext(deps, accountId);
  const changeLog: string[] = [];

  const names = [...new Set(target.assignments.map((assignment) => assignment.permissionSet))];
  const present = await permissionSetsByName(clients.sso, config.instanceArn, new Set(names));
  const arns = new Map<string, string>();
  for (const name of names) {
    const declared = config.permissionSets.find((set) => set.name === name);
    const found = present.get(name);
    if (!declared) {
      if (!found?.PermissionSetArn) throw missingPermissionSet(name);
      arns.set(name, found.PermissionSetArn);
      continue;
    }
    const converged = await converge(permissionSetConverger, { declared, config, found }, account, {
      dryRun,
    });
    changeLog.push(...converged.changeLog);
    const arn = found?.PermissionSetArn ?? converged.changes.find(isCreation)?.created?.arn;
    if (arn) arns.set(name, arn);
  }

  const { wanted, unassigned } = await principalsOf(clients.identity, identityStoreId, target);
  const resolved: ResolvedAssignment[] = [];
  for (const item of wanted) {
    resolved.push({ ...item, permissionSetArn: arns.get(item.permissionSet) });
  }
  const assigned = await converge(
    assignmentConverger,
    { instanceArn: config.instanceArn, assignments: resolved },
    account,
    { dryRun },
  );
  changeLog.push(...assigned.changeLog);
  return {
    output: {
      step: 'grantAccess',
      configured: true,
      portalUrl,
      permissionSets: names,
      granted: wanted.map(({ permissionSet, principalType, principal }) => ({
        permissionSet,
        principalType,
        principal,
      })),
      unassigned,
    },
    changeLog,
  };
}

interface IdentityClients {
  sso: SSOAdminClient;
  identity: IdentitystoreClient;
}

function identityClients(deps: Deps, config: IdentityCenterConfig): IdentityClients {
  const region = config.region ?? deps.config.organization.homeRegion;
  return {
    sso: deps.client(SSOAdminClient, { region }),
    identity: deps.client(IdentitystoreClient, { region }),
  };
}

/** The instance's identity store: configured, or ListInstances' (the instance must exist either way). */
async function identityStoreOf(sso: SSOAdminClient, config: IdentityCenterConfig): Promise<string> {
  if (config.identityStoreId) return config.identityStoreId;
  let token: string | undefined;
  do {
    const page = await aws(sso.send(new ListInstancesCommand({ ...(token ? { NextToken: token } : {}) })));
    const instance = page.Instances?.find((item) => item.InstanceArn === config.instanceArn);
    if (instance?.IdentityStoreId) return instance.IdentityStoreId;
    token = page.NextToken;
  } while (token);
  throw new VendFailureError(
    `the Identity Center instance ${config.instanceArn} (identityCenter.instanceArn) was not found`,
    'Tell the platform team: identityCenter.instanceArn names no instance this pipeline can see.',
  );
}

function missingPermissionSet(name: string): VendFailureError {
  return new VendFailureError(
    `the permission set ${name} does not exist in the Identity Center instance`,
    `Tell the platform team: create ${name}, or declare it in identityCenter.permissionSets so that Vend creates it.`,
  );
}

/** The instance's permission sets with the wanted names (ListPermissionSets gives ARNs only: each is described). */
async function permissionSetsByName(
  sso: SSOAdminClient,
  instanceArn: string,
  names: ReadonlySet<string>,
): Promise<Map<string, PermissionSet>> {
  const found = new Map<string, PermissionSet>();
  let token: string | undefined;
  do {
    const page = await aws(
      sso.send(
        new ListPermissionSetsCommand({ InstanceArn: instanceArn, ...(token ? { NextToken: token } : {}) }),
      ),
    );
    for (const arn of page.PermissionSets ?? []) {
      const described = await aws(
        sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })),
      );
      const set = described.PermissionSet;
      if (set?.Name && names.has(set.Name)) found.set(set.Name, set);
    }
    token = page.NextToken;
  } while (token);
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// Permission sets

interface PermissionSetTarget {
  declared: DeclaredPermissionSet;
  config: IdentityCenterConfig;
  /** The permission set of that name in the instance, if any. */
  found: PermissionSet | undefined;
}

/** A change that creates a permission set: once run, `created` holds its ARN. */
interface PermissionSetCreation extends Change {
  created?: { arn: string };
}

const isCreation = (planned: Change): planned is PermissionSetCreation => planned.creates === true;

/**
 * A declared permission set: created with its managed policies when missing; otherwise its description, session
 * duration and managed policies put back as declared, then provisioned again to the accounts that have it (AWS
 * does not update their roles by itself: SDK model, CreateAccountAssignment and ProvisionPermissionSet).
 */
const permissionSetConverger: Converger<PermissionSetTarget> = {
  aspect: 'identity-center',
  async plan({ declared, config, found }, account) {
    const sso = identityClients(account.deps, config).sso;
    const instanceArn = config.instanceArn;
    if (!found?.PermissionSetArn) return [createPermissionSet(sso, config, declared)];
    const arn = found.PermissionSetArn;
    const name = declared.name;
    const changes: Change[] = [];
    const description = declared.description ?? found.Description;
    if (found.SessionDuration !== declared.sessionDuration || found.Description !== description) {
      changes.push(
        change(
          'identity-center',
          `restore permission set ${name} (session ${declared.sessionDuration})`,
          `restored permission set ${name} (session ${declared.sessionDuration})`,
          async () =>
            aws(
              sso.send(
                new UpdatePermissionSetCommand({
                  InstanceArn: instanceArn,
                  PermissionSetArn: arn,
                  SessionDuration: declared.sessionDuration,
                  ...(description ? { Description: description } : {}),
                }),
              ),
            ),
        ),
      );
    }
    const attached = await attachedPolicies(sso, instanceArn, arn);
    for (const policyArn of declared.managedPolicyArns) {
      if (!attached.has(policyArn)) changes.push(attachPolicy(sso, instanceArn, arn, name, policyArn));
    }
    for (const policyArn of attached) {
      if (declared.managedPolicyArns.includes(policyArn)) continue;
      changes.push(
        change(
          'identity-center',
          `detach ${policyArn} from permission set ${name}`,
          `detached ${policyArn} from permission set ${name}`,
          async () => {
            try {
              await aws(
                sso.send(
                  new DetachManagedPolicyFromPermissionSetCommand({
                    InstanceArn: instanceArn,
                    PermissionSetArn: arn,
                    ManagedPolicyArn: policyArn,
                  }),
                ),
              );
            } catch (error) {
              if (error instanceof ResourceNotFoundException) return 'not-needed';
              throw error;
            }
          },
        ),
      );
    }
    if (changes.length > 0) changes.push(provision(sso, instanceArn, arn, name));
    return changes;
  },
  apply: applyChanges,
};

function createPermissionSet(
  sso: SSOAdminClient,
  config: IdentityCenterConfig,
  declared: DeclaredPermissionSet,
): PermissionSetCreation {
  const { instanceArn } = config;
  const name = declared.name;
  const policies = declared.managedPolicyArns.length;
  const creation: PermissionSetCreation = {
    aspect: 'identity-center',
    summary: `create permission set ${name} with ${policies} managed polic${policies === 1 ? 'y' : 'ies'}`,
    creates: true,
    async run(account) {
      let arn: string | undefined;
      try {
        const created = await aws(
          sso.send(
            new CreatePermissionSetCommand({
              InstanceArn: instanceArn,
              Name: name,
              SessionDuration: declared.sessionDuration,
              ...(declared.description ? { Description: declared.description } : {}),
            }),
          ),
        );
        arn = created.PermissionSet?.PermissionSetArn;
      } catch (error) {
        // Created meanwhile (a concurrent request): converge that one.
        if (!(error instanceof ConflictException)) throw error;
      }
      if (!arn) {
        const found = (await permissionSetsByName(sso, instanceArn, new Set([name]))).get(name);
        if (!found?.PermissionSetArn) throw missingPermissionSet(name);
        creation.created = { arn: found.PermissionSetArn };
        const rest = await permissionSetConverger.plan({ declared, config, found }, account);
        return applyChanges(rest, account);
      }
      creation.created = { arn };
      const done = [`created permission set ${name}`];
      for (const policyArn of declared.managedPolicyArns) {
        done.push(...(await attachPolicy(sso, instanceArn, arn, name, policyArn).run(account)).done);
      }
      return { done, created: true };
    },
  };
  return creation;
}

function attachPolicy(
  sso: SSOAdminClient,
  instanceArn: string,
  arn: string,
  name: string,
  policyArn: string,
): Change {
  return change(
    'identity-center',
    `attach ${policyArn} to permission set ${name}`,
    `attached ${policyArn} to permission set ${name}`,
    async () => {
      try {
        await aws(
          sso.send(
            new AttachManagedPolicyToPermissionSetCommand({
              InstanceArn: instanceArn,
              PermissionSetArn: arn,
              ManagedPolicyArn: policyArn,
            }),
          ),
        );
      } catch (error) {
        // Already attached (SDK model: ConflictException).
        if (error instanceof ConflictException) return 'not-needed';
        throw error;
      }
    },
  );
}

async function attachedPolicies(sso: SSOAdminClient, instanceArn: string, arn: string): Promise<Set<string>> {
  const attached = new Set<string>();
  let token: string | undefined;
  do {
    const page = await aws(
      sso.send(
        new ListManagedPoliciesInPermissionSetCommand({
          InstanceArn: instanceArn,
          PermissionSetArn: arn,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const policy of page.AttachedManagedPolicies ?? []) if (policy.Arn) attached.add(policy.Arn);
    token = page.NextToken;
  } while (token);
  return attached;
}

/** Provisions a changed permission set again to every account that has it, and waits (bounded) for the end. */
function provision(sso: SSOAdminClient, instanceArn: string, arn: string, name: string): Change {
  return {
    aspect: 'identity-center',
    summary: `provision permission set ${name} to the accounts that have it`,
    async run(account) {
      const started = await aws(
        sso.send(
          new ProvisionPermissionSetCommand({
            InstanceArn: instanceArn,
            PermissionSetArn: arn,
            TargetType: 'ALL_PROVISIONED_ACCOUNTS',
          }),
        ),
      );
      const status = started.PermissionSetProvisioningStatus;
      const requestId = status?.RequestId;
      const what = `the provisioning of permission set ${name}`;
      if (status?.Status === 'FAILED') throw identityCenterFailed(what, status.FailureReason);
      if (requestId && status?.Status !== 'SUCCEEDED') {
        await waitFor(account, what, async () => {
          const polled = await aws(
            sso.send(
              new DescribePermissionSetProvisioningStatusCommand({
                InstanceArn: instanceArn,
                ProvisionPermissionSetRequestId: requestId,
              }),
            ),
          );
          return polled.PermissionSetProvisioningStatus ?? {};
        });
      }
      return { done: [`provisioned permission set ${name} to the accounts that have it`], created: false };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// People and groups

/** An assignment with its principal found in the identity store. */
interface WantedAssignment extends Grant {
  principalId: string;
}

interface ResolvedAssignment extends WantedAssignment {
  /** Undefined in a dry run before a declared permission set exists. */
  permissionSetArn: string | undefined;
}

/** Finds each group and person the assignments name; a person without a user is `unassigned`, a missing group fails. */
async function principalsOf(
  identity: IdentitystoreClient,
  identityStoreId: string,
  target: AccessTarget,
): Promise<{ wanted: WantedAssignment[]; unassigned: Unassigned[] }> {
  const wanted: WantedAssignment[] = [];
  const unassigned: Unassigned[] = [];
  const groups = new Map<string, string>();
  const people = new Map<string, { id: string } | { reason: string; who: string }>();
  for (const assignment of target.assignments) {
    const permissionSet = assignment.permissionSet;
    for (const group of assignment.groups) {
      let id = groups.get(group);
      if (!id) {
        id = await groupId(identity, identityStoreId, group);
        groups.set(group, id);
      }
      wanted.push({ permissionSet, principalType: 'GROUP', principalId: id, principal: `group ${group}` });
    }
    const roles: ('owner' | 'requester')[] = [];
    if (assignment.owner) roles.push('owner');
    if (assignment.requester) roles.push('requester');
    for (const role of roles) {
      let person = people.get(role);
      if (!person) {
        person =
          role === 'owner'
            ? await userByEmail(identity, identityStoreId, target.owner)
            : await userOfPrincipal(identity, identityStoreId, target.requester);
        people.set(role, person);
      }
      const who = role === 'owner' ? target.owner : (target.requester ?? 'unknown');
      if ('id' in person) {
        if (wanted.some((item) => item.permissionSet === permissionSet && item.principalId === person.id))
          continue;
        wanted.push({
          permissionSet,
          principalType: 'USER',
          principalId: person.id,
          principal: `${role} ${who}`,
        });
      } else {
        unassigned.push({ role, who: person.who, permissionSet, reason: person.reason });
      }
    }
  }
  return { wanted, unassigned };
}

async function groupId(
  identity: IdentitystoreClient,
  identityStoreId: string,
  name: string,
): Promise<string> {
  try {
    const found = await aws(
      identity.send(
        new GetGroupIdCommand({
          IdentityStoreId: identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: name } },
        }),
      ),
    );
    if (found.GroupId) return found.GroupId;
  } catch (error) {
    if (!(error instanceof IdentityNotFoundException)) throw error;
  }
  throw new VendFailureError(
    `the group ${name} is not in the Identity Center identity store`,
    `Tell the platform team: the profile assigns a permission set to group ${name}, which does not exist.`,
  );
}

/** A user by one unique attribute; undefined when there is none (identitystore: ResourceNotFoundException). */
async function userId(
  identity: IdentitystoreClient,
  identityStoreId: string,
  attribute: 'userName' | 'emails.value',
  value: string,
): Promise<string | undefined> {
  try {
    const found = await aws(
      identity.send(
        new GetUserIdCommand({
          IdentityStoreId: identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: attribute, AttributeValue: value } },
        }),
      ),
    );
    return found.UserId;
  } catch (error) {
    if (error instanceof IdentityNotFoundException) return undefined;
    throw error;
  }
}

async function userByEmail(
  identity: IdentitystoreClient,
  identityStoreId: string,
  email: string,
): Promise<{ id: string } | { reason: string; who: string }> {
  const id =
    (await userId(identity, identityStoreId, 'emails.value', email)) ??
    (await userId(identity, identityStoreId, 'userName', email));
  return id ? { id } : { who: email, reason: `no Identity Center user has the email or user name ${email}` };
}

const ASSUMED_ROLE = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/;
const IAM_USER = /^arn:aws[\w-]*:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/;

/**
 * The requester's user: an assumed role's session name (Identity Center names a session after the user's user
 * name) or an IAM user's name, looked up as a user name, then as an email.
 */
async function userOfPrincipal(
  identity: IdentitystoreClient,
  identityStoreId: string,
  principal: string | undefined,
): Promise<{ id: string } | { reason: string; who: string }> {
  const name = principal ? (ASSUMED_ROLE.exec(principal)?.[1] ?? IAM_USER.exec(principal)?.[1]) : undefined;
  if (!name) {
    return {
      who: principal ?? 'unknown',
      reason: 'the requester signed in as no user or role session Vend can look up in Identity Center',
    };
  }
  const id =
    (await userId(identity, identityStoreId, 'userName', name)) ??
    (await userId(identity, identityStoreId, 'emails.value', name));
  return id ? { id } : { who: name, reason: `no Identity Center user has the user name or email ${name}` };
}

// ---------------------------------------------------------------------------------------------------------------
// Account assignments

interface AssignmentsTarget {
  instanceArn: string;
  assignments: readonly ResolvedAssignment[];
}

const assignmentText = (assignment: Grant) => `${assignment.permissionSet} for ${assignment.principal}`;

/**
 * The account's assignments: each wanted one that ListAccountAssignments does not show is created, and its
 * creation waited for (asynchronous in AWS: SDK model, CreateAccountAssignment and
 * DescribeAccountAssignmentCreationStatus). Assignments nobody asked Vend for are left alone.
 */
export const assignmentConverger: Converger<AssignmentsTarget> = {
  aspect: 'identity-center',
  async plan(target, account) {
    const sso = account.deps.client(SSOAdminClient, {
      region: account.deps.config.identityCenter?.region ?? account.deps.config.organization.homeRegion,
    });
    const present = new Map<string, Set<string>>();
    const changes: Change[] = [];
    for (const assignment of target.assignments) {
      const psArn = assignment.permissionSetArn;
      if (psArn && !present.has(psArn))
        present.set(psArn, await assignmentsOf(sso, target.instanceArn, account.accountId, psArn));
      if (psArn && present.get(psArn)?.has(`${assignment.principalType}:${assignment.principalId}`)) continue;
      changes.push(createAssignment(sso, target.instanceArn, assignment));
    }
    return changes;
  },
  apply: applyChanges,
};

async function assignmentsOf(
  sso: SSOAdminClient,
  instanceArn: string,
  accountId: string,
  permissionSetArn: string,
): Promise<Set<string>> {
  const keys = new Set<string>();
  let token: string | undefined;
  do {
    const page = await aws(
      sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: instanceArn,
          AccountId: accountId,
          PermissionSetArn: permissionSetArn,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const item of page.AccountAssignments ?? []) keys.add(`${item.PrincipalType}:${item.PrincipalId}`);
    token = page.NextToken;
  } while (token);
  return keys;
}

function createAssignment(sso: SSOAdminClient, instanceArn: string, assignment: ResolvedAssignment): Change {
  const what = assignmentText(assignment);
  return {
    aspect: 'identity-center',
    summary: `assign ${what}`,
    async run(account) {
      const permissionSetArn = assignment.permissionSetArn;
      if (!permissionSetArn) throw missingPermissionSet(assignment.permissionSet);
      let started: AccountAssignmentOperationStatus | undefined;
      try {
        started = (
          await aws(
            sso.send(
              new CreateAccountAssignmentCommand({
                InstanceArn: instanceArn,
                TargetId: account.accountId,
                TargetType: 'AWS_ACCOUNT',
                PermissionSetArn: permissionSetArn,
                PrincipalType: assignment.principalType,
                PrincipalId: assignment.principalId,
              }),
            ),
          )
        ).AccountAssignmentCreationStatus;
      } catch (error) {
        // Another creation of the same assignment is under way: the next attempt finds it done.
        if (error instanceof ConflictException)
          throw new AssignmentInProgressError(`the assignment of ${what} is being created`, { cause: error });
        throw error;
      }
      const requestId = started?.RequestId;
      if (started?.Status === 'FAILED')
        throw identityCenterFailed(`the assignment of ${what}`, started.FailureReason);
      if (requestId && started?.Status !== 'SUCCEEDED') {
        await waitFor(account, `the assignment of ${what}`, async () => {
          const status = await aws(
            sso.send(
              new DescribeAccountAssignmentCreationStatusCommand({
                InstanceArn: instanceArn,
                AccountAssignmentCreationRequestId: requestId,
              }),
            ),
          );
          return status.AccountAssignmentCreationStatus ?? {};
        });
      }
      return { done: [`assigned ${what}`], created: false };
    },
  };
}

function identityCenterFailed(what: string, reason: string | undefined): VendFailureError {
  return new VendFailureError(
    `Identity Center could not complete ${what}${reason ? `: ${reason}` : ''}`,
    'Tell the platform team: the account exists, but its Identity Center access is not complete; the request can be run again once the cause is fixed.',
  );
}

/**
 * Polls an asynchronous Identity Center request a few times (`STATUS_POLLS`, waits doubling from
 * `FIRST_POLL_MS`): SUCCEEDED ends, FAILED fails the request, still IN_PROGRESS after the last poll is an
 * AssignmentInProgressError, which the state machine retries (the next attempt finds what is done by then).
 */
async function waitFor(
  account: AccountContext,
  what: string,
  poll: () => Promise<{ Status?: string; FailureReason?: string }>,
): Promise<void> {
  let wait = FIRST_POLL_MS;
  for (let attempt = 0; attempt < STATUS_POLLS; attempt++) {
    await account.deps.sleep(wait);
    wait *= 2;
    const status = await poll();
    if (status.Status === 'SUCCEEDED') return;
    if (status.Status === 'FAILED') throw identityCenterFailed(what, status.FailureReason);
  }
  throw new AssignmentInProgressError(`${what} is still in progress`);
}
