import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { newAccount, trustAccount } from './accounts.ts';
import type { Cloud } from './cloud.ts';
import { settingsSchema } from './control.ts';
import {
  derivedUuid,
  type IdentityCenterInstanceRecord,
  identityCenterOf,
  resourceId,
} from './identity-center.ts';
import { enableServiceControlPolicies, FULL_AWS_ACCESS_ID, fullAwsAccessPolicy } from './policies.ts';
import { AWS_MANAGED_POLICIES } from './services/iam-policies.ts';
import { addGroup, addMembership, addUser } from './services/identitystore.ts';
import { type CloudState, DEFAULT_SETTINGS } from './state.ts';

const accountId = z.string().regex(/^\d{12}$/, 'an account id is 12 digits');

interface OrganizationalUnitSeed {
  name: string;
  children?: OrganizationalUnitSeed[] | undefined;
}
const organizationalUnitSchema: z.ZodType<OrganizationalUnitSeed> = z.lazy(() =>
  z.strictObject({
    name: z.string().min(1).max(128),
    children: z.array(organizationalUnitSchema).optional(),
  }),
);

/** The declarative description of a local organization. Account references are names or ids. */
export const seedSchema = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1')
    .default('us-east-1'),
  /** Seed of the random source behind generated ids and fault rates. */
  randomSeed: z.number().int().default(1),
  managementAccount: z
    .strictObject({
      id: accountId.default('000000000000'),
      name: z.string().min(1).max(128).default('management'),
      email: z.string().email().default('aws-management@example.com'),
    })
    .prefault({}),
  organizationalUnits: z.array(organizationalUnitSchema).default([]),
  accounts: z
    .array(
      z.strictObject({
        id: accountId.optional(),
        name: z.string().min(1).max(128),
        email: z.string().email(),
        /** OU path such as `Shared/Security`; the root when absent. */
        organizationalUnit: z.string().optional(),
        tags: z.record(z.string(), z.string()).optional(),
      }),
    )
    .default([]),
  roles: z
    .array(
      z.strictObject({
        account: z.string(),
        name: z.string().min(1).max(64),
        /** Accounts whose principals the role trusts (by name or id). */
        trustedAccounts: z.array(z.string()).default([]),
        managedPolicies: z.array(z.string()).default([]),
      }),
    )
    .default([]),
  accessKeys: z
    .array(
      z.strictObject({
        accessKeyId: z.string().min(1),
        /**
         * The secret that signs with this key (the local request API verifies signatures against it).
         * @default the access key id itself: key `test` has secret `test`, as the AWS CLI examples use.
         */
        secretAccessKey: z.string().min(1).optional(),
        account: z.string(),
        /** Acts as this role of the account (the role must be declared in `roles` or be the access role); root when absent. */
        role: z.string().optional(),
        sessionName: z.string().default('local'),
      }),
    )
    .default([{ accessKeyId: 'test', account: 'management', sessionName: 'local' }]),
  hostedZones: z
    .array(
      z.strictObject({
        /** A fixed zone id, so that configuration can name it; generated when absent. */
        id: z
          .string()
          .regex(/^Z[A-Z0-9]{1,31}$/, 'a hosted zone id such as Z0123456789VENDLOCAL')
          .optional(),
        account: z.string(),
        name: z.string().min(1),
        comment: z.string().optional(),
      }),
    )
    .default([]),
  /**
   * An IAM Identity Center organization instance, owned by the management account, with its identity store's users
   * and groups. Their ids derive from the store id and their names, so they are the same on every start.
   */
  identityCenter: z
    .strictObject({
      /** `ssoins-` and 16 hexadecimal characters. */
      instanceId: z
        .string()
        .regex(/^ssoins-[0-9a-f]{16}$/, 'an instance id such as ssoins-72230123456789ab')
        .default('ssoins-7223f1e0c0ffee01'),
      /** `d-` and 10 hexadecimal characters; the access portal is https://<id>.awsapps.com/start. */
      identityStoreId: z
        .string()
        .regex(/^d-[0-9a-f]{10}$/, 'an identity store id such as d-9067c0ffee')
        .default('d-9067c0ffee'),
      name: z.string().min(1).max(255).optional(),
      users: z
        .array(
          z.strictObject({
            userName: z.string().min(1).max(128),
            email: z.string().email(),
            givenName: z.string().min(1),
            familyName: z.string().min(1),
            displayName: z.string().min(1).optional(),
          }),
        )
        .default([]),
      groups: z
        .array(
          z.strictObject({
            displayName: z.string().min(1).max(1024),
            description: z.string().min(1).optional(),
            /** User names of the members. */
            members: z.array(z.string()).default([]),
          }),
        )
        .default([]),
    })
    .optional(),
  settings: settingsSchema.partial().default({}),
});

export type Seed = z.input<typeof seedSchema>;
export type ParsedSeed = z.output<typeof seedSchema>;

