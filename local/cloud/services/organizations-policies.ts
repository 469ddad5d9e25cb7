import { AwsError } from '../errors.ts';
import {
  disableServiceControlPolicies,
  enableServiceControlPolicies,
  SERVICE_CONTROL_POLICY,
  scpDocumentProblem,
  scpEnabled,
} from '../policies.ts';
import type { CallContext, Input, OperationDefinition } from '../service.ts';
import type { CloudState, PolicyRecord } from '../state.ts';
import { member, organizationArn, page, readTags, requireManagement } from './organizations-shared.ts';

/**
 * Organizations policies: policy types on the root, service control policies and their attachments. Shapes, errors
 * and limits follow the SDK model (@aws-sdk/client-organizations, models_0.d.ts and errors.d.ts, the command docs)
 * and the Organizations User Guide ("Quotas and service limits": 5 SCPs per entity, 5,120 characters per SCP,
 * 1,000 SCPs per organization).
 */

/** Every value of the model's `PolicyType` enum (enums.d.ts): any other is InvalidInputException. */
const POLICY_TYPES = [
  'AISERVICES_OPT_OUT_POLICY',
  'BACKUP_POLICY',
  'BEDROCK_POLICY',
  'CHATBOT_POLICY',
  'DECLARATIVE_POLICY_EC2',
  'GUARDDUTY_POLICY',
  'INSPECTOR_POLICY',
  'NETWORK_SECURITY_DIRECTOR_POLICY',
  'RESOURCE_CONTROL_POLICY',
  'S3_POLICY',
  'SECURITYHUB_CSPM_POLICY',
  'SECURITYHUB_POLICY',
  'SERVICE_CONTROL_POLICY',
  'TAG_POLICY',
  'UPGRADE_ROLLOUT_POLICY',
] as const;

