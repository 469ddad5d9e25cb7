import { describe, expect, it } from 'vitest';
import { type TrustRequest, trustPolicyAllows } from '../../local/cloud/services/trust.ts';

const securityAdmin: TrustRequest = {
  caller: {
    accountId: '111111111111',
    arn: 'arn:aws:sts::111111111111:assumed-role/Admin/alice',
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLE:alice',
    roleArn: 'arn:aws:iam::111111111111:role/Admin',
  },
  roleSessionName: 'alice',
  multiFactorAuthPresent: false,
  organizationId: 'o-abcdefghij',
};

const policy = (statement: Record<string, unknown>) =>
  JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

describe('trustPolicyAllows', () => {
  it('trusts any principal of an account named by its root ARN or id', () => {
    expect(
      trustPolicyAllows(
        policy({
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111111111111:root' },
          Action: 'sts:AssumeRole',
        }),
        securityAdmin,
      ),
    ).toBe(true);
    expect(
      trustPolicyAllows(
        policy({ Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 'sts:AssumeRole' }),
        securityAdmin,
      ),
    ).toBe(true);
    expect(
      trustPolicyAllows(
        policy({ Effect: 'Allow', Principal: { AWS: '222222222222' }, Action: 'sts:AssumeRole' }),
        securityAdmin,
      ),
    ).toBe(false);
  });

  it('trusts a role by its ARN', () => {
    const doc = policy({
      Effect: 'Allow',
      Principal: { AWS: ['arn:aws:iam::111111111111:role/Admin'] },
      Action: ['sts:AssumeRole'],
    });
    expect(trustPolicyAllows(doc, securityAdmin)).toBe(true);
    expect(
      trustPolicyAllows(doc, {
        ...securityAdmin,
        caller: { ...securityAdmin.caller, roleArn: 'arn:aws:iam::111111111111:role/Other' },
      }),
    ).toBe(false);
  });

  it('requires MFA when the condition says so', () => {
    const doc = policy({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Action: 'sts:AssumeRole',
      Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
    });
    expect(trustPolicyAllows(doc, securityAdmin)).toBe(false);
    expect(trustPolicyAllows(doc, { ...securityAdmin, multiFactorAuthPresent: true })).toBe(true);
  });

  it('requires the external id when the condition says so', () => {
    const doc = policy({
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'vend-7f3a' } },
    });
    expect(trustPolicyAllows(doc, securityAdmin)).toBe(false);
    expect(trustPolicyAllows(doc, { ...securityAdmin, externalId: 'wrong' })).toBe(false);
    expect(trustPolicyAllows(doc, { ...securityAdmin, externalId: 'vend-7f3a' })).toBe(true);
  });

  it('lets an explicit Deny win and refuses unknown condition operators', () => {
    const allow = { Effect: 'Allow', Principal: { AWS: '111111111111' }, Action: 'sts:*' };
    const deny = { Effect: 'Deny', Principal: '*', Action: 'sts:AssumeRole' };
    expect(trustPolicyAllows(JSON.stringify({ Statement: [allow, deny] }), securityAdmin)).toBe(false);
    expect(
      trustPolicyAllows(
        policy({ ...allow, Condition: { NumericSomething: { 'aws:x': '1' } } }),
        securityAdmin,
      ),
    ).toBe(false);
    expect(trustPolicyAllows('not json', securityAdmin)).toBe(false);
  });
});