/** Reads and checks a seed file; a problem names the key and what is wrong with it. */
export function readSeedFile(path: string): ParsedSeed {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`seed ${path}: ${(error as Error).message}`);
  }
  return parseSeed(raw, path);
}

export function parseSeed(raw: unknown, source = 'seed'): ParsedSeed {
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(top level)'}: ${issue.message}`,
    );
    throw new Error(`${source} is invalid:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** An empty state, to be filled by `applySeed`. */
export function emptyState(seed: ParsedSeed): CloudState {
  return {
    version: 1,
    region: seed.region,
    organization: {
      id: '',
      arn: '',
      featureSet: 'ALL',
      managementAccountId: seed.managementAccount.id,
      rootId: '',
      rootName: 'Root',
    },
    organizationalUnits: {},
    accounts: {},
    createAccountRequests: {},
    tags: {},
    policies: { [FULL_AWS_ACCESS_ID]: fullAwsAccessPolicy(0) },
    enabledPolicyTypes: [],
    credentials: {},
    hostedZones: {},
    accountAliases: {},
    settings: {
      ...DEFAULT_SETTINGS,
      ...seed.settings,
      nextCreationOutcomes: [...(seed.settings.nextCreationOutcomes ?? [])],
    },
    audit: [],
    auditSequence: 1,
  };
}

/** Builds the organization a seed describes. */
export function applySeed(cloud: Cloud, seed: ParsedSeed): void {
  const { state } = cloud;
  const management = seed.managementAccount;
  const organizationId = cloud.ids.organizationId();
  state.organization = {
    id: organizationId,
    arn: `arn:aws:organizations::${management.id}:organization/${organizationId}`,
    featureSet: 'ALL',
    managementAccountId: management.id,
    rootId: cloud.ids.rootId(),
    rootName: 'Root',
  };
  // Seeded accounts are long established: no eventual-consistency window applies to them.
  const established = cloud.clock.now() - 365 * 24 * 3600 * 1000;
  newAccount(cloud, {
    id: management.id,
    name: management.name,
    email: management.email,
    joinedAt: established,
  });

  const ouByPath = new Map<string, string>();
  const addUnits = (units: OrganizationalUnitSeed[], parentId: string, prefix: string) => {
    for (const unit of units) {
      const path = prefix ? `${prefix}/${unit.name}` : unit.name;
      if (ouByPath.has(path)) throw new Error(`seed: organizational unit ${path} is declared twice`);
      const id = cloud.ids.organizationalUnitId();
      state.organizationalUnits[id] = { id, name: unit.name, parentId, createdAt: cloud.clock.now() };
      ouByPath.set(path, id);
      addUnits(unit.children ?? [], id, path);
    }
  };
  addUnits(seed.organizationalUnits, state.organization.rootId, '');

  const accountRef = (ref: string, where: string): string => {
    if (ref === 'management' || ref === management.name || ref === management.id) return management.id;
    const found = Object.values(state.accounts).find((account) => account.id === ref || account.name === ref);
    if (!found) throw new Error(`seed: ${where} names account '${ref}', which the seed does not declare`);
    return found.id;
  };

  for (const [index, declared] of seed.accounts.entries()) {
    let parentId = state.organization.rootId;
    if (declared.organizationalUnit !== undefined) {
      const ou = ouByPath.get(declared.organizationalUnit);
      if (!ou)
        throw new Error(
          `seed: accounts.${index}.organizationalUnit '${declared.organizationalUnit}' is not a declared OU path`,
        );
      parentId = ou;
    }
    const account = newAccount(cloud, {
      ...(declared.id ? { id: declared.id } : {}),
      name: declared.name,
      email: declared.email,
      roleName: 'OrganizationAccountAccessRole',
      parentId,
      joinedAt: established,
    });
    if (declared.tags) state.tags[account.id] = { ...declared.tags };
  }

  // A new AWS organization has SCPs available but not enabled until someone calls EnablePolicyType; the local
  // organization starts with them enabled, FullAWSAccess on every entity, as Vend's guardrails need them.
  enableServiceControlPolicies(state);

  for (const [index, role] of seed.roles.entries()) {
    const account = state.accounts[accountRef(role.account, `roles.${index}.account`)]!;
    const trusted = role.trustedAccounts.map((ref) => accountRef(ref, `roles.${index}.trustedAccounts`));
    for (const arn of role.managedPolicies) {
      if (!AWS_MANAGED_POLICIES.has(arn))
        throw new Error(`seed: roles.${index}.managedPolicies: ${arn} is not a known AWS managed policy`);
    }
    account.iam.roles[role.name] = {
      roleName: role.name,
      roleId: cloud.ids.roleId(),
      path: '/',
      maxSessionDuration: 3600,
      assumeRolePolicyDocument:
        trusted.length === 1
          ? trustAccount(trusted[0]!)
          : JSON.stringify({
              Version: '2012-10-17',
              Statement: trusted.map((id) => ({
                Effect: 'Allow',
                Principal: { AWS: `arn:aws:iam::${id}:root` },
                Action: 'sts:AssumeRole',
              })),
            }),
      createdAt: cloud.clock.now(),
      tags: [],
      inlinePolicies: {},
      attachedPolicies: [...role.managedPolicies],
    };
  }

  for (const [index, key] of seed.accessKeys.entries()) {
    const id = accountRef(key.account, `accessKeys.${index}.account`);
    const secretAccessKey = key.secretAccessKey ?? key.accessKeyId;
    if (key.role === undefined) {
      state.credentials[key.accessKeyId] = {
        accessKeyId: key.accessKeyId,
        secretAccessKey,
        caller: { accountId: id, arn: `arn:aws:iam::${id}:root`, type: 'Root', principalId: id },
      };
      continue;
    }
    const role = state.accounts[id]!.iam.roles[key.role];
    if (!role) throw new Error(`seed: accessKeys.${index}.role '${key.role}' is not a role of account ${id}`);
    state.credentials[key.accessKeyId] = {
      accessKeyId: key.accessKeyId,
      secretAccessKey,
      caller: {
        accountId: id,
        arn: `arn:aws:sts::${id}:assumed-role/${role.roleName}/${key.sessionName}`,
        type: 'AssumedRole',
        principalId: `${role.roleId}:${key.sessionName}`,
        roleArn: `arn:aws:iam::${id}:role${role.path}${role.roleName}`,
      },
    };
  }

  if (seed.identityCenter) applyIdentityCenter(cloud, seed.identityCenter, established);

  for (const [index, zone] of seed.hostedZones.entries()) {
    const owner = state.accounts[accountRef(zone.account, `hostedZones.${index}.account`)]!;
    const vpc = Object.values(owner.vpcs).find((candidate) => candidate.isDefault);
    const id = zone.id ?? cloud.ids.hostedZoneId();
    if (state.hostedZones[id]) throw new Error(`seed: hostedZones.${index}.id ${id} is declared twice`);
    state.hostedZones[id] = {
      id,
      name: zone.name.endsWith('.') ? zone.name : `${zone.name}.`,
      ownerAccountId: owner.id,
      callerReference: `seed-${index}`,
      ...(zone.comment ? { comment: zone.comment } : {}),
      privateZone: true,
      vpcs: vpc ? [{ VPCRegion: vpc.region, VPCId: vpc.vpcId }] : [],
      authorizations: [],
      createdAt: cloud.clock.now(),
    };
  }
}

/**
 * Creates the seed's Identity Center instance, users, groups and memberships. Also run on a state saved before
 * Identity Center existed (local/cloud/index.ts), so that an existing data file gains the seed's instance.
 */
export function applyIdentityCenter(
  cloud: Cloud,
  seed: NonNullable<ParsedSeed['identityCenter']>,
  established = cloud.clock.now() - 365 * 24 * 3600 * 1000,
): void {
  const { identityStoreId } = seed;
  const instance: IdentityCenterInstanceRecord = {
    instanceArn: `arn:aws:sso:::instance/${seed.instanceId}`,
    identityStoreId,
    ownerAccountId: cloud.state.organization.managementAccountId,
    ...(seed.name ? { name: seed.name } : {}),
    createdAt: established,
    permissionSets: {},
    assignments: [],
    provisioned: [],
    operations: {},
    users: {},
    groups: {},
    memberships: {},
  };
  identityCenterOf(cloud.state).instances.push(instance);
  const idOf = (kind: string, name: string) =>
    resourceId(identityStoreId, derivedUuid(identityStoreId, kind, name));
  const fail = (where: string, error: unknown) => {
    throw new Error(`seed: identityCenter.${where}: ${(error as Error).message}`);
  };
  for (const [index, user] of seed.users.entries()) {
    const displayName = user.displayName ?? `${user.givenName} ${user.familyName}`;
    try {
      addUser(instance, {
        userId: idOf('user', user.userName),
        userName: user.userName,
        attributes: {
          DisplayName: displayName,
          Name: { GivenName: user.givenName, FamilyName: user.familyName, Formatted: displayName },
          Emails: [{ Value: user.email, Type: 'work', Primary: true }],
        },
        createdAt: established,
      });
    } catch (error) {
      fail(`users.${index}`, error);
    }
  }
  for (const [index, group] of seed.groups.entries()) {
    const groupId = idOf('group', group.displayName);
    try {
      addGroup(instance, {
        groupId,
        displayName: group.displayName,
        ...(group.description ? { description: group.description } : {}),
        createdAt: established,
      });
    } catch (error) {
      fail(`groups.${index}`, error);
    }
    for (const userName of group.members) {
      const user = Object.values(instance.users).find((candidate) => candidate.userName === userName);
      if (!user) fail(`groups.${index}.members`, new Error(`'${userName}' is not a declared user`));
      addMembership(instance, {
        membershipId: idOf('membership', `${group.displayName}\u0000${userName}`),
        groupId,
        userId: user!.userId,
        createdAt: established,
      });
    }
  }
}
