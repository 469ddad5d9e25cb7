import { AwsError } from '../errors.ts';
import { queryProtocol } from '../protocols/query.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { AccountRecord, RoleRecord } from '../state.ts';
import type { Params } from '../validate.ts';
import { AWS_MANAGED_POLICIES } from './iam-policies.ts';

/** IAM's documented quotas that the local cloud enforces (IAM User Guide, "IAM and AWS STS quotas"). */
const ROLES_PER_ACCOUNT = 1000;
const MANAGED_POLICIES_PER_ROLE = 10;
const TRUST_POLICY_SIZE = 2048;
const INLINE_POLICY_SIZE_PER_ROLE = 10_240;

const NAME = /^[\w+=,.@-]+$/;
const PATH = /^(?:\/|\/[\x21-\x7e]+\/)$/;
const PATH_PREFIX = /^\/[\x21-\x7f]*$/;
const POLICY_TEXT = /^[\t\n\r\x20-\xff]+$/;
const DESCRIPTION = /^[\t\n\r\x20-\x7e\xa1-\xff]*$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ACCOUNT_ALIAS = /^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;
const POLICY_ARN = /^arn:aws[\w-]*:iam::(aws|\d{12}):policy(\/[\x21-\x7e]*)?$/;

const noSuchRole = (name: string) =>
  new AwsError('NoSuchEntity', `The role with name ${name} cannot be found.`);
const malformed = (message: string) => new AwsError('MalformedPolicyDocument', message);

/** The IAM state of the account the caller acts in. */
function iamOf({ cloud, caller }: CallContext): AccountRecord['iam'] {
  const account = cloud.state.accounts[caller.accountId];
  if (!account)
    throw new AwsError('InvalidClientTokenId', 'The security token included in the request is invalid.');
  return account.iam;
}

/** IAM names are unique regardless of case, and lookups ignore case too. */
function findRole(iam: AccountRecord['iam'], name: string): RoleRecord | undefined {
  const exact = Object.hasOwn(iam.roles, name) ? iam.roles[name] : undefined;
  if (exact) return exact;
  const lower = name.toLowerCase();
  return Object.values(iam.roles).find((role) => role.roleName.toLowerCase() === lower);
}

function requireRole(context: CallContext, name: string): RoleRecord {
  const role = findRole(iamOf(context), name);
  if (!role) throw noSuchRole(name);
  return role;
}

function roleArn(accountId: string, role: RoleRecord): string {
  return `arn:aws:iam::${accountId}:role${role.path}${role.roleName}`;
}

/**
 * A role in AWS's output shape. Policy documents go out URL-encoded, as AWS sends them; list operations leave
 * out Tags and RoleLastUsed (ListRoles documents that it does not return them).
 */
function roleShape(accountId: string, role: RoleRecord, detail: 'create' | 'get' | 'list') {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: roleArn(accountId, role),
    CreateDate: new Date(role.createdAt),
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: detail !== 'list' && role.tags.length > 0 ? role.tags : undefined,
    RoleLastUsed: detail === 'get' ? {} : undefined,
  };
}

/** Characters that count against IAM's policy size quotas: whitespace does not. */
function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/**
 * Checks a policy document's grammar as IAM does, raising MalformedPolicyDocument with IAM's messages. Trust
 * policies must name principals and only STS actions; identity policies must name resources and no principal.
 */
function checkPolicy(text: string, kind: 'trust' | 'identity'): void {
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch {
    throw malformed('This policy contains invalid Json');
  }
  if (!isObject(policy) || Object.keys(policy).some((key) => !POLICY_KEYS.has(key)))
    throw malformed('Syntax errors in policy.');
  if (policy.Version !== undefined && policy.Version !== '2012-10-17' && policy.Version !== '2008-10-17')
    throw malformed('The policy failed legacy parsing');
  if (policy.Statement === undefined) throw malformed('Syntax errors in policy.');
  const statements = asList(policy.Statement);
  if (statements.length === 0) throw malformed('Syntax errors in policy.');
  for (const statement of statements) {
    if (!isObject(statement) || Object.keys(statement).some((key) => !STATEMENT_KEYS.has(key)))
      throw malformed('Syntax errors in policy.');
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
      throw malformed('Syntax errors in policy.');
    const actions = statement.Action ?? statement.NotAction;
    if (actions === undefined) throw malformed('Policy statement must contain actions.');
    if (asList(actions).some((action) => typeof action !== 'string'))
      throw malformed('Syntax errors in policy.');
    const hasPrincipal = statement.Principal !== undefined || statement.NotPrincipal !== undefined;
    const hasResource = statement.Resource !== undefined || statement.NotResource !== undefined;
    if (kind === 'trust') {
      if (hasResource) throw malformed('Has prohibited field Resource');
      if (!hasPrincipal) throw malformed('Missing required field Principal');
      if (statement.Action !== undefined && asList(statement.Action).some((a) => !/^sts:/i.test(String(a))))
        throw malformed('AssumeRole policy may only specify STS AssumeRole actions.');
    } else {
      if (hasPrincipal) throw malformed('Policy document should not specify a principal.');
      if (!hasResource) throw malformed('Policy statement must contain resources.');
    }
  }
}

