import {
  AccessDeniedException,
  AttachPolicyCommand,
  CreateOrganizationalUnitCommand,
  CreatePolicyCommand,
  DeleteOrganizationalUnitCommand,
  DescribeOrganizationalUnitCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  ListTargetsForPolicyCommand,
  OrganizationalUnitNotEmptyException,
  OrganizationalUnitNotFoundException,
  type OrganizationsClient,
  ParentNotFoundException,
} from '@aws-sdk/client-organizations';
import {
  CreateHostedZoneCommand,
  DisassociateVPCFromHostedZoneCommand,
  ListHostedZonesCommand,
  NoSuchDelegationSet,
  type Route53Client,
} from '@aws-sdk/client-route-53';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

/** The everyday operator operations: ListHostedZones, DeleteOrganizationalUnit, and the documented errors of
 * DisassociateVPCFromHostedZone, DescribeOrganizationalUnit and ListChildren not covered elsewhere. */

const SECURITY_ACCOUNT = '111111111111';
const SECURITY: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const SEEDED_ZONE = 'Z0VENDTESTINTERNAL01';

describe('operator operations', () => {
  let t: TestCloud;

  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const securityVpc = () => {
    const vpc = Object.values(t.cloud.state.accounts[SECURITY_ACCOUNT]!.vpcs).find(
      (candidate) => candidate.isDefault,
    )!;
    return { VPCId: vpc.vpcId, VPCRegion: vpc.region as 'us-east-1' };
  };

  describe('Route53 ListHostedZones', () => {
    let route53: Route53Client;

    /** Three zones of the security account, created out of name order: b (public), a (private), c (public). */
    const createZones = async () => {
      const ids: Record<string, string> = {};
      for (const [name, isPrivate] of [
        ['b.example.com', false],
        ['a.example.com', true],
        ['c.example.com', false],
      ] as const) {
        const { HostedZone } = await route53.send(
          new CreateHostedZoneCommand({
            Name: name,
            CallerReference: `ref-${name}`,
            HostedZoneConfig: { PrivateZone: isPrivate, Comment: `zone ${name}` },
            ...(isPrivate ? { VPC: securityVpc() } : {}),
          }),
        );
        ids[name] = HostedZone!.Id!.replace('/hostedzone/', '');
      }
      return ids;
    };

    beforeEach(() => {
      route53 = t.route53(SECURITY);
    });

    it("lists only the caller's own zones, in name order, private ones with PrivateZone true", async () => {
      const ids = await createZones();
      const listed = await route53.send(new ListHostedZonesCommand({}));
      expect(listed.HostedZones).toEqual([
        {
          Id: `/hostedzone/${ids['a.example.com']}`,
          Name: 'a.example.com.',
          CallerReference: 'ref-a.example.com',
          Config: { Comment: 'zone a.example.com', PrivateZone: true },
          ResourceRecordSetCount: 2,
        },
        expect.objectContaining({
          Name: 'b.example.com.',
          Config: expect.objectContaining({ PrivateZone: false }),
        }),
        expect.objectContaining({
          Name: 'c.example.com.',
          Config: expect.objectContaining({ PrivateZone: false }),
        }),
      ]);
      expect(listed).toMatchObject({ IsTruncated: false, MaxItems: 100 });
      expect(listed.NextMarker).toBeUndefined();
      // The network account's seeded zone is not the security account's to see.
      expect(listed.HostedZones!.map((zone) => zone.Id)).not.toContain(`/hostedzone/${SEEDED_ZONE}`);
    });

    it('pages with MaxItems and Marker: IsTruncated and NextMarker, each zone once', async () => {
      const ids = await createZones();
      const first = await route53.send(new ListHostedZonesCommand({ MaxItems: 2 }));
      expect(first.HostedZones!.map((zone) => zone.Name)).toEqual(['a.example.com.', 'b.example.com.']);
      expect(first).toMatchObject({ IsTruncated: true, NextMarker: ids['c.example.com'], MaxItems: 2 });
      const second = await route53.send(
        new ListHostedZonesCommand({ MaxItems: 2, Marker: first.NextMarker! }),
      );
      expect(second.HostedZones!.map((zone) => zone.Name)).toEqual(['c.example.com.']);
      expect(second).toMatchObject({ IsTruncated: false, Marker: ids['c.example.com'], MaxItems: 2 });
      expect(second.NextMarker).toBeUndefined();
    });

    it('caps MaxItems at 100 and refuses MaxItems below 1 with InvalidInput', async () => {
      await createZones();
      expect((await route53.send(new ListHostedZonesCommand({ MaxItems: 500 }))).MaxItems).toBe(100);
      await expect(route53.send(new ListHostedZonesCommand({ MaxItems: 0 }))).rejects.toMatchObject({
        name: 'InvalidInput',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('keeps only the private zones for HostedZoneType PrivateHostedZone', async () => {
      await createZones();
      const listed = await route53.send(new ListHostedZonesCommand({ HostedZoneType: 'PrivateHostedZone' }));
      expect(listed.HostedZones!.map((zone) => zone.Name)).toEqual(['a.example.com.']);
      await expect(
        route53.send(new ListHostedZonesCommand({ HostedZoneType: 'PublicHostedZone' as never })),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
    });

    it("refuses a marker that is not one of the listing's zones with InvalidInput", async () => {
      await createZones();
      await expect(route53.send(new ListHostedZonesCommand({ Marker: SEEDED_ZONE }))).rejects.toMatchObject({
        name: 'InvalidInput',
      });
    });

    it('answers NoSuchDelegationSet for a delegation set, as the local cloud has none', async () => {
      await expect(
        route53.send(new ListHostedZonesCommand({ DelegationSetId: 'N0000000000000000000' })),
      ).rejects.toThrow(NoSuchDelegationSet);
    });

    it('answers on the wire as Route 53 does: HostedZone members, no NextMarker on the last page', async () => {
      // The management account ('test') owns no zone in the seed: give it one, then read the raw answer.
      await t
        .route53()
        .send(new CreateHostedZoneCommand({ Name: 'ops.example.com', CallerReference: 'ops' }));
      const response = await fetch(`${t.local.endpoint}/2013-04-01/hostedzone?maxitems=5`, {
        headers: {
          authorization:
            'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=x',
        },
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain(
        '<ListHostedZonesResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/">',
      );
      expect(text).toMatch(
        /<HostedZones><HostedZone><Id>\/hostedzone\/Z[A-Z0-9]+<\/Id><Name>ops\.example\.com\.<\/Name>/,
      );
      expect(text).toContain('<IsTruncated>false</IsTruncated><MaxItems>5</MaxItems>');
      expect(text).not.toContain('NextMarker');
    });

    it('answers an account without zones with an empty list', async () => {
      const listed = await route53.send(new ListHostedZonesCommand({}));
      expect(listed).toMatchObject({ HostedZones: [], IsTruncated: false });
    });
  });

  describe('Route53 DisassociateVPCFromHostedZone errors', () => {
    it('answers NoSuchHostedZone (404) for an unknown zone', async () => {
      const unknown = new DisassociateVPCFromHostedZoneCommand({
        HostedZoneId: 'ZNOSUCHZONE000000001',
        VPC: securityVpc(),
      });
      await expect(t.route53(SECURITY).send(unknown)).rejects.toMatchObject({
        name: 'NoSuchHostedZone',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('answers InvalidInput for a VPC region Route 53 does not know, and changes nothing', async () => {
      const before = structuredClone(t.cloud.state.hostedZones[SEEDED_ZONE]!.vpcs);
      await expect(
        t.route53(SECURITY).send(
          new DisassociateVPCFromHostedZoneCommand({
            HostedZoneId: SEEDED_ZONE,
            VPC: { VPCId: securityVpc().VPCId, VPCRegion: 'moon-1' as never },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput', $metadata: { httpStatusCode: 400 } });
      expect(t.cloud.state.hostedZones[SEEDED_ZONE]!.vpcs).toEqual(before);
    });
  });

  describe('Organizations DeleteOrganizationalUnit', () => {
    let org: OrganizationsClient;
    let rootId: string;

    const ouNamed = async (parentId: string, name: string) => {
      const { OrganizationalUnits = [] } = await org.send(
        new ListOrganizationalUnitsForParentCommand({ ParentId: parentId }),
      );
      return OrganizationalUnits.find((unit) => unit.Name === name)!.Id!;
    };

    beforeEach(async () => {
      org = t.organizations();
      rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    });

    it('deletes an empty OU with its tags and policy attachments, and records the call', async () => {
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({
          ParentId: rootId,
          Name: 'Retired',
          Tags: [{ Key: 'k', Value: 'v' }],
        }),
      );
      const ouId = OrganizationalUnit!.Id!;
      const { Policy } = await org.send(
        new CreatePolicyCommand({
          Name: 'deny-leave',
          Description: 'no leaving',
          Type: 'SERVICE_CONTROL_POLICY',
          Content: JSON.stringify({
            Version: '2012-10-17',
            Statement: [{ Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' }],
          }),
        }),
      );
      const policyId = Policy!.PolicySummary!.Id!;
      await org.send(new AttachPolicyCommand({ PolicyId: policyId, TargetId: ouId }));
      const sequence = t.cloud.state.auditSequence;

      await expect(
        org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: ouId })),
      ).resolves.toBeDefined();

      await expect(
        org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: ouId })),
      ).rejects.toThrow(OrganizationalUnitNotFoundException);
      const children = await org.send(
        new ListChildrenCommand({ ParentId: rootId, ChildType: 'ORGANIZATIONAL_UNIT' }),
      );
      expect(children.Children!.map((child) => child.Id)).not.toContain(ouId);
      const targets = await org.send(new ListTargetsForPolicyCommand({ PolicyId: policyId }));
      expect(targets.Targets).toEqual([]);
      const fullAccess = await org.send(new ListTargetsForPolicyCommand({ PolicyId: 'p-FullAWSAccess' }));
      expect(fullAccess.Targets!.map((target) => target.TargetId)).not.toContain(ouId);
      expect(t.cloud.state.tags[ouId]).toBeUndefined();
      await expect(org.send(new ListTagsForResourceCommand({ ResourceId: ouId }))).rejects.toMatchObject({
        name: 'TargetNotFoundException',
      });
      const recorded = t.cloud
        .auditSince(sequence - 1)
        .filter((event) => event.eventName === 'DeleteOrganizationalUnit');
      expect(recorded).toEqual([
        expect.objectContaining({
          eventType: 'AwsApiCall',
          eventSource: 'organizations.amazonaws.com',
          recipientAccountId: '000000000000',
          requestParameters: { organizationalUnitId: ouId },
        }),
      ]);
    });

    it('refuses an OU with child OUs or accounts with OrganizationalUnitNotEmptyException, and keeps it', async () => {
      const shared = await ouNamed(rootId, 'Shared');
      const security = await ouNamed(shared, 'Security');
      const sandbox = await ouNamed(rootId, 'Sandbox');
      await org.send(new CreateOrganizationalUnitCommand({ ParentId: sandbox, Name: 'Nested' }));
      for (const ouId of [shared, security, sandbox]) {
        await expect(
          org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: ouId })),
        ).rejects.toThrow(OrganizationalUnitNotEmptyException);
        await expect(
          org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: ouId })),
        ).resolves.toBeDefined();
      }
    });

    it('answers OrganizationalUnitNotFoundException for an unknown or already deleted OU', async () => {
      await expect(
        org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-abcd-12345678' })),
      ).rejects.toThrow(OrganizationalUnitNotFoundException);
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Once' }),
      );
      await org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: OrganizationalUnit!.Id! }));
      await expect(
        org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: OrganizationalUnit!.Id! })),
      ).rejects.toThrow(OrganizationalUnitNotFoundException);
    });

    it('refuses an id that is not an OU id (such as the root) with InvalidInputException', async () => {
      for (const id of [rootId, 'not-an-ou']) {
        await expect(
          org.send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: id })),
        ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_PATTERN' });
      }
    });

    it('answers a member account with AccessDeniedException and deletes nothing', async () => {
      const sandbox = await ouNamed(rootId, 'Sandbox');
      await expect(
        t
          .organizations(SECURITY)
          .send(new DeleteOrganizationalUnitCommand({ OrganizationalUnitId: sandbox })),
      ).rejects.toThrow(AccessDeniedException);
      expect(t.cloud.state.organizationalUnits[sandbox]).toBeDefined();
    });
  });

  describe('Organizations DescribeOrganizationalUnit and ListChildren errors', () => {
    it('DescribeOrganizationalUnit: AccessDeniedException for a member, InvalidInputException for a bad id', async () => {
      const rootId = (await t.organizations().send(new ListRootsCommand({}))).Roots![0]!.Id!;
      const sandbox = Object.values(t.cloud.state.organizationalUnits).find(
        (ou) => ou.name === 'Sandbox',
      )!.id;
      await expect(
        t
          .organizations(SECURITY)
          .send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: sandbox })),
      ).rejects.toThrow(AccessDeniedException);
      await expect(
        t.organizations().send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: rootId })),
      ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_PATTERN' });
    });

    it('ListChildren: ParentNotFoundException, AccessDeniedException for a member, InvalidInputException for a bad id', async () => {
      const org = t.organizations();
      const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
      await expect(
        org.send(new ListChildrenCommand({ ParentId: 'ou-abcd-12345678', ChildType: 'ACCOUNT' })),
      ).rejects.toThrow(ParentNotFoundException);
      await expect(
        t.organizations(SECURITY).send(new ListChildrenCommand({ ParentId: rootId, ChildType: 'ACCOUNT' })),
      ).rejects.toThrow(AccessDeniedException);
      await expect(
        org.send(new ListChildrenCommand({ ParentId: '111111111111', ChildType: 'ACCOUNT' })),
      ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_PATTERN' });
    });
  });
});
