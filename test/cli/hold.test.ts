import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountAnswer } from '../../cli/contract.ts';
import type { VendIo } from '../../cli/io.ts';
import { createApiHandler } from '../../functions/api/core.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { credentialsIssuedBy } from '../../local/sigv4.ts';
import { DEVELOPER_ROLE, PLATFORM_ADMIN, seedWithApprovers, type TestPrincipal } from '../api/approvers.ts';
import { expectInOrder, vend } from './support.ts';

describe('vend hold and vend release against the real request API on the local pipeline', () => {
  let pipeline: LocalPipeline;
  let local: LocalApi;
  let accountId: string;
  const as = (principal: TestPrincipal): Partial<VendIo> => ({
    env: {
      VEND_API_URL: local.url,
      AWS_ACCESS_KEY_ID: principal.key,
      AWS_SECRET_ACCESS_KEY: principal.key,
    },
    credentials: undefined,
    sleep: pipeline.deps.sleep,
  });

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
    const record = await submitRequest(
      pipeline.deps,
      pipeline.runner,
      { name: 'held', organizationalUnit: 'Sandbox', owner: 'alice@example.com' },
      DEVELOPER_ROLE.arn,
    );
    await pipeline.runner.get(record.requestId)!.done;
    accountId = (await pipeline.deps.requests.get(record.requestId))!.accountId!;
  }, 30_000);
  afterAll(async () => {
    await local?.close();
    await pipeline?.close();
  });

  it('refuses a missing reason or a bad account id before calling the API (exit 2)', async () => {
    const noReason = await vend(['hold', accountId], as(PLATFORM_ADMIN));
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason is required');
    expect(noReason.stderr).toContain(`vend hold ${accountId} --reason`);
    const blank = await vend(['hold', accountId, '--reason', '  '], as(PLATFORM_ADMIN));
    expect(blank.code).toBe(2);
    for (const argv of [
      ['hold', '1234', '--reason', 'x'],
      ['release', '1234'],
    ]) {
      const bad = await vend(argv, as(PLATFORM_ADMIN));
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toContain('<accountId> 1234 is not an account id');
    }
    expect((await pipeline.deps.accounts.get(accountId))!.holdHistory).toBeUndefined();
  });

  it('a developer is refused (403, exit 3), told which grant is needed, and nothing changes', async () => {
    for (const argv of [
      ['hold', accountId, '--reason', 'INC-7'],
      ['release', accountId],
    ]) {
      const run = await vend(argv, as(DEVELOPER_ROLE));
      expect(run.code).toBe(3);
      expect(run.stderr).toContain('the API refused (403)');
      expect(run.stderr).toContain('needs the administer grant');
      expect(run.stderr).toContain('platform-admins (arn:aws:iam::000000000000:role/PlatformAdmin)');
    }
    expect((await pipeline.deps.accounts.get(accountId))!.hold).toBeUndefined();
  });

  it('an administrator holds the account, sees the hold in vend show, and releases it', async () => {
    const before = pipeline.slack.messages().length;
    const hold = await vend(['hold', accountId, '--reason', 'INC-7: unexpected spend'], as(PLATFORM_ADMIN));
    expect(hold.code, hold.stderr).toBe(0);
    expectInOrder(hold.stdout, [
      `Account ${accountId}  sbx-held is on hold`,
      `by ${PLATFORM_ADMIN.arn}: INC-7: unexpected spend`,
      'Drift is reported and nothing is put back until it is released:',
      `npm run vend -- release ${accountId}`,
    ]);

    const other = await vend(['hold', accountId, '--reason', 'INC-8'], as(PLATFORM_ADMIN));
    expect(other.code).toBe(3);
    expect(other.stderr).toContain('the API refused (409): reason:');
    expect(other.stderr).toContain('is already on hold');

    const show = await vend(['show', accountId], as(PLATFORM_ADMIN));
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /hold\s+on hold since .* by arn:aws:sts::000000000000:assumed-role\/PlatformAdmin\/pat: INC-7/,
    );

    const release = await vend(['release', accountId, '--json'], as(PLATFORM_ADMIN));
    expect(release.code, release.stderr).toBe(0);
    const account = JSON.parse(release.stdout) as AccountAnswer;
    expect(account.hold).toBeUndefined();
    expect(account.holdHistory?.map((entry) => entry.action)).toEqual(['release', 'hold']);

    const again = await vend(['release', accountId], as(PLATFORM_ADMIN));
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('is not on hold');

    const announced = pipeline.slack
      .messages()
      .slice(before)
      .map((message) => message.payload.text ?? '');
    expect(announced.filter((text) => text.includes(accountId))).toEqual([
      expect.stringContaining('put on hold'),
      expect.stringContaining('released from hold'),
    ]);
  });

  it('lists hold and release in the help', async () => {
    const help = await vend(['--help']);
    expect(help.stdout).toContain('vend hold <accountId> --reason <text>');
    expect(help.stdout).toContain('vend release <accountId>');
  });
});
