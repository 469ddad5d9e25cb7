import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountAnswer } from '../../cli/contract.ts';
import { account, driftedAccount, expectInOrder, type FakeApi, startFakeApi, vend } from './support.ts';

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

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
    expect(JSON.parse(all.stdout).accounts.map((a: AccountAnswer) => a.accountId)).toEqual([
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
