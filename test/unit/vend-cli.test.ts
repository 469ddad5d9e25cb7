import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../functions/api/core.ts';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import {
  type AccountView,
  type RequestView,
  retryAfterMs,
  runVend,
  type StepView,
  type VendIo,
} from '../../local/cli/vend-core.ts';
import { scaledClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';

// ---------------------------------------------------------------------------------------------------------------
// A fake request API that follows the API's contract: POST /accounts (with Idempotency-Key),
// GET /accounts/requests/{id}, GET /accounts?limit=&cursor=, GET /accounts/{accountId}, errors as
// { error: { status, field?, message, fix? } }.

interface Received {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

interface FakeApi {
  url: string;
  port: number;
  received: Received[];
  /** The request bodies accepted, by request id. */
  accepted: Map<string, unknown>;
  /** Each GET of a request answers the next snapshot, then keeps answering the last. */
  progress: Map<string, RequestView[]>;
  accounts: AccountView[];
  /** Answers given before the routes, in order: a status and body, or `drop` (the response is lost). */
  interrupts: (
    | { status: number; body: unknown; headers?: Record<string, string> }
    | 'drop'
    | 'drop-after-handling'
  )[];
  close(): Promise<void>;
}

function error(status: number, message: string, field?: string, fix?: string) {
  return { error: { status, ...(field ? { field } : {}), message, ...(fix ? { fix } : {}) } };
}

async function startFakeApi(): Promise<FakeApi> {
  const received: Received[] = [];
  const accepted = new Map<string, unknown>();
  const byKey = new Map<string, string>();
  const progress = new Map<string, RequestView[]>();
  const api = {
    received,
    accepted,
    progress,
    accounts: [] as AccountView[],
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
      return {
        status: 202,
        body: {
          requestId,
          status: 'pending',
          accountName,
          email: (body['email'] as string | undefined) ?? `aws+${accountName}@example.com`,
          organizationalUnit: { id: 'ou-root-dev00001', path: body['organizationalUnit'] },
          links: { self: `/accounts/requests/${requestId}` },
        },
      };
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

// ---------------------------------------------------------------------------------------------------------------
// Requests as the API shows them, moving through the workflow.

const T0 = Date.UTC(2026, 10, 22, 3, 14, 40);
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

function step(
  name: string,
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

function requestView(
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

const created = step('createAccount', 'succeeded', 1, 2, 1, 'CreateAccount car-1 (requested)');
const waited = step('waitForAccount', 'succeeded', 2, 8, 2, 'account 123456789012 exists');
const moved = step('moveAccount', 'succeeded', 8, 9, 1, 'moved to Workloads/Dev');
const baseline = step('applyBaseline', 'succeeded', 9, 11, 1, 'baseline 1: 6 change(s)');
const budget = step('applyBudget', 'succeeded', 9, 10, 1, 'budget vend-plat-dev-payments created');
const dns = step('connectDns', 'succeeded', 9, 12, 1, 'vpc-1 associated with Z0VENDLOCALINTERNAL01');

/** From pending through each step to succeeded, as successive polls see it. */
function toSuccess(): RequestView[] {
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

const FAILURE = {
  step: 'applyBudget',
  reason: 'the budget could not be created: AWS Budgets refused the limit',
  advice:
    'Ask for a budget of at most 5000 USD, or ask your platform team to raise budget.maxMonthlyLimitUsd.',
};

/** Through the first steps to a budget that fails for good. */
function toFailure(): RequestView[] {
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

function account(n: number, extra: Partial<AccountView> = {}): AccountView {
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

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  sleeps: number[];
}

async function vend(argv: string[], overrides: Partial<VendIo> = {}): Promise<Run> {
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
    isTTY: false,
    credentials: async () => undefined,
    ...overrides,
  };
  const code = await runVend(argv, io);
  return { code, stdout, stderr, sleeps };
}

/** Asserts that each piece appears in `text`, in this order. */
function expectInOrder(text: string, pieces: string[]): void {
  let from = 0;
  for (const piece of pieces) {
    const index = text.indexOf(piece, from);
    expect(index, `'${piece}' after position ${from} in:\n${text}`).toBeGreaterThanOrEqual(0);
    from = index + piece.length;
  }
}

/** The escape sequence that moves the cursor up over the last frame and clears it. */
const REDRAW = new RegExp(`${String.fromCharCode(27)}\\[\\d+A${String.fromCharCode(27)}\\[0J`);

const PAYMENTS = ['--name', 'payments', '--ou', 'Workloads/Dev', '--owner', 'alice@example.com'];

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

describe('vend --help', () => {
  it('documents every command and the exit codes a script can rely on', async () => {
    const run = await vend(['--help'], { env });
    expect(run.code).toBe(0);
    for (const command of ['request', 'status', 'list', 'show', 'drift'])
      expect(run.stdout).toContain(`vend ${command}`);
    expectInOrder(run.stdout, [
      'Exit codes:',
      '0  ok',
      '1  the request failed',
      '2  usage error',
      '3  the API refused',
      '4  the API could not be reached',
    ]);
    expect(api.received).toHaveLength(0);
  });

  it('shows a command’s flags with --help after it', async () => {
    const run = await vend(['request', '--help'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--idempotency-key <key>');
    expect(run.stdout).toContain('--vpc <vpc-id:region>');
  });
});

describe('vend request', () => {
  it('sends the request the flags describe and says how to follow it', async () => {
    const run = await vend(
      [
        'request',
        ...PAYMENTS,
        '--email',
        'payments-aws@example.com',
        '--slack-user',
        'U012ALICE',
        '--budget',
        '200',
        '--tag',
        'team=payments',
        '--tag=cost-center=cc 42',
        '--vpc',
        'vpc-0abc1234def567890:us-east-1',
      ],
      { env },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(api.accepted.get('req-1')).toEqual({
      name: 'payments',
      organizationalUnit: 'Workloads/Dev',
      owner: 'alice@example.com',
      email: 'payments-aws@example.com',
      requester: { slackUserId: 'U012ALICE' },
      budget: { monthlyLimitUsd: 200 },
      tags: { team: 'payments', 'cost-center': 'cc 42' },
      vpc: { id: 'vpc-0abc1234def567890', region: 'us-east-1' },
    });
    const post = api.received[0]!;
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['idempotency-key']).toMatch(/^vend-cli-[0-9a-f-]{36}$/);
    expect(run.stdout).toContain(
      'Request req-1 accepted: plat-dev-payments (payments-aws@example.com) in Workloads/Dev',
    );
    expect(run.stdout).toContain('npm run vend -- status req-1 --watch');
  });

  it('makes a new idempotency key for each run, and passes the one given', async () => {
    await vend(['request', ...PAYMENTS], { env });
    await vend(['request', ...PAYMENTS], { env });
    await vend(['request', ...PAYMENTS, '--idempotency-key', 'ticket-4711'], { env });
    const keys = api.received.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(3);
    expect(keys[2]).toBe('ticket-4711');
  });

  it('retries a call whose answer was lost with the same key, so only one request is made', async () => {
    api.interrupts.push('drop-after-handling', { status: 503, body: { message: 'Service Unavailable' } });
    const run = await vend(['request', ...PAYMENTS], { env });
    expect(run.code).toBe(0);
    expect(api.received).toHaveLength(3);
    expect(new Set(api.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect([...api.accepted.keys()]).toEqual(['req-1']);
    expect(run.stdout).toContain('Request req-1 accepted');
    expect(run.sleeps).toEqual([500, 1000]);
  });

  it("waits as long as a 503's Retry-After asks before retrying", async () => {
    api.interrupts.push({
      status: 503,
      body: { error: { status: 503, message: 'AWS is busy', fix: 'Retry after 5 seconds.' } },
      headers: { 'retry-after': '5' },
    });
    const run = await vend(['request', ...PAYMENTS], { env });
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([5000]);
    expect([...api.accepted.keys()]).toEqual(['req-1']);
  });

  it('reads Retry-After as seconds or a date, and caps it', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterMs('5', now)).toBe(5000);
    expect(retryAfterMs('Sun, 22 Nov 2026 10:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('3600', now)).toBe(30_000);
    expect(retryAfterMs(null, now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
  });

  it('reads the body from --file, with flags overriding its fields', async () => {
    const files: Record<string, string> = {
      'request.json': JSON.stringify({
        name: 'payments',
        organizationalUnit: 'Workloads/Prod',
        owner: 'bob@example.com',
        budget: { monthlyLimitUsd: 100, thresholds: [{ percent: 90, type: 'ACTUAL' }] },
        tags: { team: 'payments' },
      }),
    };
    const readFile = async (path: string) => {
      if (!(path in files)) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return files[path]!;
    };
    const run = await vend(
      ['request', '--file', 'request.json', '--ou', 'Workloads/Dev', '--budget', '300'],
      {
        env,
        readFile,
      },
    );
    expect(run.code).toBe(0);
    expect(api.accepted.get('req-1')).toEqual({
      name: 'payments',
      organizationalUnit: 'Workloads/Dev',
      owner: 'bob@example.com',
      budget: { monthlyLimitUsd: 300, thresholds: [{ percent: 90, type: 'ACTUAL' }] },
      tags: { team: 'payments' },
    });

    const missing = await vend(['request', '--file', 'nope.json'], { env, readFile });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--file nope.json cannot be read (ENOENT)');
    files['bad.json'] = '{"name": ';
    const bad = await vend(['request', '--file', 'bad.json'], { env, readFile });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--file bad.json is not JSON');
  });

  it('prints only the API’s answer with --json', async () => {
    const run = await vend(['request', ...PAYMENTS, '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      requestId: 'req-1',
      status: 'pending',
      accountName: 'plat-dev-payments',
      email: 'aws+plat-dev-payments@example.com',
      organizationalUnit: { id: 'ou-root-dev00001', path: 'Workloads/Dev' },
      links: { self: '/accounts/requests/req-1' },
    });
  });

  it('exits 3 with the field, the message and the fix when the API refuses', async () => {
    const run = await vend(
      ['request', '--name', 'taken', '--ou', 'Workloads/Dev', '--owner', 'a@example.com'],
      {
        env,
      },
    );
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      "the API refused (409): name: account name 'plat-dev-taken' is already used",
    );
    expect(run.stderr).toContain('fix: Choose another name.');

    const json = await vend(
      ['request', '--name', 'taken', '--ou', 'Workloads/Dev', '--owner', 'a@example.com', '--json'],
      {
        env,
      },
    );
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        status: 409,
        field: 'name',
        message: "account name 'plat-dev-taken' is already used by req-0",
        fix: 'Choose another name.',
      },
    });
  });

  it('follows the request with --watch until it succeeds', async () => {
    api.progress.set('req-1', toSuccess());
    const run = await vend(['request', ...PAYMENTS, '--watch'], { env });
    expect(run.code).toBe(0);
    expectInOrder(run.stdout, [
      'Request req-1 accepted',
      'createAccount started',
      'notify succeeded',
      'Account 123456789012 (plat-dev-payments) is ready in Workloads/Dev.',
    ]);
  });
});

describe('usage errors exit 2, name the flag and the fix, and send nothing', () => {
  it.each([
    [['request', '--nme', 'payments'], 'unknown flag --nme for vend request', 'Did you mean --name?'],
    [['request', '--name', '--ou', 'Workloads/Dev'], '--name needs a value', 'Write --name <name>.'],
    [
      ['request', '--name', 'payments', '--ou', 'Workloads/Dev'],
      '--owner is required',
      '--owner alice@example.com',
    ],
    [['request', ...PAYMENTS, '--budget', 'lots'], '--budget lots is not a positive amount', '--budget 200'],
    [['request', ...PAYMENTS, '--budget', '-5'], '--budget -5 is not a positive amount', '--budget 200'],
    [['request', ...PAYMENTS, '--budget'], '--budget needs a value', 'Write --budget <usd>.'],
    [['request', ...PAYMENTS, '--tag', 'team'], '--tag team is not key=value', '--tag team=payments'],
    [['request', ...PAYMENTS, '--vpc', 'vpc-123'], '--vpc vpc-123 is not <vpc-id>:<region>', ':us-east-1'],
    [['request', ...PAYMENTS, '--watch=yes'], '--watch takes no value', 'Write --watch alone.'],
    [['status'], '<requestId> is missing', 'vend status <requestId>'],
    [['status', 'req-1', '--all'], 'unknown flag --all for vend status', 'Its flags are'],
    [['list', '--limit', '0'], '--limit 0 is not a positive whole number', '--limit 50'],
    [['show', 'payments'], '<accountId> payments is not an account id', '12-digit'],
    [['stauts', 'req-1'], "unknown command 'stauts'", "Did you mean 'status'?"],
    [[], 'no command given', 'request, status, list, show'],
    [
      ['list', '--api-url', 'ftp://example.com'],
      '--api-url ftp://example.com is not an http(s) URL',
      'execute-api',
    ],
  ])('%j', async (argv, message, fix) => {
    const run = await vend(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toMatch(/\n {2}fix: /);
    expect(run.stderr).toContain(fix);
    expect(api.received).toHaveLength(0);
  });
});

describe('vend status', () => {
  it('shows each step with its times, attempts and detail, and exits 0 when it succeeded', async () => {
    api.progress.set('req-1', toSuccess().slice(-1));
    const run = await vend(['status', 'req-1'], { env });
    expect(run.code).toBe(0);
    expectInOrder(run.stdout, [
      'Request req-1: succeeded',
      'account',
      'plat-dev-payments (123456789012)',
      'OU',
      'Workloads/Dev (ou-root-dev00001)',
      'requester',
      'arn:aws:iam::000000000000:user/alice, Slack U012ALICE',
      'step',
      'status',
      'started',
      'ended',
      'took',
      'tries',
      'detail',
    ]);
    const lines = run.stdout.split('\n');
    expect(lines.find((l) => l.startsWith('createAccount'))).toMatch(
      /^createAccount\s+succeeded\s+03:14:41\s+03:14:42\s+1s\s+1\s+CreateAccount car-1 \(requested\)$/,
    );
    expect(lines.find((l) => l.startsWith('waitForAccount'))).toMatch(
      /^waitForAccount\s+succeeded\s+03:14:42\s+03:14:48\s+6s\s+2\s+account 123456789012 exists$/,
    );
    expect(
      lines.filter((l) => /^(createAccount|waitForAccount|moveAccount|apply|connectDns|notify)/.test(l)),
    ).toHaveLength(7);
    expect(run.stdout).toContain('Slack: success message sent');
    expect(run.stdout).toContain('Account 123456789012 (plat-dev-payments) is ready in Workloads/Dev.');
  });

  it('exits 0 for a request still under way, saying how to follow it', async () => {
    api.progress.set('req-1', [toSuccess()[2]!]);
    const run = await vend(['status', 'req-1'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Request req-1: creating');
    expect(run.stdout).toMatch(/waitForAccount\s+running\s+03:14:42\s+1/);
    expect(run.stdout).toContain('Still creating. Follow it: npm run vend -- status req-1 --watch');
  });

  it('exits 1 for a failed request, with the step, the reason and what to do', async () => {
    api.progress.set('req-1', toFailure().slice(-1));
    const run = await vend(['status', 'req-1'], { env });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/applyBudget\s+failed\s+03:14:49\s+03:14:54\s+5s\s+3\s+AccessDenied/);
    expect(run.stdout).toContain(`Failed at applyBudget: ${FAILURE.reason}`);
    expect(run.stdout).toContain(`What to do: ${FAILURE.advice}`);
  });

  it('prints only the API’s JSON with --json, keeping the exit code of the status', async () => {
    const [failed] = toFailure().slice(-1);
    api.progress.set('req-1', [failed!]);
    const run = await vend(['status', 'req-1', '--json'], { env });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual(failed);
  });

  it('exits 3 for a request the API does not know', async () => {
    const run = await vend(['status', 'req-nope'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the API refused (404): requestId: request req-nope does not exist');
    expect(run.stderr).toContain('fix: Check the request id.');
  });
});

describe('vend status --watch', () => {
  it('prints each step as it starts and ends, polling about once a second, until it succeeds', async () => {
    api.progress.set('req-1', toSuccess());
    const run = await vend(['status', 'req-1', '--watch'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual(Array(6).fill(1000));
    expect(api.received).toHaveLength(7);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      'Request req-1: plat-dev-payments (aws+plat-dev-payments@example.com) in Workloads/Dev; times in UTC',
      '03:14:40  request pending',
      '03:14:41  request creating',
      '03:14:41  createAccount started',
      '03:14:42  createAccount succeeded in 1s: CreateAccount car-1 (requested)',
      '03:14:42  waitForAccount started',
      '03:14:45  waitForAccount attempt 2',
      '03:14:48  waitForAccount succeeded in 6s (look 2): account 123456789012 exists',
      '03:14:48  moveAccount started',
      '03:14:49  request configuring',
      '03:14:49  moveAccount succeeded in 1s: moved to Workloads/Dev',
      '03:14:49  applyBaseline started',
      '03:14:49  applyBudget started',
      '03:14:49  connectDns started',
      '03:14:50  applyBudget succeeded in 1s: budget vend-plat-dev-payments created',
      '03:14:51  applyBaseline succeeded in 2s: baseline 1: 6 change(s)',
      '03:14:52  connectDns succeeded in 3s: vpc-1 associated with Z0VENDLOCALINTERNAL01',
      '03:14:52  notify started',
      '03:14:53  request succeeded',
      '03:14:53  notify succeeded in 1s: requester told',
      '',
      'Account 123456789012 (plat-dev-payments) is ready in Workloads/Dev.',
    ]);
  });

  it('ends with the failed step, the reason and what to do, and exits 1', async () => {
    api.progress.set('req-1', toFailure());
    const run = await vend(['status', 'req-1', '--watch'], { env });
    expect(run.code).toBe(1);
    expectInOrder(run.stdout, [
      'createAccount started',
      'applyBudget started',
      'applyBudget attempt 2',
      'request failed',
      '03:14:54  applyBudget failed in 5s after 3 attempts: AccessDenied: budgets:CreateBudget',
      `Failed at applyBudget: ${FAILURE.reason}`,
      `What to do: ${FAILURE.advice}`,
    ]);
  });

  it('redraws the status in place on a terminal', async () => {
    api.progress.set('req-1', toSuccess());
    const run = await vend(['status', 'req-1', '--watch'], { env, isTTY: true, columns: 100 });
    expect(run.code).toBe(0);
    const frames = run.stdout.split(REDRAW);
    expect(frames).toHaveLength(7);
    expect(frames[0]).toContain('Request req-1: pending');
    expect(frames[0]).toContain('watching (every 1 s; Ctrl+C stops)');
    const last = frames[6]!;
    expect(last).toContain('Request req-1: succeeded');
    expect(last).toMatch(/notify\s+succeeded/);
    expect(last).toContain('Account 123456789012 (plat-dev-payments) is ready');
    for (const line of run.stdout.split('\n')) expect(line.replace(REDRAW, '').length).toBeLessThan(100);
  });

  it('waits a few polls after the end for the announcement, so the last step is shown ended', async () => {
    const steps = [created, waited, moved, baseline, budget, dns];
    const notified = step('notify', 'succeeded', 12, 13, 1, 'requester told');
    api.progress.set('req-1', [
      requestView('succeeded', 12, [...steps, step('notify', 'running', 12)], { accountId: '123456789012' }),
      requestView('succeeded', 13, [...steps, notified], { accountId: '123456789012' }),
    ]);
    const run = await vend(['status', 'req-1', '--watch'], { env });
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([1000]);
    expectInOrder(run.stdout, ['request succeeded', 'notify started', 'notify succeeded in 1s', 'is ready']);

    // An announcement that never ends does not keep the watch going.
    api.progress.set('req-1', [
      requestView('failed', 12, [...steps, step('notify', 'running', 12)], { failure: FAILURE }),
    ]);
    const stuck = await vend(['status', 'req-1', '--watch'], { env });
    expect(stuck.code).toBe(1);
    expect(stuck.sleeps).toEqual(Array(5).fill(1000));
  });

  it('with --json prints nothing but the finished request', async () => {
    api.progress.set('req-1', toSuccess());
    const run = await vend(['status', 'req-1', '--watch', '--json'], { env });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(toSuccess().at(-1));
  });

  it('rides out a failing poll, and exits 4 saying how to resume when the API stays away', async () => {
    api.progress.set('req-1', toSuccess());
    api.interrupts.push({ status: 502, body: { message: 'Internal server error' } });
    const ok = await vend(['status', 'req-1', '--watch'], { env });
    expect(ok.code).toBe(0);

    api.progress.set('req-1', toSuccess());
    const { url } = api;
    const closing = vend(['status', 'req-1', '--watch'], {
      env,
      sleep: async (ms) => {
        if (ms === 1000) await api.close();
      },
    });
    const run = await closing;
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`could not reach the API at ${url}`);
    expect(run.stderr).toContain('resume with npm run vend -- status req-1 --watch');
  });
});

describe('vend list', () => {
  beforeEach(() => {
    api.accounts = [account(1), account(2, { owner: 'bob@example.com' }), account(3, { status: 'closed' })];
  });

  it('shows one page as a table, and how to see the next', async () => {
    const run = await vend(['list', '--limit', '2'], { env });
    expect(run.code).toBe(0);
    expect(api.received[0]!.query).toEqual({ limit: '2' });
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'ACCOUNT ID    NAME           OU             OWNER              STATUS',
      '100000000001  plat-dev-app1  Workloads/Dev  alice@example.com  active',
      '100000000002  plat-dev-app2  Workloads/Dev  bob@example.com    active',
    ]);
    expect(run.stdout).toContain('More: npm run vend -- list --cursor 2 --limit 2, or --all for every page.');
  });

  it('follows every page with --all', async () => {
    const run = await vend(['list', '--all', '--limit', '2'], { env });
    expect(run.code).toBe(0);
    expect(api.received.map((r) => r.query)).toEqual([{ limit: '2' }, { limit: '2', cursor: '2' }]);
    expect(run.stdout).toMatch(/100000000003\s+plat-dev-app3\s+Workloads\/Dev\s+alice@example.com\s+closed/);
    expect(run.stdout).not.toContain('More:');
  });

  it('prints the API’s page with --json, and every account with --all --json', async () => {
    const page = await vend(['list', '--json'], { env });
    expect(JSON.parse(page.stdout)).toEqual({
      accounts: [account(1), account(2, { owner: 'bob@example.com' })],
      nextCursor: '2',
    });
    const all = await vend(['list', '--json', '--all'], { env });
    expect(JSON.parse(all.stdout).accounts.map((a: AccountView) => a.accountId)).toEqual([
      '100000000001',
      '100000000002',
      '100000000003',
    ]);
  });

  it('says so when nothing has been vended', async () => {
    api.accounts = [];
    const run = await vend(['list'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('No account has been vended yet.\n');
  });
});

describe('vend show', () => {
  it('shows the account’s desired state', async () => {
    api.accounts = [
      account(7, {
        alias: 'acme-plat-dev-app7',
        dns: { hostedZoneId: 'Z0VENDLOCALINTERNAL01', vpcId: 'vpc-0abc1234', region: 'us-east-1' },
      }),
    ];
    const run = await vend(['show', '100000000007'], { env });
    expect(run.code).toBe(0);
    expect(api.received[0]!.path).toBe('/accounts/100000000007');
    expectInOrder(run.stdout, [
      'Account 100000000007  plat-dev-app7  active',
      'email',
      'aws+plat-dev-app7@example.com',
      'Workloads/Dev (ou-root-dev00001)',
      'alice@example.com',
      'version 1',
      '100 USD a month (vend-plat-dev-app7); alerts at 80% actual, 100% forecasted',
      'team=team7, vend:request-id=req-7, vend:owner=alice@example.com',
      'vpc-0abc1234 (us-east-1) in zone Z0VENDLOCALINTERNAL01',
      'acme-plat-dev-app7',
      'req-7',
      '2026-11-22 03:14:40 UTC',
    ]);
    const json = await vend(['show', '100000000007', '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual(api.accounts[0]);
  });

  it('exits 3 for an account Vend did not vend', async () => {
    const run = await vend(['show', '999999999999'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('accountId: account 999999999999 was not vended by Vend');
  });
});

/** An account someone moved by hand, which Vend moved back, then whose tags were removed (report mode). */
function driftedAccount(n: number): AccountView {
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

describe('vend drift', () => {
  beforeEach(() => {
    api.accounts = [
      driftedAccount(1),
      account(2, { drift: { status: 'unknown', aspects: {}, history: [] } }),
      account(3),
    ];
  });

  it('lists every account with its drift status and latest drift, over every page', async () => {
    const run = await vend(['drift'], { env });
    expect(run.code).toBe(0);
    expect(api.received.map((r) => r.path)).toEqual(['/accounts']);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ACCOUNT ID\s+NAME\s+STATUS\s+DRIFT\s+LATEST$/);
    expect(lines[1]).toMatch(
      /^100000000001\s+plat-dev-app1\s+active\s+drifted: tags \(last checked 2026-11-22 03:21:20 UTC\)\s+2026-11-22 03:21:10 UTC reported: UntagResource untagged team$/,
    );
    expect(lines[2]).toMatch(/^100000000002\s+plat-dev-app2\s+active\s+never checked$/);
    expect(lines[3]).toMatch(/^100000000003\s+plat-dev-app3\s+active\s+not reported by the API$/);
    expect(run.stdout).toContain(
      '1 of 3 account(s) drifted. The whole history of one: npm run vend -- drift <accountId>',
    );
  });

  it('shows the whole history of one account: when, what, who, and what Vend did', async () => {
    const run = await vend(['drift', '100000000001'], { env });
    expect(run.code).toBe(0);
    expect(api.received[0]!.path).toBe('/accounts/100000000001');
    expectInOrder(run.stdout, [
      'Account 100000000001  plat-dev-app1  active',
      'drift  drifted: tags',
      'WHEN',
      'OUTCOME',
      'WHAT',
      'BY',
      'DONE',
      '2026-11-22 03:21:10 UTC',
      'reported',
      'UntagResource: untagged team',
      'arn:aws:iam::000000000000:user/mallory',
      'would restore the tag(s) team',
      '2026-11-22 03:19:30 UTC',
      'fixed',
      'MoveAccount: moved from ou-root-dev00001 to ou-root-sbx00001',
      'moved it from ou-root-sbx00001 back to Workloads/Dev (ou-root-dev00001)',
    ]);
    const json = await vend(['drift', '100000000001', '--json'], { env });
    expect(JSON.parse(json.stdout)).toEqual(driftedAccount(1).drift);
  });

  it('says when nobody has changed the account by hand', async () => {
    const run = await vend(['drift', '100000000002'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('never checked');
    expect(run.stdout).toContain('No drift recorded');
  });

  it('exits 2 for an argument that is not an account id, and 3 for an account Vend did not vend', async () => {
    const bad = await vend(['drift', 'payments'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[accountId] payments is not an account id');
    expect(api.received).toHaveLength(0);
    const unknown = await vend(['drift', '999999999999'], { env });
    expect(unknown.code).toBe(3);
  });

  it('shows the latest drift in vend show', async () => {
    const run = await vend(['show', '100000000001'], { env });
    expect(run.code).toBe(0);
    expectInOrder(run.stdout, [
      'drift',
      'drifted: tags',
      'Drift (latest first):',
      'UntagResource: untagged team',
      'MoveAccount: moved from ou-root-dev00001',
    ]);
  });
});

describe('when the API cannot answer, the exit code is 4', () => {
  it('when nothing listens at the URL', async () => {
    const { url } = api;
    await api.close();
    const run = await vend(['request', ...PAYMENTS], { env: { VEND_API_URL: url } });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`could not reach the API at ${url} (ECONNREFUSED)`);
    expect(run.stderr).toContain('npm start');
    // Nothing reached the API, so there is no doubt to resolve with the idempotency key.
    expect(run.stderr).not.toContain('--idempotency-key');
    expect(run.sleeps).toEqual([500, 1000]);
  });

  it('when it keeps answering 5xx, after three tries, with the key to repeat the request safely', async () => {
    for (let i = 0; i < 3; i++)
      api.interrupts.push({ status: 500, body: error(500, 'the registry is unavailable') });
    const run = await vend(['request', ...PAYMENTS, '--idempotency-key', 'k-1'], { env });
    expect(run.code).toBe(4);
    expect(api.received).toHaveLength(3);
    expect(run.stderr).toContain('the API failed (500): the registry is unavailable');
    expect(run.stderr).toContain('repeat the command with --idempotency-key k-1');
  });

  it('when it answers something that is not JSON', async () => {
    const run = await vend(['list'], {
      env,
      fetch: async () => new Response('<html>proxy login</html>', { status: 200 }),
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('not JSON');
  });
});

describe('signing', () => {
  const credentials = { accessKeyId: 'AKIDVENDTEST', secretAccessKey: 'secret-for-tests' };

  /** Re-signs what the server received with the same time: equal only if the CLI signed exactly that. */
  async function expectValidSignature(
    received: Received,
    host: string,
    region: string,
    path = received.path,
  ) {
    const authorization = received.headers['authorization']!;
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    const amzDate = received.headers['x-amz-date']!;
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
    );
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = name === 'host' ? host : received.headers[name]!;
    const url = new URL(`http://${host}`);
    const expected = await new SignatureV4({
      service: 'execute-api',
      region,
      credentials,
      sha256: Sha256,
    }).sign(
      {
        method: received.method,
        protocol: 'http:',
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        query: received.query,
        headers,
        ...(received.body ? { body: received.body } : {}),
      },
      { signingDate },
    );
    expect(authorization).toBe(expected.headers['authorization']);
  }

  it('signs with SigV4 for execute-api with the access key found in the environment', async () => {
    const run = await vend(['request', ...PAYMENTS, '--tag', 'team=payments'], {
      env: {
        ...env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      credentials: undefined,
    });
    expect(run.code).toBe(0);
    const post = api.received[0]!;
    expect(post.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDVENDTEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*;idempotency-key[^,]*, Signature=[0-9a-f]{64}$/,
    );
    await expectValidSignature(post, `127.0.0.1:${api.port}`, 'us-east-1');

    await vend(['list', '--limit', '1', '--cursor', '1'], {
      env: { ...env, AWS_REGION: 'eu-central-1' },
      credentials: async () => credentials,
    });
    const list = api.received[1]!;
    expect(list.headers['authorization']).toContain('/eu-central-1/execute-api/aws4_request');
    await expectValidSignature(list, `127.0.0.1:${api.port}`, 'eu-central-1');
  });

  it('sends the session token of temporary credentials', async () => {
    await vend(['status', 'req-x'], {
      env,
      credentials: async () => ({ ...credentials, sessionToken: 'FwoGZXIvYXdzE' }),
    });
    expect(api.received[0]!.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzE');
    expect(api.received[0]!.headers['authorization']).toContain('x-amz-security-token');
  });

  it('sends a local call unsigned when there are no credentials', async () => {
    const run = await vend(['list'], {
      env,
      credentials: async ({ local }) => (local ? undefined : credentials),
    });
    expect(run.code).toBe(0);
    expect(api.received[0]!.headers['authorization']).toBeUndefined();
    expect(api.received[0]!.headers['x-amz-date']).toBeUndefined();
  });

  it('signs for the region of an API Gateway URL, under its stage', async () => {
    const seen: Request[] = [];
    const run = await vend(
      ['show', '123456789012', '--api-url', 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod/'],
      {
        env: { AWS_REGION: 'us-west-2' },
        credentials: async () => credentials,
        fetch: async (input, init) => {
          seen.push(new Request(input, init));
          return Response.json(account(1, { accountId: '123456789012' }));
        },
      },
    );
    expect(run.code).toBe(0);
    expect(seen[0]!.url).toBe(
      'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod/accounts/123456789012',
    );
    expect(seen[0]!.headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDVENDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    await expectValidSignature(
      {
        method: 'GET',
        path: '/prod/accounts/123456789012',
        query: {},
        headers: Object.fromEntries(seen[0]!.headers),
        body: '',
      },
      'abc123def4.execute-api.eu-west-1.amazonaws.com',
      'eu-west-1',
    );
  });

  it('exits 2 for a remote API without credentials, saying how to provide them', async () => {
    let calls = 0;
    const run = await vend(
      ['list', '--api-url', 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod'],
      {
        env: {},
        credentials: async () => undefined,
        fetch: async () => {
          calls++;
          return Response.json({ accounts: [] });
        },
      },
    );
    expect(run.code).toBe(2);
    expect(calls).toBe(0);
    expect(run.stderr).toContain(
      'no AWS credentials to sign the call to https://abc123def4.execute-api.eu-west-1.amazonaws.com',
    );
    expect(run.stderr).toContain('AWS_PROFILE');
    expect(run.stderr).toContain('AWS_ACCESS_KEY_ID');
  });

  it('explains a 403 from API Gateway’s IAM authorization', async () => {
    const run = await vend(['list'], {
      env,
      fetch: async () =>
        Response.json(
          { message: 'User: anonymous is not authorized to perform: execute-api:Invoke' },
          { status: 403 },
        ),
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the API refused (403): User: anonymous is not authorized');
    expect(run.stderr).toContain('fix: Check that your AWS credentials');
  });
});

describe('vend against the real request API on the local pipeline', () => {
  let pipeline: LocalPipeline;
  let local: LocalApi;
  beforeAll(async () => {
    pipeline = await startLocalPipeline({ cloudPort: 0, clock: scaledClock(1000), speed: 1000 });
    local = await startLocalApi({
      handler: createApiHandler({ ...pipeline.deps, starter: pipeline.runner }),
      port: 0,
      resolvePrincipal: (key) => {
        const caller = pipeline.cloud.cloud.state.credentials[key]?.caller;
        return caller && { arn: caller.arn, accountId: caller.accountId };
      },
    });
  }, 30_000);
  afterAll(async () => {
    await local?.close();
    await pipeline?.close();
  });

  it('requests an account signed as the caller, follows it to ready, then lists and shows it', async () => {
    const io: Partial<VendIo> = {
      env: { VEND_API_URL: local.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      credentials: undefined,
      // One simulated second of the pipeline's clock per poll: the vend takes milliseconds.
      sleep: pipeline.deps.sleep,
    };
    const run = await vend(
      [
        'request',
        '--name',
        'ledger',
        '--ou',
        'Workloads/Dev',
        '--owner',
        'alice@example.com',
        '--tag',
        'team=ledger',
        '--watch',
      ],
      io,
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expectInOrder(run.stdout, [
      'accepted',
      'createAccount started',
      'waitForAccount started',
      'moveAccount succeeded',
      'notify succeeded',
      'is ready in Workloads/Dev.',
    ]);
    for (const name of ['applyBaseline', 'applyBudget', 'connectDns'])
      expect(run.stdout).toContain(`${name} succeeded`);
    const requestId = /Request (req-\S+) accepted/.exec(run.stdout)![1]!;

    const status = await vend(['status', requestId, '--json'], io);
    expect(status.code).toBe(0);
    const request = JSON.parse(status.stdout) as RequestView;
    expect(request).toMatchObject({ requestId, status: 'succeeded', accountName: 'plat-dev-ledger' });
    expect(request.requester).toMatchObject({
      principal: pipeline.cloud.cloud.state.credentials['test']!.caller.arn,
    });

    const list = await vend(['list', '--all'], io);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      new RegExp(`${request.accountId}\\s+plat-dev-ledger\\s+Workloads/Dev\\s+alice@example.com\\s+active`),
    );
    const show = await vend(['show', request.accountId!], io);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('team=ledger');
    expect(show.stdout).toContain(`request   ${requestId}`);

    const again = await vend(
      ['request', '--name', 'ledger', '--ou', 'Workloads/Dev', '--owner', 'alice@example.com'],
      io,
    );
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(
      /the API refused \(409\): email: 'aws\+plat-dev-ledger@example.com' is already used by req-/,
    );
    expect(again.stderr).toContain('fix: Use another address.');
  }, 30_000);
});
