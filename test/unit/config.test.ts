import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv, parseConfig, readConfigFile } from '../../functions/shared/config.ts';
import { ConfigError } from '../../functions/shared/errors.ts';

const minimal = { organization: { allowedOrganizationalUnits: ['Sandbox'] } };

describe('the configuration', () => {
  it('accepts the repository configuration that npm start uses', () => {
    const config = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
    expect(config.baseline.roles.map((role) => role.name)).toEqual(['VendAdmin', 'VendReadOnly']);
  });

  it('fills in defaults a platform team would expect', () => {
    const config = parseConfig(minimal);
    expect(config.organization).toMatchObject({
      homeRegion: 'us-east-1',
      accessRoleName: 'OrganizationAccountAccessRole',
    });
    expect(config.creation).toMatchObject({ firstWaitSeconds: 45, backoffRate: 1.5 });
    expect(config.budget.thresholds).toHaveLength(2);
    expect(config.drift.mode).toBe('fix');
  });

  it('refuses more budget subscribers than AWS allows beside the owner, naming the key', () => {
    const addresses = (count: number) => Array.from({ length: count }, (_, i) => `finops${i}@example.com`);
    expect(
      parseConfig({ ...minimal, budget: { subscribers: addresses(9) } }).budget.subscribers,
    ).toHaveLength(9);
    expect(() => parseConfig({ ...minimal, budget: { subscribers: addresses(10) } })).toThrow(
      /budget\.subscribers: at most 9 addresses: AWS Budgets allows 10 email subscribers per alert and Vend adds each account's owner/,
    );
  });

  it('names the key and the problem when invalid', () => {
    expect(() => parseConfig({})).toThrow(/organization: .*expected object/i);
    expect(() => parseConfig({ organization: { allowedOrganizationalUnits: [] } })).toThrow(
      /organization\.allowedOrganizationalUnits: /,
    );
    expect(() =>
      parseConfig({ ...minimal, baseline: { roles: [{ name: 'Admin', trustedAccountId: '123' }] } }),
    ).toThrow(/baseline\.roles\.0\.trustedAccountId: an account id is 12 digits/);
    expect(() => parseConfig({ ...minimal, naming: { pattern: '([' } })).toThrow(
      /naming\.pattern: a valid regular expression/,
    );
    expect(() => parseConfig({ ...minimal, email: { template: 'aws@example.com' } })).toThrow(
      /email\.template: must contain \{accountName\}/,
    );
    expect(() => parseConfig({ ...minimal, naming: { prefixes: { 'Workloads/Dev': 'dev-' } } })).toThrow(
      /naming\.prefixes\.Workloads\/Dev: not one of organization\.allowedOrganizationalUnits/,
    );
    expect(() => parseConfig({ ...minimal, surprise: true })).toThrow(ConfigError);
  });

  it('reads the configuration from the environment, and says what to set when it is missing', () => {
    expect(
      configFromEnv({ VEND_CONFIG: JSON.stringify(minimal) }).organization.allowedOrganizationalUnits,
    ).toEqual(['Sandbox']);
    expect(() => configFromEnv({})).toThrow(/set VEND_CONFIG .* or VEND_CONFIG_FILE/);
    expect(() => configFromEnv({ VEND_CONFIG: '{' })).toThrow(/VEND_CONFIG: /);
  });
});
