/**
 * The pipeline's Lambda functions and what each one's code calls: the stack grants exactly this, so a change to
 * a function's AWS calls belongs here too. Plain data, read by the stack; no construct decides permissions.
 */

/** The state machine's Task placeholders (`${...}` in statemachine/vend.asl.json) and the folder of each function. */
export const TASK_FUNCTION_FOLDERS = {
  CreateAccountFunctionArn: 'create-account',
  CheckAccountCreationFunctionArn: 'check-account-creation',
  MoveAccountFunctionArn: 'move-account',
  ApplyBaselineFunctionArn: 'apply-baseline',
  ApplyBudgetFunctionArn: 'apply-budget',
  ConnectDnsFunctionArn: 'connect-dns',
  GrantAccessFunctionArn: 'grant-access',
  CompleteRequestFunctionArn: 'complete-request',
  RecordFailureFunctionArn: 'record-failure',
} as const;

export type StepFolder = (typeof TASK_FUNCTION_FOLDERS)[keyof typeof TASK_FUNCTION_FOLDERS];
export type FunctionFolder =
  | StepFolder
  | 'api'
  | 'drift'
  | 'reap-requests'
  | 'deliver-messages'
  | 'slack-interactions';

/**
 * Which Organizations resources an action is evaluated against, as the Service Authorization Reference lists them
 * ("Actions, resources, and condition keys for AWS Organizations": MoveAccount authorizes the account, its source
 * parent and its destination parent, each a root or an OU; TagResource and ListTagsForResource take account,
 * organizationalunit, root, policy or resourcepolicy and the condition keys aws:RequestTag/${TagKey} and
 * aws:TagKeys; ListParents takes account or organizationalunit; CreateAccount has no resource type but
 * aws:RequestTag/${TagKey} and aws:TagKeys).
 */
export type OrganizationsScope =
  /** The action has no resource type: only `*` is possible. */
  | 'none'
  /** Accounts of the organization managed by this account. */
  | 'accounts'
  /** OUs and roots of the organization managed by this account. */
  | 'ous-roots'
  /** Accounts and OUs of the organization managed by this account. */
  | 'accounts-ous'
  /**
   * MoveAccount of a new account out of the root: the accounts, the root (the source) and exactly the vendable
   * OUs (the destinations).
   */
  | 'move-from-root-to-vendable-ous'
  /**
   * MoveAccount of a drifted account back into its OU: the accounts, the root and every OU of the organization,
   * since the source is wherever someone else put the account and IAM cannot tell source from destination.
   */
  | 'move-back-from-anywhere'
  /** The organization's service control policies (customer managed, under its id). */
  | 'scps'
  /** Accounts of the organization and its service control policies: AttachPolicy and DetachPolicy authorize both. */
  | 'accounts-scps';

export interface OrganizationsGrant {
  readonly actions: readonly string[];
  readonly scope: OrganizationsScope;
  /** Why the code needs it, and for scope `none`, why only `*` is possible (it is the cdk-nag acknowledgement). */
  readonly why: string;
  /**
   * The tag keys the action may set are limited (`aws:TagKeys`) to the keys Vend owns (`vend:*`) and those a
   * request may set.
   */
  readonly limitsTagKeys?: boolean;
  /**
   * The action is limited (`organizations:PolicyType`, Service Authorization Reference) to service control policies,
   * the only policy type Vend manages.
   */
  readonly scpOnly?: boolean;
}

/** DynamoDB item actions, by the registry methods that use them. */
export type RegistryAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

export interface FunctionAccess {
  /** What it does, for the function's description. */
  readonly description: string;
  readonly organizations: readonly OrganizationsGrant[];
  /** Item actions on the registry table. */
  readonly registry: readonly RegistryAction[];
  /** Queries the registry's list index (`gsi1`). */
  readonly queriesListIndex?: boolean;
  /** Assumes `organization.accessRoleName` in member accounts (any account id: new accounts are unknown). */
  readonly assumesAccessRole?: boolean;
  /** Assumes `dns.roleName` in `dns.hubAccountId`. */
  readonly assumesDnsHubRole?: boolean;
  /** Reads the Slack webhook secret (it tells the requester). */
  readonly notifies?: boolean;
  /** Reads the Slack signing secret (it verifies Slack's callbacks). */
  readonly readsSigningSecret?: boolean;
  /** Starts executions of the state machine. */
  readonly startsExecutions?: boolean;
  /** Looks up executions of the state machine by name (DescribeExecution). */
  readonly describesExecutions?: boolean;
  /**
   * Administers `identityCenter.instanceArn`: its declared permission sets and the vended accounts' assignments
   * (`IDENTITY_CENTER_ACTIONS`), and looks users and groups up in its identity store.
   */
  readonly administersIdentityCenter?: boolean;
}

