import { DescribeVpcsCommand, type DescribeVpcsCommandInput, EC2Client } from '@aws-sdk/client-ec2';
import {
  AssociateVPCWithHostedZoneCommand,
  ConflictingDomainExists,
  CreateVPCAssociationAuthorizationCommand,
  DeleteVPCAssociationAuthorizationCommand,
  GetHostedZoneCommand,
  type HostedZoneSummary,
  InvalidInput,
  InvalidVPCId,
  LimitsExceeded,
  ListHostedZonesByVPCCommand,
  ListVPCAssociationAuthorizationsCommand,
  NoSuchHostedZone,
  NotAuthorizedException,
  PublicZoneVPCAssociation,
  Route53Client,
  TooManyVPCAssociationAuthorizations,
  type VPC,
  VPCAssociationAuthorizationNotFound,
  type VPCRegion,
} from '@aws-sdk/client-route-53';
import type { VendConfig } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import {
  AccountNotReadyError,
  aws,
  ConcurrentModificationError,
  isAwsError,
  VendFailureError,
} from '../shared/errors.ts';
import type { VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface ConnectDnsInput {
  request: VendRequest;
  accountId: string;
}

export interface ConnectDnsOutput {
  step: 'connectDns';
  /** `would-associate`: only from a dry run, which found the VPC not associated and changed nothing. */
  action: 'associated' | 'already-associated' | 'would-associate' | 'skipped';
  hostedZoneId?: string;
  vpcId?: string;
  region?: string;
}

type DnsConfig = NonNullable<VendConfig['dns']>;

/**
 * Connects the new account's VPC (the one the request names, else its default VPC in the home region) to the
 * organization's shared private hosted zone, so that names in it resolve there. Safe to run again: a VPC
 * already associated is success, and no authorization is left behind in the hub.
 */
export async function connectDns(
  deps: Deps,
  { request, accountId }: ConnectDnsInput,
): Promise<ConnectDnsOutput> {
  return runStep(deps, request.requestId, 'connectDns', async (_record, attempt) => {
    const result = await connectVpcToSharedZone(deps, accountId, request.vpc, { writeFirst: attempt === 1 });
    const detail =
      result.action === 'skipped'
        ? 'no shared DNS configured'
        : `${result.vpcId} in ${result.region} ${result.action === 'associated' ? 'associated with' : 'already associated with'} ${result.hostedZoneId}`;
    return { result, detail };
  });
}

/**
 * The cross-account association AWS documents for private zones: the hub (which owns the zone) authorizes the
 * VPC, the VPC's account associates it, and the hub deletes the authorization, which is needed no more.
 * Also used by the drift sweep to put back an association someone removed; with `dryRun` it only looks (and
 * leaves a leftover authorization in place too).
 */
export async function connectVpcToSharedZone(
  deps: Deps,
  accountId: string,
  requested?: { id: string; region: string },
  options: {
    dryRun?: boolean;
    /**
     * The account is expected to be new: authorize and associate straight away, without first listing the VPC's
     * zones. An association already there answers ConflictingDomainExists, which `associate` resolves.
     */
    writeFirst?: boolean;
  } = {},
): Promise<ConnectDnsOutput> {
  const dns = deps.config.dns;
  if (!dns) return { step: 'connectDns', action: 'skipped' };
  const region = requested?.region ?? deps.config.organization.homeRegion;
  const member = await deps.clientsFor(accountId, deps.config.organization.accessRoleName, { region });
  const vpcId = await findVpc(member.client(EC2Client), accountId, region, requested?.id);
  const vpc: VPC = { VPCId: vpcId, VPCRegion: region as VPCRegion };
  const zoneId = dns.hostedZoneId;
  const done = (action: ConnectDnsOutput['action']): ConnectDnsOutput => ({
    step: 'connectDns',
    action,
    hostedZoneId: zoneId,
    vpcId,
    region,
  });

  const associated =
    !(options.writeFirst && !options.dryRun) &&
    (await zonesOfVpc(member.client(Route53Client), vpc)).some((zone) => sameZone(zone.HostedZoneId, zoneId));
  if (associated) {
    // A run that associated but failed before cleaning up may have left its authorization behind.
    if (!options.dryRun) await removeLeftoverAuthorization(deps, dns, vpc);
    return done('already-associated');
  }
  if (options.dryRun) return done('would-associate');

  // Clients are asked for at each use: a call that the SDK retried for long may have outlived the credentials.
  const hub = () => hubRoute53(deps, dns);
  const memberRoute53 = async () =>
    (await deps.clientsFor(accountId, deps.config.organization.accessRoleName, { region })).client(
      Route53Client,
    );
  await authorize(await hub(), dns, vpc, accountId);
  let action: ConnectDnsOutput['action'];
  try {
    action = await associate(memberRoute53, hub, dns, vpc, accountId);
  } catch (error) {
    // Do not leave the authorization behind when the request may end here; the next attempt authorizes again.
    await deauthorizeWith(hub, zoneId, vpc).catch((cleanup: unknown) =>
      deps.log.warn('could not delete the VPC association authorization', {
        zoneId,
        vpcId,
        error: String(cleanup),
      }),
    );
    throw error;
  }
  await deauthorizeWith(hub, zoneId, vpc);
  return done(action);
}

/**
 * DescribeVpcs in the new account. EC2 in a just-created account answers OptInRequired until AWS has activated
 * the account (EC2 API reference, error codes: "your account might take some time to be activated"): not ready
 * yet, which the state machine retries over minutes.
 */
async function describeVpcs(ec2: EC2Client, accountId: string, input: DescribeVpcsCommandInput) {
  try {
    return await aws(ec2.send(new DescribeVpcsCommand(input)));
  } catch (error) {
    // EC2's error codes are not modelled in the SDK: the exception's name is the code.
    if (isAwsError(error, 'OptInRequired'))
      throw new AccountNotReadyError(`EC2 in account ${accountId} is not active yet`, { cause: error });
    throw error;
  }
}

/** The VPC to connect: the one named (it must exist in the account and region), else the default VPC. */
async function findVpc(
  ec2: EC2Client,
  accountId: string,
  region: string,
  vpcId: string | undefined,
): Promise<string> {
  if (vpcId) {
    try {
      const { Vpcs } = await describeVpcs(ec2, accountId, { VpcIds: [vpcId] });
      const found = Vpcs?.find((vpc) => vpc.VpcId === vpcId);
      // A VPC shared into the account through AWS RAM is visible with its owner's OwnerId (VPC User Guide, "Share
      // your VPC with other accounts"): it is not the new account's to connect.
      if (found && found.OwnerId !== accountId) {
        throw new VendFailureError(
          `the VPC ${vpcId} in ${region} is shared into account ${accountId} by its owner, account ${found.OwnerId ?? 'unknown'}; Vend connects only a VPC the new account owns`,
          `Name a VPC that account ${accountId} owns in ${region}, or leave the VPC out to connect the account's default VPC; then ask again. The owner of a shared VPC connects it to the shared zone itself.`,
        );
      }
      if (found) return vpcId;
    } catch (error) {
      if (!isAwsError(error, 'InvalidVpcID.NotFound', 'InvalidVpcID.Malformed')) throw error;
    }
    throw new VendFailureError(
      `the VPC ${vpcId} does not exist in account ${accountId} in ${region}`,
      `Check the VPC id and region in your request: the VPC must belong to the new account ${accountId}. Leave the VPC out to connect the account's default VPC in ${region}. Then ask again.`,
    );
  }
  const { Vpcs } = await describeVpcs(ec2, accountId, {
    Filters: [
      { Name: 'is-default', Values: ['true'] },
      { Name: 'owner-id', Values: [accountId] },
    ],
  });
  const found = Vpcs?.find((vpc) => vpc.VpcId && vpc.OwnerId === accountId)?.VpcId;
  // AWS makes a new account's default VPC some time after the account is usable: not there yet is not ready yet.
  // The state machine retries for about twenty minutes; then the request fails as not ready.
  if (!found) {
    throw new AccountNotReadyError(
      `account ${accountId} has no default VPC in ${region} (yet) to connect to the shared DNS zone`,
    );
  }
  return found;
}

/** Route 53 acting in the DNS hub. The hub has existed for long: AssumeRole refused there is a broken role, not a new account. */
async function hubRoute53(deps: Deps, dns: DnsConfig): Promise<Route53Client> {
  try {
    return (await deps.clientsFor(dns.hubAccountId, dns.roleName)).client(Route53Client);
  } catch (error) {
    if (error instanceof AccountNotReadyError) {
      throw new VendFailureError(
        `Vend cannot assume the role ${dns.roleName} in the DNS hub account ${dns.hubAccountId}`,
        `This is a problem with the DNS hub, not with your request: ask the network team to check that the role ${dns.roleName} exists in account ${dns.hubAccountId} and trusts the account Vend runs in (see dns.roleName in the Vend configuration), then retry the request.`,
        { cause: error },
      );
    }
    throw error;
  }
}

async function authorize(hub: Route53Client, dns: DnsConfig, vpc: VPC, accountId: string): Promise<void> {
  try {
    await aws(
      hub.send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: dns.hostedZoneId, VPC: vpc })),
    );
  } catch (error) {
    if (error instanceof NoSuchHostedZone) {
      throw new VendFailureError(
        `the shared DNS zone ${dns.hostedZoneId} does not exist in the DNS hub account ${dns.hubAccountId}`,
        'This is a problem with the Vend configuration, not with your request: ask the platform team to fix dns.hostedZoneId and dns.hubAccountId, then retry the request.',
        { cause: error },
      );
    }
    if (error instanceof TooManyVPCAssociationAuthorizations) {
      throw new VendFailureError(
        `the shared DNS zone ${dns.hostedZoneId} has as many pending VPC association authorizations as Route 53 allows`,
        `Ask the network team to delete the stale authorizations of zone ${dns.hostedZoneId} in account ${dns.hubAccountId} (ListVPCAssociationAuthorizations), then retry the request.`,
        { cause: error },
      );
    }
    if (error instanceof InvalidVPCId || error instanceof InvalidInput) {
      throw new VendFailureError(
        `Route 53 refused to authorize the VPC ${vpc.VPCId} of account ${accountId} in ${vpc.VPCRegion}: ${error.message}`,
        'Check the VPC in your request, or ask the platform team to check the DNS configuration; then retry the request.',
        { cause: error },
      );
    }
    throw error;
  }
}

