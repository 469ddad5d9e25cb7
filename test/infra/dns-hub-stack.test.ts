import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { DnsHubStack, dnsConnectorRoleName } from '../../infra/dns-hub-stack.ts';
import { DNS_HUB_CALLERS } from '../../infra/pipeline-functions.ts';

function hub(managementAccountId?: string) {
  const stack = new DnsHubStack(new App(), 'VendDnsHub', {
    env: { account: '222222222222', region: 'us-east-1' },
    hostedZoneId: 'Z0VENDTESTINTERNAL01',
    roleName: 'VendDnsAuthorizer',
    connectorRoleNames: [dnsConnectorRoleName('Vend'), dnsConnectorRoleName('Vend', 'drift')],
    ...(managementAccountId ? { managementAccountId } : {}),
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('the DNS hub stack', () => {
  it('creates the role Vend assumes, trusted only by Vend’s connect-dns and drift roles in the management account', () => {
    const { template } = hub('000000000000');
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'VendDnsAuthorizer',
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::000000000000:root']] },
            },
            Condition: {
              ArnEquals: {
                'aws:PrincipalArn': [
                  {
                    'Fn::Join': [
                      '',
                      ['arn:', { Ref: 'AWS::Partition' }, ':iam::000000000000:role/Vend-connect-dns'],
                    ],
                  },
                  {
                    'Fn::Join': [
                      '',
                      ['arn:', { Ref: 'AWS::Partition' }, ':iam::000000000000:role/Vend-drift'],
                    ],
                  },
                ],
              },
            },
          },
        ],
      },
    });
  });

  it('may only manage VPC association authorizations of the configured zone, and read its VPC limit', () => {
    const { template } = hub('000000000000');
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    expect(roles[0]!.Properties.Policies).toEqual([
      {
        PolicyName: 'vpc-association-authorizations',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: [
                'route53:CreateVPCAssociationAuthorization',
                'route53:DeleteVPCAssociationAuthorization',
                'route53:ListVPCAssociationAuthorizations',
                'route53:GetHostedZone',
                'route53:GetHostedZoneLimit',
              ],
              Effect: 'Allow',
              Resource: {
                'Fn::Join': [
                  '',
                  ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0VENDTESTINTERNAL01'],
                ],
              },
            },
          ],
        },
      },
    ]);
  });

  it('is trusted by the roles of the functions that assume it: connect-dns, drift, and the API (its VPC-limit pre-flight)', () => {
    expect([...DNS_HUB_CALLERS].sort()).toEqual(['api', 'connect-dns', 'drift']);
  });

  it('asks for the management account at deploy time when not given one', () => {
    const { template } = hub();
    template.hasParameter('ManagementAccountId', { Type: 'String', AllowedPattern: '^\\d{12}$' });
  });

  it('passes cdk-nag AwsSolutions without acknowledgements', () => {
    const { stack } = hub('000000000000');
    expect(new AwsSolutionsChecks(stack).validateScope(stack).violations).toEqual([]);
  });
});

describe('the connect-dns role name', () => {
  it('is fixed by the Vend stack name and fits IAM’s 64 characters', () => {
    expect(dnsConnectorRoleName('Vend')).toBe('Vend-connect-dns');
    expect(dnsConnectorRoleName('x'.repeat(100))).toHaveLength(64);
  });
});