/**
 * What the Identity Center converger (functions/domain/identity-center.ts) calls in sso-admin, by the resource
 * types each action authorizes (Service Authorization Reference, "Actions, resources, and condition keys for AWS
 * IAM Identity Center": Instance `arn:${Partition}:sso:::instance/${InstanceId}`, PermissionSet
 * `arn:${Partition}:sso:::permissionSet/${InstanceId}/${PermissionSetId}`, Account
 * `arn:${Partition}:sso:::account/${AccountId}`). ListInstances has no resource type.
 */
export const IDENTITY_CENTER_ACTIONS = {
  /** Authorize the instance, and the permission set where they name one. */
  permissionSets: [
    'sso:ListPermissionSets',
    'sso:DescribePermissionSet',
    'sso:CreatePermissionSet',
    'sso:UpdatePermissionSet',
    'sso:ListManagedPoliciesInPermissionSet',
    'sso:AttachManagedPolicyToPermissionSet',
    'sso:DetachManagedPolicyFromPermissionSet',
    'sso:ProvisionPermissionSet',
    'sso:DescribePermissionSetProvisioningStatus',
    'sso:DescribeAccountAssignmentCreationStatus',
  ],
  /** Authorize the instance, the permission set and the account. */
  assignments: ['sso:ListAccountAssignments', 'sso:CreateAccountAssignment'],
  /**
   * Identity Store (Service Authorization Reference, "Actions, resources, and condition keys for AWS Identity
   * Store": GetUserId and GetGroupId authorize the Identitystore `arn:${Partition}:identitystore::${Account}:identitystore/${IdentityStoreId}`
   * and AllUsers `arn:${Partition}:identitystore:::user/*` or AllGroups `arn:${Partition}:identitystore:::group/*`).
   */
  lookups: ['identitystore:GetUserId', 'identitystore:GetGroupId'],
  /** No resource type: only when `identityCenter.identityStoreId` is absent (it is looked up). */
  unscoped: ['sso:ListInstances'],
} as const;

/** Every step records its progress through `runStep`: GetItem (the request) and UpdateItem (the step). */
const STEP_RECORD: readonly RegistryAction[] = ['GetItem', 'UpdateItem'];

/**
 * What converging an account's guardrails calls (functions/domain/guardrails.ts): find Vend's policies by name,
 * create or restore them, and attach them; each limited to service control policies (organizations:PolicyType).
 */
const GUARDRAIL_GRANTS: readonly OrganizationsGrant[] = [
  {
    actions: ['organizations:ListPolicies', 'organizations:CreatePolicy'],
    scope: 'none',
    why: 'no resource type (Service Authorization Reference); limited to service control policies by organizations:PolicyType',
    scpOnly: true,
  },
  {
    actions: ['organizations:ListPoliciesForTarget'],
    scope: 'accounts',
    why: "the account's service control policies",
    scpOnly: true,
  },
  {
    actions: ['organizations:DescribePolicy', 'organizations:UpdatePolicy'],
    scope: 'scps',
    why: "reads and restores the content of Vend's policies",
    scpOnly: true,
  },
  {
    actions: ['organizations:AttachPolicy'],
    scope: 'accounts-scps',
    why: 'attaches vend-quarantine and the profile policies to the account',
    scpOnly: true,
  },
];

/** What reading whether an account is quarantined calls. */
const QUARANTINE_READ_GRANTS: readonly OrganizationsGrant[] = [
  {
    actions: ['organizations:ListPolicies'],
    scope: 'none',
    why: 'no resource type (Service Authorization Reference); limited to service control policies by organizations:PolicyType',
    scpOnly: true,
  },
  {
    actions: ['organizations:ListPoliciesForTarget'],
    scope: 'accounts',
    why: "whether vend-quarantine holds a failed request's account",
    scpOnly: true,
  },
];

/** DetachPolicy: only the quarantine is ever detached, once the account is ready (or on a ready account, as drift). */
const DETACH_GRANT: OrganizationsGrant = {
  actions: ['organizations:DetachPolicy'],
  scope: 'accounts-scps',
  why: 'detaches vend-quarantine from a ready account, and the policies a changed profile no longer lists',
  scpOnly: true,
};

