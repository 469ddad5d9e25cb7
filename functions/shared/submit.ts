import { randomUUID } from 'node:crypto';
import {
  ListOrganizationalUnitsForParentCommand,
  ListRootsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { GetHostedZoneLimitCommand, Route53Client } from '@aws-sdk/client-route-53';
import { type Grants, whoMayRequest } from './access.ts';
import { approvalFor, askApprovers } from './approval.ts';
import { fillTemplate, type Profile, resolveProfile, type VendConfig } from './config.ts';
import type { Deps } from './deps.ts';
import { aws, RegistryConditionFailedError, RequestRejectedError } from './errors.ts';
import type { RequestRecord, VendRequest } from './model.ts';
import {
  type AccountRequestInput,
  accountRequestSchema,
  codePoint,
  type IdentityField,
  nonAsciiCharacter,
  normalizeIdentityFields,
} from './request-schema.ts';
import { EMAIL_PATTERN } from './text.ts';

/**
 * An execution's whole input: the request id. Every step reads the request from the registry and refuses an
 * execution whose input carries more, or whose name is not the request id.
 */
export interface ExecutionInput {
  requestId: string;
}

/** Starts the state machine for a request, named after it; idempotent by execution name. */
export interface WorkflowStarter {
  start(executionName: string, input: ExecutionInput): Promise<void>;
}

/**
 * How long an OU path's id is believed. OUs are created rarely and their ids never change, so one lookup per
 * minute is enough; an OU deleted and recreated under the same path is picked up within this time.
 */
export const OU_ID_CACHE_MS = 60_000;

/** Ids found per OU path, per set of dependencies (one per Lambda environment, one per local pipeline). */
const ouIds = new WeakMap<Deps, Map<string, { id: string; until: number }>>();

/** An OU's id from its path, from the cache or walking from the root; undefined when it does not exist. */
export async function ouIdForPath(deps: Deps, path: string): Promise<string | undefined> {
  let cache = ouIds.get(deps);
  if (!cache) {
    cache = new Map();
    ouIds.set(deps, cache);
  }
  const cached = cache.get(path);
  if (cached && cached.until > Date.now()) return cached.id;
  const id = await lookUpOuId(deps, path);
  if (id) cache.set(path, { id, until: Date.now() + OU_ID_CACHE_MS });
  else cache.delete(path);
  return id;
}

async function lookUpOuId(deps: Deps, path: string): Promise<string | undefined> {
  const { Roots } = await aws(deps.client(OrganizationsClient).send(new ListRootsCommand({})));
  let parentId = Roots?.[0]?.Id;
  for (const segment of path.split('/')) {
    if (!parentId) return undefined;
    let next: string | undefined;
    let token: string | undefined;
    do {
      const page = await aws(
        deps
          .client(OrganizationsClient)
          .send(new ListOrganizationalUnitsForParentCommand({ ParentId: parentId, NextToken: token })),
      );
      next = page.OrganizationalUnits?.find((ou) => ou.Name === segment)?.Id;
      token = page.NextToken;
    } while (!next && token);
    parentId = next;
  }
  return parentId;
}

/**
 * Resolves the requested OU against the configuration: a full path or an id that the configuration allows.
 * A bare name is refused even when only one allowed path ends with it, because OU names repeat across the tree.
 */
async function resolveOrganizationalUnit(
  deps: Deps,
  requested: string,
): Promise<{ id: string; path: string }> {
  const allowed = deps.config.organization.allowedOrganizationalUnits;
  const list = allowed.join(', ');
  if (!allowed.includes(requested)) {
    const endsWith = allowed.filter((entry) => entry.split('/').pop() === requested && entry !== requested);
    if (endsWith.length > 0) {
      throw new RequestRejectedError(
        400,
        'organizationalUnit',
        `'${requested}' is a bare OU name, which can be ambiguous`,
        `Use the full path: ${endsWith.join(' or ')}.`,
      );
    }
    throw new RequestRejectedError(
      422,
      'organizationalUnit',
      `'${requested}' is not an OU that accounts may be vended into`,
      `Use one of: ${list}.`,
    );
  }
  if (requested.startsWith('ou-')) return { id: requested, path: requested };
  const id = await ouIdForPath(deps, requested);
  if (!id) {
    throw new RequestRejectedError(
      422,
      'organizationalUnit',
      `'${requested}' is allowed by the configuration but does not exist in the organization`,
      'Ask your platform team to create it or to correct organization.allowedOrganizationalUnits.',
    );
  }
  return { id, path: requested };
}

const ASCII_FIX: Record<IdentityField, string> = {
  name: 'Type the name in ASCII: lower-case letters a-z, digits and dashes.',
  email:
    'Type the address in ASCII letters, digits and . _ % + - @ (a look-alike from another script is not the same address).',
  owner:
    'Type the address in ASCII letters, digits and . _ % + - @ (a look-alike from another script is not the same address).',
};

/**
 * Refuses an identity field (already NFKC-normalized) that still holds a character outside printable ASCII: a
 * look-alike such as Cyrillic `а` would show as one name to a reader and be another to AWS and the registry.
 */
function refuseNonAscii(field: IdentityField, value: string): void {
  const character = nonAsciiCharacter(value);
  if (character === undefined) return;
  throw new RequestRejectedError(
    400,
    field,
    `contains the character ${codePoint(character)}, which is not ASCII (even after Unicode NFKC normalization) and may look like an ASCII one`,
    ASCII_FIX[field],
  );
}

/** What else `prepareRequest` checks. */
export interface PrepareOptions {
  /**
   * The caller's grants: a request in an OU they are not granted is refused with 403, naming who may ask. Absent
   * for Vend's own callers (the local tools), which act for the platform team.
   */
  grants?: Grants;
}

/**
 * Checks a request against the organization's policy and turns it into what the workflow carries. Refusals
 * are RequestRejectedError naming the field and the fix; nothing is written.
 */
export async function prepareRequest(
  deps: Deps,
  body: unknown,
  principal: string,
  requestId = `req-${randomUUID()}`,
  options: PrepareOptions = {},
): Promise<VendRequest> {
  const parsed = accountRequestSchema.safeParse(normalizeIdentityFields(body));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(body)';
    throw new RequestRejectedError(
      400,
      field,
      issue.message,
      'See the request schema (GET /openapi.json) and correct that field.',
    );
  }
  const input: AccountRequestInput = parsed.data;
  const { config } = deps;
  refuseNonAscii('name', input.name);
  if (input.email !== undefined) refuseNonAscii('email', input.email);
  refuseNonAscii('owner', input.owner);

  const pattern = new RegExp(config.naming.pattern);
  if (!pattern.test(input.name)) {
    throw new RequestRejectedError(
      400,
      'name',
      `'${input.name}' does not follow the naming rule ${config.naming.pattern}`,
      'Use lower-case letters, digits and dashes, starting with a letter.',
    );
  }
  const organizationalUnit = await resolveOrganizationalUnit(deps, input.organizationalUnit);
  if (options.grants && !options.grants.mayRequest(input.organizationalUnit)) {
    throw new RequestRejectedError(
      403,
      'organizationalUnit',
      `${principal} may not request accounts in ${input.organizationalUnit}`,
      `Ask someone who may: ${whoMayRequest(config, input.organizationalUnit)}; or ask your platform team for a grant in the access section of the Vend configuration.`,
    );
  }
  const profile = resolveProfile(config, input.organizationalUnit);
  const accountName = `${config.naming.prefixes[input.organizationalUnit] ?? ''}${input.name}`;

  if (input.email !== undefined) requireRootEmailAllowed(config, profile, input.email);
  requireOwnerInDomains(profile, input.owner);
  const tags = checkTags(profile, input.tags ?? {});

  let email = input.email;
  if (email === undefined) {
    if (!config.email.template) {
      throw new RequestRejectedError(
        400,
        'email',
        'is required: the configuration has no email template',
        'Give the account root email address.',
      );
    }
    email = fillTemplate(config.email.template, { accountName, name: input.name }).normalize('NFKC');
    refuseNonAscii('email', email);
  }
  if (!EMAIL_PATTERN.test(email))
    throw new RequestRejectedError(
      400,
      'email',
      `'${email}' is not an email address`,
      'Give an address such as aws+payments@example.com.',
    );
  if (email.length < 6 || email.length > 64) {
    throw new RequestRejectedError(
      400,
      'email',
      `'${email}' is ${email.length} characters; AWS allows 6 to 64`,
      input.email === undefined
        ? 'Choose a shorter name: the email is made from it.'
        : 'Use a shorter address.',
    );
  }

  const monthlyLimitUsd = input.budget?.monthlyLimitUsd ?? profile.budget.defaultMonthlyLimitUsd;
  if (monthlyLimitUsd > profile.budget.maxMonthlyLimitUsd) {
    throw new RequestRejectedError(
      400,
      'budget.monthlyLimitUsd',
      `${monthlyLimitUsd} is above the most allowed in ${profile.organizationalUnit}, ${profile.budget.maxMonthlyLimitUsd}`,
      `Ask for ${profile.budget.maxMonthlyLimitUsd} or less, or ask your platform team.`,
    );
  }
  const thresholds = input.budget?.thresholds ?? profile.budget.thresholds;
  if (input.budget?.thresholds) requireThresholdFloor(profile, input.budget.thresholds);

  if (config.dns) await requireRoomInSharedZone(deps, config.dns);

  return {
    requestId,
    name: input.name,
    accountName,
    email,
    organizationalUnit,
    owner: input.owner,
    requester: {
      principal,
      ...(input.requester?.slackUserId ? { slackUserId: input.requester.slackUserId } : {}),
    },
    budget: { monthlyLimitUsd, thresholds },
    tags,
    ...(input.vpc ? { vpc: input.vpc } : {}),
    profile,
    submittedAt: new Date().toISOString(),
  };
}