function readTrustPolicy(params: Params, input: Input, name: string): string {
  const text = params.string(input, name, { required: true, min: 1, max: 131_072, pattern: POLICY_TEXT });
  checkPolicy(text, 'trust');
  if (policySize(text) > TRUST_POLICY_SIZE)
    throw new AwsError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_SIZE}`);
  return text;
}

/** IAM's quota of tags per role. */
const TAGS_PER_ROLE = 50;

function readTags(params: Params, input: Input): { Key: string; Value: string }[] {
  const tags = params.tags(input, 'Tags', TAGS_PER_ROLE);
  const seen = new Set<string>();
  for (const tag of tags) {
    if (!TAG_KEY.test(tag.Key) || !TAG_VALUE.test(tag.Value))
      params.fail(`Tag ${tag.Key} has characters that tags do not allow.`);
    const key = tag.Key.toLowerCase();
    if (seen.has(key))
      throw new AwsError(
        'InvalidInput',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    seen.add(key);
  }
  return tags;
}

interface Page<T> {
  items: T[];
  IsTruncated: boolean;
  Marker?: string;
}

/**
 * One page of a list sorted by `keyOf`, after the item a Marker names. The Marker is opaque to clients; it holds
 * the last key returned, so items created or deleted between pages do not make others repeat or go missing.
 */
function pageOf<T>(
  { params }: CallContext,
  input: Input,
  items: readonly T[],
  keyOf: (item: T) => string,
  scope: string,
): Page<T> {
  const marker = params.string(input, 'Marker', { min: 1, max: 320, pattern: /^[\x20-\xff]+$/ });
  const maxItems = params.number(input, 'MaxItems', { integer: true, min: 1, max: 1000 }) ?? 100;
  let after: string | undefined;
  if (marker !== undefined) {
    try {
      const parsed = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as {
        a?: unknown;
        s?: unknown;
      };
      if (typeof parsed.a === 'string' && parsed.s === scope) after = parsed.a;
    } catch {
      // reported below
    }
    if (after === undefined) params.fail('Invalid Marker.');
  }
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const rest = after === undefined ? sorted : sorted.filter((entry) => entry.key > (after as string));
  const page = rest.slice(0, maxItems);
  const last = page.at(-1);
  if (rest.length > page.length && last) {
    const next = Buffer.from(JSON.stringify({ a: last.key, s: scope })).toString('base64url');
    return { items: page.map((entry) => entry.item), IsTruncated: true, Marker: next };
  }
  return { items: page.map((entry) => entry.item), IsTruncated: false };
}

function pathPrefix(params: Params, input: Input): string {
  return params.string(input, 'PathPrefix', { min: 1, max: 512, pattern: PATH_PREFIX }) ?? '/';
}

function roleNameParam(params: Params, input: Input): string {
  return params.string(input, 'RoleName', { required: true, min: 1, max: 64, pattern: NAME });
}

function policyNameParam(params: Params, input: Input): string {
  return params.string(input, 'PolicyName', { required: true, min: 1, max: 128, pattern: NAME });
}

function policyArnParam(params: Params, input: Input): string {
  const arn = params.string(input, 'PolicyArn', { required: true, min: 20, max: 2048 });
  if (!POLICY_ARN.test(arn)) throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`);
  return arn;
}

function aliasParam(params: Params, input: Input): string {
  return params.string(input, 'AccountAlias', { required: true, min: 3, max: 63, pattern: ACCOUNT_ALIAS });
}

function findInlinePolicy(role: RoleRecord, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(role.inlinePolicies).find((key) => key.toLowerCase() === lower);
}

/** AWS's values for the settings an UpdateAccountPasswordPolicy call leaves out. */
const PASSWORD_POLICY_DEFAULTS = {
  MinimumPasswordLength: 6,
  RequireSymbols: false,
  RequireNumbers: false,
  RequireUppercaseCharacters: false,
  RequireLowercaseCharacters: false,
  AllowUsersToChangePassword: false,
};