export const FUNCTION_ACCESS: Record<FunctionFolder, FunctionAccess> = {
  'create-account': {
    description: 'Vend: asks Organizations for the account (CreateAccount), or finds an earlier creation',
    organizations: [
      {
        actions: ['organizations:CreateAccount'],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); its tags are limited by aws:TagKeys',
        limitsTagKeys: true,
      },
      {
        actions: ['organizations:ListCreateAccountStatus', 'organizations:ListRoots'],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); finds a creation whose response was lost, and checks the root has SCPs enabled',
      },
      {
        actions: ['organizations:TagResource'],
        scope: 'accounts',
        why: 'CreateAccount with Tags requires TagResource on the new account too',
        limitsTagKeys: true,
      },
    ],
    registry: STEP_RECORD,
  },
  'check-account-creation': {
    description: 'Vend: polls DescribeCreateAccountStatus until the account exists, then quarantines it',
    organizations: [
      {
        actions: ['organizations:DescribeCreateAccountStatus'],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); polls the creation',
      },
      ...GUARDRAIL_GRANTS,
    ],
    registry: STEP_RECORD,
  },
  'move-account': {
    description: "Vend: moves the configured account into its OU and attaches its profile's guardrails",
    organizations: [
      { actions: ['organizations:ListParents'], scope: 'accounts-ous', why: 'the current parent' },
      {
        actions: ['organizations:MoveAccount'],
        scope: 'move-from-root-to-vendable-ous',
        why: 'from the root into a vendable OU',
      },
      ...GUARDRAIL_GRANTS,
    ],
    registry: STEP_RECORD,
  },
  'apply-baseline': {
    description: 'Vend: IAM roles, password policy and alias in the new account, through its access role',
    organizations: [],
    registry: STEP_RECORD,
    assumesAccessRole: true,
  },
  'apply-budget': {
    description: "Vend: the account's budget and its alerts, through its access role",
    organizations: [],
    registry: STEP_RECORD,
    assumesAccessRole: true,
  },
  'grant-access': {
    description:
      'Vend: Identity Center permission sets for groups, the requester and the owner in the new account',
    organizations: [],
    registry: STEP_RECORD,
    administersIdentityCenter: true,
  },
  'connect-dns': {
    description: "Vend: associates the account's default VPC with the hub's private hosted zone",
    organizations: [],
    registry: STEP_RECORD,
    assumesAccessRole: true,
    assumesDnsHubRole: true,
  },
  'complete-request': {
    description:
      'Vend: checks the guardrails, lifts the quarantine, records the account as vended and tells the requester',
    organizations: [...GUARDRAIL_GRANTS, DETACH_GRANT],
    registry: [...STEP_RECORD, 'PutItem'],
    notifies: true,
  },
  'record-failure': {
    description: 'Vend: records why a request failed, frees its name and email, tells the requester',
    organizations: [
      {
        actions: ['organizations:DescribeCreateAccountStatus'],
        scope: 'none',
        why: "no resource type (Service Authorization Reference); reads the creation's FailureReason",
      },
      ...QUARANTINE_READ_GRANTS,
    ],
    // PutItem: the failure message into the Slack outbox.
    registry: [...STEP_RECORD, 'PutItem', 'DeleteItem'],
    notifies: true,
  },
  'deliver-messages': {
    description: 'Vend: delivers the Slack messages still in the outbox, every minute, with back-off',
    organizations: [],
    // GetItem/UpdateItem: claim and mark outbox messages, record a delivery on the request; PutItem: the drift
    // history's record of a delivered announcement.
    registry: ['GetItem', 'PutItem', 'UpdateItem'],
    // The outbox's undelivered messages are listed in the list index.
    queriesListIndex: true,
    notifies: true,
  },
  api: {
    description:
      'Vend: the request API (submit, approve, list and read requests and accounts, hold accounts)',
    organizations: [
      {
        actions: [
          'organizations:ListRoots',
          'organizations:ListAccounts',
          'organizations:ListCreateAccountStatus',
        ],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); the root for OU paths, accounts and creations against the quota',
      },
      {
        actions: ['organizations:ListOrganizationalUnitsForParent'],
        scope: 'ous-roots',
        why: 'resolve OU paths',
      },
    ],
    // UpdateItem: an approval decision (and its notification) on the request, the Slack outbox's claim and marks;
    // DeleteItem: the reservations a denial frees.
    registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    queriesListIndex: true,
    // The pre-flight reads the shared zone's VPC limit (GetHostedZoneLimit) through the hub's role.
    assumesDnsHubRole: true,
    // It asks the approvers of a request awaiting approval, and tells the requester of a decision.
    notifies: true,
    startsExecutions: true,
  },
  'slack-interactions': {
    description:
      "Vend: Slack's Approve and Deny buttons (POST /slack/interactions), verified by Slack's signature",
    organizations: [],
    // PutItem: the callbacks already taken (replays refused). The decision (decideApproval) reads the request
    // (GetItem), records it (UpdateItem), frees a denied request's name and email (DeleteItem) and puts the
    // requester's message in the Slack outbox (PutItem, then GetItem/UpdateItem to deliver it at once).
    registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    notifies: true,
    // An approved request starts its workflow.
    startsExecutions: true,
    readsSigningSecret: true,
  },
  'reap-requests': {
    description:
      'Vend: starts requests left pending with no execution, fails those that cannot start, expires unapproved ones (schedule)',
    organizations: [],
    // PutItem: the failure message into the Slack outbox.
    registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    queriesListIndex: true,
    notifies: true,
    startsExecutions: true,
    describesExecutions: true,
  },
  drift: {
    description:
      'Vend: puts drifted accounts back (Organizations events) and sweeps every vended account (schedule)',
    organizations: [
      {
        actions: ['organizations:DescribeAccount'],
        scope: 'accounts',
        why: 'reads whether a vended account is still an open member (its State)',
      },
      { actions: ['organizations:ListParents'], scope: 'accounts-ous', why: "the account's current OU" },
      {
        actions: ['organizations:ListRoots'],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); the root, to find the quarantine OUs by path',
      },
      {
        actions: ['organizations:ListOrganizationalUnitsForParent'],
        scope: 'ous-roots',
        why: 'finds the quarantine OUs (drift.quarantineOrganizationalUnits) by path',
      },
      {
        actions: ['organizations:MoveAccount'],
        scope: 'move-back-from-anywhere',
        why: 'moves a drifted account back to its OU',
      },
      {
        actions: ['organizations:ListTagsForResource'],
        scope: 'accounts',
        why: "reads a vended account's tags",
      },
      {
        actions: ['organizations:TagResource'],
        scope: 'accounts',
        why: 'restores the tags Vend owns',
        limitsTagKeys: true,
      },
      ...GUARDRAIL_GRANTS,
      DETACH_GRANT,
    ],
    registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    queriesListIndex: true,
    assumesAccessRole: true,
    assumesDnsHubRole: true,
    notifies: true,
    // The sweep converges the Identity Center assignments.
    administersIdentityCenter: true,
  },
};