async function associate(
  route53: () => Promise<Route53Client>,
  hub: () => Promise<Route53Client>,
  dns: DnsConfig,
  vpc: VPC,
  accountId: string,
): Promise<'associated' | 'already-associated'> {
  try {
    await aws(
      (await route53()).send(
        new AssociateVPCWithHostedZoneCommand({
          HostedZoneId: dns.hostedZoneId,
          VPC: vpc,
          Comment: 'Vend: shared private DNS',
        }),
      ),
    );
    return 'associated';
  } catch (error) {
    if (error instanceof ConflictingDomainExists) {
      // Route 53 says so both when this zone is already associated and when another zone of the same name is.
      const zones = await zonesOfVpc(await route53(), vpc);
      if (zones.some((zone) => sameZone(zone.HostedZoneId, dns.hostedZoneId))) return 'already-associated';
      const name = await zoneName(await hub(), dns.hostedZoneId);
      const other = zones.find((zone) => name !== undefined && sameName(zone.Name, name));
      const which = other
        ? `the hosted zone ${other.HostedZoneId} (${other.Name}, owned by account ${other.Owner?.OwningAccount ?? other.Owner?.OwningService ?? 'unknown'})`
        : 'another private hosted zone of the same name';
      throw new VendFailureError(
        `the VPC ${vpc.VPCId} of account ${accountId} in ${vpc.VPCRegion} is already associated with ${which}, so it cannot also use the shared zone ${dns.hostedZoneId}${name ? ` (${name})` : ''}`,
        `Disassociate ${other?.HostedZoneId ?? 'that zone'} from the VPC ${vpc.VPCId} (or delete it if nobody needs it), or name another VPC in the request; then retry the request.`,
        { cause: error },
      );
    }
    if (error instanceof NotAuthorizedException) {
      // A concurrent attempt may have associated the VPC, or deleted the authorization once done or failing.
      const zones = await zonesOfVpc(await route53(), vpc);
      if (zones.some((zone) => sameZone(zone.HostedZoneId, dns.hostedZoneId))) return 'already-associated';
      if (!(await isAuthorized(await hub(), dns.hostedZoneId, vpc))) {
        throw new ConcurrentModificationError(
          `the authorization to associate ${vpc.VPCId} with ${dns.hostedZoneId} was deleted meanwhile`,
          { cause: error },
        );
      }
      // The hub authorized this VPC and the authorization is there, yet Route 53 refuses: not something a retry mends.
      throw new VendFailureError(
        `Route 53 did not accept the DNS hub's authorization to associate the VPC ${vpc.VPCId} with the shared zone ${dns.hostedZoneId}`,
        `Ask the network team to check the role ${dns.roleName} in account ${dns.hubAccountId}: it must act in the account that owns the zone ${dns.hostedZoneId} and may authorize VPC associations (route53:CreateVPCAssociationAuthorization). Then retry the request.`,
        { cause: error },
      );
    }
    if (error instanceof LimitsExceeded) {
      // The zone has MAX_VPCS_ASSOCIATED_BY_ZONE VPCs (SDK model, AssociateVPCWithHostedZone; GetHostedZoneLimit).
      throw new VendFailureError(
        `the shared DNS zone ${dns.hostedZoneId} is associated with as many VPCs as Route 53 allows, so the VPC ${vpc.VPCId} of account ${accountId} could not join it`,
        `This is not a problem with your request: ask the network team to raise the zone's VPC limit (account ${dns.hubAccountId}) or remove VPCs that no longer need it, then retry the request.`,
        { cause: error },
      );
    }
    if (error instanceof NoSuchHostedZone || error instanceof PublicZoneVPCAssociation) {
      throw new VendFailureError(
        `Route 53 refused to associate the VPC ${vpc.VPCId} with the shared zone ${dns.hostedZoneId}: ${error.message}`,
        'This is a problem with the shared DNS zone, not with your request: ask the network team to look at it, then retry the request.',
        { cause: error },
      );
    }
    if (error instanceof InvalidVPCId) {
      throw new VendFailureError(
        `Route 53 refused the VPC ${vpc.VPCId} of account ${accountId} in ${vpc.VPCRegion}: ${error.message}`,
        'Check the VPC id and region in your request, then ask again.',
        { cause: error },
      );
    }
    throw error;
  }
}

