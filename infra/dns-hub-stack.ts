import { Aws, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import { AccountPrincipal, PolicyDocument, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

export interface DnsHubStackProps extends StackProps {
  /** The private hosted zone new accounts' VPCs are associated with (`dns.hostedZoneId`). */
  readonly hostedZoneId: string;
  /**
   * The role's name: what Vend assumes (`dns.roleName`).
   * @default 'VendDnsAuthorizer'
   */
  readonly roleName?: string;
  /**
   * The management account where Vend runs.
   * @default - a stack parameter, ManagementAccountId, given at deploy time
   */
  readonly managementAccountId?: string;
  /**
   * The names of Vend's roles in the management account that assume this one (`dnsConnectorRoleName(vendStackName,
   * folder)` for connect-dns, drift and the API): only those may.
   */
  readonly connectorRoleNames: readonly string[];
}

/**
 * The network hub account's part of Vend: the role the connect-dns step assumes to authorize a new account's VPC
 * to join the private hosted zone (and the API, to read the zone's VPC limit before accepting a request), and
 * nothing else. It trusts the management account, on the condition that the
 * caller is Vend's connect-dns role (a condition on the principal ARN, so the trust survives that role being
 * replaced).
 */
export class DnsHubStack extends Stack {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: DnsHubStackProps) {
    super(scope, id, props);
    const managementAccountId =
      props.managementAccountId ??
      new CfnParameter(this, 'ManagementAccountId', {
        type: 'String',
        allowedPattern: '^\\d{12}$',
        description: 'The AWS Organizations management account where the Vend stack runs',
      }).valueAsString;
    const zoneArn = `arn:${Aws.PARTITION}:route53:::hostedzone/${props.hostedZoneId}`;
    this.role = new Role(this, 'Authorizer', {
      roleName: props.roleName ?? 'VendDnsAuthorizer',
      description: "Vend: authorizes new accounts' VPCs to associate with the shared private hosted zone",
      assumedBy: new AccountPrincipal(managementAccountId).withConditions({
        ArnEquals: {
          'aws:PrincipalArn': props.connectorRoleNames.map(
            (name) => `arn:${Aws.PARTITION}:iam::${managementAccountId}:role/${name}`,
          ),
        },
      }),
      inlinePolicies: {
        'vpc-association-authorizations': new PolicyDocument({
          statements: [
            new PolicyStatement({
              actions: [
                'route53:CreateVPCAssociationAuthorization',
                'route53:DeleteVPCAssociationAuthorization',
                'route53:ListVPCAssociationAuthorizations',
                'route53:GetHostedZone',
                // Vend's API reads the zone's VPC limit before it accepts a request (GetHostedZoneLimit takes
                // the hostedzone resource: Service Authorization Reference, "Actions, resources, and condition
                // keys for Amazon Route 53").
                'route53:GetHostedZoneLimit',
              ],
              resources: [zoneArn],
            }),
          ],
        }),
      },
    });
    new CfnOutput(this, 'RoleArn', { value: this.role.roleArn });
  }
}

/** The name of the role of a Vend function that assumes the hub role: fixed, so that the hub's trust policy can name it. */
export function dnsConnectorRoleName(vendStackName: string, folder = 'connect-dns'): string {
  return `${vendStackName}-${folder}`.slice(0, 64);
}
