import type { CallerRecord } from '../state.ts';

/** What AssumeRole knows about the request, for trust policy conditions. */
export interface TrustRequest {
  caller: CallerRecord;
  externalId?: string | undefined;
  roleSessionName: string;
  /** MFA was presented (SerialNumber and TokenCode given). */
  multiFactorAuthPresent: boolean;
  organizationId: string;
}

type Statement = {
  Effect?: unknown;
  Principal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Condition?: unknown;
};

const asList = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function wildcard(pattern: string, value: string): boolean {
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(value);
}

function principalMatches(principal: unknown, caller: CallerRecord): boolean {
  if (principal === '*') return true;
  if (typeof principal !== 'object' || principal === null) return false;
  return asList((principal as { AWS?: unknown }).AWS).some((entry) => {
    if (typeof entry !== 'string') return false;
    if (entry === '*') return true;
    if (/^\d{12}$/.test(entry)) return entry === caller.accountId;
    const root = /^arn:aws:iam::(\d{12}):root$/.exec(entry);
    if (root) return root[1] === caller.accountId;
    if (entry.includes(':role/')) return caller.roleArn === entry;
    return caller.arn === entry;
  });
}

function contextValue(key: string, request: TrustRequest): string | undefined {
  switch (key.toLowerCase()) {
    case 'sts:externalid':
      return request.externalId;
    case 'aws:multifactorauthpresent':
      return request.multiFactorAuthPresent ? 'true' : undefined;
    case 'aws:principalaccount':
      return request.caller.accountId;
    case 'aws:principalarn':
      return request.caller.roleArn ?? request.caller.arn;
    case 'aws:principalorgid':
      return request.organizationId;
    case 'sts:rolesessionname':
      return request.roleSessionName;
    default:
      return undefined;
  }
}

/** Evaluates one condition block; operators the local cloud does not know make it fail, never pass. */
function conditionHolds(condition: unknown, request: TrustRequest): boolean {
  if (condition === undefined) return true;
  if (typeof condition !== 'object' || condition === null) return false;
  return Object.entries(condition).every(([operator, clauses]) => {
    if (typeof clauses !== 'object' || clauses === null) return false;
    return Object.entries(clauses).every(([key, expected]) => {
      const actual = contextValue(key, request);
      const values = asList(expected).map(String);
      const base = operator.replace(/IfExists$/, '');
      if (operator.endsWith('IfExists') && actual === undefined) return true;
      switch (base) {
        case 'StringEquals':
          return actual !== undefined && values.includes(actual);
        case 'StringNotEquals':
          return actual === undefined || !values.includes(actual);
        case 'StringEqualsIgnoreCase':
          return actual !== undefined && values.some((value) => value.toLowerCase() === actual.toLowerCase());
        case 'StringLike':
          return actual !== undefined && values.some((value) => wildcard(value, actual));
        case 'ArnEquals':
        case 'ArnLike':
          return actual !== undefined && values.some((value) => wildcard(value, actual));
        case 'Bool':
          return values.includes(actual ?? 'false');
        case 'Null':
          return values.includes(actual === undefined ? 'true' : 'false');
        default:
          return false;
      }
    });
  });
}

function actionMatches(statement: Statement, action: string): boolean {
  if (statement.NotAction !== undefined)
    return !asList(statement.NotAction).some((entry) => typeof entry === 'string' && wildcard(entry, action));
  return asList(statement.Action).some((entry) => typeof entry === 'string' && wildcard(entry, action));
}

/** Whether a role's trust policy lets the caller assume it: an Allow matches and no Deny does. */
export function trustPolicyAllows(document: string, request: TrustRequest): boolean {
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(document) as { Statement?: unknown };
  } catch {
    return false;
  }
  let allowed = false;
  for (const raw of asList(policy.Statement)) {
    const statement = raw as Statement;
    if (!actionMatches(statement, 'sts:AssumeRole')) continue;
    if (!principalMatches(statement.Principal, request.caller)) continue;
    if (!conditionHolds(statement.Condition, request)) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}
