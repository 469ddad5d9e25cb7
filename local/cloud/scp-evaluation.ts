import { effectiveServiceControlPolicies } from './policies.ts';
import type { CallerRecord, CloudState } from './state.ts';

/** A call as SCPs see it. */
export interface ScpRequest {
  readonly caller: CallerRecord;
  /** `<service prefix>:<Operation>`, for example `ec2:DescribeVpcs`. */
  readonly action: string;
  /**
   * The ARN of the resource where the local cloud knows it cheaply, else `*`. A `*` resource matches only
   * statements whose Resource is `*` (and every NotResource that does not list `*`).
   */
  readonly resource: string;
  /** The region the call was signed for (`aws:RequestedRegion`). */
  readonly region: string;
}

/** Why SCPs refuse a call, or `allowed`. */
export type ScpDecision = 'allowed' | 'explicitDeny' | 'implicitDeny';

type Statement = Record<string, unknown>;

/**
 * Evaluates the SCPs that bind the caller's account (Organizations User Guide, "SCP evaluation": every level from
 * the root through each OU to the account must have an SCP whose Allow matches, and a matching Deny at any level
 * wins). Exempt, as the User Guide's "Tasks and entities not restricted by SCPs" lists: the management account,
 * and service-linked roles (path `/aws-service-role/`). `sts:GetCallerIdentity` needs no permission and works
 * even under an explicit deny (STS API Reference, GetCallerIdentity). Accounts outside the organization, or an
 * organization with SCPs disabled, have no SCP levels and are allowed.
 */
export function evaluateServiceControlPolicies(state: CloudState, request: ScpRequest): ScpDecision {
  const { caller } = request;
  if (caller.accountId === state.organization.managementAccountId) return 'allowed';
  if (caller.roleArn?.includes(':role/aws-service-role/')) return 'allowed';
  if (request.action === 'sts:GetCallerIdentity') return 'allowed';
  const levels = effectiveServiceControlPolicies(state, caller.accountId);
  const statementsOf = (level: (typeof levels)[number]) =>
    level.policies.flatMap(({ document }) =>
      Array.isArray(document.Statement) ? document.Statement : [document.Statement],
    );
  const context = requestContext(request);
  const matching = (statement: Statement) => statementMatches(statement, request, context);
  if (levels.some((level) => statementsOf(level).some((s) => s.Effect === 'Deny' && matching(s))))
    return 'explicitDeny';
  const allowedEverywhere = levels.every((level) =>
    statementsOf(level).some((s) => s.Effect === 'Allow' && matching(s)),
  );
  return allowedEverywhere ? 'allowed' : 'implicitDeny';
}

/**
 * The message AWS gives for an SCP refusal (IAM User Guide, "Troubleshoot access denied error messages": "with an
 * explicit deny in a service control policy" and "because no service control policy allows the <action> action").
 */
export function scpDenialMessage(request: ScpRequest, decision: Exclude<ScpDecision, 'allowed'>): string {
  const head = `User: ${request.caller.arn} is not authorized to perform: ${request.action} on resource: ${request.resource}`;
  return decision === 'explicitDeny'
    ? `${head} with an explicit deny in a service control policy`
    : `${head} because no service control policy allows the ${request.action} action`;
}

/**
 * The condition keys the local cloud knows, lower-cased (condition key names are case-insensitive). For an assumed
 * role `aws:PrincipalArn` is the role's ARN, not the session's (IAM User Guide, "AWS global condition context
 * keys", aws:PrincipalArn).
 */
function requestContext({ caller, region }: ScpRequest): Map<string, string> {
  return new Map([
    ['aws:requestedregion', region],
    ['aws:principalarn', caller.type === 'AssumedRole' && caller.roleArn ? caller.roleArn : caller.arn],
    ['aws:principalaccount', caller.accountId],
  ]);
}

