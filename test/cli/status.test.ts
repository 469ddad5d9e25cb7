import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  baseline,
  budget,
  created,
  dns,
  expectInOrder,
  FAILURE,
  type FakeApi,
  moved,
  REDRAW,
  requestView,
  startFakeApi,
  step,
  toFailure,
  toSuccess,
  vend,
  waited,
} from './support.ts';

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

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
      '03:14:49  applyBaseline started',
      '03:14:49  applyBudget started',
      '03:14:49  connectDns started',
      // Events of the same second print in workflow order, where the move comes after the configuration.
      '03:14:49  moveAccount succeeded in 1s: moved to Workloads/Dev',
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
