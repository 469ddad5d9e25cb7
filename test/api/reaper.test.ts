import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestViewSchema } from '../../functions/api/schemas.ts';
import { reapRequests } from '../../functions/reap-requests/core.ts';
import { ThrottledError } from '../../functions/shared/errors.ts';
import type { RequestRecord } from '../../functions/shared/model.ts';
import { prepareRequest } from '../../functions/shared/submit.ts';
import { scaledClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { pollOnClock } from '../local-cloud/wait.ts';
import { type ApiEnv, accountBody, DEVELOPER, SPEED, startApiEnv } from './harness.ts';

const awsError = (name: string) => Object.assign(new Error(`${name}: AWS said something internal`), { name });

describe('the reaper of requests left pending', () => {
  let env: ApiEnv;
  /** An API on the same pipeline whose StartExecution always fails, after the request was written. */
  let unstartable: Awaited<ReturnType<ApiEnv['startApi']>>;
  beforeAll(async () => {
    env = await startApiEnv();
    unstartable = await env.startApi({
      starter: { start: () => Promise.reject(new Error('the Lambda timed out')) },
    });
  });
  afterAll(async () => {
    await unstartable.close();
    await env.close();
  });

  /** Posts through the API whose StartExecution fails; returns the request left pending, with no execution. */
  async function postUnstarted(overrides: Record<string, unknown> = {}) {
    const body = accountBody(overrides);
    const answer = await unstartable.call('POST', '/accounts', { body });
    expect(answer.status, answer.text).toBe(500);
    const accountName = `plat-dev-${body.name}`;
    const requestId = await env.pipeline.deps.requests.reservationHolder('name', accountName);
    expect(requestId).toBeDefined();
    const record = (await env.pipeline.deps.requests.get(requestId!))!;
    expect(record.status).toBe('pending');
    expect(env.pipeline.runner.get(requestId!)).toBeUndefined();
    return { body, record };
  }

  it('starts a request whose StartExecution failed at POST; it finishes once, with one account', async () => {
    // Prepare
    const { record } = await postUnstarted();

    // Act
    const first = await env.pipeline.reap({ reapAfterMs: 0 });
    const second = await env.pipeline.reap({ reapAfterMs: 0 });

    // Assess
    expect(first.started).toContain(record.requestId);
    expect(second.started).not.toContain(record.requestId);
    const execution = await env.pipeline.runner.get(record.requestId)!.done;
    expect(execution.status).toBe('SUCCEEDED');
    const stored = await env.pipeline.deps.requests.get(record.requestId);
    expect(stored?.status).toBe('succeeded');
    const accounts = await env.pipeline.deps.accounts.list(100);
    expect(accounts.items.filter((account) => account.requestId === record.requestId)).toHaveLength(1);
    const named = Object.values(env.pipeline.cloud.cloud.state.accounts).filter(
      (account) => account.name === record.request.accountName,
    );
    expect(named).toHaveLength(1);
  });

  it('leaves alone a pending request younger than five minutes', async () => {
    // Prepare
    const { record } = await postUnstarted();

    // Act
    const result = await env.pipeline.reap();

    // Assess
    expect([...result.started, ...result.failed, ...result.retryLater]).not.toContain(record.requestId);
    expect((await env.pipeline.deps.requests.get(record.requestId))?.status).toBe('pending');
  });

  it('fails a request that waited too long to start, with a reason, frees its name and email, and tells the requester', async () => {
    // Prepare
    const { body, record } = await postUnstarted();
    const slackBefore = env.pipeline.slack.messages().length;

    // Act
    const result = await env.pipeline.reap({ reapAfterMs: 0, giveUpAfterMs: 0 });

    // Assess
    expect(result.failed).toContain(record.requestId);
    expect(env.pipeline.runner.get(record.requestId)).toBeUndefined();
    const view = requestViewSchema.parse(
      (await env.call('GET', `/accounts/requests/${record.requestId}`)).body,
    );
    expect(view.status).toBe('failed');
    expect(view.failure?.reason).toMatch(/could not start/);
    expect(view.failure?.advice).toMatch(/Send the request again/);
    expect(view.notification).toMatchObject({ kind: 'failure', status: 'sent' });
    const told = env.pipeline.slack.messages().slice(slackBefore);
    expect(told.filter((message) => message.rendered.includes(record.request.accountName))).toHaveLength(1);
    const deps = env.pipeline.deps;
    expect(await deps.requests.reservationHolder('name', record.request.accountName)).toBeUndefined();
    expect(await deps.requests.reservationHolder('email', record.request.email)).toBeUndefined();
    const again = await env.call('POST', '/accounts', { body });
    expect(again.status, again.text).toBe(202);
  });

  it('fails a request that Step Functions refuses for good, keeping AWS’s words out of the view', async () => {
    // Prepare
    const { record } = await postUnstarted();
    const executions = {
      exists: async () => false,
      start: () => Promise.reject(awsError('StateMachineDoesNotExist')),
    };

    // Act
    const result = await reapRequests({ ...env.pipeline.deps, executions }, { reapAfterMs: 0 });

    // Assess
    expect(result.failed).toContain(record.requestId);
    const stored = await env.pipeline.deps.requests.get(record.requestId);
    expect(stored?.status).toBe('failed');
    expect(stored?.failure?.error).toContain('StateMachineDoesNotExist');
    const view = await env.call('GET', `/accounts/requests/${record.requestId}`);
    expect(view.text).not.toContain('StateMachineDoesNotExist');
    expect(view.text).not.toContain('internal');
    expect(await env.pipeline.deps.requests.reservationHolder('email', record.request.email)).toBeUndefined();
  });

  it('leaves a request for the next run while StartExecution is throttled, and fails it only once', async () => {
    // Prepare
    const { record } = await postUnstarted();
    const throttled = {
      exists: async () => false,
      start: () => Promise.reject(new ThrottledError('Vend.Throttled: slow down')),
    };
    const refusing = { exists: async () => false, start: () => Promise.reject(awsError('InvalidName')) };

    // Act
    const later = await reapRequests({ ...env.pipeline.deps, executions: throttled }, { reapAfterMs: 0 });
    const runs = await Promise.all([
      reapRequests({ ...env.pipeline.deps, executions: refusing }, { reapAfterMs: 0 }),
      reapRequests({ ...env.pipeline.deps, executions: refusing }, { reapAfterMs: 0 }),
    ]);

    // Assess
    expect(later.retryLater).toContain(record.requestId);
    expect(runs.filter((run) => run.failed.includes(record.requestId))).toHaveLength(1);
    expect((await env.pipeline.deps.requests.get(record.requestId))?.status).toBe('failed');
  });
});

describe('the reaper on the pipeline clock', () => {
  let pipeline: LocalPipeline;
  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      clock: scaledClock(SPEED),
      speed: SPEED,
      reapIntervalMs: 60_000,
    });
  });
  afterAll(() => pipeline.close());

  it('runs every reapIntervalMs without being asked, and starts a request left pending ten minutes ago', async () => {
    // Prepare: stored as the API stores it, ten minutes ago, and never started.
    const request = await prepareRequest(pipeline.deps, accountBody(), DEVELOPER);
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    const record: RequestRecord = {
      requestId: request.requestId,
      status: 'pending',
      request,
      steps: {},
      createdAt: tenMinutesAgo,
      updatedAt: tenMinutesAgo,
    };
    expect(await pipeline.deps.requests.create(record)).toEqual({ created: true });

    // Act
    const execution = await pollOnClock(
      pipeline.deps.sleep,
      async () => pipeline.runner.get(request.requestId),
      (found) => found !== undefined,
      'the scheduled reaper to start the request',
      20_000,
    );

    // Assess
    expect((await execution!.done).status).toBe('SUCCEEDED');
    expect((await pipeline.deps.requests.get(request.requestId))?.status).toBe('succeeded');
  });
});
