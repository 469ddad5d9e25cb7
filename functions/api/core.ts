import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { grantsFor, matchArnOf } from '../shared/access.ts';
import { askApprovers, decideApproval } from '../shared/approval.ts';
import type { Deps } from '../shared/deps.ts';
import { HttpError, isAwsError } from '../shared/errors.ts';
import { METRIC } from '../shared/metrics-names.ts';
import type { RequestRecord, VendRequest } from '../shared/model.ts';
import { type Accepted, acceptRequest, prepareRequest, type WorkflowStarter } from '../shared/submit.ts';
import { readJsonBody } from './body.ts';
import { accessLog, httpErrors, json } from './http.ts';
import { idempotencyKeyOf, type Submission, submitUnderKey } from './idempotency.ts';
import { openApiDocument } from './openapi.ts';
import { AccountCount } from './quota.ts';
import { createRouter } from './routing.ts';
import {
  type ApprovalDecisionInput,
  accountIdSchema,
  approvalDecisionSchema,
  listQuerySchema,
  requestIdSchema,
} from './schemas.ts';
import { acceptedAnswer, accountView, LIST_DRIFT_HISTORY, requestView } from './views.ts';

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
        methods: { GET: (_event, params) => this.getRequest(params.requestId!) },
      },
      {
        template: '/accounts/requests/{requestId}/approval',
        methods: { POST: (event, params) => this.decide(event, params.requestId!) },
      },
      {
        template: '/accounts/{accountId}',
        methods: { GET: (_event, params) => this.getAccount(params.accountId!) },
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
    const principal = callerOf(event);
    const body = readJsonBody(event, this.deps.maxBodyBytes);
    const key = idempotencyKeyOf(event);
    const submission: Submission = {
      newRequestId: () => `req-${randomUUID()}`,
      prepare: async (requestId) => {
        const request = await prepareRequest(this.deps, body, principal, requestId);
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
    const arn = callerOf(event);
    if (!requestIdSchema.safeParse(requestId).success) throw noSuchRequest(requestId);
    const body = readDecisionBody(event, this.deps.maxBodyBytes);
    const record = await decideApproval(
      { ...this.deps, starter: { start: (name, input) => this.start(name, input) } },
      {
        requestId,
        decision: body.decision,
        ...(body.reason !== undefined ? { reason: body.reason } : {}),
        decider: {
          by: arn,
          via: 'api',
          grants: grantsFor(this.deps.config, { arn, matchArn: matchArnOf(arn) }),
        },
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

  private async getRequest(requestId: string): Promise<APIGatewayProxyResult> {
    const record = requestIdSchema.safeParse(requestId).success
      ? await this.deps.requests.get(requestId)
      : undefined;
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
    const page = await this.deps.accounts.list(limit, cursor);
    const drifts = await Promise.all(page.items.map((account) => this.deps.drift.get(account.accountId)));
    return json(200, {
      accounts: page.items.map((account, i) => accountView(account, drifts[i], LIST_DRIFT_HISTORY)),
      ...(page.cursor ? { nextCursor: page.cursor } : {}),
    });
  }

  private async getAccount(accountId: string): Promise<APIGatewayProxyResult> {
    if (!accountIdSchema.safeParse(accountId).success) {
      throw new HttpError(400, `'${accountId}' is not an account id`, {
        field: 'accountId',
        fix: 'An AWS account id is 12 digits, such as 123456789012.',
      });
    }
    const account = await this.deps.accounts.get(accountId);
    if (!account) {
      throw new HttpError(404, `Vend has not vended account ${accountId}`, {
        field: 'accountId',
        fix: 'GET /accounts lists the accounts Vend vended.',
      });
    }
    return json(200, accountView(account, await this.deps.drift.get(accountId)));
  }
}

/** Who is asking: API Gateway's IAM authorization fills the caller's ARN. */
function callerOf(event: APIGatewayProxyEvent): string {
  const identity = event.requestContext?.identity;
  const principal = identity?.userArn || identity?.caller;
  if (!principal) {
    throw new HttpError(401, 'the request carries no caller identity', {
      field: 'Authorization',
      fix: 'Sign the request with AWS credentials (SigV4, service execute-api).',
    });
  }
  return principal;
}

function noSuchRequest(requestId: string): HttpError {
  return new HttpError(404, `there is no request ${requestId}`, {
    field: 'requestId',
    fix: 'Use the requestId (or the Location header) that POST /accounts answered with.',
  });
}

/** The decision body, checked: strict, so a field it does not list is named and refused. */
function readDecisionBody(event: APIGatewayProxyEvent, maxBytes?: number): ApprovalDecisionInput {
  const parsed = approvalDecisionSchema.safeParse(readJsonBody(event, maxBytes));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const fields = issue.keys.join(', ');
    throw new HttpError(400, `unknown field${issue.keys.length > 1 ? 's' : ''} ${fields}`, {
      field: fields,
      fix: 'Send only decision and reason: {"decision": "approve" | "deny", "reason": "…"}.',
    });
  }
  const field = issue.path.join('.') || '(body)';
  throw new HttpError(400, `${field}: ${issue.message}`, {
    field,
    fix: 'Send {"decision": "approve"} or {"decision": "deny", "reason": "why"} (a reason of at most 1000 characters).',
  });
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
