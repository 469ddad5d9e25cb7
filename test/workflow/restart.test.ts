import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { submitRequest } from '../../functions/shared/submit.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { waitUntil } from '../local-cloud/wait.ts';

const SPEED = 1000;

describe('restarting the local pipeline', () => {
  let dataDir: string;
  const running: LocalPipeline[] = [];
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'vend-restart-'));
  });
  afterEach(async () => {
    for (const pipeline of running.splice(0)) await pipeline.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(clockStart?: number) {
    const pipeline = await startLocalPipeline({
      cloudPort: 0,
      dataDir,
      clock: steppedClock(SPEED, clockStart),
      speed: SPEED,
    });
    running.push(pipeline);
    pipeline.cloud.cloud.settings.creationDelayMs = 180_000;
    pipeline.cloud.cloud.settings.consistencyWindowMs = 30_000;
    return pipeline;
  }

  it('finishes a request that was in flight when it stopped, once: one account, one message', async () => {
    const first = await start();
    const { requestId, request } = await submitRequest(
      first.deps,
      first.runner,
      { name: 'restarted', organizationalUnit: 'Sandbox', owner: 'alice@example.com' },
      'arn:aws:iam::000000000000:user/alice',
    );
    await waitUntil(
      async () => (await first.deps.requests.get(requestId))?.steps.createAccount?.status === 'succeeded',
      'the account creation to be requested',
    );
    const stoppedAt = first.cloud.cloud.clock.now();
    running.splice(running.indexOf(first), 1);
    await first.close();

    const second = await start(stoppedAt);
    expect(second.resumed).toEqual([requestId]);
    const execution = await second.runner.get(requestId)!.done;
    expect(execution.status).toBe('SUCCEEDED');
    const record = await second.deps.requests.get(requestId);
    expect(record?.status).toBe('succeeded');
    const creations = second.cloud.cloud.state.audit.filter(
      (event) =>
        event.eventName === 'CreateAccount' &&
        (event.requestParameters as { accountName?: string })?.accountName === request.accountName,
    );
    expect(creations).toHaveLength(1);
    expect(second.slack.messages()).toHaveLength(1);

    // A third start finds nothing left to do.
    const lastClock = second.cloud.cloud.clock.now();
    running.splice(running.indexOf(second), 1);
    await second.close();
    const third = await start(lastClock);
    expect(third.resumed).toEqual([]);
  });
});
