import {
  type BaselineRole,
  type Profile,
  resolveProfile,
  securityDefaultsOf,
  type VendConfig,
} from '../shared/config.ts';
import type { AccountDesiredState, VendRequest } from '../shared/model.ts';
import { canonicalJson } from '../shared/text.ts';

/**
 * The profile an account is vended to and kept at: recorded with the request, then with the account, so that a
 * later change of the configuration does not silently change what the drift fix puts back. A change of profile
 * reaches accounts only as a rollout by the sweep (`profileRollout`), reported first in report mode.
 */

/** A budget alert: a percentage of the monthly limit, actual or forecasted. */
export type Threshold = VendRequest['budget']['thresholds'][number];

/**
 * The profile a request is vended to: the one it was checked against, or, for a request stored before profiles
 * were recorded, the configuration's for its OU.
 */
export function profileOfRequest(
  config: VendConfig,
  request: Pick<VendRequest, 'profile' | 'organizationalUnit'>,
): Profile {
  return request.profile ?? resolveProfile(config, request.organizationalUnit.path);
}

/**
 * The profile an account was vended to, as recorded with it; for an account recorded before profiles were, the
 * configuration's for its OU.
 */
export function profileOfAccount(
  deps: { config: VendConfig },
  account: Pick<AccountDesiredState, 'profile' | 'organizationalUnit'>,
): Profile {
  return account.profile ?? resolveProfile(deps.config, account.organizationalUnit.path);
}

/**
 * The baseline roles of a profile that `baseline.roles` defines, in the order `baseline.roles` lists them (the
 * order they are created in). A recorded profile may name a role the configuration no longer defines: without a
 * definition there is nothing to converge it to, so it is left out.
 */
export function profileRoles(config: VendConfig, roleNames: readonly string[]): BaselineRole[] {
  const wanted = new Set(roleNames);
  return config.baseline.roles.filter((role) => wanted.has(role.name));
}

const thresholdKey = (threshold: Threshold) => `${threshold.type}|${threshold.percent}`;

/** A list of alerts in words: "80% ACTUAL, 100% FORECASTED". */
export function thresholdsText(thresholds: readonly Threshold[]): string {
  return thresholds.length === 0
    ? 'none'
    : thresholds.map((threshold) => `${threshold.percent}% ${threshold.type}`).join(', ');
}

/** Whether `floor` alert is met by `thresholds`: one of the same type at the same or a lower percent. */
function meets(thresholds: readonly Threshold[], floor: Threshold): boolean {
  return thresholds.some((threshold) => threshold.type === floor.type && threshold.percent <= floor.percent);
}

/**
 * An account's alerts raised to meet a new floor (each floor alert met by an alert of the same type at the same or
 * a lower percent, the rule requests are checked by). A floor alert the account does not meet is added, or, when the
 * account has a higher alert of that type that the old floor put there and the new one no longer lists, that one
 * is lowered to it. Nothing else is removed or raised: the account's own alerts stay, and a floor that was lowered
 * or dropped changes nothing.
 */
export function raiseToFloor(
  thresholds: readonly Threshold[],
  oldFloor: readonly Threshold[],
  newFloor: readonly Threshold[],
): Threshold[] {
  // Only an alert the old floor put there and the new one no longer lists may be lowered.
  const newKeys = new Set(newFloor.map(thresholdKey));
  const lowerable = new Set(oldFloor.map(thresholdKey).filter((key) => !newKeys.has(key)));
  const result = [...thresholds];
  // Lowest first: a lowered or added alert may then meet a higher one of the same type as well.
  for (const floor of [...newFloor].sort((a, b) => a.percent - b.percent)) {
    if (meets(result, floor)) continue;
    const lowered = result.findIndex(
      (threshold) =>
        threshold.type === floor.type &&
        threshold.percent > floor.percent &&
        lowerable.has(thresholdKey(threshold)),
    );
    if (lowered >= 0) result[lowered] = { percent: floor.percent, type: floor.type };
    else result.push({ percent: floor.percent, type: floor.type });
  }
  return result;
}