/** The domain of an address, lower-case. */
function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * The organization owns the root email: whoever reads the root mailbox can reset the root password and own the
 * account. A profile takes it from the template only, or allows addresses in listed domains.
 */
function requireRootEmailAllowed(config: VendConfig, profile: Profile, email: string): void {
  const ou = profile.organizationalUnit;
  if (profile.rootEmail.source === 'template') {
    throw new RequestRejectedError(
      400,
      'email',
      `in ${ou} the root email comes only from the organization's template${config.email.template ? ` (${config.email.template})` : ''}, so that the organization owns every root mailbox`,
      'Leave email out: Vend makes the address from the account name.',
    );
  }
  const { allowedDomains } = profile.rootEmail;
  if (!allowedDomains.includes(domainOf(email))) {
    throw new RequestRejectedError(
      400,
      'email',
      `'${email}' is not in a domain allowed for root emails in ${ou} (${allowedDomains.join(', ')})`,
      `Use an address in ${allowedDomains.join(' or ')}, or leave email out to use the template.`,
    );
  }
}

/** Budget alerts go to the owner: the address must stay inside the organization's domains. */
function requireOwnerInDomains(profile: Profile, owner: string): void {
  const domains = profile.ownerDomains;
  if (domains.length === 0 || domains.includes(domainOf(owner))) return;
  throw new RequestRejectedError(
    400,
    'owner',
    `'${owner}' is not in a domain allowed for owners in ${profile.organizationalUnit} (${domains.join(', ')}): budget alerts must not leave the organization`,
    `Give the owner's address in ${domains.join(' or ')}.`,
  );
}

