/**
 * Service control policy documents as Vend sends them to Organizations: the configuration's document with its
 * placeholders filled and every Deny statement worded so that it never binds Vend's own principal in member
 * accounts (the organization's access role, which every workflow step, the drift fix and the sweep assume).
 *
 * Why the exemption: an SCP binds every principal of a member account, the role Vend assumes included. A profile
 * guardrail that denies IAM, region or budget changes would otherwise make the baseline, the budget or the DNS
 * step fail, and the drift fix could never put the account back. The exemption names only the access role, which
 * only the management account can assume (its trust policy; Organizations creates it so), and SCPs never bind the
 * management account itself (Organizations User Guide, "SCP effects on permissions").
 */

/** The placeholder a document may use as a whole JSON value: replaced by `organization.allowedRegions`. */
export const ALLOWED_REGIONS_PLACEHOLDER = '{allowedRegions}';

/** The name of the policy Vend attaches to every new account until it is ready. */
export const QUARANTINE_POLICY_NAME = 'vend-quarantine';

/** What rendering needs of the configuration. */
export interface RenderSettings {
  allowedRegions: readonly string[];
  accessRoleName: string;
}

/** The ARN pattern of the access role in every member account: the principal every Deny exempts. */
export function exemptPrincipalPattern(accessRoleName: string): string {
  return `arn:aws:iam::*:role/${accessRoleName}`;
}

/**
 * The document Vend creates or updates: placeholders filled, and each Deny statement given (or, when it already has
 * one, extended with) an `ArnNotLike` condition on `aws:PrincipalArn` that exempts the access role. Condition
 * operators and keys are matched without regard to case, as IAM evaluates them (IAM User Guide, "IAM JSON policy
 * elements: Condition operators"). Pure: returns a new document.
 */
export function renderPolicy(
  document: Record<string, unknown>,
  settings: RenderSettings,
): Record<string, unknown> {
  const filled = fill(document, settings) as Record<string, unknown>;
  const statements = filled.Statement;
  const exempt = (statement: unknown) =>
    isObject(statement) && statement.Effect === 'Deny' ? withExemption(statement, settings) : statement;
  return {
    ...filled,
    Statement: Array.isArray(statements) ? statements.map(exempt) : exempt(statements),
  };
}

/** The document's text as sent: compact JSON (what counts against the 5,120 characters). */
export function policyContent(document: Record<string, unknown>): string {
  return JSON.stringify(document);
}

/** `vend-quarantine`: deny everything to every principal of the account but Vend's access role. */
export function quarantineDocument(settings: RenderSettings): Record<string, unknown> {
  return renderPolicy(
    {
      Version: '2012-10-17',
      Statement: [{ Sid: 'VendQuarantine', Effect: 'Deny', Action: '*', Resource: '*' }],
    },
    settings,
  );
}

/** Whether two policy texts say the same (compared as parsed JSON, key order aside). */
export function samePolicy(a: string, b: string): boolean {
  try {
    return canonical(JSON.parse(a)) === canonical(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

function fill(value: unknown, settings: RenderSettings): unknown {
  if (value === ALLOWED_REGIONS_PLACEHOLDER) return [...settings.allowedRegions];
  if (Array.isArray(value))
    return value.flatMap((item) => {
      const filled = fill(item, settings);
      // A placeholder inside a list contributes its regions to the list.
      return item === ALLOWED_REGIONS_PLACEHOLDER ? (filled as string[]) : [filled];
    });
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, fill(entry, settings)]));
  return value;
}

function withExemption(
  statement: Record<string, unknown>,
  settings: RenderSettings,
): Record<string, unknown> {
  const exempt = exemptPrincipalPattern(settings.accessRoleName);
  const condition = isObject(statement.Condition) ? { ...statement.Condition } : {};
  const operator = Object.keys(condition).find((key) => key.toLowerCase() === 'arnnotlike') ?? 'ArnNotLike';
  const keys = isObject(condition[operator]) ? { ...(condition[operator] as Record<string, unknown>) } : {};
  const key =
    Object.keys(keys).find((name) => name.toLowerCase() === 'aws:principalarn') ?? 'aws:PrincipalArn';
  const existing = keys[key];
  const list = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  keys[key] = list.includes(exempt) ? list : [...list, exempt];
  condition[operator] = keys;
  return { ...statement, Condition: condition };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