async function deauthorizeWith(hub: () => Promise<Route53Client>, zoneId: string, vpc: VPC): Promise<void> {
  await deauthorize(await hub(), zoneId, vpc);
}

async function deauthorize(hub: Route53Client, zoneId: string, vpc: VPC): Promise<void> {
  try {
    await aws(hub.send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: zoneId, VPC: vpc })));
  } catch (error) {
    if (!(error instanceof VPCAssociationAuthorizationNotFound)) throw error;
  }
}

/** Best effort: the VPC is connected, which is what the request needs; a leftover authorization is only untidy. */
async function removeLeftoverAuthorization(deps: Deps, dns: DnsConfig, vpc: VPC): Promise<void> {
  try {
    const hub = await hubRoute53(deps, dns);
    if (await isAuthorized(hub, dns.hostedZoneId, vpc)) await deauthorize(hub, dns.hostedZoneId, vpc);
  } catch (error) {
    deps.log.warn('could not check for a leftover VPC association authorization', {
      zoneId: dns.hostedZoneId,
      vpcId: vpc.VPCId,
      error: String(error),
    });
  }
}

/** Whether the hub's zone holds an authorization for the VPC. */
async function isAuthorized(hub: Route53Client, zoneId: string, vpc: VPC): Promise<boolean> {
  let token: string | undefined;
  do {
    const page = await aws(
      hub.send(
        new ListVPCAssociationAuthorizationsCommand({
          HostedZoneId: zoneId,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    if ((page.VPCs ?? []).some((entry) => entry.VPCId === vpc.VPCId && entry.VPCRegion === vpc.VPCRegion))
      return true;
    token = page.NextToken;
  } while (token);
  return false;
}

/** The private zones the VPC is associated with, as its own account sees them. */
async function zonesOfVpc(route53: Route53Client, vpc: VPC): Promise<HostedZoneSummary[]> {
  const zones: HostedZoneSummary[] = [];
  let token: string | undefined;
  do {
    const page = await aws(
      route53.send(
        new ListHostedZonesByVPCCommand({
          VPCId: vpc.VPCId,
          VPCRegion: vpc.VPCRegion,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    zones.push(...(page.HostedZoneSummaries ?? []));
    token = page.NextToken;
  } while (token);
  return zones;
}

async function zoneName(hub: Route53Client, zoneId: string): Promise<string | undefined> {
  try {
    return (await aws(hub.send(new GetHostedZoneCommand({ Id: zoneId })))).HostedZone?.Name;
  } catch {
    return undefined;
  }
}

const bareZoneId = (id: string | undefined) => (id ?? '').replace(/^\/hostedzone\//, '');
const sameZone = (a: string | undefined, b: string) => bareZoneId(a) === bareZoneId(b);
const sameName = (a: string | undefined, b: string) =>
  (a ?? '').replace(/\.$/, '').toLowerCase() === b.replace(/\.$/, '').toLowerCase();
