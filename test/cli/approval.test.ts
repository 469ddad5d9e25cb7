import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RequestView } from '../../cli/contract.ts';
import type { VendIo } from '../../cli/io.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { PLATFORM_ADMIN, seedWithApprovers } from '../api/approvers.ts';
import {
  APPROVER_ARN,
  at,
  awaitingView,
  expectInOrder,
  type FakeApi,
  startFakeApi,
  vend,
} from './support.ts';

describe('vend approve, vend deny and the approval in vend status', () => {
  let api: FakeApi;
  let env: Record<string, string>;
  beforeEach(async () => {
    api = await startFakeApi();
    env = { VEND_API_URL: api.url };
    api.progress.set('req-1', [awaitingView()]);
  });
  afterEach(() => api.close());

  it('shows a request awaiting approval: by whom, until when, and the commands that decide it', async () => {
    const run = await vend(['status', 'req-1'], { env });
    expect(run.code).toBe(0);
    expectInOrder(run.stdout, [
      'Request req-1: awaiting-approval',
      'approval',
      'awaiting a decision by platform-admins until 2026-11-29 03:14:40 UTC',
      'No step has started yet.',
      'Waiting for approval by platform-admins until 2026-11-29 03:14:40 UTC; nothing is created until then.',
      'npm run vend -- approve req-1',
      'npm run vend -- deny req-1 --reason <why>',
      'Follow it: npm run vend -- status req-1 --watch',
    ]);
  });

  it('approves, with a reason, and says the account is being vended', async () => {
    const run = await vend(['approve', 'req-1', '--reason', 'payments go live in May'], { env });
    expect(run.code, run.stderr).toBe(0);
    const posted = api.received.find((r) => r.method === 'POST');
    expect(posted?.path).toBe('/accounts/requests/req-1/approval');
    expect(JSON.parse(posted!.body)).toEqual({ decision: 'approve', reason: 'payments go live in May' });
    expectInOrder(run.stdout, [
      'Request req-1: plat-prod-payments in Workloads/Prod',
      `approval: approved by ${APPROVER_ARN} at 2026-11-22 03:15:00 UTC: payments go live in May`,
      'It is being vended now. Follow it:  npm run vend -- status req-1 --watch',
    ]);

    const status = await vend(['status', 'req-1'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('Request req-1: pending');
    expect(status.stdout).toContain(`approved by ${APPROVER_ARN} at 2026-11-22 03:15:00 UTC`);
  });

  it('refuses to deny without a reason before calling the API; denies with one, and status then exits 1', async () => {
    const missing = await vend(['deny', 'req-1'], { env });
    const blank = await vend(['deny', 'req-1', '--reason', ' '], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--reason is required: the requester is told why');
    expect(missing.stderr).toContain('fix: Write: vend deny req-1 --reason');
    expect(blank.code).toBe(2);
    expect(api.received).toEqual([]);

    const run = await vend(['deny', 'req-1', '--reason', 'use Workloads/Dev for load tests'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(api.received[0]!.body)).toEqual({
      decision: 'deny',
      reason: 'use Workloads/Dev for load tests',
    });
    expect(run.stdout).toContain(`approval: denied by ${APPROVER_ARN}`);
    expect(run.stdout).toContain('its name and email are free again');

    const status = await vend(['status', 'req-1'], { env });
    expect(status.code).toBe(1);
    expectInOrder(status.stdout, [
      'Request req-1: denied',
      `Denied by ${APPROVER_ARN}: use Workloads/Dev for load tests`,
      'What to do: ask again with a changed request',
    ]);
  });

  it('exits 3 with the reason and the fix when the request was decided already', async () => {
    expect((await vend(['approve', 'req-1'], { env })).code).toBe(0);
    const again = await vend(['approve', 'req-1'], { env });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(
      `the API refused (409): requestId: request req-1 is not awaiting approval: its status is pending; approved by ${APPROVER_ARN}`,
    );
    expect(again.stderr).toContain('fix: Nothing is left to decide.');
  });

  it('prints only the API’s answer with --json', async () => {
    const run = await vend(['approve', 'req-1', '--json'], { env });
    expect(run.code).toBe(0);
    const view = JSON.parse(run.stdout) as RequestView;
    expect(view.status).toBe('pending');
    expect(view.approval?.decision?.outcome).toBe('approved');
  });

  it('shows an expired request as ended, with what to do, and exits 1', async () => {
    const expired = awaitingView();
    api.progress.set('req-1', [
      {
        ...expired,
        status: 'expired',
        approval: {
          ...expired.approval!,
          decision: { outcome: 'expired', via: 'expiry', at: at(7 * 24 * 3600 + 60) },
        },
      },
    ]);
    const run = await vend(['status', 'req-1'], { env });
    expect(run.code).toBe(1);
    expectInOrder(run.stdout, [
      'expired at 2026-11-29 03:15:40 UTC: nobody decided by 2026-11-29 03:14:40 UTC',
      'Expired: nobody decided by 2026-11-29 03:14:40 UTC.',
      'What to do: ask again if you still need it (its name and email are free again), and let an approver (platform-admins) know.',
    ]);
  });

  it('says a new request waits for approval', async () => {
    const run = await vend(
      ['request', '--name', 'payments', '--ou', 'Workloads/Prod', '--owner', 'alice@example.com'],
      { env },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('awaiting-approval');
    expect(run.stdout).toContain(
      'It waits for approval by platform-admins until 2026-11-29 03:14:40 UTC; nothing is created until then.',
    );
  });

  it('lists approve and deny in the help, with their synopsis', async () => {
    const help = await vend(['--help'], { env });
    expect(help.stdout).toContain('vend approve <requestId> [--reason <text>]');
    expect(help.stdout).toContain('vend deny <requestId> --reason <text>');
    expect(help.stdout).toContain('1  the request failed, was denied or expired');
    const deny = await vend(['deny', '--help'], { env });
    expect(deny.stdout).toContain('--reason <text>');
    const noId = await vend(['approve'], { env });
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('<requestId> is missing');
  });
});

describe('vend approve against the real request API on the local pipeline', () => {
  let pipeline: LocalPipeline;
  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      clock: steppedClock(1000),
      speed: 1000,
      seed: seedWithApprovers(),
      apiPort: 0,
    });
  }, 30_000);
  afterAll(() => pipeline?.close());

  it('a Prod request waits; its requester cannot approve it; PlatformAdmin can, and it is vended', async () => {
    const base: Partial<VendIo> = { sleep: pipeline.deps.sleep };
    const asDeveloper = { ...base, env: { VEND_API_URL: pipeline.api!.url } };
    const asAdmin: Partial<VendIo> = {
      ...base,
      env: {
        VEND_API_URL: pipeline.api!.url,
        AWS_ACCESS_KEY_ID: PLATFORM_ADMIN.key,
        AWS_SECRET_ACCESS_KEY: PLATFORM_ADMIN.key,
      },
      credentials: undefined,
    };
    const requested = await vend(
      [
        'request',
        '--name',
        'ledger-prod',
        '--ou',
        'Workloads/Prod',
        '--owner',
        'alice@example.com',
        '--tag',
        'cost-center=cc-1234',
        '--json',
      ],
      asDeveloper,
    );
    expect(requested.code, requested.stderr).toBe(0);
    const { requestId, status } = JSON.parse(requested.stdout) as { requestId: string; status: string };
    expect(status).toBe('awaiting-approval');

    const own = await vend(['approve', requestId], asDeveloper);
    expect(own.code).toBe(3);
    expect(own.stderr).toContain('the API refused (403)');
    expect(own.stderr).toContain('platform-admins (arn:aws:iam::000000000000:role/PlatformAdmin)');

    const approved = await vend(['approve', requestId, '--reason', 'go'], asAdmin);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout).toContain(`approval: approved by ${PLATFORM_ADMIN.arn}`);

    const watched = await vend(['status', requestId, '--watch'], asDeveloper);
    expect(watched.code, watched.stdout + watched.stderr).toBe(0);
    expectInOrder(watched.stdout, [
      `approved by ${PLATFORM_ADMIN.arn}`,
      'createAccount started',
      'is ready in Workloads/Prod.',
    ]);
  }, 30_000);
});
