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
  CompleteRequestFunctionArn: 'complete-request',
  RecordFailureFunctionArn: 'record-failure',
} as const;

export type StepFolder = (typeof TASK_FUNCTION_FOLDERS)[keyof typeof TASK_FUNCTION_FOLDERS];
export type FunctionFolder = StepFolder | 'api' | 'drift';

/** Which Organizations resources an action is evaluated against (Service Authorization Reference). */
export type OrganizationsScope =
  /** The action has no resource type: only `*` is possible. */
  | 'none'
  /** Accounts, OUs and roots of the organization managed by this account. */
  | 'accounts-ous-roots'
  /** OUs and roots of the organization managed by this account. */
  | 'ous-roots'
  /** Accounts and OUs of the organization managed by this account. */
  | 'accounts-ous';

export interface OrganizationsGrant {
  readonly actions: readonly string[];
  readonly scope: OrganizationsScope;
  /** Why the code needs it, and for scope `none`, why only `*` is possible (it is the cdk-nag acknowledgement). */
  readonly why: string;
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
  /** Starts executions of the state machine. */
  readonly startsExecutions?: boolean;
}

/** Every step records its progress through `runStep`: GetItem (the request) and UpdateItem (the step). */
const STEP_RECORD: readonly RegistryAction[] = ['GetItem', 'UpdateItem'];

export const FUNCTION_ACCESS: Record<FunctionFolder, FunctionAccess> = {
  'create-account': {
    description: 'Vend: asks Organizations for the account (CreateAccount), or finds an earlier creation',
    organizations: [
      {
        actions: ['organizations:CreateAccount', 'organizations:ListCreateAccountStatus'],
        scope: 'none',
        why: 'no resource type for either (Service Authorization Reference); ListCreateAccountStatus finds a creation whose response was lost',
      },
      {
        actions: ['organizations:TagResource'],
        scope: 'none',
        why: 'CreateAccount with Tags requires TagResource too, before the account and its ARN exist',
      },
    ],
    registry: STEP_RECORD,
  },
  'check-account-creation': {
    description: 'Vend: polls DescribeCreateAccountStatus until the account exists',
    organizations: [
      {
        actions: ['organizations:DescribeCreateAccountStatus'],
        scope: 'none',
        why: 'no resource type (Service Authorization Reference); polls the creation',
      },
    ],
    registry: STEP_RECORD,
  },
  'move-account': {
    description: 'Vend: moves the new account into its OU',
    organizations: [
      { actions: ['organizations:ListParents'], scope: 'accounts-ous', why: 'the current parent' },
      { actions: ['organizations:MoveAccount'], scope: 'accounts-ous-roots', why: 'root or OU to OU' },
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
  'connect-dns': {
    description: "Vend: associates the account's default VPC with the hub's private hosted zone",
    organizations: [],
    registry: STEP_RECORD,
    assumesAccessRole: true,
    assumesDnsHubRole: true,
  },
  'complete-request': {
    description: 'Vend: records the account as vended and tells the requester on Slack',
    organizations: [],
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
    ],
    registry: [...STEP_RECORD, 'DeleteItem'],
    notifies: true,
  },
  api: {
    description: 'Vend: the request API (submit, list and read requests and accounts)',
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
    registry: ['GetItem', 'PutItem', 'DeleteItem'],
    queriesListIndex: true,
    startsExecutions: true,
  },
  drift: {
    description:
      'Vend: puts drifted accounts back (Organizations events) and sweeps every vended account (schedule)',
    organizations: [
      { actions: ['organizations:ListParents'], scope: 'accounts-ous', why: "the account's current OU" },
      {
        actions: ['organizations:MoveAccount'],
        scope: 'accounts-ous-roots',
        why: 'moves a drifted account back to its OU',
      },
      {
        actions: ['organizations:ListTagsForResource', 'organizations:TagResource'],
        scope: 'accounts-ous-roots',
        why: 'compares and restores the tags Vend owns',
      },
    ],
    registry: ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    queriesListIndex: true,
    assumesAccessRole: true,
    assumesDnsHubRole: true,
    notifies: true,
  },
};

/** The functions that assume the DNS hub role: the hub's role trusts exactly these. */
export const DNS_HUB_CALLERS = (Object.keys(FUNCTION_ACCESS) as FunctionFolder[]).filter(
  (folder) => FUNCTION_ACCESS[folder].assumesDnsHubRole,
);

/** The access of a function by folder name; undefined for a function this file does not know yet. */
export function accessOf(folder: string): FunctionAccess | undefined {
  return (FUNCTION_ACCESS as Record<string, FunctionAccess | undefined>)[folder];
}
