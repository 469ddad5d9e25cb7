import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ZodType } from 'zod';
import { type Caller, type Grants, grantsFor } from '../shared/access.ts';
import { askApprovers, decideApproval } from '../shared/approval.ts';
import type { Deps } from '../shared/deps.ts';
import { HttpError, isAwsError, RequestRejectedError } from '../shared/errors.ts';
import { holdAccount, releaseAccount } from '../shared/hold.ts';
import { METRIC } from '../shared/metrics-names.ts';
import type { AccountDesiredState, RequestRecord, VendRequest } from '../shared/model.ts';
import { type Accepted, acceptRequest, prepareRequest, type WorkflowStarter } from '../shared/submit.ts';
import { readJsonBody } from './body.ts';
import { callerOf } from './caller.ts';
import { accessLog, httpErrors, json } from './http.ts';
import { idempotencyKeyOf, type Submission, submitUnderKey } from './idempotency.ts';
import { openApiDocument } from './openapi.ts';
import { AccountCount } from './quota.ts';
import { createRouter } from './routing.ts';
import {
  type ApprovalDecisionInput,
  accountIdSchema,
  approvalDecisionSchema,
  HOLD_REASON_MAX,
  type HoldRequestInput,
  holdRequestSchema,
  listQuerySchema,
  requestIdSchema,
} from './schemas.ts';
import { acceptedAnswer, accountView, dryRunPlan, LIST_DRIFT_HISTORY, requestView } from './views.ts';

/** What the API needs: the step dependencies, something that starts the workflow, and limits. */
export type ApiDeps = Deps & {
  starter: WorkflowStarter;
  /** Largest accepted request body. @default 32 KiB */
  maxBodyBytes?: number;
  /** Real time for the account-count cache. @default Date.now */
  now?: () => number;
  /** Powertools' logger on Lambda, to add the invocation's context to every line. */
  logger?: Logger;
};

/**
 * The request API as one Lambda behind API Gateway (REST proxy integration): routing, pre-flight checks,
 * idempotency, and answers. Both the Lambda (handler.ts) and the local server use this.
 */
export function createApiHandler(deps: ApiDeps) {
  const api = new RequestApi(deps);
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>();
  if (deps.logger) handler.use(injectLambdaContext(deps.logger, { clearState: true }));
  return handler
    .use(accessLog(deps.log))
    .use(httpErrors(deps.log))
    .handler((event: APIGatewayProxyEvent) => api.handle(event));
}