/** The request's tags, checked against the profile's: required keys present, values allowed, others allowed. */
function checkTags(profile: Profile, tags: Record<string, string>): Record<string, string> {
  const ou = profile.organizationalUnit;
  for (const [key, rule] of Object.entries(profile.tags)) {
    const value = tags[key];
    const what = rule.description ? ` (${rule.description})` : '';
    if (value === undefined) {
      if (!rule.required) continue;
      throw new RequestRejectedError(
        400,
        `tags.${key}`,
        `is required in ${ou}${what}`,
        `Add it: "tags": {"${key}": ${rule.allowedValues ? `one of ${rule.allowedValues.map((v) => JSON.stringify(v)).join(', ')}` : rule.pattern ? `a value matching ${rule.pattern}` : '"…"'}} (with the vend CLI: --tag ${key}=<value>).`,
      );
    }
    if (rule.allowedValues && !rule.allowedValues.includes(value)) {
      throw new RequestRejectedError(
        400,
        `tags.${key}`,
        `'${value}' is not an allowed value of '${key}' in ${ou}${what}`,
        `Use one of: ${rule.allowedValues.map((v) => JSON.stringify(v)).join(', ')}.`,
      );
    }
    if (rule.pattern && !new RegExp(`^(?:${rule.pattern})$`).test(value)) {
      throw new RequestRejectedError(
        400,
        `tags.${key}`,
        `'${value}' does not match the pattern of '${key}' in ${ou}, ${rule.pattern}${what}`,
        `Give a value matching ${rule.pattern}.`,
      );
    }
  }
  if (!profile.allowUndeclaredTags) {
    const undeclared = Object.keys(tags).find((key) => profile.tags[key] === undefined);
    if (undeclared !== undefined) {
      throw new RequestRejectedError(
        400,
        `tags.${undeclared}`,
        `'${undeclared}' is not a tag accounts in ${ou} may carry`,
        `Use only the tags the profile declares: ${Object.keys(profile.tags).join(', ') || 'none'}.`,
      );
    }
  }
  return tags;
}

/**
 * The organization's alerts are a floor: a request may add alerts or lower a threshold, never remove one or raise
 * it. Each floor alert must be met by a requested alert of the same type at the same or a lower percent.
 */
function requireThresholdFloor(
  profile: Profile,
  requested: readonly { percent: number; type: 'ACTUAL' | 'FORECASTED' }[],
): void {
  for (const floor of profile.budget.thresholds) {
    if (requested.some((alert) => alert.type === floor.type && alert.percent <= floor.percent)) continue;
    throw new RequestRejectedError(
      400,
      'budget.thresholds',
      `would remove or raise the organization's alert at ${floor.percent}% ${floor.type} in ${profile.organizationalUnit}`,
      `Keep an alert of type ${floor.type} at ${floor.percent}% or lower (you may add alerts, or leave thresholds out for the organization's: ${profile.budget.thresholds.map((t) => `${t.percent}% ${t.type}`).join(', ')}).`,
    );
  }
}

