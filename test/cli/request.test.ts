import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectInOrder, type FakeApi, PAYMENTS, startFakeApi, toSuccess, vend } from './support.ts';

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

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
