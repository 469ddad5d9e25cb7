import {
  AssociateVPCWithHostedZoneCommand,
  ConflictingDomainExists,
  CreateHostedZoneCommand,
  CreateVPCAssociationAuthorizationCommand,
  DeleteVPCAssociationAuthorizationCommand,
  DisassociateVPCFromHostedZoneCommand,
  GetHostedZoneCommand,
  GetHostedZoneLimitCommand,
  HostedZoneNotPrivate,
  LimitsExceeded,
  ListHostedZonesByVPCCommand,
  ListVPCAssociationAuthorizationsCommand,
  NoSuchHostedZone,
  NotAuthorizedException,
} from '@aws-sdk/client-route-53';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const SECURITY_ACCOUNT = '111111111111';
const NETWORK_ACCOUNT = '222222222222';
const SECURITY: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/';

describe('Route53', () => {
  let t: TestCloud;
  let network: Credentials;

  beforeEach(async () => {
    t = await startTestCloud();
    // Act in the network account the way the pipeline does: the management account assumes the access role.
    const assumed = await t.sts().send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${NETWORK_ACCOUNT}:role/OrganizationAccountAccessRole`,
        RoleSessionName: 'route53-test',
      }),
    );
    network = {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
    };
  });
  afterEach(() => t.close());

  const defaultVpc = (accountId: string) => {
    const vpc = Object.values(t.cloud.state.accounts[accountId]!.vpcs).find(
      (candidate) => candidate.isDefault,
    )!;
    return { VPCId: vpc.vpcId, VPCRegion: vpc.region as 'us-east-1' };
  };
  const seededZoneId = () =>
    Object.values(t.cloud.state.hostedZones).find((zone) => zone.name === 'internal.example.com.')!.id;

  const authorize = (zoneId: string, vpc = defaultVpc(SECURITY_ACCOUNT)) =>
    t.route53(network).send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: zoneId, VPC: vpc }));

  /** A request as the SDK would sign it, for bodies and paths the SDK never sends. */
  const raw = (method: string, path: string, body?: string) =>
    fetch(`${t.local.endpoint}${path}`, {
      method,
      headers: {
        authorization:
          'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/route53/aws4_request, SignedHeaders=host, Signature=x',
        'content-type': 'application/xml',
      },
      ...(body === undefined ? {} : { body }),
    });

  describe('GetHostedZoneLimit and the VPCs-per-zone limit', () => {
    it("reports the zone's VPC limit and count, and refuses an association beyond it with LimitsExceeded", async () => {
      const zoneId = seededZoneId();
      const limit = () =>
        t
          .route53(network)
          .send(new GetHostedZoneLimitCommand({ HostedZoneId: zoneId, Type: 'MAX_VPCS_ASSOCIATED_BY_ZONE' }));
      const before = await limit();
      expect(before.Limit).toEqual({ Type: 'MAX_VPCS_ASSOCIATED_BY_ZONE', Value: 300 });
      expect(before.Count).toBe(t.cloud.state.hostedZones[zoneId]!.vpcs.length);

      t.cloud.settings.maxVpcsPerHostedZone = before.Count!;
      await authorize(zoneId);
      await expect(
        t.route53(SECURITY).send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: zoneId,
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        ),
      ).rejects.toBeInstanceOf(LimitsExceeded);
      expect(await limit()).toMatchObject({ Limit: { Value: before.Count }, Count: before.Count });

      t.cloud.settings.maxVpcsPerHostedZone = before.Count! + 1;
      await t
        .route53(SECURITY)
        .send(
          new AssociateVPCWithHostedZoneCommand({ HostedZoneId: zoneId, VPC: defaultVpc(SECURITY_ACCOUNT) }),
        );
      expect((await limit()).Count).toBe(before.Count! + 1);
    });

    it('answers MAX_RRSETS_BY_ZONE, HostedZoneNotPrivate for a public zone, and InvalidInput for another type', async () => {
      const zoneId = seededZoneId();
      const rrsets = await t
        .route53(network)
        .send(new GetHostedZoneLimitCommand({ HostedZoneId: zoneId, Type: 'MAX_RRSETS_BY_ZONE' }));
      expect(rrsets).toMatchObject({ Limit: { Type: 'MAX_RRSETS_BY_ZONE', Value: 10_000 }, Count: 2 });
      const created = await t
        .route53(SECURITY)
        .send(new CreateHostedZoneCommand({ Name: 'public.example.com', CallerReference: 'public-1' }));
      await expect(
        t.route53(SECURITY).send(
          new GetHostedZoneLimitCommand({
            HostedZoneId: created.HostedZone!.Id!,
            Type: 'MAX_VPCS_ASSOCIATED_BY_ZONE',
          }),
        ),
      ).rejects.toBeInstanceOf(HostedZoneNotPrivate);
      await expect(
        t.route53(network).send(
          new GetHostedZoneLimitCommand({
            HostedZoneId: zoneId,
            Type: 'MAX_ZONES' as 'MAX_RRSETS_BY_ZONE',
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
    });
  });

  describe('CreateHostedZone', () => {
    it('creates a private zone with 201, a Location header and the VPC', async () => {
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      const created = await t.route53(SECURITY).send(
        new CreateHostedZoneCommand({
          Name: 'Corp.Example.com',
          CallerReference: 'ref-1',
          HostedZoneConfig: { Comment: 'security zone', PrivateZone: true },
          VPC: vpc,
        }),
      );
      expect(created.$metadata.httpStatusCode).toBe(201);
      const id = created.HostedZone!.Id!;
      expect(id).toMatch(/^\/hostedzone\/Z[0-9A-Z]{20}$/);
      expect(created.Location).toBe(`https://route53.amazonaws.com/2013-04-01${id}`);
      expect(created.HostedZone).toEqual({
        Id: id,
        Name: 'corp.example.com.',
        CallerReference: 'ref-1',
        Config: { Comment: 'security zone', PrivateZone: true },
        ResourceRecordSetCount: 2,
      });
      expect(created.ChangeInfo).toEqual({
        Id: expect.stringMatching(/^\/change\/C[0-9A-Z]{20}$/),
        Status: 'INSYNC',
        SubmittedAt: new Date(t.clock.now()),
      });
      expect(created.VPC).toEqual(vpc);
      expect(created.DelegationSet).toBeUndefined();

      // The SDK strips the /hostedzone/ prefix from the Id it sends.
      const got = await t.route53(SECURITY).send(new GetHostedZoneCommand({ Id: id }));
      expect(got.HostedZone?.Name).toBe('corp.example.com.');
      expect(got.VPCs).toEqual([vpc]);
    });

    it('creates a public zone with four name servers and no VPCs', async () => {
      const created = await t
        .route53(SECURITY)
        .send(new CreateHostedZoneCommand({ Name: 'public.example.org.', CallerReference: 'ref-public' }));
      expect(created.HostedZone?.Config).toEqual({ PrivateZone: false });
      expect(created.DelegationSet?.NameServers).toHaveLength(4);
      expect(created.VPC).toBeUndefined();
      const got = await t.route53(SECURITY).send(new GetHostedZoneCommand({ Id: created.HostedZone!.Id! }));
      expect(got.DelegationSet?.NameServers).toEqual(created.DelegationSet?.NameServers);
      expect(got.VPCs).toBeUndefined();
    });

    it('refuses a caller reference the account already used with HostedZoneAlreadyExists (409)', async () => {
      const client = t.route53(SECURITY);
      await client.send(new CreateHostedZoneCommand({ Name: 'a.example.com', CallerReference: 'same' }));
      const refused = client.send(
        new CreateHostedZoneCommand({ Name: 'b.example.com', CallerReference: 'same' }),
      );
      await expect(refused).rejects.toMatchObject({
        name: 'HostedZoneAlreadyExists',
        $metadata: { httpStatusCode: 409 },
      });
      // Caller references are per account: another account may reuse it.
      await expect(
        t
          .route53(network)
          .send(new CreateHostedZoneCommand({ Name: 'b.example.com', CallerReference: 'same' })),
      ).resolves.toBeDefined();
    });

    it("refuses another account's VPC with InvalidVPCId and creates nothing", async () => {
      const before = Object.keys(t.cloud.state.hostedZones).length;
      const refused = t.route53(SECURITY).send(
        new CreateHostedZoneCommand({
          Name: 'corp.example.com',
          CallerReference: 'ref-2',
          VPC: defaultVpc(NETWORK_ACCOUNT),
        }),
      );
      await expect(refused).rejects.toMatchObject({
        name: 'InvalidVPCId',
        $metadata: { httpStatusCode: 400 },
      });
      expect(Object.keys(t.cloud.state.hostedZones)).toHaveLength(before);
    });

    it('refuses a second private zone of the same name on the same VPC with ConflictingDomainExists', async () => {
      const refused = t.route53(network).send(
        new CreateHostedZoneCommand({
          Name: 'internal.example.com',
          CallerReference: 'again',
          VPC: defaultVpc(NETWORK_ACCOUNT),
        }),
      );
      await expect(refused).rejects.toThrow(ConflictingDomainExists);
    });

    it('refuses bad input with InvalidInput and bad names with InvalidDomainName', async () => {
      const client = t.route53(SECURITY);
      await expect(
        client.send(
          new CreateHostedZoneCommand({
            Name: 'corp.example.com',
            CallerReference: 'x',
            HostedZoneConfig: { PrivateZone: true },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput', $metadata: { httpStatusCode: 400 } });
      await expect(
        client.send(
          new CreateHostedZoneCommand({ Name: 'corp.example.com', CallerReference: 'r'.repeat(129) }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
      await expect(
        client.send(
          new CreateHostedZoneCommand({
            Name: 'corp.example.com',
            CallerReference: 'y',
            VPC: { VPCId: defaultVpc(SECURITY_ACCOUNT).VPCId },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
      await expect(
        client.send(new CreateHostedZoneCommand({ Name: 'bad..example.com', CallerReference: 'z' })),
      ).rejects.toMatchObject({ name: 'InvalidDomainName' });
    });
  });

  describe('GetHostedZone', () => {
    it('shows the owner its private zone and the associated VPCs', async () => {
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: seededZoneId() }));
      expect(got.HostedZone).toMatchObject({
        Id: `/hostedzone/${seededZoneId()}`,
        Name: 'internal.example.com.',
        Config: { PrivateZone: true },
      });
      expect(got.VPCs).toEqual([defaultVpc(NETWORK_ACCOUNT)]);
    });

    it("answers NoSuchHostedZone (404) for another account's zone and for an unknown id", async () => {
      await expect(
        t.route53(SECURITY).send(new GetHostedZoneCommand({ Id: seededZoneId() })),
      ).rejects.toMatchObject({ name: 'NoSuchHostedZone', $metadata: { httpStatusCode: 404 } });
      await expect(
        t.route53(network).send(new GetHostedZoneCommand({ Id: 'ZNOSUCHZONE0000000000' })),
      ).rejects.toThrow(NoSuchHostedZone);
    });
  });

  describe('VPC association authorizations', () => {
    it('creates an authorization idempotently and lists it', async () => {
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      const created = await authorize(seededZoneId());
      expect(created).toMatchObject({ HostedZoneId: seededZoneId(), VPC: vpc });
      await authorize(seededZoneId());
      const listed = await t
        .route53(network)
        .send(new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: seededZoneId() }));
      expect(listed.HostedZoneId).toBe(seededZoneId());
      expect(listed.VPCs).toEqual([vpc]);
      expect(listed.NextToken).toBeUndefined();
    });

    it('pages the list with MaxResults and NextToken, and refuses a forged token', async () => {
      const vpcs = ['vpc-0000000000000000a', 'vpc-0000000000000000b', 'vpc-0000000000000000c'];
      for (const VPCId of vpcs) await authorize(seededZoneId(), { VPCId, VPCRegion: 'us-east-1' });
      const client = t.route53(network);
      const first = await client.send(
        new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: seededZoneId(), MaxResults: 2 }),
      );
      expect(first.VPCs?.map((vpc) => vpc.VPCId)).toEqual(vpcs.slice(0, 2));
      expect(first.NextToken).toBeDefined();
      const second = await client.send(
        new ListVPCAssociationAuthorizationsCommand({
          HostedZoneId: seededZoneId(),
          MaxResults: 2,
          NextToken: first.NextToken!,
        }),
      );
      expect(second.VPCs?.map((vpc) => vpc.VPCId)).toEqual(vpcs.slice(2));
      expect(second.NextToken).toBeUndefined();
      await expect(
        client.send(
          new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: seededZoneId(), NextToken: 'forged' }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidPaginationToken' });
    });

    it('lets only the zone owner authorize or list', async () => {
      const client = t.route53(SECURITY);
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      await expect(
        client.send(new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: seededZoneId(), VPC: vpc })),
      ).rejects.toMatchObject({ name: 'NoSuchHostedZone' });
      await expect(
        client.send(new ListVPCAssociationAuthorizationsCommand({ HostedZoneId: seededZoneId() })),
      ).rejects.toMatchObject({ name: 'NoSuchHostedZone' });
    });

    it('refuses the 101st authorization with TooManyVPCAssociationAuthorizations', async () => {
      for (let i = 0; i < 100; i++) {
        await authorize(seededZoneId(), {
          VPCId: `vpc-${i.toString(16).padStart(17, '0')}`,
          VPCRegion: 'us-east-1',
        });
      }
      await expect(authorize(seededZoneId())).rejects.toMatchObject({
        name: 'TooManyVPCAssociationAuthorizations',
        $metadata: { httpStatusCode: 400 },
      });
      // Re-authorizing a VPC that is already authorized is still fine.
      await expect(
        authorize(seededZoneId(), { VPCId: `vpc-${'0'.repeat(17)}`, VPCRegion: 'us-east-1' }),
      ).resolves.toBeDefined();
    });

    it('refuses a malformed VPC id with InvalidVPCId', async () => {
      await expect(
        authorize(seededZoneId(), { VPCId: 'not-a-vpc', VPCRegion: 'us-east-1' }),
      ).rejects.toMatchObject({ name: 'InvalidVPCId' });
    });

    it('deletes an authorization, then answers VPCAssociationAuthorizationNotFound (404)', async () => {
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      await authorize(seededZoneId());
      const client = t.route53(network);
      const deleted = await client.send(
        new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: seededZoneId(), VPC: vpc }),
      );
      expect(deleted.$metadata.httpStatusCode).toBe(200);
      await expect(
        client.send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: seededZoneId(), VPC: vpc })),
      ).rejects.toMatchObject({
        name: 'VPCAssociationAuthorizationNotFound',
        $metadata: { httpStatusCode: 404 },
      });
    });
  });

  describe('cross-account association', () => {
    it('follows the documented flow: authorize, associate, delete the authorization', async () => {
      const securityVpc = defaultVpc(SECURITY_ACCOUNT);
      const zoneId = seededZoneId();
      await authorize(zoneId);

      const associated = await t
        .route53(SECURITY)
        .send(
          new AssociateVPCWithHostedZoneCommand({ HostedZoneId: zoneId, VPC: securityVpc, Comment: 'vend' }),
        );
      expect(associated.ChangeInfo).toEqual({
        Id: expect.stringMatching(/^\/change\/C[0-9A-Z]{20}$/),
        Status: 'INSYNC',
        SubmittedAt: new Date(t.clock.now()),
        Comment: 'vend',
      });

      await t
        .route53(network)
        .send(new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: zoneId, VPC: securityVpc }));
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: zoneId }));
      expect(got.VPCs).toEqual([defaultVpc(NETWORK_ACCOUNT), securityVpc]);

      const byVpc = await t.route53(SECURITY).send(new ListHostedZonesByVPCCommand(securityVpc));
      expect(byVpc.HostedZoneSummaries).toEqual([
        { HostedZoneId: zoneId, Name: 'internal.example.com.', Owner: { OwningAccount: NETWORK_ACCOUNT } },
      ]);
      expect(byVpc.NextToken).toBeUndefined();

      const audited = t.cloud
        .auditSince()
        .filter((event) => event.eventSource === 'route53.amazonaws.com')
        .map((event) => [event.eventName, event.recipientAccountId]);
      expect(audited).toEqual([
        ['CreateVPCAssociationAuthorization', NETWORK_ACCOUNT],
        ['AssociateVPCWithHostedZone', SECURITY_ACCOUNT],
        ['DeleteVPCAssociationAuthorization', NETWORK_ACCOUNT],
      ]);
    });

    it('refuses association without an authorization with NotAuthorizedException (401), changing nothing', async () => {
      const refused = t.route53(SECURITY).send(
        new AssociateVPCWithHostedZoneCommand({
          HostedZoneId: seededZoneId(),
          VPC: defaultVpc(SECURITY_ACCOUNT),
        }),
      );
      await expect(refused).rejects.toThrow(NotAuthorizedException);
      await expect(refused).rejects.toMatchObject({ $metadata: { httpStatusCode: 401 } });
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: seededZoneId() }));
      expect(got.VPCs).toEqual([defaultVpc(NETWORK_ACCOUNT)]);
    });

    it('refuses an authorization for another VPC or region with NotAuthorizedException', async () => {
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      await authorize(seededZoneId(), { VPCId: vpc.VPCId, VPCRegion: 'eu-west-1' as 'us-east-1' });
      await expect(
        t
          .route53(SECURITY)
          .send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: seededZoneId(), VPC: vpc })),
      ).rejects.toMatchObject({ name: 'NotAuthorizedException' });
    });

    it('answers ConflictingDomainExists when the VPC is already associated with the zone', async () => {
      await authorize(seededZoneId());
      const client = t.route53(SECURITY);
      const associate = () =>
        client.send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        );
      await associate();
      await expect(associate()).rejects.toMatchObject({
        name: 'ConflictingDomainExists',
        $metadata: { httpStatusCode: 400 },
        message: expect.stringContaining('already associated with this hosted zone'),
      });
    });

    it('answers ConflictingDomainExists when the VPC has another private zone of the same name', async () => {
      const vpc = defaultVpc(SECURITY_ACCOUNT);
      const own = await t
        .route53(SECURITY)
        .send(
          new CreateHostedZoneCommand({ Name: 'internal.example.com', CallerReference: 'own', VPC: vpc }),
        );
      await authorize(seededZoneId());
      const refused = t
        .route53(SECURITY)
        .send(new AssociateVPCWithHostedZoneCommand({ HostedZoneId: seededZoneId(), VPC: vpc }));
      await expect(refused).rejects.toMatchObject({
        name: 'ConflictingDomainExists',
        message: expect.stringContaining(own.HostedZone!.Id!.replace('/hostedzone/', '')),
      });
      // This is how a caller tells the two apart: the VPC's zones name the owner.
      const byVpc = await t.route53(SECURITY).send(new ListHostedZonesByVPCCommand(vpc));
      expect(byVpc.HostedZoneSummaries?.map((zone) => zone.Owner?.OwningAccount)).toEqual([SECURITY_ACCOUNT]);
    });

    it('refuses a VPC the caller does not own with InvalidVPCId and an unknown zone with NoSuchHostedZone', async () => {
      await authorize(seededZoneId());
      const client = t.route53(SECURITY);
      await expect(
        client.send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(NETWORK_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidVPCId' });
      await expect(
        client.send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: 'ZNOSUCHZONE0000000000',
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'NoSuchHostedZone', $metadata: { httpStatusCode: 404 } });
    });

    it('refuses to associate a VPC with a public zone with PublicZoneVPCAssociation', async () => {
      const client = t.route53(SECURITY);
      const created = await client.send(
        new CreateHostedZoneCommand({ Name: 'public.example.org', CallerReference: 'public' }),
      );
      await expect(
        client.send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: created.HostedZone!.Id!,
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'PublicZoneVPCAssociation' });
    });

    it('surfaces an injected PriorRequestNotComplete as its exception', async () => {
      t.cloud.faults.add({
        service: 'route53',
        operation: 'AssociateVPCWithHostedZone',
        error: { code: 'PriorRequestNotComplete' },
        times: 1,
      });
      await authorize(seededZoneId());
      await expect(
        t.route53(SECURITY).send(
          new AssociateVPCWithHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'PriorRequestNotComplete', $metadata: { httpStatusCode: 400 } });
    });
  });

  describe('DisassociateVPCFromHostedZone', () => {
    const associateSecurityVpc = async () => {
      await authorize(seededZoneId());
      await t.route53(SECURITY).send(
        new AssociateVPCWithHostedZoneCommand({
          HostedZoneId: seededZoneId(),
          VPC: defaultVpc(SECURITY_ACCOUNT),
        }),
      );
    };

    it('lets the VPC owner disassociate its VPC', async () => {
      await associateSecurityVpc();
      const done = await t.route53(SECURITY).send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: seededZoneId(),
          VPC: defaultVpc(SECURITY_ACCOUNT),
          Comment: 'bye',
        }),
      );
      expect(done.ChangeInfo).toMatchObject({ Status: 'INSYNC', Comment: 'bye' });
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: seededZoneId() }));
      expect(got.VPCs).toEqual([defaultVpc(NETWORK_ACCOUNT)]);
      const byVpc = await t
        .route53(SECURITY)
        .send(new ListHostedZonesByVPCCommand(defaultVpc(SECURITY_ACCOUNT)));
      expect(byVpc.HostedZoneSummaries).toEqual([]);
    });

    it("lets the zone owner disassociate another account's VPC", async () => {
      await associateSecurityVpc();
      await t.route53(network).send(
        new DisassociateVPCFromHostedZoneCommand({
          HostedZoneId: seededZoneId(),
          VPC: defaultVpc(SECURITY_ACCOUNT),
        }),
      );
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: seededZoneId() }));
      expect(got.VPCs).toEqual([defaultVpc(NETWORK_ACCOUNT)]);
    });

    it('answers VPCAssociationNotFound (404) for a VPC that is not associated', async () => {
      await expect(
        t.route53(SECURITY).send(
          new DisassociateVPCFromHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(SECURITY_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'VPCAssociationNotFound', $metadata: { httpStatusCode: 404 } });
    });

    it('refuses to remove the last VPC of a private zone with LastVPCAssociation', async () => {
      await expect(
        t.route53(network).send(
          new DisassociateVPCFromHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(NETWORK_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'LastVPCAssociation', $metadata: { httpStatusCode: 400 } });
    });

    it('refuses a caller that owns neither the zone nor the VPC with InvalidVPCId', async () => {
      await expect(
        t.route53(SECURITY).send(
          new DisassociateVPCFromHostedZoneCommand({
            HostedZoneId: seededZoneId(),
            VPC: defaultVpc(NETWORK_ACCOUNT),
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidVPCId' });
    });
  });

  describe('ListHostedZonesByVPC', () => {
    it("lists the owner's zones on its VPC, page by page", async () => {
      const vpc = defaultVpc(NETWORK_ACCOUNT);
      const client = t.route53(network);
      await client.send(
        new CreateHostedZoneCommand({ Name: 'a.example.com', CallerReference: 'a', VPC: vpc }),
      );
      const first = await client.send(new ListHostedZonesByVPCCommand({ ...vpc, MaxItems: 1 }));
      expect(first.HostedZoneSummaries?.map((zone) => zone.Name)).toEqual(['a.example.com.']);
      expect(first.MaxItems).toBe(1);
      const second = await client.send(
        new ListHostedZonesByVPCCommand({ ...vpc, MaxItems: 1, NextToken: first.NextToken! }),
      );
      expect(second.HostedZoneSummaries).toEqual([
        {
          HostedZoneId: seededZoneId(),
          Name: 'internal.example.com.',
          Owner: { OwningAccount: NETWORK_ACCOUNT },
        },
      ]);
      expect(second.NextToken).toBeUndefined();
    });

    it("refuses another account's VPC with InvalidVPCId and a bad region with InvalidInput", async () => {
      const client = t.route53(SECURITY);
      await expect(
        client.send(new ListHostedZonesByVPCCommand(defaultVpc(NETWORK_ACCOUNT))),
      ).rejects.toMatchObject({
        name: 'InvalidVPCId',
      });
      await expect(
        client.send(
          new ListHostedZonesByVPCCommand({
            VPCId: defaultVpc(SECURITY_ACCOUNT).VPCId,
            VPCRegion: 'mars-north-1' as 'us-east-1',
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInput' });
    });
  });

  describe('wire protocol', () => {
    it('answers a malformed XML body with 400 InvalidInput and keeps serving', async () => {
      const response = await raw(
        'POST',
        `/2013-04-01/hostedzone/${seededZoneId()}/associatevpc`,
        '<AssociateVPCWithHostedZoneRequest><VPC><VPCId>vpc-1</VPC>',
      );
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(text).toContain(`<ErrorResponse xmlns="${NAMESPACE}">`);
      expect(text).toContain('<Type>Sender</Type><Code>InvalidInput</Code>');
      expect(text).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
      const got = await t.route53(network).send(new GetHostedZoneCommand({ Id: seededZoneId() }));
      expect(got.HostedZone?.Name).toBe('internal.example.com.');
    });

    it('answers a well-formed body missing a required element, or with the wrong root, with InvalidInput', async () => {
      const path = `/2013-04-01/hostedzone/${seededZoneId()}/authorizevpcassociation`;
      const missing = await raw(
        'POST',
        path,
        `<CreateVPCAssociationAuthorizationRequest xmlns="${NAMESPACE}"><VPC><VPCRegion>us-east-1</VPCRegion></VPC></CreateVPCAssociationAuthorizationRequest>`,
      );
      expect(missing.status).toBe(400);
      expect(await missing.text()).toContain('<Code>InvalidInput</Code>');
      const wrongRoot = await raw('POST', path, '<Something><VPC/></Something>');
      expect(wrongRoot.status).toBe(400);
      expect(await wrongRoot.text()).toContain('<Code>InvalidInput</Code>');
      const doctype = await raw(
        'POST',
        path,
        '<!DOCTYPE x [<!ENTITY a "aaaa">]><CreateVPCAssociationAuthorizationRequest/>',
      );
      expect(doctype.status).toBe(400);
      expect(await doctype.text()).toContain('<Code>InvalidInput</Code>');
    });

    it('answers an unknown path with an XML error and 404', async () => {
      const response = await raw('GET', '/2013-04-01/nosuchthing');
      expect(response.status).toBe(404);
      expect(await response.text()).toContain('<Code>UnknownOperationException</Code>');
    });
  });
});
