import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ORGANIZATIONS_EVENTS_REGION } from '../functions/shared/drift-pattern.ts';
import { DnsHubStack, dnsConnectorRoleName } from './dns-hub-stack.ts';
import { DNS_HUB_CALLERS } from './pipeline-functions.ts';
import { VendStack } from './vend-stack.ts';

/**
 * The CDK app: `npx cdk synth|deploy`. Context (`-c key=value`): stackName (default Vend), configFile (default
 * vend.config.json), region (default us-east-1, the only one allowed), alarmEmail, organizationId (else the
 * OrganizationId parameter), organizationalUnitIds (JSON: the id of each OU path the configuration names, else
 * one OuId... parameter each), managementAccountId (for the DNS hub stack; else a deploy-time parameter).
 */
const app = new App();
const context = (key: string): string | undefined => {
  const value = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

const stackName = context('stackName') ?? 'Vend';
const account = process.env.CDK_DEFAULT_ACCOUNT;
const vend = new VendStack(app, stackName, {
  env: { region: context('region') ?? ORGANIZATIONS_EVENTS_REGION, ...(account ? { account } : {}) },
  description: 'Vend: account vending for AWS Organizations (management account)',
  ...optional('configFile', context('configFile')),
  ...optional('alarmEmail', context('alarmEmail')),
  ...optional('organizationId', context('organizationId')),
  ...(context('organizationalUnitIds')
    ? { organizationalUnitIds: JSON.parse(context('organizationalUnitIds')!) as Record<string, string> }
    : {}),
});

const dns = vend.pipelineConfig.dns;
if (dns) {
  const managementAccountId = context('managementAccountId') ?? account;
  new DnsHubStack(app, `${stackName}DnsHub`, {
    env: { account: dns.hubAccountId, region: ORGANIZATIONS_EVENTS_REGION },
    description: 'Vend: the role the pipeline assumes in the network hub account',
    hostedZoneId: dns.hostedZoneId,
    roleName: dns.roleName,
    connectorRoleNames: DNS_HUB_CALLERS.map((folder) => dnsConnectorRoleName(vend.stackName, folder)),
    ...optional('managementAccountId', managementAccountId),
  });
}

// Every finding fails synth unless acknowledged, one by one, with its reason (in the stacks).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