/**
 * Refuses a request that could only fail after its account exists: the shared private zone every account joins
 * is associated with as many VPCs as Route 53 allows (GetHostedZoneLimit, MAX_VPCS_ASSOCIATED_BY_ZONE; 300 by
 * default, Route 53 Developer Guide, "Quotas"). Best effort: when the limit cannot be read, the request goes on
 * and connect-dns reports LimitsExceeded clearly.
 */
async function requireRoomInSharedZone(deps: Deps, dns: NonNullable<Deps['config']['dns']>): Promise<void> {
  let limit: { value: number; count: number };
  try {
    const hub = (await deps.clientsFor(dns.hubAccountId, dns.roleName)).client(Route53Client);
    const answer = await aws(
      hub.send(
        new GetHostedZoneLimitCommand({
          HostedZoneId: dns.hostedZoneId,
          Type: 'MAX_VPCS_ASSOCIATED_BY_ZONE',
        }),
      ),
    );
    limit = { value: answer.Limit?.Value ?? Number.POSITIVE_INFINITY, count: answer.Count ?? 0 };
  } catch (error) {
    deps.log.warn('could not read the VPC limit of the shared DNS zone', {
      zoneId: dns.hostedZoneId,
      error: String(error),
    });
    return;
  }
  if (limit.count >= limit.value) {
    throw new RequestRejectedError(
      409,
      'dns',
      `the shared DNS zone ${dns.hostedZoneId} is already associated with ${limit.count} VPCs, the most Route 53 allows (${limit.value}), so a new account could not join it`,
      `Ask the network team to raise the zone's VPC limit (a Service Quotas or support request for account ${dns.hubAccountId}) or to remove VPCs that no longer need it, then ask again.`,
    );
  }
}

/** A request the pipeline holds: the one just stored, or the one stored earlier under the same id (`replayed`). */
export interface Accepted {
  record: RequestRecord;
  replayed: boolean;
}

/**
 * Stores a checked request (see `prepareRequest`) with its name and email reserved (case-insensitively, so two
 * requests for the same address cannot both proceed), then starts its execution, named after the request. A name
 * or email another request holds is refused here, the one place the store's conflict becomes a refusal. When a
 * request with this id is stored already (a retried submission), that request is the answer and nothing is
 * written or started.
 *
 * A request whose profile needs approval is stored `awaiting-approval` instead, with its approval (who may decide,
 * until when) and its reservations, and nothing starts: the approvers are told on Slack (`askApprovers`), and a
 * decision (`decideApproval`) or the expiry (the reaper) moves it on.
 */
export async function acceptRequest(
  deps: Deps,
  starter: WorkflowStarter,
  request: VendRequest,
): Promise<Accepted> {
  const now = new Date().toISOString();
  const approval = approvalFor(deps, request);
  const record: RequestRecord = {
    requestId: request.requestId,
    status: approval ? 'awaiting-approval' : 'pending',
    request,
    steps: {},
    ...(approval ? { approval } : {}),
    createdAt: now,
    updatedAt: now,
  };
  const created = await deps.requests.create(record);
  if (!created.created) {
    if (created.taken === 'requestId') {
      const stored = await deps.requests.get(request.requestId);
      if (!stored)
        throw new RegistryConditionFailedError(`request ${request.requestId} exists but cannot be read`);
      // The approvers' message goes out once, under its outbox id: this mends a submission that stopped before it.
      if (stored.status === 'awaiting-approval') await askApprovers(deps, stored);
      return { record: stored, replayed: true };
    }
    const holder = created.heldBy ?? 'another request';
    throw created.taken === 'email'
      ? new RequestRejectedError(
          409,
          'email',
          `'${request.email}' is already used by ${holder}`,
          'Use another address.',
        )
      : new RequestRejectedError(
          409,
          'name',
          `account name '${request.accountName}' is already used by ${holder}`,
          'Choose another name.',
        );
  }
  if (approval) {
    await askApprovers(deps, record);
    return { record, replayed: false };
  }
  await starter.start(request.requestId, { requestId: request.requestId });
  return { record, replayed: false };
}

/** Checks a request body and accepts it (`prepareRequest`, then `acceptRequest`): for callers without pre-flight of their own. */
export async function submitRequest(
  deps: Deps,
  starter: WorkflowStarter,
  body: unknown,
  principal: string,
  options: { requestId?: string } = {},
): Promise<RequestRecord> {
  const request = await prepareRequest(deps, body, principal, options.requestId);
  return (await acceptRequest(deps, starter, request)).record;
}