const POLICY_ID = /^p-[0-9a-zA-Z_]{8,128}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;
const TARGET_ID = /^(r-[0-9a-z]{4,32})|(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
/** The model's policy name pattern: any characters of the ASCII range. */
const POLICY_NAME = /^[\s\S]*$/;

/** SCPs one root, OU or account may have attached at once. */
export const MAX_SCPS_PER_TARGET = 5;
/** Characters one SCP document may have (whitespace included). */
export const MAX_SCP_CHARACTERS = 5_120;
/** SCPs one organization may have (customer managed ones; FullAWSAccess does not count). */
export const MAX_SCPS = 1_000;

const policyNotFound = () =>
  new AwsError('PolicyNotFoundException', "We can't find a policy with the PolicyId that you specified.");

const targetNotFound = () =>
  new AwsError(
    'TargetNotFoundException',
    "We can't find a root, OU, account, or policy with the TargetId that you specified.",
  );

/** The root as Organizations shapes it: `PolicyTypes` lists the types enabled on it (API Reference, Root). */
export function rootShape(state: CloudState) {
  const { organization } = state;
  return {
    Id: organization.rootId,
    Arn: organizationArn(state, 'root', organization.rootId),
    Name: organization.rootName,
    PolicyTypes: state.enabledPolicyTypes.map((type) => ({ Type: type, Status: 'ENABLED' })),
  };
}

/**
 * A policy's ARN: customer managed ones live under the organization, AWS managed ones under `aws`
 * (`arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess`).
 */
function policyArn(state: CloudState, policy: PolicyRecord): string {
  const type = policy.type.toLowerCase();
  if (policy.awsManaged) return `arn:aws:organizations::aws:policy/${type}/${policy.id}`;
  const { organization } = state;
  return `arn:aws:organizations::${organization.managementAccountId}:policy/${organization.id}/${type}/${policy.id}`;
}

function summaryShape(state: CloudState, policy: PolicyRecord) {
  return {
    Id: policy.id,
    Arn: policyArn(state, policy),
    Name: policy.name,
    Description: policy.description,
    Type: policy.type,
    AwsManaged: policy.awsManaged,
  };
}

function policyShape(state: CloudState, policy: PolicyRecord) {
  return { Policy: { PolicySummary: summaryShape(state, policy), Content: policy.content } };
}

/** Policies in a stable order: AWS managed first, then by creation (ties in the order they were stored). */
function sortedPolicies(state: CloudState): PolicyRecord[] {
  return Object.values(state.policies).sort(
    (a, b) => Number(b.awsManaged) - Number(a.awsManaged) || a.createdAt - b.createdAt,
  );
}

/** Reads `PolicyId` and finds the policy (PolicyNotFoundException otherwise). */
function existingPolicy(context: CallContext, input: Input): PolicyRecord {
  const id = context.params.string(input, 'PolicyId', { required: true, max: 130, pattern: POLICY_ID });
  const policy = Object.hasOwn(context.cloud.state.policies, id)
    ? context.cloud.state.policies[id]
    : undefined;
  if (!policy) throw policyNotFound();
  return policy;
}

/** A root, OU or account of the organization, shaped as a PolicyTargetSummary; undefined when there is none. */
function targetShape(state: CloudState, id: string) {
  if (id === state.organization.rootId)
    return {
      TargetId: id,
      Arn: organizationArn(state, 'root', id),
      Name: state.organization.rootName,
      Type: 'ROOT',
    };
  const ou = state.organizationalUnits[id];
  if (ou)
    return {
      TargetId: id,
      Arn: organizationArn(state, 'ou', id),
      Name: ou.name,
      Type: 'ORGANIZATIONAL_UNIT',
    };
  const account = member(state, id);
  if (account)
    return { TargetId: id, Arn: organizationArn(state, 'account', id), Name: account.name, Type: 'ACCOUNT' };
  return undefined;
}

/** Reads `TargetId` and checks that the root, OU or account exists (TargetNotFoundException otherwise). */
function existingTarget(context: CallContext, input: Input): string {
  const id = context.params.string(input, 'TargetId', { required: true, max: 100, pattern: TARGET_ID });
  if (!targetShape(context.cloud.state, id)) throw targetNotFound();
  return id;
}

/** Reads a policy type parameter against the model's enum. */
function policyType(context: CallContext, input: Input, name: string): string {
  return context.params.string(input, name, { required: true, values: POLICY_TYPES });
}

/** The local cloud implements SCPs only: other types answer as if the organization could not use them. */
function requireScpType(type: string): void {
  if (type !== SERVICE_CONTROL_POLICY) {
    throw new AwsError(
      'PolicyTypeNotAvailableForOrganizationException',
      `The local cloud implements only SERVICE_CONTROL_POLICY, not ${type}.`,
    );
  }
}

/** Reads `RootId` and checks it is the organization's root (RootNotFoundException otherwise). */
function existingRoot(context: CallContext, input: Input): string {
  const id = context.params.string(input, 'RootId', { required: true, max: 34, pattern: ROOT_ID });
  if (id !== context.cloud.state.organization.rootId)
    throw new AwsError('RootNotFoundException', "We can't find a root with the RootId that you specified.");
  return id;
}

/** Checks SCP content: the size limit, then the grammar (MalformedPolicyDocumentException). */
function checkContent(content: string): void {
  if (content.length > MAX_SCP_CHARACTERS) {
    throw new AwsError(
      'ConstraintViolationException',
      `The policy has ${content.length} characters; a service control policy may have at most ${MAX_SCP_CHARACTERS}. Remove whitespace or split the policy.`,
      { fields: { Reason: 'POLICY_CONTENT_LIMIT_EXCEEDED' } },
    );
  }
  const problem = scpDocumentProblem(content);
  if (problem) {
    throw new AwsError(
      'MalformedPolicyDocumentException',
      `The provided policy document does not meet the requirements of the specified policy type: ${problem}.`,
    );
  }
}

function refuseDuplicateName(state: CloudState, name: string, except?: string): void {
  const taken = Object.values(state.policies).some(
    (policy) => policy.name === name && policy.type === SERVICE_CONTROL_POLICY && policy.id !== except,
  );
  if (taken) throw new AwsError('DuplicatePolicyException', 'A policy with the same name already exists.');
}

/** AWS managed policies can be attached but not changed (InvalidInputException reason IMMUTABLE_POLICY). */
function refuseAwsManaged(context: CallContext, policy: PolicyRecord): void {
  if (policy.awsManaged)
    context.params.fail(
      `${policy.name} is managed by AWS and can't be modified or deleted.`,
      'IMMUTABLE_POLICY',
    );
}

function attachedTo(state: CloudState, targetId: string): PolicyRecord[] {
  return sortedPolicies(state).filter((policy) => policy.targets.includes(targetId));
}

export const policyOperations: Record<string, OperationDefinition> = {
  /** Enables a policy type on the root; for SCPs every entity starts with FullAWSAccess only. */
  EnablePolicyType: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      existingRoot(context, input);
      const type = policyType(context, input, 'PolicyType');
      requireScpType(type);
      const { state } = context.cloud;
      if (scpEnabled(state))
        throw new AwsError(
          'PolicyTypeAlreadyEnabledException',
          'The specified policy type is already enabled in the specified root.',
        );
      enableServiceControlPolicies(state);
      return { Root: rootShape(state) };
    },
  },

  /** Disables a policy type on the root: its policies are detached everywhere, not deleted. */
  DisablePolicyType: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      existingRoot(context, input);
      const type = policyType(context, input, 'PolicyType');
      const { state } = context.cloud;
      if (!state.enabledPolicyTypes.includes(type))
        throw new AwsError(
          'PolicyTypeNotEnabledException',
          'This policy type is not enabled in the specified root. Enable it with EnablePolicyType first.',
        );
      disableServiceControlPolicies(state);
      return { Root: rootShape(state) };
    },
  },

  CreatePolicy: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      const { params, cloud } = context;
      const { state } = cloud;
      const content = params.string(input, 'Content', { required: true, min: 1, max: 1_000_000 });
      const description = params.string(input, 'Description', { required: true, max: 512 });
      const name = params.string(input, 'Name', { required: true, min: 1, max: 128, pattern: POLICY_NAME });
      const type = policyType(context, input, 'Type');
      const tags = readTags(context, input);
      requireScpType(type);
      checkContent(content);
      refuseDuplicateName(state, name);
      const count = Object.values(state.policies).filter(
        (policy) => policy.type === SERVICE_CONTROL_POLICY && !policy.awsManaged,
      ).length;
      if (count >= MAX_SCPS) {
        throw new AwsError(
          'ConstraintViolationException',
          `The organization already has ${count} service control policies, the most it may have. Delete one first.`,
          { fields: { Reason: 'POLICY_NUMBER_LIMIT_EXCEEDED' } },
        );
      }
      const policy: PolicyRecord = {
        id: cloud.ids.policyId(),
        name,
        description,
        type: SERVICE_CONTROL_POLICY,
        awsManaged: false,
        content,
        createdAt: cloud.clock.now(),
        targets: [],
      };
      state.policies[policy.id] = policy;
      if (tags.length > 0)
        state.tags[policy.id] = Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value]));
      return policyShape(state, policy);
    },
  },

  /** Changes a policy's name, description or content; attachments stay. */
  UpdatePolicy: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      const { params } = context;
      const { state } = context.cloud;
      const policy = existingPolicy(context, input);
      const name = params.string(input, 'Name', { min: 1, max: 128, pattern: POLICY_NAME });
      const description = params.string(input, 'Description', { max: 512 });
      const content = params.string(input, 'Content', { min: 1, max: 1_000_000 });
      refuseAwsManaged(context, policy);
      if (content !== undefined) checkContent(content);
      if (name !== undefined) refuseDuplicateName(state, name, policy.id);
      if (name !== undefined) policy.name = name;
      if (description !== undefined) policy.description = description;
      if (content !== undefined) policy.content = content;
      return policyShape(state, policy);
    },
  },

  DescribePolicy: {
    mutating: false,
    run(context, input) {
      requireManagement(context);
      return policyShape(context.cloud.state, existingPolicy(context, input));
    },
  },

  /** Deletes a policy that is attached nowhere (PolicyInUseException otherwise); its tags go with it. */
  DeletePolicy: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const policy = existingPolicy(context, input);
      refuseAwsManaged(context, policy);
      if (policy.targets.length > 0)
        throw new AwsError(
          'PolicyInUseException',
          'The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.',
        );
      delete state.policies[policy.id];
      delete state.tags[policy.id];
      return undefined;
    },
  },

  ListPolicies: {
    mutating: false,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const filter = policyType(context, input, 'Filter');
      const policies = sortedPolicies(state)
        .filter((policy) => policy.type === filter)
        .map((policy) => summaryShape(state, policy));
      const { entries, ...rest } = page(context, input, policies, `ListPolicies:${filter}`);
      return { Policies: entries, ...rest };
    },
  },

  /**
   * Attaches a policy to a root, OU or account: SCPs must be enabled on the root, the policy must not be there
   * already, and a target holds at most 5 SCPs.
   */
  AttachPolicy: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const policy = existingPolicy(context, input);
      const targetId = existingTarget(context, input);
      if (!scpEnabled(state))
        throw new AwsError(
          'PolicyTypeNotEnabledException',
          'This policy type is not enabled in the root. Enable it with EnablePolicyType first.',
        );
      if (policy.targets.includes(targetId))
        throw new AwsError(
          'DuplicatePolicyAttachmentException',
          'The selected policy is already attached to the specified target.',
        );
      const attached = attachedTo(state, targetId).length;
      if (attached >= MAX_SCPS_PER_TARGET) {
        throw new AwsError(
          'ConstraintViolationException',
          `The target already has ${attached} service control policies attached, the most it may have. Detach one first.`,
          { fields: { Reason: 'MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED' } },
        );
      }
      policy.targets.push(targetId);
      return undefined;
    },
  },

  /** Detaches a policy; a root, OU or account always keeps at least one SCP. */
  DetachPolicy: {
    mutating: true,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const policy = existingPolicy(context, input);
      const targetId = existingTarget(context, input);
      if (!policy.targets.includes(targetId))
        throw new AwsError(
          'PolicyNotAttachedException',
          "The policy isn't attached to the specified target in the specified root.",
        );
      if (attachedTo(state, targetId).length <= 1) {
        throw new AwsError(
          'ConstraintViolationException',
          'Every root, OU and account must have at least one service control policy attached. Attach another before you detach this one.',
          { fields: { Reason: 'MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED' } },
        );
      }
      policy.targets = policy.targets.filter((target) => target !== targetId);
      return undefined;
    },
  },

  ListPoliciesForTarget: {
    mutating: false,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const targetId = existingTarget(context, input);
      const filter = policyType(context, input, 'Filter');
      const policies = attachedTo(state, targetId)
        .filter((policy) => policy.type === filter)
        .map((policy) => summaryShape(state, policy));
      const { entries, ...rest } = page(
        context,
        input,
        policies,
        `ListPoliciesForTarget:${targetId}:${filter}`,
      );
      return { Policies: entries, ...rest };
    },
  },

  ListTargetsForPolicy: {
    mutating: false,
    run(context, input) {
      requireManagement(context);
      const { state } = context.cloud;
      const policy = existingPolicy(context, input);
      const targets = policy.targets.flatMap((id) => {
        const target = targetShape(state, id);
        return target ? [target] : [];
      });
      const { entries, ...rest } = page(context, input, targets, `ListTargetsForPolicy:${policy.id}`);
      return { Targets: entries, ...rest };
    },
  },
};
