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
import {
  type AccountContext,
  accountContext,
  applyChanges,
  type Change,
  type Converger,
} from './converger.ts';

type DnsConfig = NonNullable<VendConfig['dns']>;

/** The VPC to connect to the shared zone (found by `findVpc`). */
export interface VpcTarget {
  vpcId: string;
  region: string;
}

/**
 * The account's VPC associated with the organization's shared private hosted zone (`config.dns`), so that names
 * in it resolve there: the cross-account association AWS documents for private zones. The hub (which owns the
 * zone) authorizes the VPC, the VPC's account associates it, and the hub deletes the authorization, which is
 * needed no more. Without `config.dns` there is nothing to converge.
 */
export const dnsConverger: Converger<VpcTarget> = {
  aspect: 'dns',
  async plan(target, account) {
    const dns = account.deps.config.dns;
    if (!dns) return [];
    const vpc = vpcOf(target);
    if (!account.expectNew) {
      const zones = await zonesOfVpc(await memberRoute53(account, target.region), vpc);
      if (zones.some((zone) => sameZone(zone.HostedZoneId, dns.hostedZoneId))) return [];
    }
    return [associateChange(dns, vpc)];
  },
  apply: applyChanges,
};

/** The association of `target` with the shared zone, in words. */
export function associationText(target: VpcTarget, hostedZoneId: string): string {
  return `VPC ${target.vpcId} (${target.region}) with the private hosted zone ${hostedZoneId}`;
}

const vpcOf = (target: VpcTarget): VPC => ({ VPCId: target.vpcId, VPCRegion: target.region as VPCRegion });

async function memberRoute53(account: AccountContext, region: string): Promise<Route53Client> {
  return (await account.session(region)).client(Route53Client);
}

