import { z } from 'zod';
import { closeAccountQuota } from './accounts.ts';
import type { Cloud } from './cloud.ts';
import { identityCenterOf } from './identity-center.ts';
import type { HttpRequest, HttpResponse } from './protocols/types.ts';
import { latencyOptionsSchema, latencyTable, rateLimitOptionsSchema } from './rate-limits.ts';

const FAILURE_REASONS = [
  'ACCOUNT_LIMIT_EXCEEDED',
  'CONCURRENT_ACCOUNT_MODIFICATION',
  'EMAIL_ALREADY_EXISTS',
  'FAILED_BUSINESS_VALIDATION',
  'GOVCLOUD_ACCOUNT_ALREADY_EXISTS',
  'INTERNAL_FAILURE',
  'INVALID_ADDRESS',
  'INVALID_EMAIL',
  'INVALID_IDENTITY_FOR_BUSINESS_VALIDATION',
  'INVALID_PAYMENT_INSTRUMENT',
  'MISSING_BUSINESS_VALIDATION',
  'MISSING_PAYMENT_INSTRUMENT',
  'PENDING_BUSINESS_VALIDATION',
  'UNKNOWN_BUSINESS_VALIDATION',
  'UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED',
] as const;

export const creationOutcomeSchema = z.strictObject({
  state: z.enum(['SUCCEEDED', 'FAILED']),
  /** Any string is accepted so that a pipeline's handling of reasons AWS may add later can be tested. */
  failureReason: z.string().min(1).optional(),
  delayMs: z.number().int().nonnegative().optional(),
});

export const assignmentOutcomeSchema = z.strictObject({
  state: z.enum(['SUCCEEDED', 'FAILED']),
  failureReason: z.string().min(1).optional(),
  delayMs: z.number().int().nonnegative().optional(),
});

export const settingsSchema = z.strictObject({
  creationDelayMs: z.number().int().nonnegative(),
  consistencyWindowMs: z.number().int().nonnegative(),
  serviceActivationMs: z.number().int().nonnegative(),
  defaultVpcDelayMs: z.number().int().nonnegative(),
  maxVpcsPerHostedZone: z.number().int().positive(),
  maxCreationsInProgress: z.number().int().positive(),
  maxCreationsPerDay: z.number().int().positive(),
  maxAccounts: z.number().int().positive(),
  closureDelayMs: z.number().int().nonnegative(),
  closeAccountQuotaPercent: z.number().min(0).max(100).optional(),
  closeAccountQuotaMinimum: z.number().int().nonnegative().optional(),
  closeAccountQuotaMaximum: z.number().int().nonnegative().optional(),
  maxClosuresInProgress: z.number().int().positive().optional(),
  nextCreationOutcomes: z.array(creationOutcomeSchema),
  identityCenterDelayMs: z.number().int().nonnegative().optional(),
});

export const faultSchema = z.strictObject({
  service: z
    .enum(['organizations', 'sts', 'iam', 'budgets', 'route53', 'ec2', 'sso', 'identitystore'])
    .optional(),
  operation: z.string().min(1).optional(),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  error: z
    .strictObject({
      code: z.string().min(1),
      message: z.string().optional(),
      status: z.number().int().min(400).max(599).optional(),
      fields: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  latencyMs: z.number().int().nonnegative().optional(),
  times: z.number().int().positive().optional(),
  rate: z.number().min(0).max(1).optional(),
});

export { FAILURE_REASONS };

function json(status: number, value: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value, null, 2) };
}

function problem(status: number, message: string): HttpResponse {
  return json(status, { error: message });
}

type Parsed<T> = { ok: true; value: T } | { ok: false; response: HttpResponse };

function parseBody<T>(request: HttpRequest, schema: z.ZodType<T>): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(request.body || '{}');
  } catch {
    return { ok: false, response: problem(400, 'the body is not valid JSON') };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const message = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, response: problem(400, message) };
  }
  return { ok: true, value: parsed.data };
}

/**
 * The control API under `/_local/`: settings (creation time, consistency window, limits, how the next creations
 * and Identity Center account assignments end), the closure quota, request rates and latencies, faults, the audit
 * trail, what happens to an account outside any
 * API (closed by its root user, suspended by AWS), and a read-only view of the state. It is not AWS: nothing here
 * is signed.
 */