/** What rolling a changed profile out to an account does. */
export interface ProfileRollout {
  /** The profile recorded with the account. */
  from: Profile;
  /** The configuration's profile for the account's OU now: recorded with the account once rolled out. */
  to: Profile;
  /** Roles the new profile lists and the old one did not (each defined in `baseline.roles`), to create. */
  addRoles: string[];
  /** Roles the old profile listed and the new one does not: deleted where Vend created them (see `retiredRoleConverger`). */
  retireRoles: string[];
  /** Service control policies the old profile listed and the new one does not: detached (see `checkGuardrails`). */
  retirePolicies: string[];
  /** The account's alerts, raised to meet the new floor (`raiseToFloor`). */
  thresholds: Threshold[];
  /** Whether `thresholds` differ from the account's recorded alerts. */
  thresholdsChanged: boolean;
  /** The change in words: "the profile Sandbox changed: it lists role VendReadOnly; its alert floor is 50% ACTUAL". */
  what: string;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((item) => y.has(item));
}

/** Whether two JSON values are equal whatever the order of their keys. */
function sameJson(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : typeof value === 'object' && value !== null
        ? Object.fromEntries(
            Object.entries(value)
              .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
              .map(([key, entry]) => [key, canonical(entry)]),
          )
        : value;
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/**
 * The rollout an account is due: undefined when the configuration's profile for its OU converges the account as the
 * recorded one does (the same baseline roles, the same alert floor, the same security defaults); differences in
 * anything else (who approves, which tags a request needs, budget limits for new requests) concern new requests
 * only.
 */
export function profileRollout(
  deps: { config: VendConfig },
  account: Pick<AccountDesiredState, 'profile' | 'organizationalUnit' | 'budget'>,
): ProfileRollout | undefined {
  const from = profileOfAccount(deps, account);
  const to = resolveProfile(deps.config, account.organizationalUnit.path);
  const sameRoles = sameSet(from.baselineRoles, to.baselineRoles);
  const sameFloor = sameSet(from.budget.thresholds.map(thresholdKey), to.budget.thresholds.map(thresholdKey));
  // The sweep converges the account's security defaults to the new profile's (`rollout.to`) in its baseline check.
  const sameSecurity = sameJson(securityDefaultsOf(deps.config, from), securityDefaultsOf(deps.config, to));
  const sameAccess =
    canonicalJson(from.identityCenter?.assignments ?? []) ===
    canonicalJson(to.identityCenter?.assignments ?? []);
  // The sweep attaches the new profile's policies and detaches the ones it dropped in its guardrails check.
  const samePolicies = sameSet(from.policies ?? [], to.policies ?? []);
  if (sameRoles && sameFloor && sameSecurity && sameAccess && samePolicies) return undefined;
  const defined = new Set(deps.config.baseline.roles.map((role) => role.name));
  const addRoles = profileRoles(deps.config, to.baselineRoles)
    .map((role) => role.name)
    .filter((name) => !from.baselineRoles.includes(name));
  const retireRoles = from.baselineRoles.filter((name) => !to.baselineRoles.includes(name));
  const current = account.budget.thresholds;
  const thresholds = raiseToFloor(current, from.budget.thresholds, to.budget.thresholds);
  const thresholdsChanged = !sameSet(current.map(thresholdKey), thresholds.map(thresholdKey));
  const parts: string[] = [];
  if (!sameRoles) {
    const listed = to.baselineRoles.filter((name) => defined.has(name));
    parts.push(`it lists role(s) ${listed.length > 0 ? listed.join(', ') : 'none'}`);
  }
  if (!sameFloor) parts.push(`its alert floor is ${thresholdsText(to.budget.thresholds)}`);
  if (!sameSecurity) parts.push('its security defaults changed');
  if (!samePolicies) {
    const listed = to.policies ?? [];
    parts.push(`its guardrails are ${listed.length > 0 ? listed.join(', ') : 'none'}`);
  }
  if (!sameAccess) {
    const sets = [...new Set((to.identityCenter?.assignments ?? []).map((item) => item.permissionSet))];
    parts.push(`it assigns permission set(s) ${sets.length > 0 ? sets.join(', ') : 'none'}`);
  }
  return {
    from,
    to,
    addRoles,
    retireRoles,
    retirePolicies: (from.policies ?? []).filter((name) => !(to.policies ?? []).includes(name)),
    thresholds,
    thresholdsChanged,
    what: `the profile ${to.name} changed: ${parts.join('; ')}`,
  };
}
