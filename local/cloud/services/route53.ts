import type { Cloud } from '../cloud.ts';
import { AwsError } from '../errors.ts';
import { route53Protocol } from '../protocols/rest-xml.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { HostedZoneRecord } from '../state.ts';
import { decodeToken, Params, paginate } from '../validate.ts';

/** The regions Route 53 accepts as `VPCRegion` (the SDK's VPCRegion enum). */
const VPC_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'cn-north-1',
  'cn-northwest-1',
  'eu-central-1',
  'eu-central-2',
  'eu-isoe-west-1',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eusc-de-east-1',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-iso-east-1',
  'us-iso-west-1',
  'us-isob-east-1',
  'us-isob-west-1',
  'us-isof-east-1',
  'us-isof-south-1',
  'us-west-1',
  'us-west-2',
] as const;

/** Route 53's default quota of records per hosted zone, and the records (SOA, NS) a new zone has. */
const MAX_RRSETS_PER_ZONE = 10_000;
const RRSETS_PER_NEW_ZONE = 2;
/** Route 53's quota of VPC association authorizations per hosted zone. */
const MAX_AUTHORIZATIONS = 100;
/** Route 53's default quota of hosted zones per account. */
const MAX_HOSTED_ZONES = 500;

interface Vpc {
  VPCRegion: string;
  VPCId: string;
}

/** Raises Route 53's InvalidPaginationToken for a NextToken it did not hand out. */
const tokens = new Params((message) => new AwsError('InvalidPaginationToken', message));