function associateChange(dns: DnsConfig, vpc: VPC): Change {
  const association = associationText(
    { vpcId: vpc.VPCId ?? '', region: vpc.VPCRegion ?? '' },
    dns.hostedZoneId,
  );
  return {
    aspect: 'dns',
    summary: `associate the ${association}`,
    async run(account) {
      const { deps, accountId } = account;
      const region = vpc.VPCRegion ?? '';
      const hub = () => hubRoute53(deps, dns);
      await authorize(await hub(), dns, vpc, accountId);
      let action: 'associated' | 'already-associated';
      try {
        action = await associate(() => memberRoute53(account, region), hub, dns, vpc, accountId);
      } catch (error) {
        // Do not leave the authorization behind when the request may end here; the next attempt authorizes again.
        await deauthorizeWith(hub, dns.hostedZoneId, vpc).catch((cleanup: unknown) =>
          deps.log.warn('could not delete the VPC association authorization', {
            zoneId: dns.hostedZoneId,
            vpcId: vpc.VPCId,
            error: String(cleanup),
          }),
        );
        throw error;
      }
      await deauthorizeWith(hub, dns.hostedZoneId, vpc);
      return { done: action === 'associated' ? [`associated the ${association}`] : [], created: false };
    },
  };
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

/**
 * The VPC to connect in `region`: the one named (it must exist in the account and region, and the account must
 * own it), else the account's default VPC.
 */
export async function findVpc(
  account: AccountContext,
  region: string,
  vpcId: string | undefined,
): Promise<VpcTarget> {
  const { accountId } = account;
  const ec2 = (await account.session(region)).client(EC2Client);
  if (vpcId) {
    let found: { OwnerId?: string } | undefined;
    try {
      const { Vpcs } = await describeVpcs(ec2, accountId, { VpcIds: [vpcId] });
      found = Vpcs?.find((vpc) => vpc.VpcId === vpcId);
    } catch (error) {
      if (!isAwsError(error, 'InvalidVpcID.NotFound', 'InvalidVpcID.Malformed')) throw error;
    }
    // A VPC shared into the account through AWS RAM is visible with its owner's OwnerId (VPC User Guide, "Share
    // your VPC with other accounts"): it is not the new account's to connect.
    if (found && found.OwnerId !== accountId) {
      throw new VendFailureError(
        `the VPC ${vpcId} in ${region} is shared into account ${accountId} by its owner, account ${found.OwnerId ?? 'unknown'}; Vend connects only a VPC the new account owns`,
        `Name a VPC that account ${accountId} owns in ${region}, or leave the VPC out to connect the account's default VPC; then ask again. The owner of a shared VPC connects it to the shared zone itself.`,
      );
    }
    if (found) return { vpcId, region };
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
  return { vpcId: found, region };
}

/**
 * Deletes an authorization for the VPC left in the hub by a run that associated but failed before cleaning up.
 * Best effort: the VPC is connected, which is what the request needs; a leftover authorization is only untidy.
 */
export async function removeLeftoverAuthorization(deps: Deps, target: VpcTarget): Promise<void> {
  const dns = deps.config.dns;
  if (!dns) return;
  const vpc = vpcOf(target);
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
      const reason =
        error instanceof InvalidVPCId ? 'it does not take the VPC id' : 'it found the input invalid';
      throw new VendFailureError(
        `Route 53 refused to authorize the VPC ${vpc.VPCId} of account ${accountId} in ${vpc.VPCRegion}: ${reason}`,
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
      const reason =
        error instanceof NoSuchHostedZone
          ? 'the zone does not exist'
          : 'the zone is a public zone, and only private zones take VPCs';
      throw new VendFailureError(
        `Route 53 refused to associate the VPC ${vpc.VPCId} with the shared zone ${dns.hostedZoneId}: ${reason}`,
        'This is a problem with the shared DNS zone, not with your request: ask the network team to look at it, then retry the request.',
        { cause: error },
      );
    }
    if (error instanceof InvalidVPCId) {
      throw new VendFailureError(
        `Route 53 refused the VPC ${vpc.VPCId} of account ${accountId} in ${vpc.VPCRegion}: it does not take the VPC id`,
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

/** What the account's DNS association is after converging (the connect-dns step's output). */
export interface ConnectDnsOutput {
  step: 'connectDns';
  /** `would-associate`: only from a dry run, which found the VPC not associated and changed nothing. */
  action: 'associated' | 'already-associated' | 'would-associate' | 'skipped';
  hostedZoneId?: string;
  vpcId?: string;
  region?: string;
}

/**
 * Connects the account's VPC (`requested`, else its default VPC in the home region) to the shared private zone
 * (`dnsConverger`). Used by the workflow step and by the drift sweep to put back an association someone
 * removed. With `dryRun` it only looks (and leaves a leftover authorization in place too); with `writeFirst`
 * (the account is expected to be new) it authorizes and associates without first listing the VPC's zones: an
 * association already there answers ConflictingDomainExists, which the change resolves.
 */
export async function connectVpcToSharedZone(
  deps: Deps,
  accountId: string,
  requested?: { id: string; region: string },
  options: { dryRun?: boolean; writeFirst?: boolean } = {},
): Promise<ConnectDnsOutput> {
  const dns = deps.config.dns;
  if (!dns) return { step: 'connectDns', action: 'skipped' };
  const region = requested?.region ?? deps.config.organization.homeRegion;
  const account = accountContext(deps, accountId, {
    expectNew: options.writeFirst === true && !options.dryRun,
  });
  const target = await findVpc(account, region, requested?.id);
  const done = (action: ConnectDnsOutput['action']): ConnectDnsOutput => ({
    step: 'connectDns',
    action,
    hostedZoneId: dns.hostedZoneId,
    vpcId: target.vpcId,
    region,
  });
  const changes = await dnsConverger.plan(target, account);
  if (changes.length === 0) {
    // A run that associated but failed before cleaning up may have left its authorization behind.
    if (!options.dryRun) await removeLeftoverAuthorization(deps, target);
    return done('already-associated');
  }
  if (options.dryRun) return done('would-associate');
  const applied = await dnsConverger.apply(changes, account);
  return done(applied.done.length > 0 ? 'associated' : 'already-associated');
}
