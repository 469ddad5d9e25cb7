import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { AccountAnswer, RequestView, StepView } from '../../cli/contract.ts';
import type { VendIo } from '../../cli/io.ts';
import { runVend } from '../../cli/run.ts';
import { seededRandom } from '../../local/cloud/random.ts';

/** The seed of the CLI's random source in these tests: its retries' jitter repeats from run to run. */
export const SEED = 11;

// ---------------------------------------------------------------------------------------------------------------
// A fake request API that follows the API's contract: POST /accounts (with Idempotency-Key),
// GET /accounts/requests/{id}, GET /accounts?limit=&cursor=, GET /accounts/{accountId}, errors as
// { error: { status, field?, message, fix? } }.

export interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface FakeApi {
  url: string;
  port: number;
  received: Received[];
  /** The request bodies accepted, by request id. */
  accepted: Map<string, unknown>;
  /** Each GET of a request answers the next snapshot, then keeps answering the last. */
  progress: Map<string, RequestView[]>;
  accounts: AccountAnswer[];
  /** Answers given before the routes, in order: a status and body, or `drop` (the response is lost). */
  interrupts: (
    | { status: number; body: unknown; headers?: Record<string, string> }
    | 'drop'
    | 'drop-after-handling'
  )[];
  close(): Promise<void>;
}

export function error(status: number, message: string, field?: string, fix?: string) {
  return { error: { status, ...(field ? { field } : {}), message, ...(fix ? { fix } : {}) } };
}

