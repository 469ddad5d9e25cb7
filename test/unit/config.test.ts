import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  approversFor,
  configFromEnv,
  declaredTagKeys,
  parseConfig,
  readConfigFile,
  resolveProfile,
} from '../../functions/shared/config.ts';
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
    expect(() => parseConfig({ organization: { ...minimal.organization, homeRegion: 'eu-west-1' } })).toThrow(
      /organization\.allowedRegions: must include organization\.homeRegion \(eu-west-1\)/,
    );
  });

  it('names the quarantine OUs by path or id, none by default, never a vendable OU', () => {
    expect(parseConfig(minimal).drift.quarantineOrganizationalUnits).toEqual([]);
    const drift = { quarantineOrganizationalUnits: ['Quarantine', 'Security/Isolated', 'ou-ab12-34567890'] };
    expect(parseConfig({ ...minimal, drift }).drift.quarantineOrganizationalUnits).toEqual(
      drift.quarantineOrganizationalUnits,
    );
    expect(() =>
      parseConfig({ ...minimal, drift: { quarantineOrganizationalUnits: ['/Quarantine'] } }),
    ).toThrow(/drift\.quarantineOrganizationalUnits\.0: an OU path such as Quarantine, or an OU id/);
    expect(() => parseConfig({ ...minimal, drift: { quarantineOrganizationalUnits: ['Sandbox'] } })).toThrow(
      /drift\.quarantineOrganizationalUnits\.0: 'Sandbox' is a vendable OU/,
    );
    const repository = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
    expect(repository.drift.quarantineOrganizationalUnits).toEqual(['Quarantine']);
  });

  it('reads the configuration from the environment, and says what to set when it is missing', () => {
    expect(
      configFromEnv({ VEND_CONFIG: JSON.stringify(minimal) }).organization.allowedOrganizationalUnits,
    ).toEqual(['Sandbox']);
    expect(() => configFromEnv({})).toThrow(/set VEND_CONFIG .* or VEND_CONFIG_FILE/);
    expect(() => configFromEnv({ VEND_CONFIG: '{' })).toThrow(/VEND_CONFIG: /);
  });

  describe('profiles and access', () => {
    const repository = () => readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
    const base = {
      organization: { allowedOrganizationalUnits: ['Sandbox', 'Workloads/Dev', 'Workloads/Prod'] },
      email: { template: 'aws+{accountName}@example.com' },
      baseline: {
        roles: [
          { name: 'Admin', trustedAccountId: '111111111111' },
          { name: 'Audit', trustedAccountId: '111111111111' },
        ],
      },
      access: {
        admins: { principals: ['arn:aws:iam::000000000000:role/Admin'], request: ['*'], approve: ['*'] },
      },
    };

    it('resolves an OU profile: the organization-wide keys, then default, then the OU, section by section', () => {
      const config = parseConfig({
        ...base,
        budget: { defaultMonthlyLimitUsd: 10, maxMonthlyLimitUsd: 100 },
        profiles: {
          default: { budget: { maxMonthlyLimitUsd: 500 }, ownerDomains: ['example.com', 'example.org'] },
          'Workloads/Prod': {
            budget: { defaultMonthlyLimitUsd: 300 },
            baselineRoles: ['Audit'],
            approval: { required: true },
            tags: { 'cost-center': { pattern: 'cc-[0-9]{4}' } },
          },
        },
      });
      const prod = resolveProfile(config, 'Workloads/Prod');
      expect(prod).toMatchObject({
        name: 'Workloads/Prod',
        baselineRoles: ['Audit'],
        budget: { defaultMonthlyLimitUsd: 300, maxMonthlyLimitUsd: 500 },
        approval: { required: true, approvers: [], expiresAfterHours: 168 },
        rootEmail: { source: 'template' },
        ownerDomains: ['example.com', 'example.org'],
        allowUndeclaredTags: true,
      });
      expect(prod.tags['cost-center']).toMatchObject({ required: true, pattern: 'cc-[0-9]{4}' });
      const sandbox = resolveProfile(config, 'Sandbox');
      expect(sandbox).toMatchObject({
        name: 'default',
        baselineRoles: ['Admin', 'Audit'],
        budget: { defaultMonthlyLimitUsd: 10, maxMonthlyLimitUsd: 500 },
        approval: { required: false },
      });
      expect(approversFor(config, 'Workloads/Prod')).toEqual(['admins']);
    });

    it("takes the owners' domain from the email template when no profile names one", () => {
      expect(resolveProfile(parseConfig(base), 'Sandbox').ownerDomains).toEqual(['example.com']);
    });

    it('the repository configuration: Developer asks, PlatformAdmin approves Workloads/Prod, cost-center required', () => {
      const config = repository();
      expect(resolveProfile(config, 'Workloads/Prod').approval).toMatchObject({
        required: true,
        approvers: ['platform-admins'],
      });
      expect(resolveProfile(config, 'Workloads/Dev').tags['cost-center']?.required).toBe(true);
      expect(resolveProfile(config, 'Workloads/Prod').tags['cost-center']?.required).toBe(true);
      expect(resolveProfile(config, 'Sandbox').tags['cost-center']).toBeUndefined();
      expect(config.access.developers?.principals).toContain('arn:aws:iam::000000000000:role/Developer');
      expect(config.access.developers?.principals).toContain(
        'arn:aws:iam::000000000000:user/local-developer',
      );
      expect(config.access['platform-admins']).toMatchObject({
        read: 'all',
        administer: true,
        approve: ['*'],
      });
    });

    it('refuses profiles and grants that name what the file does not have, naming the key', () => {
      const invalid = (extra: Record<string, unknown>) => () => parseConfig({ ...base, ...extra });
      expect(invalid({ profiles: { Shared: {} } })).toThrow(/profiles\.Shared: not 'default' nor one of/);
      expect(invalid({ profiles: { default: { baselineRoles: ['Nope'] } } })).toThrow(
        /profiles\.default\.baselineRoles\.0: 'Nope' is not a role of baseline\.roles/,
      );
      expect(
        invalid({ profiles: { Sandbox: { approval: { required: true, approvers: ['ghosts'] } } } }),
      ).toThrow(/profiles\.Sandbox\.approval\.approvers\.0: 'ghosts' is not an entry of access/);
      expect(
        invalid({
          access: { devs: { principals: ['arn:aws:iam::000000000000:role/Dev'], request: ['Workloads'] } },
        }),
      ).toThrow(/access\.devs\.request\.0: 'Workloads' is not '\*' nor one of/);
      expect(
        invalid({
          access: { devs: { principals: ['arn:aws:iam::000000000000:role/Dev'], request: ['*'] } },
          profiles: { 'Workloads/Prod': { approval: { required: true } } },
        }),
      ).toThrow(
        /profiles\.Workloads\/Prod\.approval\.required: nobody is granted approve for Workloads\/Prod/,
      );
      expect(
        invalid({
          profiles: { default: { budget: { defaultMonthlyLimitUsd: 900, maxMonthlyLimitUsd: 100 } } },
        }),
      ).toThrow(/profiles\.default\.budget\.defaultMonthlyLimitUsd: above maxMonthlyLimitUsd/);
      expect(invalid({ profiles: { default: { tags: { 'vend:owner': {} } } } })).toThrow(/reserved/);
      expect(
        invalid({ profiles: { default: { tags: { team: { allowedValues: ['a'], pattern: 'a' } } } } }),
      ).toThrow(/give allowedValues or pattern, not both/);
      expect(invalid({ access: { Admins: { principals: ['arn:aws:iam::000000000000:role/A'] } } })).toThrow(
        /access\.Admins/,
      );
      expect(invalid({ access: { admins: { principals: ['*'] } } })).toThrow(
        /access\.admins\.principals\.0: a role or user ARN/,
      );
    });

    it('checks Identity Center assignments against identityCenter, naming the key', () => {
      const identityCenter = {
        instanceArn: 'arn:aws:sso:::instance/ssoins-7223f1e0c0ffee01',
        permissionSets: [
          { name: 'VendDeveloper', managedPolicyArns: ['arn:aws:iam::aws:policy/PowerUserAccess'] },
        ],
        existingPermissionSets: ['AWSReadOnlyAccess'],
      };
      const assign = (assignments: unknown[]) => ({
        default: { ownerDomains: ['example.com'], identityCenter: { assignments } },
      });
      const config = parseConfig({
        ...minimal,
        identityCenter,
        profiles: assign([
          { permissionSet: 'VendDeveloper', groups: ['developers'], owner: true },
          { permissionSet: 'AWSReadOnlyAccess', requester: true },
        ]),
      });
      expect(config.identityCenter?.permissionSets[0]?.sessionDuration).toBe('PT1H');
      expect(resolveProfile(config, 'Sandbox').identityCenter?.assignments).toEqual([
        { permissionSet: 'VendDeveloper', groups: ['developers'], owner: true, requester: false },
        { permissionSet: 'AWSReadOnlyAccess', groups: [], owner: false, requester: true },
      ]);
      // A profile without assignments records none.
      expect(resolveProfile(parseConfig({ ...minimal, identityCenter }), 'Sandbox')).not.toHaveProperty(
        'identityCenter',
      );

      expect(() =>
        parseConfig({
          ...minimal,
          identityCenter,
          profiles: assign([{ permissionSet: 'Ghost', owner: true }]),
        }),
      ).toThrow(
        /profiles\.default\.identityCenter\.assignments\.0\.permissionSet: 'Ghost' is neither in identityCenter\.permissionSets nor in identityCenter\.existingPermissionSets/,
      );
      expect(() =>
        parseConfig({ ...minimal, profiles: assign([{ permissionSet: 'VendDeveloper', owner: true }]) }),
      ).toThrow(/profiles\.default\.identityCenter\.assignments: needs identityCenter/);
      expect(() =>
        parseConfig({ ...minimal, identityCenter, profiles: assign([{ permissionSet: 'VendDeveloper' }]) }),
      ).toThrow(/profiles\.default\.identityCenter\.assignments\.0: assigns to nobody/);
      expect(() =>
        parseConfig({
          ...minimal,
          identityCenter: {
            ...identityCenter,
            permissionSets: [{ name: 'VendDeveloper', sessionDuration: 'PT13H' }],
          },
        }),
      ).toThrow(/identityCenter\.permissionSets\.0\.sessionDuration: an ISO 8601 duration of 1 to 12 hours/);
      expect(() =>
        parseConfig({ ...minimal, identityCenter: { ...identityCenter, instanceArn: 'ssoins-1' } }),
      ).toThrow(/identityCenter\.instanceArn: an Identity Center instance ARN/);
    });

    it('limits the tag keys IAM lets Vend set only when every profile limits requests to declared keys', () => {
      expect(declaredTagKeys(repository())).toBeUndefined();
      const closed = parseConfig({
        ...base,
        profiles: {
          default: { allowUndeclaredTags: false, tags: { team: { required: false } } },
          'Workloads/Prod': { tags: { 'cost-center': {} } },
        },
      });
      expect(declaredTagKeys(closed)).toEqual(['cost-center', 'team']);
    });
  });
});

