import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import {
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Deps } from '../shared/deps.ts';
import { aws, classifyAwsError, HttpError, isAwsError, RequestRejectedError } from '../shared/errors.ts';
import {
  type AccountDesiredState,
  type DriftState,
  driftStatus,
  type RequestRecord,
  STEP_NAMES,
  type StepName,
  type VendRequest,
} from '../shared/model.ts';
import { prepareRequest, submitRequest, type WorkflowStarter } from '../shared/submit.ts';
import { canonicalJson } from '../shared/text.ts';
import type { IdempotencyRecord } from '../store/idempotency.ts';
import { accessLog, header, httpErrors, json } from './http.ts';
import { openApiDocument } from './openapi.ts';
import {
  type AccountView,
  accountIdSchema,
  type DriftView,
  idempotencyKeySchema,
  listQuerySchema,
  type RequestAccepted,
  type RequestView,
  requestIdSchema,
} from './schemas.ts';

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

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024;
/**
 * How deep a body may nest arrays and objects. A request nests four levels; 32 KiB of brackets nest thousands,
 * which would exhaust the stack of anything recursive that reads the body (the idempotency hash, validation).
 */
export const MAX_BODY_DEPTH = 32;
/** How long one count of the organization's accounts serves, per handler instance. */
export const ACCOUNT_COUNT_TTL_MS = 60_000;

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The routes: path templates (`{name}` is one segment) and the handler of each method. */
interface Route {
  template: string;
  methods: Partial<
    Record<
      string,
      (event: APIGatewayProxyEvent, params: Record<string, string>) => Promise<APIGatewayProxyResult>
    >
  >;
}

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

/** Starts the state machine with StartExecution, named after the request; a second start of the same name is a success. */
export function stepFunctionsStarter(client: SFNClient, stateMachineArn: string): WorkflowStarter {
  return {
    async start(executionName, input) {
      try {
        await client.send(
          new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
        );
      } catch (error) {
        if (isAwsError(error, 'ExecutionAlreadyExists')) return;
        throw classifyAwsError(error);
      }
    },
  };
}

/** SHA-256 of a JSON value with its object keys sorted: the same body however it is spaced or ordered. */
export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/**
 * How many accounts count against the organization's quota: every account (all statuses count, as in AWS) plus
 * the creations in progress. One count serves for a minute per handler instance, so a burst of requests asks
 * Organizations once; requests accepted since are added, since they will soon be creations in progress.
 */
class AccountCount {
  private cached: { at: number; count: Promise<number>; acceptedSince: number } | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly now: () => number,
  ) {}

  async current(): Promise<number> {
    const now = this.now();
    if (!this.cached || now - this.cached.at >= ACCOUNT_COUNT_TTL_MS) {
      const count = this.fetch();
      const entry = { at: now, count, acceptedSince: 0 };
      this.cached = entry;
      count.catch(() => {
        if (this.cached === entry) this.cached = undefined;
      });
    }
    const entry = this.cached;
    return (await entry.count) + entry.acceptedSince;
  }

  accepted(): void {
    if (this.cached) this.cached.acceptedSince++;
  }

  private async fetch(): Promise<number> {
    const organizations = this.deps.client(OrganizationsClient);
    const accounts = async () => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await aws(
          organizations.send(new ListAccountsCommand({ MaxResults: 20, NextToken: token })),
        );
        total += page.Accounts?.length ?? 0;
        token = page.NextToken;
      } while (token);
      return total;
    };
    const creating = async () => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await aws(
          organizations.send(
            new ListCreateAccountStatusCommand({ States: ['IN_PROGRESS'], MaxResults: 20, NextToken: token }),
          ),
        );
        total += page.CreateAccountStatuses?.length ?? 0;
        token = page.NextToken;
      } while (token);
      return total;
    };
    const [existing, inProgress] = await Promise.all([accounts(), creating()]);
    return existing + inProgress;
  }
}

class RequestApi {
  private readonly routes: Route[];
  private readonly accountCount: AccountCount;
  private readonly starter: WorkflowStarter;
  private readonly maxBodyBytes: number;

  constructor(private readonly deps: ApiDeps) {
    this.accountCount = new AccountCount(deps, deps.now ?? Date.now);
    this.maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    // Step Functions refuses a second start of a name with another input; for the same request that is a success.
    this.starter = {
      start: async (name, input) => {
        try {
          await deps.starter.start(name, input);
        } catch (error) {
          if (!isAwsError(error, 'ExecutionAlreadyExists')) throw error;
        }
      },
    };
    this.routes = [
      {
        template: '/accounts',
        methods: { GET: (event) => this.listAccounts(event), POST: (event) => this.postAccount(event) },
      },
      {
        template: '/accounts/requests/{requestId}',
        methods: { GET: (_event, params) => this.getRequest(params.requestId!) },
      },
      {
        template: '/accounts/{accountId}',
        methods: { GET: (_event, params) => this.getAccount(params.accountId!) },
      },
      { template: '/openapi.json', methods: { GET: async () => json(200, openApiDocument()) } },
    ];
  }