export async function startFakeApi(): Promise<FakeApi> {
  const received: Received[] = [];
  const accepted = new Map<string, unknown>();
  const byKey = new Map<string, string>();
  const progress = new Map<string, RequestView[]>();
  const api = {
    received,
    accepted,
    progress,
    accounts: [] as AccountAnswer[],
    interrupts: [],
  } as unknown as FakeApi;
  const send = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };
  const route = (request: Received): { status: number; body: unknown } => {
    const segments = request.path.split('/').filter(Boolean);
    if (request.method === 'POST' && request.path === '/accounts') {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(request.body);
      } catch {
        return { status: 400, body: error(400, 'is not JSON', '(body)', 'Send a JSON object.') };
      }
      for (const field of ['name', 'organizationalUnit', 'owner']) {
        if (typeof body[field] !== 'string') {
          return { status: 400, body: error(400, 'is required', field, 'See the request schema.') };
        }
      }
      if (body['name'] === 'taken') {
        return {
          status: 409,
          body: error(
            409,
            "account name 'plat-dev-taken' is already used by req-0",
            'name',
            'Choose another name.',
          ),
        };
      }
      const key = request.headers['idempotency-key'];
      const requestId = (key && byKey.get(key)) ?? `req-${accepted.size + 1}`;
      if (key) byKey.set(key, requestId);
      if (!accepted.has(requestId)) accepted.set(requestId, body);
      const accountName = `plat-dev-${body['name']}`;
      const prod = body['organizationalUnit'] === 'Workloads/Prod';
      return {
        status: 202,
        body: {
          requestId,
          status: prod ? 'awaiting-approval' : 'pending',
          accountName,
          email: (body['email'] as string | undefined) ?? `aws+${accountName}@example.com`,
          organizationalUnit: { id: 'ou-root-dev00001', path: body['organizationalUnit'] },
          ...(prod ? { approval: awaitingView().approval } : {}),
          links: { self: `/accounts/requests/${requestId}` },
        },
      };
    }
    if (
      request.method === 'POST' &&
      segments[0] === 'accounts' &&
      segments[1] === 'requests' &&
      segments[2] &&
      segments[3] === 'approval'
    ) {
      return decideFake(progress, segments[2], request.body);
    }
    if (request.method === 'GET' && segments[0] === 'accounts' && segments[1] === 'requests' && segments[2]) {
      const snapshots = progress.get(segments[2]);
      if (!snapshots) {
        return {
          status: 404,
          body: error(404, `request ${segments[2]} does not exist`, 'requestId', 'Check the request id.'),
        };
      }
      return { status: 200, body: snapshots.length > 1 ? snapshots.shift() : snapshots[0] };
    }
    if (request.method === 'GET' && request.path === '/accounts') {
      const limit = Number(request.query['limit'] ?? 2);
      const start = Number(request.query['cursor'] ?? 0);
      const page = api.accounts.slice(start, start + limit);
      const next = start + limit < api.accounts.length ? String(start + limit) : undefined;
      return { status: 200, body: { accounts: page, ...(next ? { nextCursor: next } : {}) } };
    }
    if (request.method === 'GET' && segments[0] === 'accounts' && segments.length === 2) {
      const account = api.accounts.find((a) => a.accountId === segments[1]);
      return account
        ? { status: 200, body: account }
        : {
            status: 404,
            body: error(404, `account ${segments[1]} was not vended by Vend`, 'accountId', 'See vend list.'),
          };
    }
    return { status: 404, body: error(404, `no route ${request.method} ${request.path}`) };
  };
  const server = createServer(async (message: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of message as AsyncIterable<Buffer>) chunks.push(chunk);
    const url = new URL(message.url ?? '/', 'http://fake');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(message.headers)) headers[name] = String(value);
    const request: Received = {
      method: message.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    received.push(request);
    const interrupt = api.interrupts.shift();
    if (interrupt === 'drop') return void response.socket?.destroy();
    if (interrupt === 'drop-after-handling') {
      route(request);
      return void response.socket?.destroy();
    }
    const answer: { status: number; body: unknown; headers?: Record<string, string> } =
      interrupt ?? route(request);
    send(response, answer.status, answer.body, answer.headers);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(api, {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Who decides in the fake API. */
export const APPROVER_ARN = 'arn:aws:sts::000000000000:assumed-role/PlatformAdmin/pat';

/** POST /accounts/requests/{id}/approval as the API answers it, deciding as APPROVER_ARN. */
function decideFake(
  progress: Map<string, RequestView[]>,
  requestId: string,
  text: string,
): { status: number; body: unknown } {
  const snapshots = progress.get(requestId);
  const current = snapshots?.[0];
  if (!current) {
    return {
      status: 404,
      body: error(404, `there is no request ${requestId}`, 'requestId', 'Check the request id.'),
    };
  }
  const body = JSON.parse(text) as { decision?: string; reason?: string };
  if (body.decision === 'deny' && !body.reason?.trim()) {
    return { status: 400, body: error(400, 'a denial needs a reason', 'reason', 'Say why.') };
  }
  if (current.status !== 'awaiting-approval' || !current.approval) {
    const by = current.approval?.decision?.by;
    return {
      status: 409,
      body: error(
        409,
        `request ${requestId} is not awaiting approval: its status is ${current.status}${by ? `; ${current.approval?.decision?.outcome} by ${by}` : ''}`,
        'requestId',
        'Nothing is left to decide.',
      ),
    };
  }
  const decided: RequestView = {
    ...current,
    status: body.decision === 'approve' ? 'pending' : 'denied',
    approval: {
      ...current.approval,
      decision: {
        outcome: body.decision === 'approve' ? 'approved' : 'denied',
        by: APPROVER_ARN,
        as: ['platform-admins'],
        via: 'api',
        at: at(20),
        ...(body.reason ? { reason: body.reason } : {}),
      },
    },
    updatedAt: at(20),
  };
  progress.set(requestId, [decided]);
  return { status: 200, body: decided };
}

/** A Workloads/Prod request awaiting approval by platform-admins, as the API shows it. */
export function awaitingView(): RequestView {
  return requestView('awaiting-approval', 0, [], {
    accountName: 'plat-prod-payments',
    email: 'aws+plat-prod-payments@example.com',
    organizationalUnit: { id: 'ou-root-prod0001', path: 'Workloads/Prod' },
    approval: { approvers: ['platform-admins'], requestedAt: at(0), expiresAt: at(7 * 24 * 3600) },
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Requests as the API shows them, moving through the workflow.

export const T0 = Date.UTC(2026, 10, 22, 3, 14, 40);
export const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

export function step(
  name: StepView['name'],
  status: StepView['status'],
  start: number,
  end?: number,
  attempts = 1,
  detail?: string,
): StepView {
  return {
    name,
    status,
    startedAt: at(start),
    ...(end === undefined ? {} : { endedAt: at(end) }),
    attempts,
    ...(detail ? { detail } : {}),
  };
}

export function requestView(
  status: RequestView['status'],
  updated: number,
  steps: StepView[],
  extra: Partial<RequestView> = {},
): RequestView {
  return {
    requestId: 'req-1',
    status,
    accountName: 'plat-dev-payments',
    email: 'aws+plat-dev-payments@example.com',
    organizationalUnit: { id: 'ou-root-dev00001', path: 'Workloads/Dev' },
    requester: { principal: 'arn:aws:iam::000000000000:user/alice', slackUserId: 'U012ALICE' },
    owner: 'alice@example.com',
    steps,
    createdAt: at(0),
    updatedAt: at(updated),
    ...extra,
  };
}

export const created = step('createAccount', 'succeeded', 1, 2, 1, 'CreateAccount car-1 (requested)');
export const waited = step('waitForAccount', 'succeeded', 2, 8, 2, 'account 123456789012 exists');
export const moved = step('moveAccount', 'succeeded', 8, 9, 1, 'moved to Workloads/Dev');
export const baseline = step('applyBaseline', 'succeeded', 9, 11, 1, 'baseline 1: 6 change(s)');
export const budget = step('applyBudget', 'succeeded', 9, 10, 1, 'budget vend-plat-dev-payments created');
export const dns = step('connectDns', 'succeeded', 9, 12, 1, 'vpc-1 associated with Z0VENDLOCALINTERNAL01');

/** From pending through each step to succeeded, as successive polls see it. */
export function toSuccess(): RequestView[] {
  return [
    requestView('pending', 0, []),
    requestView('creating', 1, [step('createAccount', 'running', 1)]),
    requestView('creating', 2, [created, step('waitForAccount', 'running', 2)]),
    requestView('creating', 5, [created, step('waitForAccount', 'running', 2, undefined, 2)]),
    requestView('configuring', 9, [
      created,
      waited,
      moved,
      step('applyBaseline', 'running', 9),
      step('applyBudget', 'running', 9),
      step('connectDns', 'running', 9),
    ]),
    requestView('configuring', 12, [
      created,
      waited,
      moved,
      baseline,
      budget,
      dns,
      step('notify', 'running', 12),
    ]),
    requestView(
      'succeeded',
      13,
      [
        created,
        waited,
        moved,
        baseline,
        budget,
        dns,
        step('notify', 'succeeded', 12, 13, 1, 'requester told'),
      ],
      { accountId: '123456789012', notification: { kind: 'success', status: 'sent', at: at(13) } },
    ),
  ];
}

export const FAILURE: NonNullable<RequestView['failure']> = {
  step: 'applyBudget',
  reason: 'the budget could not be created: AWS Budgets refused the limit',
  advice:
    'Ask for a budget of at most 5000 USD, or ask your platform team to raise budget.maxMonthlyLimitUsd.',
};

/** Through the first steps to a budget that fails for good. */
export function toFailure(): RequestView[] {
  return [
    requestView('creating', 1, [step('createAccount', 'running', 1)]),
    requestView('configuring', 9, [created, waited, moved, step('applyBudget', 'running', 9)]),
    requestView('configuring', 10, [created, waited, moved, step('applyBudget', 'running', 9, undefined, 2)]),
    requestView(
      'failed',
      14,
      [created, waited, moved, step('applyBudget', 'failed', 9, 14, 3, 'AccessDenied: budgets:CreateBudget')],
      { accountId: '123456789012', failure: FAILURE },
    ),
  ];
}

export function account(n: number, extra: Partial<AccountAnswer> = {}): AccountAnswer {
  const accountId = String(100000000000 + n);
  return {
    accountId,
    accountName: `plat-dev-app${n}`,
    email: `aws+plat-dev-app${n}@example.com`,
    organizationalUnit: { id: 'ou-root-dev00001', path: 'Workloads/Dev' },
    tags: { team: `team${n}`, 'vend:request-id': `req-${n}`, 'vend:owner': 'alice@example.com' },
    baselineVersion: '1',
    budget: {
      name: `vend-plat-dev-app${n}`,
      monthlyLimitUsd: 100,
      thresholds: [
        { percent: 80, type: 'ACTUAL' },
        { percent: 100, type: 'FORECASTED' },
      ],
    },
    owner: 'alice@example.com',
    requestId: `req-${n}`,
    status: 'active',
    createdAt: at(0),
    updatedAt: at(60),
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Running the CLI.

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

export async function vend(argv: string[], overrides: Partial<VendIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const io: VendIo = {
    fetch: globalThis.fetch,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: seededRandom(SEED).next,
    isTTY: false,
    credentials: async () => undefined,
    ...overrides,
  };
  const code = await runVend(argv, io);
  return { code, stdout, stderr, sleeps };
}

/** Asserts that each piece appears in `text`, in this order. */
export function expectInOrder(text: string, pieces: string[]): void {
  let from = 0;
  for (const piece of pieces) {
    const index = text.indexOf(piece, from);
    expect(index, `'${piece}' after position ${from} in:\n${text}`).toBeGreaterThanOrEqual(0);
    from = index + piece.length;
  }
}

/** The escape sequence that moves the cursor up over the last frame and clears it. */
export const REDRAW = new RegExp(`${String.fromCharCode(27)}\\[\\d+A${String.fromCharCode(27)}\\[0J`);

export const PAYMENTS = ['--name', 'payments', '--ou', 'Workloads/Dev', '--owner', 'alice@example.com'];

/** An account someone moved by hand, which Vend moved back, then whose tags were removed (report mode). */
export function driftedAccount(n: number): AccountAnswer {
  return account(n, {
    drift: {
      status: 'drifted',
      aspects: {
        organizationalUnit: { status: 'in-sync', checkedAt: at(300) },
        tags: { status: 'drifted', checkedAt: at(400) },
      },
      history: [
        {
          id: 'evt-2',
          source: 'event',
          eventName: 'UntagResource',
          aspects: ['tags'],
          what: 'untagged team',
          by: 'arn:aws:iam::000000000000:user/mallory',
          at: at(390),
          outcome: 'reported',
          action: 'would restore the tag(s) team',
          announcement: 'sent',
          recordedAt: at(400),
        },
        {
          id: 'evt-1',
          source: 'event',
          eventName: 'MoveAccount',
          aspects: ['organizationalUnit'],
          what: 'moved from ou-root-dev00001 to ou-root-sbx00001',
          by: 'arn:aws:iam::000000000000:user/mallory',
          at: at(290),
          outcome: 'fixed',
          action: 'moved it from ou-root-sbx00001 back to Workloads/Dev (ou-root-dev00001)',
          announcement: 'sent',
          recordedAt: at(300),
        },
      ],
    },
  });
}