describe('profiles.*.securityDefaults', () => {
  const contact = {
    name: 'Security Operations',
    title: 'Security team',
    email: 'security@example.com',
    phone: '+1 555 010 0100',
  };
  const withDefaults = (profiles: Record<string, unknown>) =>
    parseConfig({
      organization: { allowedOrganizationalUnits: ['Sandbox', 'Workloads/Prod'] },
      email: { template: 'aws+{accountName}@example.com' },
      profiles,
    });

  it('resolves the OU profile over the default setting by setting, each contact type on its own', () => {
    const config = withDefaults({
      default: {
        securityDefaults: {
          ebsEncryption: { enabled: true },
          s3BlockPublicAccess: true,
          alternateContacts: { security: contact },
        },
      },
      'Workloads/Prod': {
        securityDefaults: {
          ebsEncryption: {
            enabled: true,
            kmsKeyId: 'arn:aws:kms:{region}:111111111111:key/mrk-0123456789abcdef0123456789abcdef',
          },
          alternateContacts: { operations: { ...contact, name: 'Prod on-call' } },
        },
      },
    });

    expect(resolveProfile(config, 'Sandbox').securityDefaults).toEqual({
      ebsEncryption: {},
      s3BlockPublicAccess: true,
      alternateContacts: { security: contact },
    });
    expect(resolveProfile(config, 'Workloads/Prod').securityDefaults).toEqual({
      ebsEncryption: {
        kmsKeyId: 'arn:aws:kms:{region}:111111111111:key/mrk-0123456789abcdef0123456789abcdef',
      },
      s3BlockPublicAccess: true,
      alternateContacts: { security: contact, operations: { ...contact, name: 'Prod on-call' } },
    });
  });

  it('manages nothing when not configured, and leaves EBS alone when enabled is false', () => {
    expect(resolveProfile(withDefaults({}), 'Sandbox').securityDefaults).toEqual({
      s3BlockPublicAccess: false,
      alternateContacts: {},
    });
    const off = withDefaults({ default: { securityDefaults: { ebsEncryption: { enabled: false } } } });
    expect(resolveProfile(off, 'Sandbox').securityDefaults?.ebsEncryption).toBeUndefined();
  });

  it('refuses bad settings with an error naming the key, as the Account API and EC2 would', () => {
    const bad = (securityDefaults: unknown) => () => withDefaults({ default: { securityDefaults } });
    expect(bad({ alternateContacts: { security: { ...contact, email: 'not-an-address' } } })).toThrow(
      /profiles\.default\.securityDefaults\.alternateContacts\.security\.email: an email address/,
    );
    expect(bad({ alternateContacts: { security: { ...contact, phone: 'call me' } } })).toThrow(
      /profiles\.default\.securityDefaults\.alternateContacts\.security\.phone: a phone number/,
    );
    expect(bad({ alternateContacts: { security: { ...contact, name: 'x'.repeat(65) } } })).toThrow(
      /profiles\.default\.securityDefaults\.alternateContacts\.security\.name: /,
    );
    expect(bad({ alternateContacts: { legal: contact } })).toThrow(
      /profiles\.default\.securityDefaults\.alternateContacts: /,
    );
    expect(bad({ ebsEncryption: { enabled: true, kmsKeyId: 'my-key' } })).toThrow(
      /profiles\.default\.securityDefaults\.ebsEncryption\.kmsKeyId: a KMS key id/,
    );
    expect(bad({ ebsEncryption: { enabled: false, kmsKeyId: 'alias/ebs' } })).toThrow(
      /profiles\.default\.securityDefaults\.ebsEncryption\.kmsKeyId: a default key needs enabled: true/,
    );
  });

  it('ships defaults that turn on EBS encryption, S3 Block Public Access and a security contact', () => {
    const config = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
    expect(resolveProfile(config, 'Workloads/Prod').securityDefaults).toMatchObject({
      ebsEncryption: {},
      s3BlockPublicAccess: true,
      alternateContacts: { security: { email: 'security@example.com' } },
    });
  });
});
