import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitRequest, type WorkflowStarter } from '../../functions/shared/submit.ts';
import { type LocalExecution, LocalRunner } from '../../local/runner.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { startWorkflowEnv, TEST_SPEED, type WorkflowEnv } from './harness.ts';

/** Stores requests as the API does, without starting them: each test starts the execution it means to test. */
const NOT_STARTED: WorkflowStarter = { start: async () => undefined };

let counter = 0;
const body = () => ({
  name: `forge-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
  organizationalUnit: 'Workloads/Dev',
  owner: 'alice@example.com',
  requester: { slackUserId: 'U012ALICE' },
  tags: { team: 'payments' },
});

/** Organizations calls that would change an account: none may come from a forged execution. */
const CHANGES = new Set(['CreateAccount', 'MoveAccount', 'TagResource', 'UntagResource']);

describe('an execution that is not the request’s own', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;

  beforeAll(async () => {
    sink = await startSlackSink({ port: 0, print: false });
    env = await startWorkflowEnv({ slackWebhookUrl: async () => sink.url });
  });
  afterAll(async () => {
    await env.close();
    await sink.close();
  });

  const changes = () =>
    env.cloud.cloud.callCount((service, operation) => service === 'organizations' && CHANGES.has(operation));

  /** Runs one execution in a runner of its own (as anyone allowed to call StartExecution could) and waits. */
  async function runForged(name: string, input: object): Promise<LocalExecution> {
    const runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
    const execution = await runner.run(name, input).done;
    await runner.stop();
    return execution;
  }

  const forgeries: [string, (requestId: string) => object][] = [
    [
      'another OU',
      (requestId) => ({ requestId, organizationalUnit: { id: 'ou-evil-00000000', path: 'Root' } }),
    ],
    ['another owner', (requestId) => ({ requestId, owner: 'mallory@example.com' })],
    ['other tags', (requestId) => ({ requestId, tags: { team: 'mallory' } })],
    ['the whole request, as inputs used to be', (requestId) => ({ requestId, request: { requestId } })],
  ];

  it.each(forgeries)(
    'refuses an input carrying %s: nothing created, moved or tagged, the registry unchanged',
    async (_what, forge) => {
      const record = await submitRequest(
        env.deps,
        NOT_STARTED,
        body(),
        'arn:aws:iam::000000000000:user/alice',
      );
      const before = await env.deps.requests.get(record.requestId);
      const calls = changes();
      const messages = sink.messages().length;

      const execution = await runForged(record.requestId, forge(record.requestId));

      expect(execution.status).toBe('FAILED');
      expect(execution.error?.Error).toBe('Vend.ExecutionRejected');
      expect(String(execution.error?.Cause)).toContain("the execution's input may carry only the request id");
      expect(changes() - calls).toBe(0);
      expect(await env.deps.requests.get(record.requestId)).toEqual(before);
      expect(sink.messages().length).toBe(messages);
    },
  );

  it('refuses an execution under another name than the request id, and records nothing against the request', async () => {
    const record = await submitRequest(env.deps, NOT_STARTED, body(), 'arn:aws:iam::000000000000:user/alice');
    const before = await env.deps.requests.get(record.requestId);
    const calls = changes();

    const execution = await runForged(`replay-${record.requestId}`, { requestId: record.requestId });

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Vend.ExecutionRejected');
    expect(String(execution.error?.Cause)).toContain(`is not the execution of request ${record.requestId}`);
    expect(changes() - calls).toBe(0);
    expect(await env.deps.requests.get(record.requestId)).toEqual(before);
  });

  it('leaves a vended account and its desired state alone when a forged execution names its request', async () => {
    const runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
    const record = await submitRequest(env.deps, runner, body(), 'arn:aws:iam::000000000000:user/alice');
    expect((await runner.get(record.requestId)!.done).status).toBe('SUCCEEDED');
    await runner.stop();
    const before = await env.deps.requests.get(record.requestId);
    const desired = await env.deps.accounts.get(before!.accountId!);
    const calls = changes();

    const execution = await runForged(record.requestId, {
      requestId: record.requestId,
      organizationalUnit: { id: env.cloud.cloud.state.organization.rootId, path: 'Root' },
      owner: 'mallory@example.com',
      tags: { team: 'mallory' },
    });

    expect(execution.status).toBe('FAILED');
    expect(execution.error?.Error).toBe('Vend.ExecutionRejected');
    expect(changes() - calls).toBe(0);
    expect(await env.deps.requests.get(record.requestId)).toEqual(before);
    expect(await env.deps.accounts.get(before!.accountId!)).toEqual(desired);
  });

  it('runs the request’s own execution, started with its id only, to the end', async () => {
    const runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
    const record = await submitRequest(env.deps, runner, body(), 'arn:aws:iam::000000000000:user/alice');
    const execution = await runner.get(record.requestId)!.done;
    await runner.stop();
    expect(execution.input).toEqual({ requestId: record.requestId });
    expect(execution.status).toBe('SUCCEEDED');
  });
});