class RequestApi {
  private readonly accountCount: AccountCount;
  readonly handle: (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

  constructor(private readonly deps: ApiDeps) {
    this.accountCount = new AccountCount(deps, deps.now ?? Date.now);
    this.handle = createRouter([
      {
        template: '/accounts',
        methods: { GET: (event) => this.listAccounts(event), POST: (event) => this.postAccount(event) },
      },
      {
        template: '/accounts/requests/{requestId}',
        methods: { GET: (event, params) => this.getRequest(event, params.requestId!) },
      },
      {
        template: '/accounts/requests/{requestId}/approval',
        methods: { POST: (event, params) => this.decide(event, params.requestId!) },
      },
      {
        template: '/accounts/{accountId}',
        methods: { GET: (event, params) => this.getAccount(event, params.accountId!) },
      },
      {
        template: '/accounts/{accountId}/hold',
        methods: {
          POST: (event, params) => this.hold(event, params.accountId!),
          DELETE: (event, params) => this.release(event, params.accountId!),
        },
      },
      { template: '/openapi.json', methods: { GET: async () => json(200, openApiDocument()) } },
    ]);
  }

  // POST /accounts ------------------------------------------------------------------------------------------------

  /**
   * One way through: the body is read once, checked once (the request, then the account quota), written once
   * and started once; under an Idempotency-Key the key protocol decides which of these run.
   */
  private async postAccount(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    const principal = caller.arn;
    const grants = grantsFor(this.deps.config, caller);
    const body = readJsonBody(event, this.deps.maxBodyBytes);
    if (isDryRun(event)) return this.dryRun(body, caller, grants);
    const key = idempotencyKeyOf(event);
    const submission: Submission = {
      newRequestId: () => `req-${randomUUID()}`,
      prepare: async (requestId) => {
        const request = await prepareRequest(this.deps, body, principal, requestId, { grants });
        await this.accountCount.requireRoom();
        return request;
      },
      accept: (request) => this.accept(request),
      replay: (record) => this.replay(record),
    };
    const outcome =
      key === undefined
        ? await submission.accept(await submission.prepare(submission.newRequestId()))
        : await submitUnderKey(this.deps, principal, key, body, submission);
    if (!outcome.replayed) {
      this.accountCount.accepted();
      this.deps.metrics.count(METRIC.vendsRequested);
      this.deps.log.info('request accepted', {
        requestId: outcome.record.requestId,
        principal,
        ...(key !== undefined ? { idempotencyKey: true } : {}),
      });
    }
    return acceptedAnswer(outcome.record, outcome.replayed);
  }

  /**
   * `POST /accounts?dryRun=true`: every check a request goes through (grants, profile, names and emails free, the
   * quota, the shared zone's room), then the plan, with nothing written or started.
   */
  private async dryRun(body: unknown, caller: Caller, grants: Grants): Promise<APIGatewayProxyResult> {
    const request = await prepareRequest(this.deps, body, caller.arn, `dry-run-${randomUUID()}`, { grants });
    for (const field of ['name', 'email'] as const) {
      const value = field === 'name' ? request.accountName : request.email;
      const holder = await this.deps.requests.reservationHolder(field, value);
      if (holder !== undefined) {
        throw new RequestRejectedError(
          409,
          field,
          `${field === 'name' ? `account name '${value}'` : `'${value}'`} is already used by ${holder}`,
          field === 'name' ? 'Choose another name.' : 'Use another address.',
        );
      }
    }
    await this.accountCount.requireRoom();
    return json(200, dryRunPlan(this.deps.config, request));
  }

  private accept(request: VendRequest): Promise<Accepted> {
    return acceptRequest(this.deps, { start: (name, input) => this.start(name, input) }, request);
  }

  /**
   * The same request again. While it is still pending, its execution is started again (a no-op when it runs),
   * which mends a crash between storing the request and starting it; while it awaits approval, the approvers'
   * message is sent if it was not (it goes out once, under its outbox id), and nothing starts.
   */
  private async replay(record: RequestRecord): Promise<Accepted> {
    if (record.status === 'pending') await this.start(record.requestId, { requestId: record.requestId });
    if (record.status === 'awaiting-approval') await askApprovers(this.deps, record);
    return { record, replayed: true };
  }

  // POST /accounts/requests/{requestId}/approval -----------------------------------------------------------------

  /** Approves or denies a request awaiting approval, as the signed caller (see `decideApproval`). */
  private async decide(event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    if (!requestIdSchema.safeParse(requestId).success) throw noSuchRequest(requestId);
    const body = readDecisionBody(event, this.deps.maxBodyBytes);
    const record = await decideApproval(
      { ...this.deps, starter: { start: (name, input) => this.start(name, input) } },
      {
        requestId,
        decision: body.decision,
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        decider: { by: caller.arn, via: 'api', grants: grantsFor(this.deps.config, caller) },
      },
    );
    return json(200, requestView(record));
  }

  /** Step Functions refuses a second start of a name with another input; for the same request that is a success. */
  private async start(...args: Parameters<WorkflowStarter['start']>): Promise<void> {
    try {
      await this.deps.starter.start(...args);
    } catch (error) {
      if (!isAwsError(error, 'ExecutionAlreadyExists')) throw error;
    }
  }

  // GET ------------------------------------------------------------------------------------------------------------

  private async getRequest(event: APIGatewayProxyEvent, requestId: string): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    const found = requestIdSchema.safeParse(requestId).success
      ? await this.deps.requests.get(requestId)
      : undefined;
    // A request the caller may not see is answered as one that does not exist, so ids cannot be probed.
    const record =
      found && maySeeRequest(grantsFor(this.deps.config, caller), caller, found) ? found : undefined;
    if (!record) throw noSuchRequest(requestId);
    return json(200, requestView(record));
  }