export function handleControl(cloud: Cloud, request: HttpRequest): HttpResponse {
  const path = request.path.replace(/\/+$/, '');
  const { method } = request;

  if (path === '/_local/health' && method === 'GET')
    return json(200, { status: 'ok', region: cloud.state.region });

  if (path === '/_local/settings') {
    if (method === 'GET') return json(200, cloud.settings);
    if (method === 'PATCH' || method === 'POST') {
      const patch = parseBody(request, settingsSchema.partial());
      if (!patch.ok) return patch.response;
      Object.assign(cloud.state.settings, patch.value);
      cloud.commit();
      return json(200, cloud.settings);
    }
  }

  if (path === '/_local/close-quota' && method === 'GET') {
    cloud.settle();
    const { nextAvailableAt, ...quota } = closeAccountQuota(cloud);
    return json(200, {
      ...quota,
      ...(nextAvailableAt !== undefined ? { nextAvailableAt: new Date(nextAvailableAt).toISOString() } : {}),
    });
  }

  if (path === '/_local/rate-limits') {
    if (method === 'PUT') {
      const options = parseBody(request, rateLimitOptionsSchema);
      if (!options.ok) return options.response;
      cloud.rateLimits.configure(options.value);
    }
    if (method === 'GET' || method === 'PUT') {
      return json(200, {
        limits: cloud.rateLimits.limits(),
        throttled: Object.fromEntries(cloud.rateLimits.throttled),
      });
    }
  }

  if (path === '/_local/latency') {
    if (method === 'PUT') {
      const options = parseBody(request, latencyOptionsSchema);
      if (!options.ok) return options.response;
      cloud.latency = latencyTable(options.value);
    }
    if (method === 'GET' || method === 'PUT') return json(200, { latencyMs: cloud.latency });
  }

  if (path === '/_local/creation-outcomes' && method === 'POST') {
    const outcome = parseBody(request, creationOutcomeSchema);
    if (!outcome.ok) return outcome.response;
    cloud.state.settings.nextCreationOutcomes.push(outcome.value);
    cloud.commit();
    return json(201, { queued: cloud.state.settings.nextCreationOutcomes });
  }

  if (path === '/_local/identity-center/assignment-outcomes' && method === 'POST') {
    const outcome = parseBody(request, assignmentOutcomeSchema);
    if (!outcome.ok) return outcome.response;
    const identityCenter = identityCenterOf(cloud.state);
    identityCenter.nextAssignmentOutcomes ??= [];
    identityCenter.nextAssignmentOutcomes.push(outcome.value);
    cloud.commit();
    return json(201, { queued: identityCenter.nextAssignmentOutcomes });
  }

  if (path === '/_local/faults') {
    if (method === 'GET') return json(200, { faults: cloud.faults.list() });
    if (method === 'DELETE') {
      cloud.faults.clear();
      return json(200, { faults: [] });
    }
    if (method === 'POST') {
      const rule = parseBody(request, faultSchema);
      if (!rule.ok) return rule.response;
      try {
        return json(201, cloud.faults.add(rule.value));
      } catch (error) {
        return problem(400, (error as Error).message);
      }
    }
  }

  const faultId = /^\/_local\/faults\/([^/]+)$/.exec(path)?.[1];
  if (faultId && method === 'DELETE') {
    return cloud.faults.remove(faultId)
      ? json(200, { removed: faultId })
      : problem(404, `no fault ${faultId}`);
  }

  const accountAction = /^\/_local\/accounts\/(\d{12})\/(close-from-inside|suspend)$/.exec(path);
  if (accountAction && method === 'POST') {
    return accountEvent(cloud, accountAction[1]!, accountAction[2] as 'close-from-inside' | 'suspend');
  }

  if (path === '/_local/audit' && method === 'GET') {
    const after = Number(request.query.get('after') ?? '0');
    if (!Number.isInteger(after) || after < 0) return problem(400, 'after must be a non-negative integer');
    const events = cloud.auditSince(after);
    return json(200, { events, last: events.at(-1)?.sequence ?? after });
  }

  if (path === '/_local/state' && method === 'GET') {
    cloud.settle();
    const { audit: _audit, credentials: _credentials, ...rest } = cloud.state;
    return json(200, rest);
  }

  return problem(404, `no control route ${method} ${request.path}; see the README's local cloud section`);
}

/**
 * What happens to a member account without an Organizations API call:
 * - `close-from-inside`: its root user closes it from the account's own settings (closure by the root user has no
 *   API). As after CloseAccount, it is PENDING_CLOSURE, then after `closureDelayMs` of the simulated clock `Status`
 *   SUSPENDED and `State` CLOSED. Nothing reaches the management account's trail: no Organizations call was made,
 *   and AccountDepartedOrganization (CLEANED) comes only when AWS purges the account, 90 days later.
 * - `suspend`: AWS itself suspends it (`Status` and `State` SUSPENDED), with no event either.
 */
function accountEvent(
  cloud: Cloud,
  accountId: string,
  action: 'close-from-inside' | 'suspend',
): HttpResponse {
  cloud.settle();
  const account = cloud.state.accounts[accountId];
  if (!account || account.departed) return problem(404, `no member account ${accountId}`);
  if (accountId === cloud.state.organization.managementAccountId)
    return problem(409, 'the management account is not closed or suspended here');
  if (account.status !== 'ACTIVE') return problem(409, `account ${accountId} is already ${account.status}`);
  if (action === 'suspend') {
    account.status = 'SUSPENDED';
    account.suspendedByAws = true;
  } else {
    account.status = 'PENDING_CLOSURE';
    account.closesAt = cloud.clock.now() + cloud.settings.closureDelayMs;
    cloud.wakeAt(account.id, account.closesAt);
  }
  cloud.commit();
  return json(200, {
    accountId,
    status: account.status,
    ...(account.closesAt ? { closesAt: account.closesAt } : {}),
  });
}
