import { type AccessEntry, grants, type VendConfig } from './config.ts';

/**
 * Who a caller is, as far as access is concerned: the ARN API Gateway's IAM authorization reports (`arn`, an STS
 * session ARN for an assumed role) and the ARN matched against `access` patterns (`matchArn`: the role's ARN for
 * an assumed role, the ARN itself otherwise).
 */
export interface Caller {
  arn: string;
  matchArn: string;
}

/** Whether an ARN matches an `access` principal pattern, where `*` matches any run of characters. */
export function matchesPrincipal(pattern: string, arn: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(arn);
}

/** What a caller may do: the union of the grants of every `access` entry it matches. */
export interface Grants {
  /** The names of the entries the caller matched, for the log and the decision record. */
  entries: string[];
  mayRequest(ou: string): boolean;
  mayApprove(ou: string): boolean;
  readsAll: boolean;
  administers: boolean;
}

function grantsOf(names: string[], entries: AccessEntry[]): Grants {
  const administers = entries.some((entry) => entry.administer);
  return {
    entries: names,
    mayRequest: (ou) => entries.some((entry) => grants(entry.request, ou)),
    mayApprove: (ou) => entries.some((entry) => grants(entry.approve, ou)),
    readsAll: administers || entries.some((entry) => entry.read === 'all'),
    administers,
  };
}

/** The grants of an IAM caller. A caller no entry matches may do nothing. */
export function grantsFor(config: VendConfig, caller: Caller): Grants {
  const names = Object.keys(config.access).filter((name) =>
    config.access[name]!.principals.some((pattern) => matchesPrincipal(pattern, caller.matchArn)),
  );
  return grantsOf(
    names,
    names.map((name) => config.access[name]!),
  );
}

/** The grants of a Slack user: the entries that list its member id. */
export function grantsForSlackUser(config: VendConfig, slackUserId: string): Grants {
  const names = Object.keys(config.access).filter((name) =>
    config.access[name]!.slackUserIds.includes(slackUserId),
  );
  return grantsOf(
    names,
    names.map((name) => config.access[name]!),
  );
}

/** Who may request in an OU, in words for a refusal: the entries and their principals. */
export function whoMayRequest(config: VendConfig, ou: string): string {
  const names = Object.keys(config.access).filter((name) => grants(config.access[name]!.request, ou));
  if (names.length === 0) return `nobody is granted requests in ${ou}`;
  return names.map((name) => `${name} (${config.access[name]!.principals.join(', ')})`).join('; ');
}

/** arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION (IAM User Guide, "IAM identifiers"). */
const ASSUMED_ROLE_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/([\w+=,.@-]+)$/;

/**
 * Who may decide requests in an OU, in words for a refusal: the entries granted `approve` for it (only those of
 * `named`, when the profile names its approvers), with their principals.
 */
export function whoMayApprove(config: VendConfig, ou: string, named: readonly string[] = []): string {
  const names = Object.keys(config.access).filter(
    (name) => grants(config.access[name]!.approve, ou) && (named.length === 0 || named.includes(name)),
  );
  if (names.length === 0) return `nobody is granted approve in ${ou}`;
  return names.map((name) => `${name} (${config.access[name]!.principals.join(', ')})`).join('; ');
}

/**
 * The ARN an `access` pattern is matched against: an assumed-role session
 * (`arn:aws:sts::123456789012:assumed-role/Developer/alice`) matches as its role
 * (`arn:aws:iam::123456789012:role/Developer`); any other ARN as it is. The STS ARN carries no role path.
 */
export function matchArnOf(arn: string): string {
  const session = ASSUMED_ROLE_ARN.exec(arn);
  if (!session) return arn;
  const [, partition, accountId, roleName] = session;
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}
