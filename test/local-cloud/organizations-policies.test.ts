import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AccessDeniedException,
  AttachPolicyCommand,
  ConstraintViolationException,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreatePolicyCommand,
  DeletePolicyCommand,
  DescribePolicyCommand,
  DetachPolicyCommand,
  DisablePolicyTypeCommand,
  DuplicatePolicyAttachmentException,
  DuplicatePolicyException,
  EnablePolicyTypeCommand,
  InvalidInputException,
  ListPoliciesCommand,
  ListPoliciesForTargetCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  ListTargetsForPolicyCommand,
  MalformedPolicyDocumentException,
  MoveAccountCommand,
  type OrganizationsClient,
  PolicyInUseException,
  PolicyNotAttachedException,
  PolicyNotFoundException,
  PolicyTypeAlreadyEnabledException,
  PolicyTypeNotAvailableForOrganizationException,
  PolicyTypeNotEnabledException,
  paginateListPolicies,
  RootNotFoundException,
  TargetNotFoundException,
  UpdatePolicyCommand,
} from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { effectiveServiceControlPolicies, manualClock, startLocalCloud } from '../../local/cloud/index.ts';
import { FULL_AWS_ACCESS_ID } from '../../local/cloud/policies.ts';
import { startTestCloud, TEST_SEED, type TestCloud } from './harness.ts';

const SCP = 'SERVICE_CONTROL_POLICY';
const SECURITY = '111111111111';

/** A small valid SCP; `marker` makes each one different. */
function denyDocument(marker = 'DenyLeave'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Sid: marker, Effect: 'Deny', Action: 'organizations:LeaveOrganization', Resource: '*' }],
  });
}

async function createPolicy(org: OrganizationsClient, name: string, content = denyDocument()) {
  const { Policy } = await org.send(
    new CreatePolicyCommand({ Name: name, Description: `${name} policy`, Content: content, Type: SCP }),
  );
  return Policy!.PolicySummary!.Id!;
}

async function policyIdsFor(org: OrganizationsClient, targetId: string): Promise<string[]> {
  const { Policies = [] } = await org.send(
    new ListPoliciesForTargetCommand({ TargetId: targetId, Filter: SCP }),
  );
  return Policies.map((policy) => policy.Id!);
}

/** Rejects with the SDK's typed exception and, for ConstraintViolation and InvalidInput, the given reason. */
async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, reason?: string) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  if (reason) expect((error as { Reason?: string }).Reason).toBe(reason);
}