  handle: Handler = async (event) => {
    const path = event.path.length > 1 ? event.path.replace(/\/$/, '') : event.path;
    const segments = path.split('/').slice(1);
    for (const route of this.routes) {
      const params = matchTemplate(route.template, segments);
      if (!params) continue;
      const run = route.methods[event.httpMethod.toUpperCase()];
      if (!run) {
        const allow = Object.keys(route.methods).join(', ');
        throw new HttpError(405, `${event.httpMethod} is not allowed on ${route.template}`, {
          fix: `Use ${allow}.`,
          headers: { allow },
        });
      }
      return run(event, params);
    }
    throw new HttpError(404, `there is no route ${event.httpMethod} ${path}`, {
      fix: 'See GET /openapi.json for the routes: /accounts, /accounts/{accountId}, /accounts/requests/{requestId}.',
    });
  };

  // POST /accounts ------------------------------------------------------------------------------------------------

  private async postAccount(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const principal = callerOf(event);
    const body = this.readJsonBody(event);
    const key = idempotencyKeyOf(event);
    if (key === undefined) {
      const prepared = await this.preflight(body, principal);
      const record = await submitRequest(this.deps, this.starter, body, principal, { prepared });
      this.accountCount.accepted();
      this.deps.log.info('request accepted', { requestId: record.requestId, principal });
      return accepted(record.request, record.status, false);
    }

    const hash = bodyHash(body);
    const existing = await this.deps.idempotency.get(principal, key);
    if (existing) return this.resume(existing, hash, body, principal, key);

    const requestId = `req-${randomUUID()}`;
    const prepared = await this.preflight(body, principal, requestId);
    const claim = await this.deps.idempotency.claim(principal, key, hash, requestId);
    if (!claim.claimed) return this.resume(claim.record, hash, body, principal, key);
    return this.submitUnderKey(body, principal, key, requestId, prepared);
  }

  /** Checks what can be checked before anything is written: the request itself, then the account quota. */
  private async preflight(body: unknown, principal: string, requestId?: string): Promise<VendRequest> {
    const prepared = await prepareRequest(this.deps, body, principal, requestId);
    const quota = this.deps.config.organization.accountQuota;
    const count = await this.accountCount.current();
    if (count >= quota) {
      throw new HttpError(
        409,
        `the organization has reached its account quota: ${count} accounts (created or being created) of ${quota}`,
        {
          fix:
            'Ask your platform team to raise the AWS Organizations account quota (Service Quotas, "Default ' +
            'maximum number of accounts"), then organization.accountQuota in vend.config.json; or close unused accounts.',
        },
      );
    }
    return prepared;
  }

  /**
   * A key that is already claimed: with another body it is refused; with the same body it answers with its
   * request. When no request stands behind the key (the claimant crashed before creating it, or is creating it
   * right now), the request is submitted under the claimed id: the registry creates a request id only once, so
   * of concurrent submissions exactly one starts an execution, and the others answer with its request.
   */
  private async resume(
    existing: IdempotencyRecord,
    hash: string,
    body: unknown,
    principal: string,
    key: string,
  ): Promise<APIGatewayProxyResult> {
    if (existing.bodyHash !== hash) {
      throw new HttpError(409, 'this Idempotency-Key was already used with a different body', {
        field: 'Idempotency-Key',
        fix: 'Use a new key for a new request; to retry the earlier one, send its body unchanged.',
      });
    }
    const stored = await this.deps.requests.get(existing.requestId);
    if (stored) return this.replay(stored);
    return this.submitUnderKey(body, principal, key, existing.requestId);
  }

  /**
   * Submits under a claimed key. When another submission of the same key stored the request first, this answers
   * with that request. A refusal frees the key, so the caller can correct the request and retry with the key.
   */
  private async submitUnderKey(
    body: unknown,
    principal: string,
    key: string,
    requestId: string,
    prepared?: VendRequest,
  ): Promise<APIGatewayProxyResult> {
    try {
      const record = await submitRequest(this.deps, this.starter, body, principal, {
        requestId,
        ...(prepared ? { prepared } : {}),
      });
      this.accountCount.accepted();
      this.deps.log.info('request accepted', { requestId, principal, idempotencyKey: true });
      return accepted(record.request, record.status, false);
    } catch (error) {
      if (!(error instanceof RequestRejectedError)) throw error;
      if (error.field === 'requestId') {
        const stored = await this.deps.requests.get(requestId);
        if (stored) return accepted(stored.request, stored.status, true);
        throw error;
      }
      await this.deps.idempotency.release(principal, key, requestId);
      throw error;
    }
  }

