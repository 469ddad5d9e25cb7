import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  profileOfAccount,
  profileOfRequest,
  profileRoles,
  profileRollout,
  raiseToFloor,
  type Threshold,
} from '../../functions/domain/profile.ts';
import { parseConfig, resolveProfile, type VendConfig } from '../../functions/shared/config.ts';
import type { AccountDesiredState } from '../../functions/shared/model.ts';

/** The repository's configuration, changed by `change` (on the file's JSON) and parsed again. */
// biome-ignore lint/suspicious/noExplicitAny: the configuration file's JSON, changed in place before parsing
function configWith(change: (raw: any) => void = () => undefined): VendConfig {
  const raw = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../vend.config.json'), 'utf8'));
  change(raw);
  return parseConfig(raw);
}

const FLOOR: Threshold[] = [
  { percent: 80, type: 'ACTUAL' },
  { percent: 100, type: 'FORECASTED' },
];

function account(config: VendConfig, ou: string, overrides: Partial<AccountDesiredState> = {}) {
  return {
    organizationalUnit: { id: 'ou-test', path: ou },
    budget: { name: 'vend-x', monthlyLimitUsd: 50, thresholds: FLOOR },
    profile: resolveProfile(config, ou),
    ...overrides,
  };
}

describe('the profile an account is kept at', () => {
  it('is the one recorded with it, else the configuration’s for its OU', () => {
    const config = configWith();
    const recorded = { ...resolveProfile(config, 'Sandbox'), baselineRoles: ['VendAdmin', 'VendReadOnly'] };
    const ou = { id: 'ou-test', path: 'Sandbox' };
    expect(profileOfAccount({ config }, { organizationalUnit: ou, profile: recorded })).toBe(recorded);
    expect(profileOfAccount({ config }, { organizationalUnit: ou }).baselineRoles).toEqual(['VendAdmin']);
    expect(profileOfRequest(config, { organizationalUnit: ou }).baselineRoles).toEqual(['VendAdmin']);
  });

  it('lists its roles in the order of baseline.roles, leaving out names baseline.roles no longer defines', () => {
    const config = configWith();
    expect(profileRoles(config, ['VendReadOnly', 'Gone', 'VendAdmin']).map((role) => role.name)).toEqual([
      'VendAdmin',
      'VendReadOnly',
    ]);
  });
});

describe('raising budget alerts to a new floor', () => {
  it('adds an alert the floor lacks, and keeps the account’s own extra alerts', () => {
    const own: Threshold[] = [...FLOOR, { percent: 120, type: 'FORECASTED' }];
    expect(raiseToFloor(own, FLOOR, [...FLOOR, { percent: 50, type: 'ACTUAL' }])).toEqual([
      ...own,
      { percent: 50, type: 'ACTUAL' },
    ]);
  });

  it('lowers an alert only the old floor put there, and adds beside one the account chose', () => {
    const newFloor: Threshold[] = [
      { percent: 80, type: 'ACTUAL' },
      { percent: 90, type: 'FORECASTED' },
    ];
    expect(raiseToFloor(FLOOR, FLOOR, newFloor)).toEqual([
      { percent: 80, type: 'ACTUAL' },
      { percent: 90, type: 'FORECASTED' },
    ]);
    const chosen: Threshold[] = [
      { percent: 80, type: 'ACTUAL' },
      { percent: 95, type: 'FORECASTED' },
    ];
    expect(raiseToFloor(chosen, FLOOR, newFloor)).toEqual([...chosen, { percent: 90, type: 'FORECASTED' }]);
  });

  it('changes nothing when the alerts already meet the floor, or the floor was lowered or dropped', () => {
    const own: Threshold[] = [
      { percent: 50, type: 'ACTUAL' },
      { percent: 100, type: 'FORECASTED' },
    ];
    expect(raiseToFloor(own, FLOOR, [{ percent: 70, type: 'ACTUAL' }])).toEqual(own);
    expect(raiseToFloor(own, FLOOR, [])).toEqual(own);
    expect(raiseToFloor(own, FLOOR, [{ percent: 110, type: 'FORECASTED' }])).toEqual(own);
  });
});

describe('a profile rollout', () => {
  it('is due only when the baseline roles or the alert floor changed', () => {
    const before = configWith();
    const otherKeys = configWith((raw) => {
      raw.profiles.Sandbox.description = 'something else';
      raw.profiles.Sandbox.budget.maxMonthlyLimitUsd = 300;
      raw.profiles.Sandbox.baselineRoles = ['VendAdmin'];
    });
    expect(profileRollout({ config: otherKeys }, account(before, 'Sandbox'))).toBeUndefined();
    expect(
      profileRollout({ config: before }, account(before, 'Sandbox', { profile: undefined })),
    ).toBeUndefined();
  });

  it('creates the roles the new profile lists and retires the ones it dropped', () => {
    const before = configWith();
    const after = configWith((raw) => {
      raw.profiles.Sandbox.baselineRoles = ['VendReadOnly'];
    });
    expect(profileRollout({ config: after }, account(before, 'Sandbox'))).toMatchObject({
      addRoles: ['VendReadOnly'],
      retireRoles: ['VendAdmin'],
      thresholdsChanged: false,
      what: 'the profile Sandbox changed: it lists role(s) VendReadOnly',
    });
  });

  it('raises the account’s alerts to a new floor', () => {
    const before = configWith();
    const after = configWith((raw) => {
      raw.profiles.default.budget.thresholds.push({ percent: 50, type: 'ACTUAL' });
    });
    expect(profileRollout({ config: after }, account(before, 'Workloads/Dev'))).toMatchObject({
      addRoles: [],
      retireRoles: [],
      thresholds: [...FLOOR, { percent: 50, type: 'ACTUAL' }],
      thresholdsChanged: true,
      what: 'the profile Workloads/Dev changed: its alert floor is 80% ACTUAL, 100% FORECASTED, 50% ACTUAL',
    });
  });
});

describe('a change of the security defaults', () => {
  it('is a rollout to the new profile, and an account recorded before them is kept at the configuration’s', () => {
    const before = configWith();
    const after = configWith((raw) => {
      raw.profiles.default.securityDefaults.alternateContacts.security.email = 'soc@example.com';
    });
    const recorded = account(before, 'Workloads/Dev');

    const rollout = profileRollout({ config: after }, recorded);

    expect(rollout?.what).toBe('the profile Workloads/Dev changed: its security defaults changed');
    expect(rollout?.to.securityDefaults?.alternateContacts.security?.email).toBe('soc@example.com');
    expect(rollout?.addRoles).toEqual([]);
    expect(rollout?.thresholdsChanged).toBe(false);
    // A profile recorded without security defaults is kept at the configuration's: nothing to roll out.
    const { securityDefaults: _, ...older } = recorded.profile;
    expect(profileRollout({ config: after }, { ...recorded, profile: older })).toBeUndefined();
  });
});