/** The IAM service: roles, their policies, the account password policy and the account alias. */
export const iam: ServiceDefinition = {
  signingName: 'iam',
  eventSource: 'iam.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: queryProtocol('https://iam.amazonaws.com/doc/2010-05-08/'),
  errorStatus: {
    NoSuchEntity: 404,
    EntityAlreadyExists: 409,
    DeleteConflict: 409,
    LimitExceeded: 409,
    ConcurrentModification: 409,
    MalformedPolicyDocument: 400,
    InvalidInput: 400,
    ValidationError: 400,
    ServiceFailure: 500,
  },
  invalid: (message) => new AwsError('ValidationError', message),
  unknownCredentialCode: 'InvalidClientTokenId',
  accessDeniedCode: 'AccessDenied',
  unknownOperationCode: 'InvalidAction',
  operations: {
    CreateRole: {
      mutating: true,
      run(context, input) {
        const { cloud, caller, params } = context;
        const roleName = roleNameParam(params, input);
        const path = params.string(input, 'Path', { min: 1, max: 512, pattern: PATH }) ?? '/';
        const description = params.string(input, 'Description', { max: 1000, pattern: DESCRIPTION });
        const maxSessionDuration =
          params.number(input, 'MaxSessionDuration', { integer: true, min: 3600, max: 43_200 }) ?? 3600;
        const tags = readTags(params, input);
        const document = readTrustPolicy(params, input, 'AssumeRolePolicyDocument');
        const state = iamOf(context);
        const { roles } = state;
        if (findRole(state, roleName))
          throw new AwsError('EntityAlreadyExists', `Role with name ${roleName} already exists.`);
        if (Object.keys(roles).length >= ROLES_PER_ACCOUNT)
          throw new AwsError(
            'LimitExceeded',
            `Cannot exceed quota for RolesPerAccount: ${ROLES_PER_ACCOUNT}`,
          );
        const role: RoleRecord = {
          roleName,
          roleId: cloud.ids.roleId(),
          path,
          ...(description !== undefined ? { description } : {}),
          maxSessionDuration,
          assumeRolePolicyDocument: document,
          createdAt: cloud.clock.now(),
          tags,
          inlinePolicies: {},
          attachedPolicies: [],
        };
        roles[roleName] = role;
        return { Role: roleShape(caller.accountId, role, 'create') };
      },
    },

    GetRole: {
      mutating: false,
      run(context, input) {
        const role = requireRole(context, roleNameParam(context.params, input));
        return { Role: roleShape(context.caller.accountId, role, 'get') };
      },
    },

    DeleteRole: {
      mutating: true,
      run(context, input) {
        const role = requireRole(context, roleNameParam(context.params, input));
        if (role.attachedPolicies.length > 0)
          throw new AwsError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
        if (Object.keys(role.inlinePolicies).length > 0)
          throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
        delete iamOf(context).roles[role.roleName];
        return undefined;
      },
    },

    ListRoles: {
      mutating: false,
      run(context, input) {
        const prefix = pathPrefix(context.params, input);
        const roles = Object.values(iamOf(context).roles).filter((role) => role.path.startsWith(prefix));
        const page = pageOf(context, input, roles, (role) => role.roleName.toLowerCase(), `roles:${prefix}`);
        return {
          Roles: page.items.map((role) => roleShape(context.caller.accountId, role, 'list')),
          IsTruncated: page.IsTruncated,
          Marker: page.Marker,
        };
      },
    },

    UpdateRole: {
      mutating: true,
      run(context, input) {
        const { params } = context;
        const role = requireRole(context, roleNameParam(params, input));
        const description = params.string(input, 'Description', { max: 1000, pattern: DESCRIPTION });
        const maxSessionDuration = params.number(input, 'MaxSessionDuration', {
          integer: true,
          min: 3600,
          max: 43_200,
        });
        if (description !== undefined) role.description = description;
        // IAM API reference, UpdateRole: "If you do not specify a value for this setting, the default value of one
        // hour is applied" (the SDK model's UpdateRoleRequest.MaxSessionDuration says the same).
        role.maxSessionDuration = maxSessionDuration ?? 3600;
        return {};
      },
    },

    TagRole: {
      mutating: true,
      run(context, input) {
        const role = requireRole(context, roleNameParam(context.params, input));
        const tags = readTags(context.params, input);
        if (tags.length === 0) context.params.fail('Tags must contain at least one tag.');
        const merged = [...role.tags];
        for (const tag of tags) {
          const at = merged.findIndex((held) => held.Key.toLowerCase() === tag.Key.toLowerCase());
          if (at >= 0) merged[at] = tag;
          else merged.push(tag);
        }
        if (merged.length > TAGS_PER_ROLE)
          throw new AwsError('LimitExceeded', `Cannot exceed quota for TagsPerRole: ${TAGS_PER_ROLE}`);
        role.tags = merged;
        return undefined;
      },
    },

    UntagRole: {
      mutating: true,
      run(context, input) {
        const role = requireRole(context, roleNameParam(context.params, input));
        const keys = context.params
          .list(input, 'TagKeys', { required: true, max: TAGS_PER_ROLE })
          .map((key) => String(key).toLowerCase());
        role.tags = role.tags.filter((tag) => !keys.includes(tag.Key.toLowerCase()));
        return undefined;
      },
    },

    ListRoleTags: {
      mutating: false,
      run(context, input) {
        const role = requireRole(context, roleNameParam(context.params, input));
        const page = pageOf(context, input, role.tags, (tag) => tag.Key, `tags:${role.roleId}`);
        return { Tags: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
    },

    UpdateAssumeRolePolicy: {
      mutating: true,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const document = readTrustPolicy(context.params, input, 'PolicyDocument');
        requireRole(context, roleName).assumeRolePolicyDocument = document;
        return undefined;
      },
    },

    PutRolePolicy: {
      mutating: true,
      run(context, input) {
        const { params } = context;
        const roleName = roleNameParam(params, input);
        const policyName = policyNameParam(params, input);
        const document = params.string(input, 'PolicyDocument', {
          required: true,
          min: 1,
          max: 131_072,
          pattern: POLICY_TEXT,
        });
        checkPolicy(document, 'identity');
        const role = requireRole(context, roleName);
        const existing = findInlinePolicy(role, policyName);
        const others = Object.entries(role.inlinePolicies).filter(([name]) => name !== existing);
        const total = others.reduce((sum, [, text]) => sum + policySize(text), policySize(document));
        if (total > INLINE_POLICY_SIZE_PER_ROLE)
          throw new AwsError(
            'LimitExceeded',
            `Maximum policy size of ${INLINE_POLICY_SIZE_PER_ROLE} bytes exceeded for role ${role.roleName}`,
          );
        if (existing !== undefined) delete role.inlinePolicies[existing];
        role.inlinePolicies[policyName] = document;
        return undefined;
      },
    },

    GetRolePolicy: {
      mutating: false,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const policyName = policyNameParam(context.params, input);
        const role = requireRole(context, roleName);
        const name = findInlinePolicy(role, policyName);
        if (name === undefined)
          throw new AwsError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
        return {
          RoleName: role.roleName,
          PolicyName: name,
          PolicyDocument: encodeURIComponent(role.inlinePolicies[name]!),
        };
      },
    },

    DeleteRolePolicy: {
      mutating: true,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const policyName = policyNameParam(context.params, input);
        const role = requireRole(context, roleName);
        const name = findInlinePolicy(role, policyName);
        if (name === undefined)
          throw new AwsError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
        delete role.inlinePolicies[name];
        return undefined;
      },
    },

    ListRolePolicies: {
      mutating: false,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const role = requireRole(context, roleName);
        const page = pageOf(
          context,
          input,
          Object.keys(role.inlinePolicies),
          (name) => name.toLowerCase(),
          `role-policies:${role.roleId}`,
        );
        return { PolicyNames: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
    },

    AttachRolePolicy: {
      mutating: true,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const arn = policyArnParam(context.params, input);
        const role = requireRole(context, roleName);
        // Only AWS managed policies exist in the local cloud: customer managed ARNs name nothing.
        if (!AWS_MANAGED_POLICIES.has(arn))
          throw new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
        if (role.attachedPolicies.includes(arn)) return undefined;
        if (role.attachedPolicies.length >= MANAGED_POLICIES_PER_ROLE)
          throw new AwsError(
            'LimitExceeded',
            `Cannot exceed quota for PoliciesPerRole: ${MANAGED_POLICIES_PER_ROLE}`,
          );
        role.attachedPolicies.push(arn);
        return undefined;
      },
    },

    DetachRolePolicy: {
      mutating: true,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const arn = policyArnParam(context.params, input);
        const role = requireRole(context, roleName);
        const index = role.attachedPolicies.indexOf(arn);
        if (index < 0) throw new AwsError('NoSuchEntity', `Policy ${arn} was not found.`);
        role.attachedPolicies.splice(index, 1);
        return undefined;
      },
    },

    ListAttachedRolePolicies: {
      mutating: false,
      run(context, input) {
        const roleName = roleNameParam(context.params, input);
        const prefix = pathPrefix(context.params, input);
        const role = requireRole(context, roleName);
        const attached = role.attachedPolicies.flatMap((arn) => {
          const policy = AWS_MANAGED_POLICIES.get(arn);
          return policy?.path.startsWith(prefix) ? [{ PolicyName: policy.policyName, PolicyArn: arn }] : [];
        });
        const page = pageOf(
          context,
          input,
          attached,
          (policy) => policy.PolicyArn,
          `attached:${role.roleId}:${prefix}`,
        );
        return { AttachedPolicies: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
    },

    UpdateAccountPasswordPolicy: {
      mutating: true,
      run(context, input) {
        const { params } = context;
        const policy: Record<string, unknown> = {
          MinimumPasswordLength:
            params.number(input, 'MinimumPasswordLength', { integer: true, min: 6, max: 128 }) ??
            PASSWORD_POLICY_DEFAULTS.MinimumPasswordLength,
        };
        for (const name of [
          'RequireSymbols',
          'RequireNumbers',
          'RequireUppercaseCharacters',
          'RequireLowercaseCharacters',
          'AllowUsersToChangePassword',
        ] as const) {
          policy[name] = params.boolean(input, name) ?? PASSWORD_POLICY_DEFAULTS[name];
        }
        // MaxPasswordAge, PasswordReusePrevention and HardExpiry have no value that means "off": when left out
        // they are unset, and GetAccountPasswordPolicy leaves them out.
        const maxAge = params.number(input, 'MaxPasswordAge', { integer: true, min: 1, max: 1095 });
        const reuse = params.number(input, 'PasswordReusePrevention', { integer: true, min: 1, max: 24 });
        const hardExpiry = params.boolean(input, 'HardExpiry');
        if (maxAge !== undefined) policy.MaxPasswordAge = maxAge;
        if (reuse !== undefined) policy.PasswordReusePrevention = reuse;
        if (hardExpiry !== undefined) policy.HardExpiry = hardExpiry;
        iamOf(context).passwordPolicy = policy;
        return undefined;
      },
    },

    GetAccountPasswordPolicy: {
      mutating: false,
      run(context) {
        const policy = iamOf(context).passwordPolicy;
        if (!policy)
          throw new AwsError(
            'NoSuchEntity',
            `The Password Policy with domain name ${context.caller.accountId} cannot be found.`,
          );
        const { MaxPasswordAge, PasswordReusePrevention, HardExpiry, ...rest } = policy;
        return {
          PasswordPolicy: {
            ...rest,
            ExpirePasswords: typeof MaxPasswordAge === 'number' && MaxPasswordAge > 0,
            MaxPasswordAge,
            PasswordReusePrevention,
            HardExpiry,
          },
        };
      },
    },

    DeleteAccountPasswordPolicy: {
      mutating: true,
      run(context) {
        const state = iamOf(context);
        if (!state.passwordPolicy)
          throw new AwsError(
            'NoSuchEntity',
            `The Password Policy with domain name ${context.caller.accountId} cannot be found.`,
          );
        delete state.passwordPolicy;
        return undefined;
      },
    },

    CreateAccountAlias: {
      mutating: true,
      run({ cloud, caller, params }, input) {
        const alias = aliasParam(params, input);
        const aliases = cloud.state.accountAliases;
        const owner = Object.hasOwn(aliases, alias) ? aliases[alias] : undefined;
        if (owner === caller.accountId) return undefined;
        if (owner !== undefined)
          throw new AwsError('EntityAlreadyExists', `The account alias ${alias} already exists.`);
        // An account has at most one alias: a new one replaces the old.
        for (const [existing, accountId] of Object.entries(aliases)) {
          if (accountId === caller.accountId) delete aliases[existing];
        }
        aliases[alias] = caller.accountId;
        return undefined;
      },
    },

    ListAccountAliases: {
      mutating: false,
      run(context, input) {
        const aliases = Object.entries(context.cloud.state.accountAliases)
          .filter(([, accountId]) => accountId === context.caller.accountId)
          .map(([alias]) => alias);
        const page = pageOf(context, input, aliases, (alias) => alias, 'aliases');
        return { AccountAliases: page.items, IsTruncated: page.IsTruncated, Marker: page.Marker };
      },
    },

    DeleteAccountAlias: {
      mutating: true,
      run({ cloud, caller, params }, input) {
        const alias = aliasParam(params, input);
        const aliases = cloud.state.accountAliases;
        if (!Object.hasOwn(aliases, alias) || aliases[alias] !== caller.accountId)
          throw new AwsError('NoSuchEntity', `The account alias ${alias} cannot be found.`);
        delete aliases[alias];
        return undefined;
      },
    },
  },
};
