import { createHash } from 'node:crypto';
import { AwsError } from '../errors.ts';
import { ec2Protocol } from '../protocols/query.ts';
import type { Input, ServiceDefinition } from '../service.ts';
import type { VpcRecord } from '../state.ts';
import { decodeToken, type Params, paginate } from '../validate.ts';
import { requireSubscribed } from './ec2-activation.ts';
import { ebsOperations } from './ec2-ebs.ts';

const VPC_ID = /^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/** A VPC as DescribeVpcs reports it, before serialisation. */
interface VpcView {
  record: VpcRecord;
  ownerId: string;
  dhcpOptionsId: string;
  associationId: string;
}

/**
 * The values a VPC has for each DescribeVpcs filter name (EC2 API reference, DescribeVpcs). VPCs carry no tags
 * and no IPv6 blocks here, so those filters are valid and match nothing.
 */
const FILTERS: Record<string, (vpc: VpcView) => string[]> = {
  'vpc-id': (vpc) => [vpc.record.vpcId],
  'is-default': (vpc) => [String(vpc.record.isDefault)],
  state: () => ['available'],
  cidr: (vpc) => [vpc.record.cidrBlock],
  'cidr-block-association.cidr-block': (vpc) => [vpc.record.cidrBlock],
  'cidr-block-association.association-id': (vpc) => [vpc.associationId],
  'cidr-block-association.state': () => ['associated'],
  'owner-id': (vpc) => [vpc.ownerId],
  'dhcp-options-id': (vpc) => [vpc.dhcpOptionsId],
  'instance-tenancy': () => ['default'],
  'tag-key': () => [],
  'ipv6-cidr-block-association.ipv6-cidr-block': () => [],
  'ipv6-cidr-block-association.ipv6-pool': () => [],
  'ipv6-cidr-block-association.association-id': () => [],
  'ipv6-cidr-block-association.state': () => [],
};

/**
 * Amazon EC2 (EC2 Query), as far as account vending needs it: the VPCs of the caller's account, and those shared
 * into it, in the region the request was signed for. Each account has its default VPC in the cloud's home region only; other regions are
 * empty.
 */