  /**
   * The same request again. While it is still pending, its execution is started again (a no-op when it runs),
   * which mends a crash between storing the request and starting it.
   */
  private async replay(record: RequestRecord): Promise<APIGatewayProxyResult> {
    if (record.status === 'pending')
      await this.starter.start(record.requestId, { requestId: record.requestId });
    return accepted(record.request, record.status, true);
  }

  private readJsonBody(event: APIGatewayProxyEvent): unknown {
    const contentType = header(event, 'content-type');
    const [mediaType, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
    const fix = "Send the body as JSON, with the header 'Content-Type: application/json'.";
    if (mediaType?.toLowerCase() !== 'application/json') {
      throw new HttpError(
        415,
        contentType ? `content type '${contentType}' is not supported` : 'the Content-Type header is missing',
        { field: 'Content-Type', fix },
      );
    }
    for (const parameter of parameters) {
      const [name, value] = parameter
        .split('=')
        .map((part) => part.trim().replace(/^"|"$/g, '').toLowerCase());
      if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') {
        throw new HttpError(415, `charset '${value}' is not supported: JSON is UTF-8`, {
          field: 'Content-Type',
          fix: "Send UTF-8, with 'Content-Type: application/json' (or '; charset=utf-8').",
        });
      }
    }
    const raw = event.body ?? '';
    const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (bytes.length > this.maxBodyBytes) {
      throw new HttpError(
        413,
        `the body is ${bytes.length} bytes; the most accepted is ${this.maxBodyBytes}`,
        {
          field: '(body)',
          fix: 'Send only the fields of the request schema (GET /openapi.json): a request is well under 32 KiB.',
        },
      );
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '') {
      throw new HttpError(400, 'the body is empty', {
        field: '(body)',
        fix: 'Send the request as a JSON object: see the schema in GET /openapi.json.',
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`, {
        field: '(body)',
        fix: 'Send a JSON object (double-quoted keys and strings, no trailing commas).',
      });
    }
    if (nestsDeeperThan(parsed, MAX_BODY_DEPTH)) {
      throw new HttpError(400, `the body nests arrays and objects more than ${MAX_BODY_DEPTH} levels deep`, {
        field: '(body)',
        fix: 'Send the request object of the schema (GET /openapi.json): it nests four levels at most.',
      });
    }
    return parsed;
  }

  // GET ------------------------------------------------------------------------------------------------------------

  private async getRequest(requestId: string): Promise<APIGatewayProxyResult> {
    const record = requestIdSchema.safeParse(requestId).success
      ? await this.deps.requests.get(requestId)
      : undefined;
    if (!record) {
      throw new HttpError(404, `there is no request ${requestId}`, {
        field: 'requestId',
        fix: 'Use the requestId (or the Location header) that POST /accounts answered with.',
      });
    }
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

/** Whether `value` nests arrays and objects deeper than `limit` (the top level is 1); iterative, so any depth is safe. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}

function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').slice(1);
  if (parts.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i]!;
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (name) {
      if (!segment) return undefined;
      try {
        params[name] = decodeURIComponent(segment);
      } catch {
        return undefined;
      }
    } else if (part !== segment) return undefined;
  }
  return params;
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

function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const value = header(event, 'idempotency-key');
  if (value === undefined) return undefined;
  if (!idempotencyKeySchema.safeParse(value).success) {
    throw new HttpError(400, 'Idempotency-Key must be 1-255 printable ASCII characters', {
      field: 'Idempotency-Key',
      fix: 'Use a random value such as a UUID, or leave the header out.',
    });
  }
  return value;
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

function accepted(
  request: VendRequest,
  status: RequestRecord['status'],
  replayed: boolean,
): APIGatewayProxyResult {
  const self = `/accounts/requests/${request.requestId}`;
  const body: RequestAccepted = {
    requestId: request.requestId,
    status,
    accountName: request.accountName,
    email: request.email,
    organizationalUnit: { id: request.organizationalUnit.id, path: request.organizationalUnit.path },
    links: { self },
  };
  return json(202, body, { location: self, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
}

/** What a failed step says in the view: Vend's reason when it is the request's failure, never an error's text. */
function failedStepDetail(record: RequestRecord, name: StepName): string {
  if (record.failure?.step === name) return record.failure.reason;
  if (name === 'notify') return 'Slack did not take the message; the account is ready';
  return 'the step failed';
}

/** The name of the error in a step's `lastError` (`Name: message`); the message may be AWS's and stays internal. */
function errorName(lastError: string): string {
  const name = lastError.split(':', 1)[0]!.trim();
  return /^[A-Za-z][\w.-]{0,99}$/.test(name) ? name : 'error';
}

/**
 * A request as its requester may see it: no operator detail. The failure's `error`, a step's `lastError` message
 * and a failed step's recorded detail can hold what AWS or Slack said; the view shows Vend's reason and advice, and
 * of a retried error only its name.
 */
export function requestView(record: RequestRecord): RequestView {
  const { request } = record;
  const steps = STEP_NAMES.flatMap((name) => {
    const step = record.steps[name];
    if (!step) return [];
    const detail = step.status === 'failed' ? failedStepDetail(record, name) : step.detail;
    return [
      {
        name,
        status: step.status,
        startedAt: step.startedAt,
        ...(step.endedAt ? { endedAt: step.endedAt } : {}),
        attempts: step.attempts,
        ...(detail ? { detail } : {}),
        ...(step.status === 'running' && step.lastError ? { lastError: errorName(step.lastError) } : {}),
      },
    ];
  });
  return {
    requestId: record.requestId,
    status: record.status,
    ...(record.accountId ? { accountId: record.accountId } : {}),
    accountName: request.accountName,
    email: request.email,
    organizationalUnit: { id: request.organizationalUnit.id, path: request.organizationalUnit.path },
    requester: {
      principal: request.requester.principal,
      ...(request.requester.slackUserId ? { slackUserId: request.requester.slackUserId } : {}),
    },
    owner: request.owner,
    steps,
    ...(record.failure
      ? {
          failure: {
            step: record.failure.step,
            reason: record.failure.reason,
            advice: record.failure.advice,
          },
        }
      : {}),
    ...(record.notification
      ? {
          notification: {
            kind: record.notification.kind,
            status: record.notification.status,
            at: record.notification.at,
          },
        }
      : {}),
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Why a drift fix failed, as the API tells it: the recorded reason is AWS's error, which stays internal. */
export const DRIFT_FIX_FAILED =
  "An AWS call failed while Vend checked or put back the account; the platform team finds the error in the drift functions' logs under this entry's id.";

/** How many drift history entries each account of the list shows (one account shows all the registry keeps). */
export const LIST_DRIFT_HISTORY = 5;

/** An account's drift: its status in one word, each aspect as last checked, and the history, newest first. */
export function driftView(drift: DriftState | undefined, maxHistory = Number.POSITIVE_INFINITY): DriftView {
  const aspects: DriftView['aspects'] = {};
  for (const [aspect, value] of Object.entries(drift?.aspects ?? {})) {
    if (value)
      aspects[aspect as keyof DriftView['aspects']] = { status: value.status, checkedAt: value.checkedAt };
  }
  return {
    status: driftStatus(drift),
    aspects,
    history: (drift?.history ?? []).slice(0, maxHistory).map((entry) => ({
      id: entry.id,
      source: entry.source,
      ...(entry.eventName ? { eventName: entry.eventName } : {}),
      aspects: [...entry.aspects],
      what: entry.what,
      ...(entry.by ? { by: entry.by } : {}),
      at: entry.at,
      outcome: entry.outcome,
      ...(entry.action ? { action: entry.action } : {}),
      ...(entry.reason ? { reason: DRIFT_FIX_FAILED } : {}),
      ...(entry.announcement ? { announcement: entry.announcement } : {}),
      recordedAt: entry.recordedAt,
    })),
  };
}

/** An account's desired state and its drift, field by field (so nothing the registry adds leaks). */
export function accountView(
  account: AccountDesiredState,
  drift?: DriftState,
  maxHistory?: number,
): AccountView {
  return {
    accountId: account.accountId,
    accountName: account.accountName,
    email: account.email,
    organizationalUnit: { id: account.organizationalUnit.id, path: account.organizationalUnit.path },
    tags: account.tags,
    baselineVersion: account.baselineVersion,
    budget: {
      name: account.budget.name,
      monthlyLimitUsd: account.budget.monthlyLimitUsd,
      thresholds: account.budget.thresholds.map((t) => ({ percent: t.percent, type: t.type })),
    },
    ...(account.dns
      ? {
          dns: {
            hostedZoneId: account.dns.hostedZoneId,
            vpcId: account.dns.vpcId,
            region: account.dns.region,
          },
        }
      : {}),
    ...(account.alias ? { alias: account.alias } : {}),
    owner: account.owner,
    requestId: account.requestId,
    status: account.status,
    drift: driftView(drift, maxHistory),
    createdAt: account.createdAt,
    updatedAt: account.updatedAt,
  };
}