  private async listAccounts(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const parsed = listQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = String(issue.path[0] ?? 'query');
      throw new HttpError(400, `${field}: ${issue.message}`, {
        field,
        fix:
          field === 'limit'
            ? 'Give a whole number from 1 to 100.'
            : 'Pass the nextCursor of the previous page as it is.',
      });
    }
    const { limit, cursor } = parsed.data;
    if (cursor !== undefined && !isAccountCursor(cursor)) {
      throw new HttpError(400, 'cursor: not a cursor this API gave', {
        field: 'cursor',
        fix: 'Pass the nextCursor of the previous page as it is, or leave cursor out to start from the newest.',
      });
    }
    const caller = callerOf(event);
    const grants = grantsFor(this.deps.config, caller);
    const page = await this.visibleAccounts(grants, caller, limit, cursor);
    const drifts = await Promise.all(page.items.map((account) => this.deps.drift.get(account.accountId)));
    return json(200, {
      accounts: page.items.map((account, i) => accountView(account, drifts[i], LIST_DRIFT_HISTORY)),
      ...(page.cursor ? { nextCursor: page.cursor } : {}),
    });
  }

  /**
   * A page of the accounts the caller may see: all of them with read-all, else those it asked for. Pages of the
   * registry are read until `limit` visible accounts are found or the list ends (a bounded number of reads).
   */
  private async visibleAccounts(grants: Grants, caller: Caller, limit: number, cursor: string | undefined) {
    if (grants.readsAll) return this.deps.accounts.list(limit, cursor);
    const items: AccountDesiredState[] = [];
    let next = cursor;
    // Each read asks for no more than are still wanted, so the cursor is exactly where reading stopped.
    for (let reads = 0; reads < MAX_LIST_READS; reads++) {
      const page = await this.deps.accounts.list(limit - items.length, next);
      for (const account of page.items) if (account.requester === caller.arn) items.push(account);
      next = page.cursor;
      if (!next || items.length >= limit) break;
    }
    return { items, cursor: next };
  }

  private async getAccount(event: APIGatewayProxyEvent, accountId: string): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    requireAccountId(accountId);
    const found = await this.deps.accounts.get(accountId);
    const grants = grantsFor(this.deps.config, caller);
    const account = found && (grants.readsAll || found.requester === caller.arn) ? found : undefined;
    if (!account) {
      throw new HttpError(404, `Vend has not vended account ${accountId}`, {
        field: 'accountId',
        fix: 'GET /accounts lists the accounts Vend vended.',
      });
    }
    return json(200, accountView(account, await this.deps.drift.get(accountId)));
  }

  // POST and DELETE /accounts/{accountId}/hold ----------------------------------------------------------------------

  /**
   * Puts an account on hold, as the signed caller (administrators only): the account with its hold. The same
   * hold again (same reason) answers the same, changing nothing; another reason while it is held is 409.
   */
  private async hold(event: APIGatewayProxyEvent, accountId: string): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    requireAccountId(accountId);
    requireAdministrator(this.deps.config, grantsFor(this.deps.config, caller), 'Holding an account');
    const { reason } = readHoldBody(event, this.deps.maxBodyBytes);
    const { account } = await holdAccount(this.deps, { accountId, reason, by: caller.arn });
    return json(200, accountView(account, await this.deps.drift.get(accountId)));
  }

  /** Releases an account's hold, as the signed caller (administrators only): the account without its hold. */
  private async release(event: APIGatewayProxyEvent, accountId: string): Promise<APIGatewayProxyResult> {
    const caller = callerOf(event);
    requireAccountId(accountId);
    requireAdministrator(this.deps.config, grantsFor(this.deps.config, caller), 'Releasing an account');
    const { account } = await releaseAccount(this.deps, { accountId, by: caller.arn });
    return json(200, accountView(account, await this.deps.drift.get(accountId)));
  }
}

/** An account id in a path: 400 naming `accountId` unless it is 12 digits. */
function requireAccountId(accountId: string): void {
  if (!accountIdSchema.safeParse(accountId).success) {
    throw new HttpError(400, `'${accountId}' is not an account id`, {
      field: 'accountId',
      fix: 'An AWS account id is 12 digits, such as 123456789012.',
    });
  }
}