function noSuchHostedZone(id: string): AwsError {
  return new AwsError('NoSuchHostedZone', `No hosted zone found with ID: ${id}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameVpc(a: Vpc, b: Vpc): boolean {
  return a.VPCId === b.VPCId && a.VPCRegion === b.VPCRegion;
}

function readVpc(params: Params, input: Input): Vpc {
  const vpc = params.object(input, 'VPC', { required: true });
  const VPCRegion = params.string(vpc, 'VPCRegion', { required: true, min: 1, max: 64, values: VPC_REGIONS });
  const VPCId = params.string(vpc, 'VPCId', { required: true, max: 1024 });
  return { VPCRegion, VPCId };
}

function readZoneId(params: Params, input: Input, member = 'HostedZoneId'): string {
  return params.string(input, member, { required: true, max: 32 });
}

/** The account that owns a VPC in a region, if any. */
function vpcOwner(cloud: Cloud, vpc: Vpc): string | undefined {
  for (const account of Object.values(cloud.state.accounts)) {
    const found = Object.hasOwn(account.vpcs, vpc.VPCId) ? account.vpcs[vpc.VPCId] : undefined;
    if (found && found.region === vpc.VPCRegion) return account.id;
  }
  return undefined;
}

function requireOwnVpc(context: CallContext, vpc: Vpc): void {
  if (vpcOwner(context.cloud, vpc) !== context.caller.accountId) {
    throw new AwsError(
      'InvalidVPCId',
      `The VPC ID '${vpc.VPCId}' in region ${vpc.VPCRegion} is not a VPC of account ${context.caller.accountId}.`,
    );
  }
}

function anyZone(cloud: Cloud, id: string): HostedZoneRecord | undefined {
  return Object.hasOwn(cloud.state.hostedZones, id) ? cloud.state.hostedZones[id] : undefined;
}

/** A zone the caller owns: Route 53 shows no account another account's hosted zones. */
function ownZone(context: CallContext, id: string): HostedZoneRecord {
  const zone = anyZone(context.cloud, id);
  if (!zone || zone.ownerAccountId !== context.caller.accountId) throw noSuchHostedZone(id);
  return zone;
}

/** A domain name as Route 53 keeps it: lower case, with the trailing dot. */
function normaliseName(name: string): string {
  const bare = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
  const labels = bare.split('.');
  if (
    bare.length === 0 ||
    bare.length > 253 ||
    !labels.every((label) => /^[a-z0-9_-]{1,63}$/.test(label) && !label.startsWith('-'))
  ) {
    throw new AwsError('InvalidDomainName', `${name} is not a valid domain name.`);
  }
  return `${bare}.`;
}

/** Four made-up name servers, stable for a zone. */
function nameServers(zoneId: string): string[] {
  let hash = 0;
  for (const character of zoneId) hash = (hash * 31 + character.charCodeAt(0)) % 2048;
  const group = (offset: number) => (hash + offset) % 2048;
  return [
    `ns-${group(0)}.awsdns-${String(group(0) % 64).padStart(2, '0')}.com`,
    `ns-${group(512)}.awsdns-${String(group(512) % 64).padStart(2, '0')}.net`,
    `ns-${group(1024)}.awsdns-${String(group(1024) % 64).padStart(2, '0')}.org`,
    `ns-${group(1536)}.awsdns-${String(group(1536) % 64).padStart(2, '0')}.co.uk`,
  ];
}

function hostedZoneShape(zone: HostedZoneRecord) {
  return {
    Id: `/hostedzone/${zone.id}`,
    Name: zone.name,
    CallerReference: zone.callerReference,
    Config: { Comment: zone.comment, PrivateZone: zone.privateZone },
    // The SOA and NS records every new zone gets; the local cloud keeps no record sets.
    ResourceRecordSetCount: RRSETS_PER_NEW_ZONE,
  };
}

function vpcShape(vpc: Vpc): Vpc {
  return { VPCRegion: vpc.VPCRegion, VPCId: vpc.VPCId };
}

// Changes apply at once in the local cloud, so every change is reported INSYNC (AWS starts at PENDING).
function changeInfo(cloud: Cloud, comment?: string) {
  return {
    Id: `/change/${cloud.ids.changeId()}`,
    Status: 'INSYNC',
    SubmittedAt: new Date(cloud.clock.now()),
    Comment: comment,
  };
}

/** Another private zone with the same name that the VPC is already associated with. */
function sameNameZoneOn(cloud: Cloud, vpc: Vpc, name: string, except?: string): HostedZoneRecord | undefined {
  return Object.values(cloud.state.hostedZones).find(
    (zone) =>
      zone.id !== except && zone.privateZone && zone.name === name && zone.vpcs.some((v) => sameVpc(v, vpc)),
  );
}

/**
 * Route 53 for private hosted zones shared across accounts: create and read zones, VPC association
 * authorizations, and associating VPCs of other accounts, each acting in the caller's account.
 */
export const route53: ServiceDefinition = {
  signingName: 'route53',
  eventSource: 'route53.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: route53Protocol,
  errorStatus: {
    NoSuchHostedZone: 404,
    NotAuthorizedException: 401,
    VPCAssociationAuthorizationNotFound: 404,
    VPCAssociationNotFound: 404,
    HostedZoneAlreadyExists: 409,
    UnknownOperationException: 404,
  },
  invalid: (message) => new AwsError('InvalidInput', message),
  unknownCredentialCode: 'InvalidClientTokenId',
  accessDeniedCode: 'AccessDenied',
  unknownOperationCode: 'UnknownOperationException',
  operations: {
    CreateHostedZone: {
      mutating: true,
      run(context, input) {
        const { cloud, caller, params } = context;
        const rawName = params.string(input, 'Name', { required: true, max: 1024 });
        const callerReference = params.string(input, 'CallerReference', { required: true, min: 1, max: 128 });
        const config = params.object(input, 'HostedZoneConfig');
        const comment = config ? params.string(config, 'Comment', { max: 256 }) : undefined;
        const privateFlag = config ? params.boolean(config, 'PrivateZone') : undefined;
        const vpc = input.VPC === undefined ? undefined : readVpc(params, input);
        const delegationSetId = params.string(input, 'DelegationSetId', { max: 32 });
        const name = normaliseName(rawName);
        if (privateFlag === true && !vpc) {
          params.fail('A private hosted zone needs a VPC: specify VPC with VPCId and VPCRegion.');
        }
        const zones = Object.values(cloud.state.hostedZones).filter(
          (zone) => zone.ownerAccountId === caller.accountId,
        );
        if (zones.some((zone) => zone.callerReference === callerReference)) {
          throw new AwsError(
            'HostedZoneAlreadyExists',
            `A hosted zone has already been created with the specified caller reference: ${callerReference}`,
          );
        }
        if (vpc) {
          requireOwnVpc(context, vpc);
          const conflict = sameNameZoneOn(cloud, vpc, name);
          if (conflict) {
            throw new AwsError(
              'ConflictingDomainExists',
              `The VPC ${vpc.VPCId} in region ${vpc.VPCRegion} is already associated with another private hosted zone (${conflict.id}) named ${name}.`,
            );
          }
        }
        if (delegationSetId !== undefined) {
          throw new AwsError(
            'NoSuchDelegationSet',
            `A reusable delegation set with the ID ${delegationSetId} does not exist.`,
          );
        }
        if (zones.length >= MAX_HOSTED_ZONES) {
          throw new AwsError(
            'TooManyHostedZones',
            `Account ${caller.accountId} has reached its limit of ${MAX_HOSTED_ZONES} hosted zones.`,
          );
        }

        const id = cloud.ids.hostedZoneId();
        const zone: HostedZoneRecord = {
          id,
          name,
          ownerAccountId: caller.accountId,
          callerReference,
          ...(comment !== undefined ? { comment } : {}),
          // A VPC makes the zone private whatever HostedZoneConfig says, as in AWS.
          privateZone: vpc !== undefined,
          vpcs: vpc ? [vpcShape(vpc)] : [],
          authorizations: [],
          createdAt: cloud.clock.now(),
        };
        cloud.state.hostedZones[id] = zone;
        return {
          HostedZone: hostedZoneShape(zone),
          ChangeInfo: changeInfo(cloud),
          DelegationSet: vpc ? undefined : { NameServers: nameServers(id) },
          VPC: vpc ? vpcShape(vpc) : undefined,
          Location: `https://route53.amazonaws.com/2013-04-01/hostedzone/${id}`,
        };
      },
    },

    GetHostedZone: {
      mutating: false,
      run(context, input) {
        const zone = ownZone(context, readZoneId(context.params, input, 'Id'));
        return {
          HostedZone: hostedZoneShape(zone),
          DelegationSet: zone.privateZone ? undefined : { NameServers: nameServers(zone.id) },
          VPCs: zone.privateZone ? zone.vpcs.map(vpcShape) : undefined,
        };
      },
    },

    GetHostedZoneLimit: {
      mutating: false,
      run(context, input) {
        const { cloud, params } = context;
        const type = params.string(input, 'Type', { required: true });
        const zone = ownZone(context, readZoneId(params, input));
        // GetHostedZoneLimit (Route 53 API reference): MAX_RRSETS_BY_ZONE (10,000 records by default) or
        // MAX_VPCS_ASSOCIATED_BY_ZONE, which only a private zone has (HostedZoneNotPrivate otherwise).
        if (type === 'MAX_RRSETS_BY_ZONE') {
          return { Limit: { Type: type, Value: MAX_RRSETS_PER_ZONE }, Count: RRSETS_PER_NEW_ZONE };
        }
        if (type !== 'MAX_VPCS_ASSOCIATED_BY_ZONE') {
          params.fail(`Type must be MAX_RRSETS_BY_ZONE or MAX_VPCS_ASSOCIATED_BY_ZONE, not ${type}.`);
        }
        if (!zone.privateZone) {
          throw new AwsError(
            'HostedZoneNotPrivate',
            `The hosted zone ${zone.id} is not a private hosted zone.`,
          );
        }
        return {
          Limit: { Type: type, Value: cloud.settings.maxVpcsPerHostedZone },
          Count: zone.vpcs.length,
        };
      },
    },

    CreateVPCAssociationAuthorization: {
      mutating: true,
      run(context, input) {
        const { caller, params } = context;
        const zoneId = readZoneId(params, input);
        const vpc = readVpc(params, input);
        const zone = ownZone(context, zoneId);
        if (!zone.privateZone) {
          params.fail(
            `The hosted zone ${zoneId} is a public hosted zone; only private zones are associated with VPCs.`,
          );
        }
        if (!/^vpc-[0-9a-f]{8,17}$/.test(vpc.VPCId)) {
          throw new AwsError('InvalidVPCId', `The VPC ID '${vpc.VPCId}' is not a valid VPC ID.`);
        }
        if (vpcOwner(context.cloud, vpc) === caller.accountId) {
          params.fail(
            `The VPC ${vpc.VPCId} belongs to account ${caller.accountId}, which owns the hosted zone: associate it directly, no authorization is needed.`,
          );
        }
        if (!zone.authorizations.some((entry) => sameVpc(entry, vpc))) {
          if (zone.authorizations.length >= MAX_AUTHORIZATIONS) {
            throw new AwsError(
              'TooManyVPCAssociationAuthorizations',
              `The hosted zone ${zoneId} already has the maximum of ${MAX_AUTHORIZATIONS} VPC association authorizations.`,
            );
          }
          zone.authorizations.push(vpcShape(vpc));
        }
        return { HostedZoneId: zone.id, VPC: vpcShape(vpc) };
      },
    },

    ListVPCAssociationAuthorizations: {
      mutating: false,
      run(context, input) {
        const { params } = context;
        const zoneId = readZoneId(params, input);
        const maxResults = params.number(input, 'MaxResults', { integer: true, min: 1 }) ?? 50;
        const nextToken = params.string(input, 'NextToken', { max: 1024 });
        const zone = ownZone(context, zoneId);
        const scope = `vpc-authorizations:${zone.id}`;
        const { page, next } = paginate(
          zone.authorizations,
          decodeToken(nextToken, scope, tokens),
          maxResults,
          scope,
        );
        return { HostedZoneId: zone.id, NextToken: next, VPCs: page.map(vpcShape) };
      },
    },

    DeleteVPCAssociationAuthorization: {
      mutating: true,
      run(context, input) {
        const zoneId = readZoneId(context.params, input);
        const vpc = readVpc(context.params, input);
        const zone = ownZone(context, zoneId);
        const index = zone.authorizations.findIndex((entry) => sameVpc(entry, vpc));
        if (index < 0) {
          throw new AwsError(
            'VPCAssociationAuthorizationNotFound',
            `The hosted zone ${zoneId} has no authorization to associate the VPC ${vpc.VPCId} in region ${vpc.VPCRegion}.`,
          );
        }
        zone.authorizations.splice(index, 1);
        return {};
      },
    },

    AssociateVPCWithHostedZone: {
      mutating: true,
      run(context, input) {
        const { cloud, caller, params } = context;
        const zoneId = readZoneId(params, input);
        const vpc = readVpc(params, input);
        const comment = params.string(input, 'Comment');
        requireOwnVpc(context, vpc);
        const zone = anyZone(cloud, zoneId);
        if (!zone) throw noSuchHostedZone(zoneId);
        if (
          zone.ownerAccountId !== caller.accountId &&
          !zone.authorizations.some((entry) => sameVpc(entry, vpc))
        ) {
          throw new AwsError(
            'NotAuthorizedException',
            `User: ${caller.arn} is not authorized to access this resource`,
          );
        }
        if (!zone.privateZone) {
          throw new AwsError(
            'PublicZoneVPCAssociation',
            `The hosted zone ${zoneId} is a public hosted zone; you can't associate a VPC with it.`,
          );
        }
        // AWS answers ConflictingDomainExists both for a repeated association and for a real name clash.
        if (zone.vpcs.some((entry) => sameVpc(entry, vpc))) {
          throw new AwsError(
            'ConflictingDomainExists',
            `The VPC ${vpc.VPCId} in region ${vpc.VPCRegion} is already associated with this hosted zone (${zone.id}).`,
          );
        }
        const conflict = sameNameZoneOn(cloud, vpc, zone.name, zone.id);
        if (conflict) {
          throw new AwsError(
            'ConflictingDomainExists',
            `The VPC ${vpc.VPCId} in region ${vpc.VPCRegion} is already associated with another private hosted zone (${conflict.id}) named ${zone.name}.`,
          );
        }
        // AssociateVPCWithHostedZone answers LimitsExceeded when the zone has MAX_VPCS_ASSOCIATED_BY_ZONE VPCs
        // (SDK model, AssociateVPCWithHostedZone errors; GetHostedZoneLimit).
        if (zone.vpcs.length >= cloud.settings.maxVpcsPerHostedZone) {
          throw new AwsError(
            'LimitsExceeded',
            `The hosted zone ${zone.id} is already associated with the maximum of ${cloud.settings.maxVpcsPerHostedZone} VPCs.`,
          );
        }
        zone.vpcs.push(vpcShape(vpc));
        return { ChangeInfo: changeInfo(cloud, comment) };
      },
    },

    DisassociateVPCFromHostedZone: {
      mutating: true,
      run(context, input) {
        const { cloud, caller, params } = context;
        const zoneId = readZoneId(params, input);
        const vpc = readVpc(params, input);
        const comment = params.string(input, 'Comment');
        const zone = anyZone(cloud, zoneId);
        if (!zone) throw noSuchHostedZone(zoneId);
        // The zone's owner or the VPC's owner may disassociate.
        if (zone.ownerAccountId !== caller.accountId) requireOwnVpc(context, vpc);
        const index = zone.vpcs.findIndex((entry) => sameVpc(entry, vpc));
        if (index < 0) {
          throw new AwsError(
            'VPCAssociationNotFound',
            `The VPC ${vpc.VPCId} in region ${vpc.VPCRegion} is not associated with the hosted zone ${zoneId}.`,
          );
        }
        if (zone.privateZone && zone.vpcs.length === 1) {
          throw new AwsError(
            'LastVPCAssociation',
            `The VPC ${vpc.VPCId} is the last VPC associated with the private hosted zone ${zoneId}; a private zone must keep at least one.`,
          );
        }
        zone.vpcs.splice(index, 1);
        return { ChangeInfo: changeInfo(cloud, comment) };
      },
    },

    /**
     * The caller's own public and private zones "in ASCII order by domain name" (SDK model, ListHostedZonesCommand),
     * at most 100 a page. `Marker` is the id of the first zone of the page; a truncated answer has IsTruncated true
     * and NextMarker, "present only if IsTruncated is true"; `Marker` and `MaxItems` echo the request
     * (ListHostedZonesResponse). `HostedZoneType` has the one value PrivateHostedZone (HostedZoneType enum), which
     * keeps the private zones only. The local cloud has no reusable delegation sets, so a DelegationSetId is
     * NoSuchDelegationSet, as in CreateHostedZone.
     */
    ListHostedZones: {
      mutating: false,
      run(context, input) {
        const { cloud, caller, params } = context;
        const marker = params.string(input, 'Marker', { max: 64 });
        const maxItems = Math.min(params.number(input, 'MaxItems', { integer: true, min: 1 }) ?? 100, 100);
        const delegationSetId = params.string(input, 'DelegationSetId', { max: 32 });
        const type = params.string(input, 'HostedZoneType', { values: ['PrivateHostedZone'] });
        if (delegationSetId !== undefined) {
          throw new AwsError(
            'NoSuchDelegationSet',
            `A reusable delegation set with the ID ${delegationSetId} does not exist.`,
          );
        }
        const zones = Object.values(cloud.state.hostedZones)
          .filter((zone) => zone.ownerAccountId === caller.accountId && (!type || zone.privateZone))
          .sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
        const start = marker === undefined ? 0 : zones.findIndex((zone) => zone.id === marker);
        if (start < 0) {
          params.fail(
            `The marker ${marker} is not the id of a hosted zone of this listing: start again without it.`,
          );
        }
        const page = zones.slice(start, start + maxItems);
        const next = zones[start + maxItems];
        return {
          HostedZones: page.map(hostedZoneShape),
          Marker: marker ?? '',
          IsTruncated: next !== undefined,
          NextMarker: next?.id,
          MaxItems: maxItems,
        };
      },
    },

    ListHostedZonesByVPC: {
      mutating: false,
      run(context, input) {
        const { cloud, params } = context;
        const VPCId = params.string(input, 'VPCId', { required: true, max: 1024 });
        const VPCRegion = params.string(input, 'VPCRegion', {
          required: true,
          min: 1,
          max: 64,
          values: VPC_REGIONS,
        });
        const maxItems = Math.min(params.number(input, 'MaxItems', { integer: true, min: 1 }) ?? 100, 100);
        const nextToken = params.string(input, 'NextToken', { max: 256 });
        const vpc = { VPCRegion, VPCId };
        requireOwnVpc(context, vpc);
        const scope = `zones-by-vpc:${VPCRegion}:${VPCId}`;
        const zones = Object.values(cloud.state.hostedZones)
          .filter((zone) => zone.privateZone && zone.vpcs.some((entry) => sameVpc(entry, vpc)))
          .sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
        const { page, next } = paginate(zones, decodeToken(nextToken, scope, tokens), maxItems, scope);
        return {
          HostedZoneSummaries: page.map((zone) => ({
            HostedZoneId: zone.id,
            Name: zone.name,
            Owner: { OwningAccount: zone.ownerAccountId },
          })),
          MaxItems: maxItems,
          NextToken: next,
        };
      },
    },
  },
};