/** Organizations actions that change an account (CloudTrail records them; the drift rule matches some). */
const CHANGING_ACTIONS = new Set([
  'organizations:CreateAccount',
  'organizations:MoveAccount',
  'organizations:TagResource',
  'organizations:UntagResource',
  'organizations:CloseAccount',
  'organizations:RemoveAccountFromOrganization',
  'organizations:AttachPolicy',
  'organizations:DetachPolicy',
  'organizations:UpdatePolicy',
]);

/**
 * The functions that change accounts through Organizations in the management account: the drift function tells
 * Vend's own changes from drift by the exact ARNs of their roles (CloudTrail `userIdentity.sessionContext.sessionIssuer.arn`).
 */
export const ORGANIZATIONS_CHANGERS = (Object.keys(FUNCTION_ACCESS) as FunctionFolder[]).filter((folder) =>
  FUNCTION_ACCESS[folder].organizations.some((grant) =>
    grant.actions.some((action) => CHANGING_ACTIONS.has(action)),
  ),
);

/** The functions that assume the DNS hub role: the hub's role trusts exactly these. */
export const DNS_HUB_CALLERS = (Object.keys(FUNCTION_ACCESS) as FunctionFolder[]).filter(
  (folder) => FUNCTION_ACCESS[folder].assumesDnsHubRole,
);

/** The access of a function by folder name; undefined for a function this file does not know yet. */
export function accessOf(folder: string): FunctionAccess | undefined {
  return (FUNCTION_ACCESS as Record<string, FunctionAccess | undefined>)[folder];
}