export const ec2: ServiceDefinition = {
  signingName: 'ec2',
  eventSource: 'ec2.amazonaws.com',
  protocol: ec2Protocol('http://ec2.amazonaws.com/doc/2016-11-15/'),
  errorStatus: {
    // EC2 API reference, "Error codes for the Amazon EC2 API": OptInRequired is answered with HTTP 401.
    OptInRequired: 401,
    DryRunOperation: 412,
    UnauthorizedOperation: 403,
  },
  invalid: (message, reason) =>
    new AwsError(
      reason === 'INVALID_NEXT_TOKEN' ? 'InvalidPaginationToken' : 'InvalidParameterValue',
      message,
    ),
  unknownCredentialCode: 'AuthFailure',
  accessDeniedCode: 'UnauthorizedOperation',
  unknownOperationCode: 'InvalidAction',
  operations: {
    DescribeVpcs: {
      mutating: false,
      run({ cloud, caller, region, params }, input) {
        const activation = requireSubscribed(cloud, caller.accountId);
        const vpcIds = params.list(input, 'VpcId').map((entry) => {
          if (typeof entry !== 'string') return params.fail('Each VpcId must be a string.');
          if (!VPC_ID.test(entry)) throw new AwsError('InvalidVpcID.Malformed', `Invalid id: "${entry}"`);
          return entry;
        });
        const filters = readFilters(params, input);
        const maxResults = params.number(input, 'MaxResults', { integer: true });
        const token = params.string(input, 'NextToken');
        const dryRun = params.boolean(input, 'DryRun') ?? false;
        if (maxResults !== undefined && (maxResults < 5 || maxResults > 1000)) {
          params.fail(
            `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
          );
        }
        if (maxResults !== undefined && vpcIds.length > 0) {
          throw new AwsError(
            'InvalidParameterCombination',
            'The parameter vpcIdSet cannot be used with the parameter maxResults',
          );
        }
        if (dryRun) {
          throw new AwsError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
        }

        // A participant of a shared VPC sees it with the owner's OwnerId (VPC User Guide, "Share your VPC with
        // other accounts"; DescribeVpcs' owner-id filter).
        const visible = Object.values(cloud.state.accounts).flatMap((owner) =>
          Object.values(owner.vpcs)
            .filter(
              (vpc) => owner.id === caller.accountId || (vpc.sharedWith ?? []).includes(caller.accountId),
            )
            .map((vpc) => ({ vpc, ownerId: owner.id })),
        );
        const views = visible
          .filter(({ vpc }) => vpc.region === region && !(vpc.isDefault && activation === 'no-default-vpc'))
          .sort((a, b) => a.vpc.vpcId.localeCompare(b.vpc.vpcId))
          .map(({ vpc, ownerId }) => view(vpc, ownerId, region));
        if (vpcIds.length > 0) {
          const known = new Set(views.map((vpc) => vpc.record.vpcId));
          const missing = [...new Set(vpcIds)].filter((id) => !known.has(id));
          if (missing.length === 1)
            throw new AwsError('InvalidVpcID.NotFound', `The vpc ID '${missing[0]}' does not exist`);
          if (missing.length > 1)
            throw new AwsError('InvalidVpcID.NotFound', `The vpc IDs '${missing.join(', ')}' do not exist`);
        }
        const matching = views.filter(
          (vpc) =>
            (vpcIds.length === 0 || vpcIds.includes(vpc.record.vpcId)) &&
            filters.every((filter) => filter.test(vpc)),
        );

        const scope = `${caller.accountId}/${region}/vpcs`;
        const { page, next } = paginate(
          matching,
          decodeToken(token, scope, params),
          maxResults ?? 1000,
          scope,
        );
        return {
          vpcSet: page.map((vpc) => ({
            ownerId: vpc.ownerId,
            instanceTenancy: 'default',
            cidrBlockAssociationSet: [
              {
                associationId: vpc.associationId,
                cidrBlock: vpc.record.cidrBlock,
                cidrBlockState: { state: 'associated' },
              },
            ],
            isDefault: vpc.record.isDefault,
            // AWS leaves tagSet out for a VPC without tags, and VPCs have none here.
            blockPublicAccessStates: { internetGatewayBlockMode: 'off' },
            vpcId: vpc.record.vpcId,
            state: 'available',
            cidrBlock: vpc.record.cidrBlock,
            dhcpOptionsId: vpc.dhcpOptionsId,
          })),
          ...(next ? { nextToken: next } : {}),
        };
      },
    },
    ...ebsOperations,
  },
};

/** Ids derived from the VPC's account and region, so they stay the same across calls and restarts. */
function view(record: VpcRecord, ownerId: string, region: string): VpcView {
  const digest = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 17);
  return {
    record,
    ownerId,
    dhcpOptionsId: `dopt-${digest(`${ownerId}/${region}/dhcp`)}`,
    associationId: `vpc-cidr-assoc-${digest(`${record.vpcId}/${record.cidrBlock}`)}`,
  };
}

/** `Filter.N.Name` / `Filter.N.Value.M`: filters are ANDed, the values of one filter ORed, `*` and `?` wildcards. */
function readFilters(params: Params, input: Input): { test(vpc: VpcView): boolean }[] {
  return params.list(input, 'Filter').map((entry) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      return params.fail('Each Filter must be a structure with Name and Value.');
    const filter = entry as Input;
    const name = params.string(filter, 'Name', { required: true });
    const raw = filter.Value;
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    if (values.some((value) => typeof value !== 'string'))
      params.fail(`The values of filter '${name}' must be strings.`);
    const patterns = (values as string[]).map(wildcard);
    const tag = name.startsWith('tag:') && name.length > 4;
    const valuesOf = tag ? () => [] : Object.hasOwn(FILTERS, name) ? FILTERS[name] : undefined;
    if (!valuesOf) params.fail(`The filter '${name}' is invalid`);
    return {
      test: (vpc: VpcView) => valuesOf(vpc).some((value) => patterns.some((pattern) => pattern.test(value))),
    };
  });
}

/** An EC2 filter value as a regular expression: `*` any run, `?` one character, backslash escapes. */
function wildcard(value: string): RegExp {
  let source = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i] as string;
    if (char === '\\' && i + 1 < value.length) {
      source += escapeRegExp(value[++i] as string);
    } else if (char === '*') {
      source += '.*';
    } else if (char === '?') {
      source += '.';
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`, 's');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