/** Holding and releasing accounts is for administrators: 403 naming the grant and who has it, otherwise. */
function requireAdministrator(config: ApiDeps['config'], grants: Grants, what: string): void {
  if (grants.administers) return;
  const admins = Object.entries(config.access)
    .filter(([, entry]) => entry.administer)
    .map(([name, entry]) => `${name} (${entry.principals.join(', ')})`);
  throw new RequestRejectedError(
    403,
    'Authorization',
    `${what} needs the administer grant, which the caller does not have`,
    admins.length > 0
      ? `Ask one of the administrators: ${admins.join('; ')}.`
      : 'No access entry has administer: true in the configuration; the platform team grants it.',
  );
}

/**
 * A small JSON body checked against its schema, strictly: a field the schema does not list is named and refused
 * (`onlyFields` says what to send), any other problem names its field (`fix` says what a good body is).
 */
function readStrictBody<T>(
  event: APIGatewayProxyEvent,
  schema: ZodType<T>,
  advice: { onlyFields: string; fix: string },
  maxBytes?: number,
): T {
  const parsed = schema.safeParse(readJsonBody(event, maxBytes));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.join(', ');
    throw new HttpError(400, `unknown field${issue.keys.length > 1 ? 's' : ''} ${fields}`, {
      field: fields,
      fix: advice.onlyFields,
    });
  }
  const field = issue.path.join('.') || '(body)';
  throw new HttpError(400, `${field}: ${issue.message}`, { field, fix: advice.fix });
}

/** The hold body, checked: strict, so a field it does not list is named and refused. */
function readHoldBody(event: APIGatewayProxyEvent, maxBytes?: number): HoldRequestInput {
  return readStrictBody(
    event,
    holdRequestSchema,
    {
      onlyFields: 'Send only the reason: {"reason": "why the account is held"}.',
      fix: `Send {"reason": "why"}: a reason of 1 to ${HOLD_REASON_MAX} characters, such as an incident number and a few words.`,
    },
    maxBytes,
  );
}

/** How many registry pages a list filtered to the caller's own accounts reads at most per answer. */
const MAX_LIST_READS = 10;

/** `?dryRun=true`: check and plan only. */
function isDryRun(event: APIGatewayProxyEvent): boolean {
  const value = event.queryStringParameters?.dryRun;
  if (value === undefined) return false;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new HttpError(400, `dryRun: '${value}' is not true or false`, {
    field: 'dryRun',
    fix: 'Use ?dryRun=true to check a request without making it, or leave dryRun out.',
  });
}

/** Whether a caller may see a request: read-all, its own, or one it may approve. */
function maySeeRequest(grants: Grants, caller: Caller, record: RequestRecord): boolean {
  return (
    grants.readsAll ||
    record.request.requester.principal === caller.arn ||
    grants.mayApprove(record.request.organizationalUnit.path)
  );
}

function noSuchRequest(requestId: string): HttpError {
  return new HttpError(404, `there is no request ${requestId}`, {
    field: 'requestId',
    fix: 'Use the requestId (or the Location header) that POST /accounts answered with.',
  });
}

/** The decision body, checked: strict, so a field it does not list is named and refused. */
function readDecisionBody(event: APIGatewayProxyEvent, maxBytes?: number): ApprovalDecisionInput {
  return readStrictBody(
    event,
    approvalDecisionSchema,
    {
      onlyFields: 'Send only decision and reason: {"decision": "approve" | "deny", "reason": "…"}.',
      fix: 'Send {"decision": "approve"} or {"decision": "deny", "reason": "why"} (a reason of at most 1000 characters).',
    },
    maxBytes,
  );
}

/** A cursor is the registry's LastEvaluatedKey of the account list; anything else is refused before DynamoDB sees it. */
function isAccountCursor(cursor: string): boolean {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown>;
    const names = Object.keys(key).sort().join(',');
    return (
      names === 'gsi1pk,gsi1sk,pk,sk' &&
      Object.values(key).every((value) => typeof value === 'string' && value.length <= 1024) &&
      key.gsi1pk === 'ACCOUNT'
    );
  } catch {
    return false;
  }
}