describe('Organizations service control policies', () => {
  let t: TestCloud;
  let org: OrganizationsClient;
  let rootId: string;
  let orgId: string;

  beforeEach(async () => {
    t = await startTestCloud();
    org = t.organizations();
    rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
    orgId = t.cloud.state.organization.id;
  });
  afterEach(() => t.close());

  describe('policy types on the root', () => {
    it('starts with SCPs enabled on the root and FullAWSAccess on the root, every OU and every account', async () => {
      const { Roots } = await org.send(new ListRootsCommand({}));
      expect(Roots![0]!.PolicyTypes).toEqual([{ Type: SCP, Status: 'ENABLED' }]);
      const targets = [rootId, ...Object.keys(t.cloud.state.organizationalUnits), '000000000000', SECURITY];
      for (const target of targets) expect(await policyIdsFor(org, target)).toEqual([FULL_AWS_ACCESS_ID]);
    });

    it('disables SCPs, detaching every SCP without deleting it, and enables them again with FullAWSAccess only', async () => {
      const id = await createPolicy(org, 'deny-leave');
      await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));

      const disabled = await org.send(new DisablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP }));
      expect(disabled.Root).toMatchObject({ Id: rootId, PolicyTypes: [] });
      expect(await policyIdsFor(org, SECURITY)).toEqual([]);
      await rejects(
        org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY })),
        PolicyTypeNotEnabledException,
      );
      await rejects(
        org.send(new DisablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP })),
        PolicyTypeNotEnabledException,
      );
      await expect(org.send(new DescribePolicyCommand({ PolicyId: id }))).resolves.toBeDefined();

      const enabled = await org.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP }));
      expect(enabled.Root?.PolicyTypes).toEqual([{ Type: SCP, Status: 'ENABLED' }]);
      expect(await policyIdsFor(org, SECURITY)).toEqual([FULL_AWS_ACCESS_ID]);
      expect(await policyIdsFor(org, rootId)).toEqual([FULL_AWS_ACCESS_ID]);
      await rejects(
        org.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP })),
        PolicyTypeAlreadyEnabledException,
      );
    });

    it('refuses an unknown root, an unknown type and a type the local cloud does not implement', async () => {
      await rejects(
        org.send(new EnablePolicyTypeCommand({ RootId: 'r-zzzz', PolicyType: SCP })),
        RootNotFoundException,
      );
      await rejects(
        org.send(new EnablePolicyTypeCommand({ RootId: 'root', PolicyType: SCP })),
        InvalidInputException,
        'INVALID_PATTERN',
      );
      await rejects(
        org.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'NO_SUCH_POLICY' as never })),
        InvalidInputException,
        'INVALID_ENUM',
      );
      await rejects(
        org.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: 'TAG_POLICY' })),
        PolicyTypeNotAvailableForOrganizationException,
      );
    });
  });

  describe('policies', () => {
    it('creates a policy with its ARN, content and tags, and describes it', async () => {
      const content = denyDocument();
      const { Policy } = await org.send(
        new CreatePolicyCommand({
          Name: 'deny-leave',
          Description: 'Deny leaving the organization',
          Content: content,
          Type: SCP,
          Tags: [{ Key: 'owner', Value: 'platform' }],
        }),
      );
      const id = Policy!.PolicySummary!.Id!;
      expect(id).toMatch(/^p-[a-z0-9]{8}$/);
      expect(Policy).toEqual({
        PolicySummary: {
          Id: id,
          Arn: `arn:aws:organizations::000000000000:policy/${orgId}/service_control_policy/${id}`,
          Name: 'deny-leave',
          Description: 'Deny leaving the organization',
          Type: SCP,
          AwsManaged: false,
        },
        Content: content,
      });
      expect((await org.send(new DescribePolicyCommand({ PolicyId: id }))).Policy).toEqual(Policy);
      const { Tags } = await org.send(new ListTagsForResourceCommand({ ResourceId: id }));
      expect(Tags).toEqual([{ Key: 'owner', Value: 'platform' }]);
    });

    it('describes the AWS managed FullAWSAccess policy with its real content', async () => {
      const { Policy } = await org.send(new DescribePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID }));
      expect(Policy?.PolicySummary).toEqual({
        Id: 'p-FullAWSAccess',
        Arn: 'arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess',
        Name: 'FullAWSAccess',
        Description: 'Allows access to every operation',
        Type: SCP,
        AwsManaged: true,
      });
      expect(JSON.parse(Policy!.Content!)).toEqual({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
      });
    });

    it('updates the name, description and content, keeping what is not given', async () => {
      const id = await createPolicy(org, 'deny-leave');
      const content = denyDocument('Changed');
      const { Policy } = await org.send(new UpdatePolicyCommand({ PolicyId: id, Content: content }));
      expect(Policy?.Content).toBe(content);
      expect(Policy?.PolicySummary?.Name).toBe('deny-leave');
      const renamed = await org.send(
        new UpdatePolicyCommand({ PolicyId: id, Name: 'renamed', Description: 'new description' }),
      );
      expect(renamed.Policy?.PolicySummary).toMatchObject({
        Name: 'renamed',
        Description: 'new description',
      });
      expect(renamed.Policy?.Content).toBe(content);
    });

    it('deletes a policy attached nowhere, and refuses one still attached', async () => {
      const id = await createPolicy(org, 'deny-leave');
      await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await rejects(org.send(new DeletePolicyCommand({ PolicyId: id })), PolicyInUseException);
      await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await org.send(new DeletePolicyCommand({ PolicyId: id }));
      await rejects(org.send(new DescribePolicyCommand({ PolicyId: id })), PolicyNotFoundException);
      await rejects(org.send(new DeletePolicyCommand({ PolicyId: id })), PolicyNotFoundException);
    });

    it('refuses to update or delete the AWS managed policy', async () => {
      await rejects(
        org.send(new UpdatePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, Name: 'mine' })),
        InvalidInputException,
        'IMMUTABLE_POLICY',
      );
      await rejects(
        org.send(new DeletePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID })),
        InvalidInputException,
        'IMMUTABLE_POLICY',
      );
    });

    it('refuses a second policy of the same name, on create and on rename', async () => {
      await createPolicy(org, 'deny-leave');
      const other = await createPolicy(org, 'other', denyDocument('Other'));
      await rejects(createPolicy(org, 'deny-leave'), DuplicatePolicyException);
      await rejects(
        org.send(new UpdatePolicyCommand({ PolicyId: other, Name: 'deny-leave' })),
        DuplicatePolicyException,
      );
      await rejects(createPolicy(org, 'FullAWSAccess'), DuplicatePolicyException);
    });

    it.each([
      ['text that is not JSON', 'not json'],
      ['a list instead of an object', '[]'],
      ['no Version', JSON.stringify({ Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })],
      ['an unknown Version', JSON.stringify({ Version: '2020-01-01', Statement: [] })],
      ['no Statement', JSON.stringify({ Version: '2012-10-17' })],
      ['an empty Statement', JSON.stringify({ Version: '2012-10-17', Statement: [] })],
      ['an Effect other than Allow or Deny', policyWith({ Effect: 'Maybe', Action: '*', Resource: '*' })],
      ['neither Action nor NotAction', policyWith({ Effect: 'Deny', Resource: '*' })],
      [
        'both Action and NotAction',
        policyWith({ Effect: 'Deny', Action: '*', NotAction: 's3:*', Resource: '*' }),
      ],
      [
        'an action without a service',
        policyWith({ Effect: 'Deny', Action: 'LeaveOrganization', Resource: '*' }),
      ],
      ['no Resource', policyWith({ Effect: 'Deny', Action: 's3:*' })],
      ['a Principal', policyWith({ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: '*' })],
      [
        'a Condition that is not an object',
        policyWith({ Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: 'x' }),
      ],
    ])('refuses a document with %s', async (_what, content) => {
      await rejects(createPolicy(org, 'bad', content), MalformedPolicyDocumentException);
      const id = await createPolicy(org, 'good');
      await rejects(
        org.send(new UpdatePolicyCommand({ PolicyId: id, Content: content })),
        MalformedPolicyDocumentException,
      );
    });

    it('accepts the documents Vend ships: NotAction, conditions and wildcards', async () => {
      const content = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'DenyOutsideRegions',
            Effect: 'Deny',
            NotAction: ['iam:*', 'organizations:*', 'sts:*', 'support:*'],
            Resource: '*',
            Condition: {
              StringNotEquals: { 'aws:RequestedRegion': ['us-east-1', 'us-west-2'] },
              ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/Vend*' },
            },
          },
          {
            Effect: 'Deny',
            Action: ['ec2:DisableEbsEncryptionByDefault', 's3:PutAccountPublicAccessBlock'],
            Resource: '*',
          },
        ],
      });
      await expect(createPolicy(org, 'guardrails', content)).resolves.toMatch(/^p-/);
    });

    it('refuses content over 5,120 characters, whitespace included', async () => {
      const padded = `${denyDocument()}${' '.repeat(5_121 - denyDocument().length)}`;
      expect(padded).toHaveLength(5_121);
      await rejects(
        createPolicy(org, 'big', padded),
        ConstraintViolationException,
        'POLICY_CONTENT_LIMIT_EXCEEDED',
      );
      await expect(createPolicy(org, 'just-fits', padded.slice(0, 5_120))).resolves.toMatch(/^p-/);
    });

    it('refuses the 1,001st policy of the organization', async () => {
      for (let index = 0; index < 999; index++) {
        t.cloud.state.policies[`p-filler${String(index).padStart(4, '0')}`] = {
          id: `p-filler${String(index).padStart(4, '0')}`,
          name: `filler-${index}`,
          description: '',
          type: SCP,
          awsManaged: false,
          content: denyDocument(),
          createdAt: 0,
          targets: [],
        };
      }
      await expect(createPolicy(org, 'the-thousandth')).resolves.toMatch(/^p-/);
      await rejects(
        createPolicy(org, 'one-too-many'),
        ConstraintViolationException,
        'POLICY_NUMBER_LIMIT_EXCEEDED',
      );
    });

    it('refuses bad input with InvalidInputException naming the problem', async () => {
      await rejects(
        org.send(new DescribePolicyCommand({ PolicyId: 'policy-1' })),
        InvalidInputException,
        'INVALID_PATTERN',
      );
      await rejects(
        org.send(new CreatePolicyCommand({ Name: '', Description: '', Content: denyDocument(), Type: SCP })),
        InvalidInputException,
        'MIN_LENGTH_EXCEEDED',
      );
      await rejects(
        org.send(
          new CreatePolicyCommand({
            Name: 'x',
            Description: 'd'.repeat(513),
            Content: denyDocument(),
            Type: SCP,
          }),
        ),
        InvalidInputException,
        'MAX_LENGTH_EXCEEDED',
      );
      await rejects(
        org.send(new AttachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: 'account-1' })),
        InvalidInputException,
        'INVALID_PATTERN',
      );
    });

    it('lists policies by type, a page at a time', async () => {
      for (let index = 0; index < 4; index++)
        await createPolicy(org, `policy-${index}`, denyDocument(`P${index}`));
      const first = await org.send(new ListPoliciesCommand({ Filter: SCP, MaxResults: 2 }));
      expect(first.Policies?.map((policy) => policy.Name)).toEqual(['FullAWSAccess', 'policy-0']);
      expect(first.NextToken).toBeDefined();
      const names: string[] = [];
      for await (const page of paginateListPolicies({ client: org, pageSize: 2 }, { Filter: SCP })) {
        names.push(...(page.Policies ?? []).map((policy) => policy.Name!));
      }
      expect(names).toEqual(['FullAWSAccess', 'policy-0', 'policy-1', 'policy-2', 'policy-3']);
      expect((await org.send(new ListPoliciesCommand({ Filter: 'TAG_POLICY' }))).Policies).toEqual([]);
      await rejects(
        org.send(new ListPoliciesCommand({ Filter: SCP, NextToken: 'forged' })),
        InvalidInputException,
        'INVALID_NEXT_TOKEN',
      );
    });
  });

  describe('attachments', () => {
    it('attaches to the root, an OU and an account, and lists targets with their names and types', async () => {
      const id = await createPolicy(org, 'deny-leave');
      const [sandbox] = Object.values(t.cloud.state.organizationalUnits).filter(
        (ou) => ou.name === 'Sandbox',
      );
      for (const target of [rootId, sandbox!.id, SECURITY])
        await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: target }));
      expect(await policyIdsFor(org, SECURITY)).toEqual([FULL_AWS_ACCESS_ID, id]);
      const { Targets } = await org.send(new ListTargetsForPolicyCommand({ PolicyId: id }));
      expect(Targets).toEqual([
        {
          TargetId: rootId,
          Arn: `arn:aws:organizations::000000000000:root/${orgId}/${rootId}`,
          Name: 'Root',
          Type: 'ROOT',
        },
        {
          TargetId: sandbox!.id,
          Arn: `arn:aws:organizations::000000000000:ou/${orgId}/${sandbox!.id}`,
          Name: 'Sandbox',
          Type: 'ORGANIZATIONAL_UNIT',
        },
        {
          TargetId: SECURITY,
          Arn: `arn:aws:organizations::000000000000:account/${orgId}/${SECURITY}`,
          Name: 'security',
          Type: 'ACCOUNT',
        },
      ]);
      const page = await org.send(new ListTargetsForPolicyCommand({ PolicyId: id, MaxResults: 1 }));
      expect(page.Targets).toHaveLength(1);
      const rest = await org.send(
        new ListTargetsForPolicyCommand({ PolicyId: id, MaxResults: 5, NextToken: page.NextToken }),
      );
      expect(rest.Targets?.map((target) => target.Type)).toEqual(['ORGANIZATIONAL_UNIT', 'ACCOUNT']);
    });

    it('refuses a duplicate attachment, a sixth SCP, and detaching what is not attached or the last SCP', async () => {
      const ids: string[] = [];
      for (let index = 0; index < 5; index++)
        ids.push(await createPolicy(org, `p${index}`, denyDocument(`P${index}`)));
      for (const id of ids.slice(0, 4))
        await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await rejects(
        org.send(new AttachPolicyCommand({ PolicyId: ids[0]!, TargetId: SECURITY })),
        DuplicatePolicyAttachmentException,
      );
      await rejects(
        org.send(new AttachPolicyCommand({ PolicyId: ids[4]!, TargetId: SECURITY })),
        ConstraintViolationException,
        'MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED',
      );
      await rejects(
        org.send(new DetachPolicyCommand({ PolicyId: ids[4]!, TargetId: SECURITY })),
        PolicyNotAttachedException,
      );
      for (const id of ids.slice(0, 4))
        await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await rejects(
        org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: SECURITY })),
        ConstraintViolationException,
        'MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED',
      );
      await org.send(new AttachPolicyCommand({ PolicyId: ids[0]!, TargetId: SECURITY }));
      await org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: SECURITY }));
      expect(await policyIdsFor(org, SECURITY)).toEqual([ids[0]]);
    });

    it('refuses unknown policies and targets', async () => {
      await rejects(
        org.send(new AttachPolicyCommand({ PolicyId: 'p-00000000', TargetId: SECURITY })),
        PolicyNotFoundException,
      );
      for (const target of ['999999999999', 'ou-zzzz-zzzzzzzz', 'r-zzzz']) {
        await rejects(
          org.send(new AttachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: target })),
          TargetNotFoundException,
        );
        await rejects(
          org.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: target })),
          TargetNotFoundException,
        );
        await rejects(
          org.send(new ListPoliciesForTargetCommand({ TargetId: target, Filter: SCP })),
          TargetNotFoundException,
        );
      }
      await rejects(
        org.send(new DetachPolicyCommand({ PolicyId: 'p-00000000', TargetId: SECURITY })),
        PolicyNotFoundException,
      );
      await rejects(
        org.send(new ListTargetsForPolicyCommand({ PolicyId: 'p-00000000' })),
        PolicyNotFoundException,
      );
    });

    it('gives FullAWSAccess to OUs and accounts created later', async () => {
      const { OrganizationalUnit } = await org.send(
        new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'Later' }),
      );
      expect(await policyIdsFor(org, OrganizationalUnit!.Id!)).toEqual([FULL_AWS_ACCESS_ID]);
      const { CreateAccountStatus } = await org.send(
        new CreateAccountCommand({ AccountName: 'later', Email: 'later@example.com' }),
      );
      t.clock.advance(60_000);
      const accountId = t.cloud.state.createAccountRequests[CreateAccountStatus!.Id!]!.accountId!;
      expect(accountId).toMatch(/^\d{12}$/);
      expect(await policyIdsFor(org, accountId)).toEqual([FULL_AWS_ACCESS_ID]);
    });

    it('lets only the management account manage policies', async () => {
      const member = t.organizations({ accessKeyId: 'security-admin', secretAccessKey: 'x' });
      const calls = [
        member.send(new ListPoliciesCommand({ Filter: SCP })),
        member.send(new DescribePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID })),
        member.send(
          new CreatePolicyCommand({ Name: 'x', Description: '', Content: denyDocument(), Type: SCP }),
        ),
        member.send(new AttachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: SECURITY })),
        member.send(new DetachPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, TargetId: SECURITY })),
        member.send(new ListPoliciesForTargetCommand({ TargetId: SECURITY, Filter: SCP })),
        member.send(new ListTargetsForPolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID })),
        member.send(new DisablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP })),
        member.send(new EnablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP })),
        member.send(new UpdatePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID, Name: 'x' })),
        member.send(new DeletePolicyCommand({ PolicyId: FULL_AWS_ACCESS_ID })),
      ];
      for (const call of calls) await rejects(call, AccessDeniedException);
      expect(t.cloud.state.enabledPolicyTypes).toEqual([SCP]);
    });

    it('records CloudTrail events for the policy writes', async () => {
      const before = t.cloud.state.auditSequence;
      const id = await createPolicy(org, 'deny-leave');
      await org.send(new UpdatePolicyCommand({ PolicyId: id, Description: 'changed' }));
      await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await org.send(new DetachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
      await org.send(new DeletePolicyCommand({ PolicyId: id }));
      const events = t.cloud.auditSince(before - 1);
      expect(events.map((event) => event.eventName)).toEqual([
        'CreatePolicy',
        'UpdatePolicy',
        'AttachPolicy',
        'DetachPolicy',
        'DeletePolicy',
      ]);
      expect(events[2]).toMatchObject({
        eventSource: 'organizations.amazonaws.com',
        awsRegion: 'us-east-1',
        recipientAccountId: '000000000000',
        requestParameters: { policyId: id, targetId: SECURITY },
      });
      expect(events[0]?.responseElements).toMatchObject({
        policy: { policySummary: { id, name: 'deny-leave' } },
      });
    });
  });

  describe('effectiveServiceControlPolicies', () => {
    it('lists the SCP documents per level from the root through each OU to the account', async () => {
      const id = await createPolicy(org, 'deny-leave');
      const units = t.cloud.state.organizationalUnits;
      const shared = Object.values(units).find((ou) => ou.name === 'Shared')!;
      const security = Object.values(units).find((ou) => ou.name === 'Security')!;
      await org.send(new AttachPolicyCommand({ PolicyId: id, TargetId: shared.id }));
      const levels = effectiveServiceControlPolicies(t.cloud.state, SECURITY);
      expect(
        levels.map((level) => [level.type, level.targetId, level.policies.map((p) => p.policyId)]),
      ).toEqual([
        ['ROOT', rootId, [FULL_AWS_ACCESS_ID]],
        ['ORGANIZATIONAL_UNIT', shared.id, [FULL_AWS_ACCESS_ID, id]],
        ['ORGANIZATIONAL_UNIT', security.id, [FULL_AWS_ACCESS_ID]],
        ['ACCOUNT', SECURITY, [FULL_AWS_ACCESS_ID]],
      ]);
      expect(levels[1]!.policies[1]!.document).toEqual(JSON.parse(denyDocument()));
    });

    it('follows a moved account, and has nothing for a stranger or while SCPs are disabled', async () => {
      const security = Object.values(t.cloud.state.organizationalUnits).find((ou) => ou.name === 'Security')!;
      await org.send(
        new MoveAccountCommand({
          AccountId: SECURITY,
          SourceParentId: security.id,
          DestinationParentId: rootId,
        }),
      );
      expect(effectiveServiceControlPolicies(t.cloud.state, SECURITY).map((level) => level.type)).toEqual([
        'ROOT',
        'ACCOUNT',
      ]);
      expect(effectiveServiceControlPolicies(t.cloud.state, '999999999999')).toEqual([]);
      await org.send(new DisablePolicyTypeCommand({ RootId: rootId, PolicyType: SCP }));
      expect(effectiveServiceControlPolicies(t.cloud.state, SECURITY)).toEqual([]);
    });
  });
});

