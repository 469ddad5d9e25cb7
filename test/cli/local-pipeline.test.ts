import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../cli/contract.ts';
import type { VendIo } from '../../cli/io.ts';
import { createApiHandler } from '../../functions/api/core.ts';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { credentialsIssuedBy } from '../../local/sigv4.ts';
import { DEVELOPER_ROLE, seedWithApprovers } from '../api/approvers.ts';
import { expectInOrder, vend } from './support.ts';

describe('vend against the real request API on the local pipeline', () => {
  let pipeline: LocalPipeline;
  let local: LocalApi;
  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      clock: steppedClock(1000),
      speed: 1000,
      seed: seedWithApprovers(),
    });
    local = await startLocalApi({
      handler: createApiHandler({ ...pipeline.deps, starter: pipeline.runner }),
      port: 0,
      credentials: credentialsIssuedBy(pipeline.cloud.cloud),
    });
  }, 30_000);
  afterAll(async () => {
    await local?.close();
    await pipeline?.close();
  });

  it('requests an account signed as the caller, follows it to ready, then lists and shows it', async () => {
    const io: Partial<VendIo> = {
      // Signed as a session of the Developer role, which the default configuration lets request in Workloads/Dev.
      env: {
        VEND_API_URL: local.url,
        AWS_ACCESS_KEY_ID: DEVELOPER_ROLE.key,
        AWS_SECRET_ACCESS_KEY: DEVELOPER_ROLE.key,
      },
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
        '--tag',
        'cost-center=cc-1234',
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
      principal: DEVELOPER_ROLE.arn,
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

    const requestsBefore = (await pipeline.deps.requests.list(1000)).items.length;
    const plan = await vend(
      [
        'request',
        '--name',
        'ledger-plan',
        '--ou',
        'Workloads/Prod',
        '--owner',
        'alice@example.com',
        '--tag',
        'cost-center=cc-1234',
        '--dry-run',
      ],
      io,
    );
    expect(plan.code, plan.stderr).toBe(0);
    expectInOrder(plan.stdout, [
      'Dry run: the request passes every check; nothing was asked for.',
      'plat-prod-ledger-plan (aws+plat-prod-ledger-plan@example.com)',
      'Workloads/Prod',
      'required, by platform-admins within 168 hours',
      'VendAdmin (trusted by 111111111111), VendReadOnly (trusted by 111111111111)',
      '1000 USD a month',
    ]);
    expect((await pipeline.deps.requests.list(1000)).items.length).toBe(requestsBefore);
    const both = await vend(
      ['request', '--name', 'x', '--ou', 'Sandbox', '--owner', 'a@example.com', '--dry-run', '--watch'],
      io,
    );
    expect(both.code).toBe(2);

    const again = await vend(
      [
        'request',
        '--name',
        'ledger',
        '--ou',
        'Workloads/Dev',
        '--owner',
        'alice@example.com',
        '--tag',
        'cost-center=cc-1234',
      ],
      io,
    );
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(
      /the API refused \(409\): email: 'aws\+plat-dev-ledger@example.com' is already used by req-/,
    );
    expect(again.stderr).toContain('fix: Use another address.');
  }, 30_000);
});
