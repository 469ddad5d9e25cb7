import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, readConfigFile, resolveProfile } from '../../functions/shared/config.ts';
import { quarantineDocument, renderPolicy } from '../../functions/shared/policy-document.ts';

const minimal = { organization: { allowedOrganizationalUnits: ['Sandbox'] } };
const deny = (action: string) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action: action, Resource: '*' }],
});
const settings = { allowedRegions: ['us-east-1', 'eu-west-1'], accessRoleName: 'VendAccess' };

describe('guardrails in the configuration', () => {
  it('reads the shipped guardrail into the default profile, its regions from organization.allowedRegions', () => {
    const config = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
    expect(resolveProfile(config, 'Workloads/Prod').policies).toEqual(['vend-baseline-guardrails']);
    const document = config.policies['vend-baseline-guardrails']!.document!;
    const rendered = renderPolicy(document, settings) as { Statement: Record<string, never>[] };
    const region = rendered.Statement.find((s) => s.Sid === 'DenyOutsideAllowedRegions')!;
    expect(region.Condition).toMatchObject({
      StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] },
    });
  });

  it('exempts the access role in every Deny, merging with an ArnNotLike on aws:PrincipalArn already there', () => {
    const rendered = renderPolicy(
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          {
            Effect: 'Deny',
            Action: 'iam:*',
            Resource: '*',
            Condition: { arnnotlike: { 'AWS:PrincipalArn': 'arn:aws:iam::*:role/BreakGlass' } },
          },
        ],
      },
      settings,
    ) as { Statement: Record<string, unknown>[] };
    expect(rendered.Statement[0]).not.toHaveProperty('Condition');
    expect(rendered.Statement[1]!.Condition).toEqual({
      arnnotlike: {
        'AWS:PrincipalArn': ['arn:aws:iam::*:role/BreakGlass', 'arn:aws:iam::*:role/VendAccess'],
      },
    });
    expect(quarantineDocument(settings)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'VendQuarantine',
          Effect: 'Deny',
          Action: '*',
          Resource: '*',
          Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/VendAccess'] } },
        },
      ],
    });
  });

  it('refuses, naming the key, an unknown policy, a missing file, a reserved name, a document too large and too many per account', () => {
    const problems = (raw: unknown) => {
      try {
        parseConfig(raw);
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    };
    expect(problems({ ...minimal, profiles: { default: { policies: ['nope'] } } })).toContain(
      "profiles.default.policies.0: 'nope' is not a policy of policies",
    );
    expect(problems({ ...minimal, policies: { gone: { file: 'policies/gone.json' } } })).toContain(
      'policies.gone.file: cannot read policies/gone.json (no such file)',
    );
    expect(problems({ ...minimal, policies: { 'vend-quarantine': { document: deny('*') } } })).toContain(
      'policies.vend-quarantine: the name vend-quarantine is',
    );
    const huge = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Deny', Action: Array.from({ length: 400 }, (_, i) => `ec2:Act${i}`), Resource: '*' },
      ],
    };
    expect(problems({ ...minimal, policies: { huge: { document: huge } } })).toMatch(
      /policies\.huge\.document: \d+ characters once rendered, above AWS's 5120/,
    );
    const four = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((name) => [name, { document: deny(`s3:${name}`) }]),
    );
    expect(
      problems({ ...minimal, policies: four, profiles: { default: { policies: ['a', 'b', 'c', 'd'] } } }),
    ).toContain('profiles.default.policies: 4 policies for Sandbox, at most 3');
    expect(
      problems({ ...minimal, policies: { both: { id: 'p-abcdefgh12', document: deny('*') } } }),
    ).toContain('give exactly one of file, document and id');
  });

  it('reads a policy file relative to the configuration file, and refuses one that is not JSON', () => {
    const directory = mkdtempSync(join(tmpdir(), 'vend-policies-'));
    writeFileSync(join(directory, 'ok.json'), JSON.stringify(deny('organizations:LeaveOrganization')));
    writeFileSync(join(directory, 'bad.json'), '{"Version": ');
    const file = join(directory, 'config.json');
    writeFileSync(file, JSON.stringify({ ...minimal, policies: { ok: { file: 'ok.json' } } }));
    expect(readConfigFile(file).policies.ok!.document).toEqual(deny('organizations:LeaveOrganization'));
    writeFileSync(file, JSON.stringify({ ...minimal, policies: { bad: { file: 'bad.json' } } }));
    expect(() => readConfigFile(file)).toThrow(/policies\.bad\.file: cannot read bad\.json/);
  });
});