function statementMatches(statement: Statement, request: ScpRequest, context: Map<string, string>): boolean {
  const actionMatches =
    statement.Action !== undefined
      ? listOf(statement.Action).some((pattern) => actionMatchesPattern(request.action, pattern))
      : !listOf(statement.NotAction).some((pattern) => actionMatchesPattern(request.action, pattern));
  if (!actionMatches) return false;
  const resourceMatches =
    statement.Resource !== undefined
      ? listOf(statement.Resource).some((pattern) => resourceMatchesPattern(request.resource, pattern))
      : !listOf(statement.NotResource).some((pattern) => resourceMatchesPattern(request.resource, pattern));
  if (!resourceMatches) return false;
  return conditionHolds(statement.Condition, context);
}

function listOf(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** `*`, or `service:action` with `*`/`?` wildcards in the action; both parts case-insensitive. */
function actionMatchesPattern(action: string, pattern: string): boolean {
  return pattern === '*' || glob(pattern, true).test(action);
}

/** A known resource ARN against an ARN pattern; an unknown resource (`*`) only against `*`. */
function resourceMatchesPattern(resource: string, pattern: string): boolean {
  if (pattern === '*') return true;
  return resource !== '*' && arnLike(resource, pattern);
}

/** A whole-string pattern with the policy wildcards `*` (any run) and `?` (one character). */
function glob(pattern: string, ignoreCase = false): RegExp {
  const source = pattern
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

/** ArnLike: each of the six colon-separated parts is matched on its own, with wildcards (IAM User Guide, "ARN condition operators"). */
function arnLike(value: string, pattern: string): boolean {
  const parts = splitArn(value);
  const patterns = splitArn(pattern);
  if (!parts || !patterns) return false;
  return patterns.every((part, index) => glob(part).test(parts[index]!));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** Single-valued operators the local cloud evaluates, each with whether it is a negated one. */
const OPERATORS: Record<string, { negated: boolean; test: (value: string, pattern: string) => boolean }> = {
  stringequals: { negated: false, test: (value, pattern) => value === pattern },
  stringnotequals: { negated: true, test: (value, pattern) => value === pattern },
  stringequalsignorecase: { negated: false, test: (v, p) => v.toLowerCase() === p.toLowerCase() },
  stringnotequalsignorecase: { negated: true, test: (v, p) => v.toLowerCase() === p.toLowerCase() },
  stringlike: { negated: false, test: (value, pattern) => glob(pattern).test(value) },
  stringnotlike: { negated: true, test: (value, pattern) => glob(pattern).test(value) },
  arnequals: { negated: false, test: arnLike },
  arnnotequals: { negated: true, test: arnLike },
  arnlike: { negated: false, test: arnLike },
  arnnotlike: { negated: true, test: arnLike },
};

/**
 * Whether every operator and key of a Condition holds (IAM User Guide, "Condition operators"): the values of one key
 * are ORed, keys and operators are ANDed. A key absent from the request makes a condition false, except that a
 * negated operator (StringNotEquals, ArnNotLike, ...) or an `...IfExists` one is then true. Every key here has one
 * value, so the `ForAnyValue:`/`ForAllValues:` forms act as the plain operator. An operator the local cloud does not
 * evaluate (Bool, Numeric..., Date..., IpAddress, Null) never holds.
 */
function conditionHolds(condition: unknown, context: Map<string, string>): boolean {
  if (condition === undefined) return true;
  return Object.entries(condition as Record<string, Record<string, unknown>>).every(([rawOperator, keys]) => {
    let name = rawOperator.toLowerCase().replace(/^for(any|all)value:/, '');
    const ifExists = name.endsWith('ifexists');
    if (ifExists) name = name.slice(0, -'ifexists'.length);
    const operator = OPERATORS[name];
    if (!operator) return false;
    return Object.entries(keys).every(([key, expected]) => {
      const value = context.get(key.toLowerCase());
      if (value === undefined) return ifExists || operator.negated;
      const anyMatches = listOf(expected).some((pattern) => operator.test(value, pattern));
      return operator.negated ? !anyMatches : anyMatches;
    });
  });
}
