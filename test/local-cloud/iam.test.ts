import {
  AttachRolePolicyCommand,
  CreateAccountAliasCommand,
  CreateRoleCommand,
  DeleteAccountAliasCommand,
  DeleteAccountPasswordPolicyCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  EntityAlreadyExistsException,
  GetAccountPasswordPolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  LimitExceededException,
  ListAccountAliasesCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAccountPasswordPolicyCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateRoleCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AWS_MANAGED_POLICIES } from '../../local/cloud/services/iam-policies.ts';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const SECURITY: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'x' };

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::000000000000:root' },
      Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'a b&c=d/é' } },
    },
  ],
});

const READ_BUCKET = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::bucket/*' }],
});

const ADMIN_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
const VIEW_ONLY = 'arn:aws:iam::aws:policy/job-function/ViewOnlyAccess';

describe('IAM', () => {
  let t: TestCloud;
  let iam: IAMClient;
  beforeEach(async () => {
    t = await startTestCloud();
    iam = t.iam();
  });
  afterEach(() => t.close());

  const createRole = (
    name: string,
    extra: Partial<ConstructorParameters<typeof CreateRoleCommand>[0]> = {},
  ) => iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST, ...extra }));

  describe('roles', () => {
    it('creates a role and returns it in the shape AWS does', async () => {
      const created = await createRole('Deployer', {
        Path: '/vend/',
        Description: 'Deploys things',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'platform' }],
      });
      expect(created.Role).toMatchObject({
        Path: '/vend/',
        RoleName: 'Deployer',
        Arn: 'arn:aws:iam::000000000000:role/vend/Deployer',
        Description: 'Deploys things',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'platform' }],
      });
      expect(created.Role?.RoleId).toMatch(/^AROA[A-Z0-9]{17}$/);
      expect(created.Role?.CreateDate).toEqual(new Date(t.clock.now()));

      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'Deployer' }));
      expect(Role).toMatchObject({
        Path: '/vend/',
        RoleName: 'Deployer',
        RoleId: created.Role?.RoleId,
        Arn: 'arn:aws:iam::000000000000:role/vend/Deployer',
        Description: 'Deploys things',
        MaxSessionDuration: 7200,
        Tags: [{ Key: 'team', Value: 'platform' }],
        RoleLastUsed: {},
      });
      expect(Role?.CreateDate).toBeInstanceOf(Date);
    });

    it('sends the trust policy URL-encoded, and it decodes to the document given', async () => {
      await createRole('Encoded');
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'Encoded' }));
      expect(Role?.AssumeRolePolicyDocument).toBe(encodeURIComponent(TRUST));
      expect(Role?.AssumeRolePolicyDocument).not.toContain('{');
      expect(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).toBe(TRUST);
    });

    it('defaults Path to / and MaxSessionDuration to one hour', async () => {
      const { Role } = await createRole('Plain');
      expect(Role).toMatchObject({
        Path: '/',
        Arn: 'arn:aws:iam::000000000000:role/Plain',
        MaxSessionDuration: 3600,
      });
      expect(Role?.Description).toBeUndefined();
      expect(Role?.Tags).toBeUndefined();
    });

    it('refuses a second role of the same name, whatever its case', async () => {
      await createRole('Deployer');
      await expect(createRole('Deployer')).rejects.toThrow(EntityAlreadyExistsException);
      await expect(createRole('DEPLOYER')).rejects.toMatchObject({
        name: 'EntityAlreadyExistsException',
        $metadata: { httpStatusCode: 409 },
      });
    });

    it.each([
      ['invalid JSON', '{"Statement": [', 'This policy contains invalid Json'],
      ['no Statement', JSON.stringify({ Version: '2012-10-17' }), 'Syntax errors in policy.'],
      [
        'a Resource in a trust policy',
        JSON.stringify({
          Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole', Resource: '*' }],
        }),
        'Has prohibited field Resource',
      ],
      [
        'no Principal in a trust policy',
        JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole' }] }),
        'Missing required field Principal',
      ],
    ])('refuses a trust policy with %s as MalformedPolicyDocument', async (_, document, message) => {
      await expect(createRole('Broken', { AssumeRolePolicyDocument: document })).rejects.toMatchObject({
        name: 'MalformedPolicyDocumentException',
        message,
        $metadata: { httpStatusCode: 400 },
      });
      await expect(iam.send(new GetRoleCommand({ RoleName: 'Broken' }))).rejects.toThrow(
        NoSuchEntityException,
      );
    });

    it.each([
      ['a name with a space', { RoleName: 'bad name' }],
      ['a name over 64 characters', { RoleName: 'r'.repeat(65) }],
      ['a path that does not end with /', { Path: '/vend' }],
      ['a session duration under an hour', { MaxSessionDuration: 1800 }],
      ['a session duration over 12 hours', { MaxSessionDuration: 43_201 }],
      ['a description over 1000 characters', { Description: 'd'.repeat(1001) }],
      ['more than 50 tags', { Tags: Array.from({ length: 51 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) }],
      ['no trust policy', { AssumeRolePolicyDocument: undefined }],
    ])('refuses %s as a validation error', async (_, extra) => {
      await expect(createRole('Valid', extra)).rejects.toMatchObject({
        name: 'ValidationError',
        $metadata: { httpStatusCode: 400 },
      });
      await expect(iam.send(new ListRolesCommand({ PathPrefix: '/' }))).resolves.toMatchObject({
        Roles: [],
      });
    });

    it('refuses tag keys that repeat regardless of case as InvalidInput', async () => {
      await expect(
        createRole('Tagged', {
          Tags: [
            { Key: 'Team', Value: 'a' },
            { Key: 'team', Value: 'b' },
          ],
        }),
      ).rejects.toMatchObject({ name: 'InvalidInputException' });
    });

    it('refuses a trust policy over the 2048 character quota as LimitExceeded', async () => {
      const big = JSON.stringify({
        Version: '2012-10-17',
        Statement: Array.from({ length: 30 }, (_, i) => ({
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${String(i).padStart(12, '1')}:root` },
          Action: 'sts:AssumeRole',
        })),
      });
      await expect(createRole('Big', { AssumeRolePolicyDocument: big })).rejects.toThrow(
        LimitExceededException,
      );
    });

    it('says NoSuchEntity with status 404 for a role that does not exist', async () => {
      await expect(iam.send(new GetRoleCommand({ RoleName: 'Nobody' }))).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The role with name Nobody cannot be found.',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('deletes a role without policies', async () => {
      await createRole('Temporary');
      await expect(iam.send(new DeleteRoleCommand({ RoleName: 'Temporary' }))).resolves.toBeDefined();
      await expect(iam.send(new GetRoleCommand({ RoleName: 'Temporary' }))).rejects.toThrow(
        NoSuchEntityException,
      );
      await expect(iam.send(new DeleteRoleCommand({ RoleName: 'Temporary' }))).rejects.toThrow(
        NoSuchEntityException,
      );
    });

    it('refuses to delete a role that still has attached or inline policies', async () => {
      await createRole('Busy');
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Busy', PolicyArn: ADMIN_POLICY }));
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Busy', PolicyName: 'read', PolicyDocument: READ_BUCKET }),
      );
      await expect(iam.send(new DeleteRoleCommand({ RoleName: 'Busy' }))).rejects.toMatchObject({
        name: 'DeleteConflictException',
        message: 'Cannot delete entity, must detach all policies first.',
        $metadata: { httpStatusCode: 409 },
      });
      await iam.send(new DetachRolePolicyCommand({ RoleName: 'Busy', PolicyArn: ADMIN_POLICY }));
      const inlineLeft = iam.send(new DeleteRoleCommand({ RoleName: 'Busy' }));
      await expect(inlineLeft).rejects.toThrow(DeleteConflictException);
      await expect(inlineLeft).rejects.toThrow('Cannot delete entity, must delete policies first.');
      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'Busy', PolicyName: 'read' }));
      await iam.send(new DeleteRoleCommand({ RoleName: 'Busy' }));
      await expect(iam.send(new GetRoleCommand({ RoleName: 'Busy' }))).rejects.toThrow(NoSuchEntityException);
    });

    it('replaces the trust policy', async () => {
      await createRole('Trusting');
      const next = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:root' }, Action: 'sts:AssumeRole' },
        ],
      });
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Trusting', PolicyDocument: next }));
      const { Role } = await iam.send(new GetRoleCommand({ RoleName: 'Trusting' }));
      expect(decodeURIComponent(Role!.AssumeRolePolicyDocument!)).toBe(next);

      await expect(
        iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Trusting', PolicyDocument: 'not json' })),
      ).rejects.toThrow(MalformedPolicyDocumentException);
      await expect(
        iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: 'Nobody', PolicyDocument: next })),
      ).rejects.toThrow(NoSuchEntityException);
      const after = await iam.send(new GetRoleCommand({ RoleName: 'Trusting' }));
      expect(decodeURIComponent(after.Role!.AssumeRolePolicyDocument!)).toBe(next);
    });

    it('updates the description and the maximum session; a maximum session left out is reset to one hour', async () => {
      await createRole('Updated', { Description: 'before', MaxSessionDuration: 7200 });
      await iam.send(
        new UpdateRoleCommand({ RoleName: 'Updated', Description: 'after', MaxSessionDuration: 7200 }),
      );
      expect((await iam.send(new GetRoleCommand({ RoleName: 'Updated' }))).Role).toMatchObject({
        Description: 'after',
        MaxSessionDuration: 7200,
      });
      await iam.send(new UpdateRoleCommand({ RoleName: 'Updated', MaxSessionDuration: 10_800 }));
      expect((await iam.send(new GetRoleCommand({ RoleName: 'Updated' }))).Role).toMatchObject({
        Description: 'after',
        MaxSessionDuration: 10_800,
      });
      await iam.send(new UpdateRoleCommand({ RoleName: 'Updated', Description: 'only the description' }));
      expect((await iam.send(new GetRoleCommand({ RoleName: 'Updated' }))).Role).toMatchObject({
        Description: 'only the description',
        MaxSessionDuration: 3600,
      });

      await expect(
        iam.send(new UpdateRoleCommand({ RoleName: 'Updated', MaxSessionDuration: 60 })),
      ).rejects.toMatchObject({ name: 'ValidationError' });
      await expect(iam.send(new UpdateRoleCommand({ RoleName: 'Nobody', Description: 'x' }))).rejects.toThrow(
        NoSuchEntityException,
      );
    });

    it('tags a role (a key already there, whatever its case, takes the new value), lists and removes its tags', async () => {
      await createRole('Tagged', { Tags: [{ Key: 'team', Value: 'platform' }] });
      await iam.send(
        new TagRoleCommand({
          RoleName: 'Tagged',
          Tags: [
            { Key: 'TEAM', Value: 'payments' },
            { Key: 'vend:managed', Value: 'true' },
          ],
        }),
      );
      const listed = await iam.send(new ListRoleTagsCommand({ RoleName: 'Tagged' }));
      expect(listed.Tags).toEqual([
        { Key: 'TEAM', Value: 'payments' },
        { Key: 'vend:managed', Value: 'true' },
      ]);
      expect(listed.IsTruncated).toBe(false);
      expect((await iam.send(new GetRoleCommand({ RoleName: 'Tagged' }))).Role?.Tags).toEqual(listed.Tags);

      await iam.send(new UntagRoleCommand({ RoleName: 'Tagged', TagKeys: ['team'] }));
      expect((await iam.send(new ListRoleTagsCommand({ RoleName: 'Tagged' }))).Tags).toEqual([
        { Key: 'vend:managed', Value: 'true' },
      ]);

      const many = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      await expect(iam.send(new TagRoleCommand({ RoleName: 'Tagged', Tags: many }))).rejects.toThrow(
        LimitExceededException,
      );
      await expect(
        iam.send(new TagRoleCommand({ RoleName: 'Nobody', Tags: [{ Key: 'a', Value: 'b' }] })),
      ).rejects.toThrow(NoSuchEntityException);
    });
  });

  describe('listing roles', () => {
    it('pages through 25 roles ten at a time, returning each exactly once', async () => {
      const names = Array.from({ length: 25 }, (_, i) => `paged-${String(i).padStart(2, '0')}`);
      for (const name of names) await createRole(name, { Path: '/paged/' });
      await createRole('elsewhere', { Path: '/other/' });

      const seen: string[] = [];
      const sizes: number[] = [];
      let marker: string | undefined;
      do {
        const page = await iam.send(
          new ListRolesCommand({ PathPrefix: '/paged/', MaxItems: 10, Marker: marker }),
        );
        sizes.push(page.Roles?.length ?? 0);
        seen.push(...(page.Roles ?? []).map((role) => role.RoleName!));
        expect(page.IsTruncated).toBe(page.Marker !== undefined);
        marker = page.Marker;
      } while (marker);

      expect(sizes).toEqual([10, 10, 5]);
      expect(seen).toEqual(names);
    });

    it('lists roles with their trust policy but without tags or last use', async () => {
      await createRole('Listed', { Tags: [{ Key: 'a', Value: 'b' }], Description: 'listed' });
      const { Roles, IsTruncated, Marker } = await iam.send(new ListRolesCommand({}));
      expect(IsTruncated).toBe(false);
      expect(Marker).toBeUndefined();
      expect(Roles).toHaveLength(1);
      expect(Roles?.[0]).toMatchObject({
        RoleName: 'Listed',
        Path: '/',
        Arn: 'arn:aws:iam::000000000000:role/Listed',
        AssumeRolePolicyDocument: encodeURIComponent(TRUST),
        Description: 'listed',
        MaxSessionDuration: 3600,
      });
      expect(Roles?.[0]?.Tags).toBeUndefined();
      expect(Roles?.[0]?.RoleLastUsed).toBeUndefined();
    });

    it('refuses an out-of-range MaxItems and a marker it did not issue', async () => {
      await expect(iam.send(new ListRolesCommand({ MaxItems: 1001 }))).rejects.toMatchObject({
        name: 'ValidationError',
      });
      await expect(iam.send(new ListRolesCommand({ Marker: 'garbage' }))).rejects.toMatchObject({
        name: 'ValidationError',
      });
    });
  });

  describe('inline policies', () => {
    beforeEach(() => createRole('Worker'));

    it('puts, reads, replaces, lists and deletes an inline policy', async () => {
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read', PolicyDocument: READ_BUCKET }),
      );
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read' }));
      expect(got).toMatchObject({ RoleName: 'Worker', PolicyName: 'read' });
      expect(got.PolicyDocument).toBe(encodeURIComponent(READ_BUCKET));
      expect(decodeURIComponent(got.PolicyDocument!)).toBe(READ_BUCKET);

      const wider = READ_BUCKET.replace('s3:GetObject', 's3:*');
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read', PolicyDocument: wider }),
      );
      const replaced = await iam.send(new GetRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read' }));
      expect(decodeURIComponent(replaced.PolicyDocument!)).toBe(wider);

      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'another', PolicyDocument: READ_BUCKET }),
      );
      const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: 'Worker' }));
      expect(listed).toMatchObject({ PolicyNames: ['another', 'read'], IsTruncated: false });

      await iam.send(new DeleteRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read' }));
      await expect(
        iam.send(new GetRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read' })),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The role policy with name read cannot be found.',
      });
      await expect(
        iam.send(new DeleteRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'read' })),
      ).rejects.toThrow(NoSuchEntityException);
      expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'Worker' }))).PolicyNames).toEqual([
        'another',
      ]);
    });

    it('pages through inline policy names', async () => {
      for (const name of ['a', 'b', 'c']) {
        await iam.send(
          new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: name, PolicyDocument: READ_BUCKET }),
        );
      }
      const first = await iam.send(new ListRolePoliciesCommand({ RoleName: 'Worker', MaxItems: 2 }));
      expect(first).toMatchObject({ PolicyNames: ['a', 'b'], IsTruncated: true });
      const second = await iam.send(
        new ListRolePoliciesCommand({ RoleName: 'Worker', MaxItems: 2, Marker: first.Marker }),
      );
      expect(second).toMatchObject({ PolicyNames: ['c'], IsTruncated: false });
      expect(second.Marker).toBeUndefined();
    });

    it.each([
      ['a principal', { Principal: '*' }, 'Policy document should not specify a principal.'],
      ['no resource', { Resource: undefined }, 'Policy statement must contain resources.'],
      ['no action', { Action: undefined }, 'Policy statement must contain actions.'],
    ])('refuses an identity policy with %s', async (_, change, message) => {
      const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', ...change };
      await expect(
        iam.send(
          new PutRolePolicyCommand({
            RoleName: 'Worker',
            PolicyName: 'bad',
            PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [statement] }),
          }),
        ),
      ).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException', message });
    });

    it('refuses inline policies beyond the 10240 character quota per role', async () => {
      const large = (n: number) =>
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'x'.repeat(n)}` }],
        });
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'one', PolicyDocument: large(6000) }),
      );
      await expect(
        iam.send(
          new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'two', PolicyDocument: large(6000) }),
        ),
      ).rejects.toThrow(LimitExceededException);
      // Replacing a policy counts the new text instead of the old.
      await iam.send(
        new PutRolePolicyCommand({ RoleName: 'Worker', PolicyName: 'one', PolicyDocument: large(9000) }),
      );
    });

    it('says NoSuchEntity for a role that does not exist and refuses a bad policy name', async () => {
      await expect(
        iam.send(
          new PutRolePolicyCommand({ RoleName: 'Nobody', PolicyName: 'p', PolicyDocument: READ_BUCKET }),
        ),
      ).rejects.toThrow(NoSuchEntityException);
      await expect(iam.send(new ListRolePoliciesCommand({ RoleName: 'Nobody' }))).rejects.toThrow(
        NoSuchEntityException,
      );
      await expect(
        iam.send(
          new PutRolePolicyCommand({
            RoleName: 'Worker',
            PolicyName: 'no spaces',
            PolicyDocument: READ_BUCKET,
          }),
        ),
      ).rejects.toMatchObject({ name: 'ValidationError' });
    });
  });

  describe('managed policy attachments', () => {
    beforeEach(() => createRole('Operator'));
    const attached = async (extra: { PathPrefix?: string } = {}) =>
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'Operator', ...extra })))
        .AttachedPolicies;

    it('attaches, lists and detaches AWS managed policies', async () => {
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: ADMIN_POLICY }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: VIEW_ONLY }));
      const listed = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'Operator' }));
      expect(listed).toMatchObject({
        AttachedPolicies: [
          { PolicyName: 'AdministratorAccess', PolicyArn: ADMIN_POLICY },
          { PolicyName: 'ViewOnlyAccess', PolicyArn: VIEW_ONLY },
        ],
        IsTruncated: false,
      });
      expect(await attached({ PathPrefix: '/job-function/' })).toEqual([
        { PolicyName: 'ViewOnlyAccess', PolicyArn: VIEW_ONLY },
      ]);

      await iam.send(new DetachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: ADMIN_POLICY }));
      expect(await attached()).toEqual([{ PolicyName: 'ViewOnlyAccess', PolicyArn: VIEW_ONLY }]);
    });

    it('treats attaching an attached policy as success', async () => {
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: ADMIN_POLICY }));
      await iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: ADMIN_POLICY }));
      expect(await attached()).toEqual([{ PolicyName: 'AdministratorAccess', PolicyArn: ADMIN_POLICY }]);
    });

    it('says NoSuchEntity for unknown and customer managed policies', async () => {
      await expect(
        iam.send(
          new AttachRolePolicyCommand({
            RoleName: 'Operator',
            PolicyArn: 'arn:aws:iam::aws:policy/MadeUpAccess',
          }),
        ),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'Policy arn:aws:iam::aws:policy/MadeUpAccess does not exist or is not attachable.',
      });
      await expect(
        iam.send(
          new AttachRolePolicyCommand({
            RoleName: 'Operator',
            PolicyArn: 'arn:aws:iam::000000000000:policy/Mine',
          }),
        ),
      ).rejects.toThrow(NoSuchEntityException);
      await expect(
        iam.send(new AttachRolePolicyCommand({ RoleName: 'Nobody', PolicyArn: ADMIN_POLICY })),
      ).rejects.toThrow(NoSuchEntityException);
      expect(await attached()).toEqual([]);
    });

    it('refuses a policy ARN that is not an ARN as InvalidInput', async () => {
      await expect(
        iam.send(
          new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: 'AdministratorAccess-policy' }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    });

    it('says NoSuchEntity when detaching a policy that is not attached', async () => {
      await expect(
        iam.send(new DetachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: ADMIN_POLICY })),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: `Policy ${ADMIN_POLICY} was not found.`,
      });
    });

    it('refuses an eleventh managed policy as LimitExceeded', async () => {
      const arns = [...AWS_MANAGED_POLICIES.keys()];
      for (const arn of arns.slice(0, 10)) {
        await iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: arn }));
      }
      await expect(
        iam.send(new AttachRolePolicyCommand({ RoleName: 'Operator', PolicyArn: arns[10] })),
      ).rejects.toMatchObject({
        name: 'LimitExceededException',
        message: 'Cannot exceed quota for PoliciesPerRole: 10',
        $metadata: { httpStatusCode: 409 },
      });
      expect(await attached()).toHaveLength(10);

      const first = await iam.send(
        new ListAttachedRolePoliciesCommand({ RoleName: 'Operator', MaxItems: 4 }),
      );
      const rest = await iam.send(
        new ListAttachedRolePoliciesCommand({ RoleName: 'Operator', Marker: first.Marker }),
      );
      expect(first.IsTruncated).toBe(true);
      const arnsListed = [...(first.AttachedPolicies ?? []), ...(rest.AttachedPolicies ?? [])].map(
        (policy) => policy.PolicyArn,
      );
      expect(arnsListed.toSorted()).toEqual(arns.slice(0, 10).toSorted());
    });
  });

  describe('account password policy', () => {
    it('says NoSuchEntity before a policy is set', async () => {
      await expect(iam.send(new GetAccountPasswordPolicyCommand({}))).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The Password Policy with domain name 000000000000 cannot be found.',
      });
      await expect(iam.send(new DeleteAccountPasswordPolicyCommand({}))).rejects.toThrow(
        NoSuchEntityException,
      );
    });

    it('sets the whole policy on each update, with AWS defaults for fields left out', async () => {
      await iam.send(
        new UpdateAccountPasswordPolicyCommand({
          MinimumPasswordLength: 14,
          RequireSymbols: true,
          RequireNumbers: true,
          RequireUppercaseCharacters: true,
          RequireLowercaseCharacters: true,
          AllowUsersToChangePassword: true,
          MaxPasswordAge: 90,
          PasswordReusePrevention: 24,
          HardExpiry: false,
        }),
      );
      expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy).toEqual({
        MinimumPasswordLength: 14,
        RequireSymbols: true,
        RequireNumbers: true,
        RequireUppercaseCharacters: true,
        RequireLowercaseCharacters: true,
        AllowUsersToChangePassword: true,
        ExpirePasswords: true,
        MaxPasswordAge: 90,
        PasswordReusePrevention: 24,
        HardExpiry: false,
      });

      await iam.send(new UpdateAccountPasswordPolicyCommand({ RequireNumbers: true }));
      expect((await iam.send(new GetAccountPasswordPolicyCommand({}))).PasswordPolicy).toEqual({
        MinimumPasswordLength: 6,
        RequireSymbols: false,
        RequireNumbers: true,
        RequireUppercaseCharacters: false,
        RequireLowercaseCharacters: false,
        AllowUsersToChangePassword: false,
        ExpirePasswords: false,
      });
    });

    it('deletes the policy', async () => {
      await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 12 }));
      await iam.send(new DeleteAccountPasswordPolicyCommand({}));
      await expect(iam.send(new GetAccountPasswordPolicyCommand({}))).rejects.toThrow(NoSuchEntityException);
    });

    it.each([
      ['MinimumPasswordLength', 5],
      ['MinimumPasswordLength', 129],
      ['MaxPasswordAge', 0],
      ['MaxPasswordAge', 1096],
      ['PasswordReusePrevention', 25],
    ])('refuses %s %d as a validation error and keeps the old policy', async (name, value) => {
      await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 12 }));
      await expect(iam.send(new UpdateAccountPasswordPolicyCommand({ [name]: value }))).rejects.toMatchObject(
        {
          name: 'ValidationError',
        },
      );
      const { PasswordPolicy } = await iam.send(new GetAccountPasswordPolicyCommand({}));
      expect(PasswordPolicy?.MinimumPasswordLength).toBe(12);
    });

    it('keeps each account its own policy', async () => {
      await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 20 }));
      await expect(t.iam(SECURITY).send(new GetAccountPasswordPolicyCommand({}))).rejects.toThrow(
        NoSuchEntityException,
      );
    });
  });

  describe('account alias', () => {
    const aliases = async (client: IAMClient) =>
      (await client.send(new ListAccountAliasesCommand({}))).AccountAliases;

    it('creates, replaces, lists and deletes the account alias', async () => {
      expect(await iam.send(new ListAccountAliasesCommand({}))).toMatchObject({
        AccountAliases: [],
        IsTruncated: false,
      });
      await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-management' }));
      expect(await aliases(iam)).toEqual(['acme-management']);
      // Re-creating the account's own alias succeeds.
      await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-management' }));
      await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-root' }));
      expect(await aliases(iam)).toEqual(['acme-root']);
      expect(t.cloud.state.accountAliases).toEqual({ 'acme-root': '000000000000' });

      await expect(
        iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'acme-management' })),
      ).rejects.toMatchObject({
        name: 'NoSuchEntityException',
        message: 'The account alias acme-management cannot be found.',
      });
      await iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'acme-root' }));
      expect(await aliases(iam)).toEqual([]);
    });

    it('keeps aliases unique across accounts', async () => {
      const security = t.iam(SECURITY);
      await security.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-security' }));
      expect(await aliases(security)).toEqual(['acme-security']);
      expect(await aliases(iam)).toEqual([]);

      await expect(
        iam.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-security' })),
      ).rejects.toMatchObject({
        name: 'EntityAlreadyExistsException',
        message: 'The account alias acme-security already exists.',
        $metadata: { httpStatusCode: 409 },
      });
      await expect(
        iam.send(new DeleteAccountAliasCommand({ AccountAlias: 'acme-security' })),
      ).rejects.toThrow(NoSuchEntityException);
      expect(await aliases(security)).toEqual(['acme-security']);

      await security.send(new DeleteAccountAliasCommand({ AccountAlias: 'acme-security' }));
      await iam.send(new CreateAccountAliasCommand({ AccountAlias: 'acme-security' }));
      expect(t.cloud.state.accountAliases).toEqual({ 'acme-security': '000000000000' });
    });

    it.each(['ab', 'Acme', '-acme', 'acme-', 'ac--me', 'acme_corp', 'a'.repeat(64)])(
      'refuses the alias %s as a validation error',
      async (alias) => {
        await expect(iam.send(new CreateAccountAliasCommand({ AccountAlias: alias }))).rejects.toMatchObject({
          name: 'ValidationError',
        });
        expect(t.cloud.state.accountAliases).toEqual({});
      },
    );
  });

  describe('the account IAM acts in', () => {
    it('creates a role in the account whose credentials call, not in the management account', async () => {
      const { Credentials: c } = await t.sts().send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::222222222222:role/OrganizationAccountAccessRole',
          RoleSessionName: 'vend',
        }),
      );
      const network = t.iam({
        accessKeyId: c!.AccessKeyId!,
        secretAccessKey: c!.SecretAccessKey!,
        sessionToken: c!.SessionToken!,
      });
      const { Role } = await network.send(
        new CreateRoleCommand({ RoleName: 'NetworkReader', AssumeRolePolicyDocument: TRUST }),
      );
      expect(Role?.Arn).toBe('arn:aws:iam::222222222222:role/NetworkReader');
      await expect(network.send(new GetRoleCommand({ RoleName: 'NetworkReader' }))).resolves.toMatchObject({
        Role: { Arn: 'arn:aws:iam::222222222222:role/NetworkReader' },
      });
      await expect(iam.send(new GetRoleCommand({ RoleName: 'NetworkReader' }))).rejects.toThrow(
        NoSuchEntityException,
      );

      const names = (await network.send(new ListRolesCommand({}))).Roles?.map((role) => role.RoleName);
      expect(names).toEqual(['NetworkReader', 'OrganizationAccountAccessRole', 'VendDnsAuthorizer']);
      const access = await network.send(
        new ListAttachedRolePoliciesCommand({ RoleName: 'OrganizationAccountAccessRole' }),
      );
      expect(access.AttachedPolicies).toEqual([
        { PolicyName: 'AdministratorAccess', PolicyArn: ADMIN_POLICY },
      ]);
    });

    it('records changes in the audit trail of the calling account, and reads not at all', async () => {
      const before = t.cloud.state.auditSequence;
      await t
        .iam(SECURITY)
        .send(new CreateRoleCommand({ RoleName: 'Audited', AssumeRolePolicyDocument: TRUST }));
      await t.iam(SECURITY).send(new GetRoleCommand({ RoleName: 'Audited' }));
      await expect(t.iam(SECURITY).send(new DeleteRoleCommand({ RoleName: 'Missing' }))).rejects.toThrow(
        NoSuchEntityException,
      );
      const events = t.cloud.auditSince(before - 1);
      expect(events.map((event) => [event.eventName, event.recipientAccountId, event.errorCode])).toEqual([
        ['CreateRole', '111111111111', undefined],
        ['DeleteRole', '111111111111', 'NoSuchEntity'],
      ]);
    });
  });

  it('refuses IAM calls with an unknown access key', async () => {
    await expect(
      t.iam({ accessKeyId: 'AKIANOTAKEY', secretAccessKey: 'x' }).send(new ListRolesCommand({})),
    ).rejects.toMatchObject({ name: 'InvalidClientTokenId' });
  });
});