function policyWith(statement: Record<string, unknown>): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
}

describe('Organizations policies across restarts', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'vend-scp-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  const client = async (endpoint: string) => {
    const { OrganizationsClient } = await import('@aws-sdk/client-organizations');
    return new OrganizationsClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
  };

  it('keeps policies and attachments across a restart with a data file', async () => {
    const dataFile = join(directory, 'cloud.json');
    const clock = manualClock();
    const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    const id = await createPolicy(await client(first.endpoint), 'kept');
    await (await client(first.endpoint)).send(new AttachPolicyCommand({ PolicyId: id, TargetId: SECURITY }));
    await first.close();

    const second = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    try {
      const org = await client(second.endpoint);
      expect(await policyIdsFor(org, SECURITY)).toEqual([FULL_AWS_ACCESS_ID, id]);
      expect((await org.send(new DescribePolicyCommand({ PolicyId: id }))).Policy?.PolicySummary?.Name).toBe(
        'kept',
      );
    } finally {
      await second.close();
    }
  });

  it('loads a state saved before policies existed, with SCPs enabled and FullAWSAccess everywhere', async () => {
    const dataFile = join(directory, 'cloud.json');
    const clock = manualClock();
    const first = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    await first.close();
    const saved = JSON.parse(readFileSync(dataFile, 'utf8')) as Record<string, unknown>;
    delete saved.policies;
    delete saved.enabledPolicyTypes;
    writeFileSync(dataFile, JSON.stringify(saved));

    const second = await startLocalCloud({ port: 0, seed: TEST_SEED, clock, dataFile });
    try {
      const org = await client(second.endpoint);
      const { Roots } = await org.send(new ListRootsCommand({}));
      expect(Roots![0]!.PolicyTypes).toEqual([{ Type: SCP, Status: 'ENABLED' }]);
      expect(await policyIdsFor(org, SECURITY)).toEqual([FULL_AWS_ACCESS_ID]);
      expect(await policyIdsFor(org, Roots![0]!.Id!)).toEqual([FULL_AWS_ACCESS_ID]);
      await expect(createPolicy(org, 'after-upgrade')).resolves.toMatch(/^p-/);
    } finally {
      await second.close();
    }
  });
});
