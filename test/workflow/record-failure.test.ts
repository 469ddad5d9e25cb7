import {
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completeRequest } from '../../functions/complete-request/core.ts';
import { deliverMessages } from '../../functions/deliver-messages/core.ts';
import { causeMessage, recordFailure } from '../../functions/record-failure/core.ts';
import { ThrottledError, TransientError, VendFailureError } from '../../functions/shared/errors.ts';
import { explainCreationFailure } from '../../functions/shared/failure-reasons.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import { runStep } from '../../functions/shared/steps.ts';
import { type SlackSink, startSlackSink } from '../../local/slack-sink.ts';
import { pollOnClock } from '../local-cloud/wait.ts';
import {
  announceInput,
  createMemberAccount,
  failureInput,
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
} from './harness.ts';

describe('record-failure ("Record failure" and "Record notification failure")', () => {
  let env: WorkflowEnv;
  let sink: SlackSink;

  beforeAll(async () => {
    sink = await startSlackSink();
    env = await startWorkflowEnv({ slackWebhookUrl: async () => sink.url });
  });
  afterAll(async () => {
    await env.close();
    await sink.close();
  });
  afterEach(() => {
    env.cloud.cloud.faults.clear();
    sink.failNext(200, 0);
  });

  const messagesFor = (request: VendRequest) =>
    sink.messages().filter((m) => JSON.stringify(m.payload).includes(request.requestId));
  const stored = async (request: VendRequest) => (await env.deps.requests.get(request.requestId))!;

  /** Asks Organizations for an account and waits (on the simulated clock) until the creation ends. */
  async function createThroughOrganizations(request: VendRequest) {
    const { CreateAccountStatus } = await env.deps
      .client(OrganizationsClient)
      .send(new CreateAccountCommand({ AccountName: request.accountName, Email: request.email }));
    const id = CreateAccountStatus!.Id!;
    await env.deps.requests.setCreateAccountRequestId(request.requestId, id);
    for (;;) {
      const { CreateAccountStatus: status } = await env.deps
        .client(OrganizationsClient)
        .send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: id }));
      if (status?.State !== 'IN_PROGRESS') return { id, status: status! };
      await env.deps.sleep(30_000);
    }
  }

  it('explains a failed creation with the advice for its reason, frees the name and email, and tells the requester', async () => {
    // The security account's address is taken: Organizations fails the creation with EMAIL_ALREADY_EXISTS.
    const request = testRequest({ email: 'aws-security@example.com' });
    await storeRequest(env.deps, request);
    const { id, status } = await createThroughOrganizations(request);
    expect(status.FailureReason).toBe('EMAIL_ALREADY_EXISTS');
    const creation = {
      createAccountRequestId: id,
      state: 'FAILED',
      failureReason: status.FailureReason,
      waitSeconds: 0,
      waitedSeconds: 240,
      polls: 3,
    };

    const explained = explainCreationFailure('EMAIL_ALREADY_EXISTS');
    await expect(recordFailure(env.deps, failureInput({ request, creation }))).resolves.toEqual({
      status: 'failed',
      step: 'waitForAccount',
      reason: explained.reason,
    });

    const record = await stored(request);
    expect(record).toMatchObject({
      status: 'failed',
      failure: { step: 'waitForAccount', reason: explained.reason, advice: explained.advice },
      notification: { kind: 'failure', status: 'sent' },
    });
    expect(record.steps.waitForAccount?.status).toBe('failed');
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBeUndefined();
    expect(await env.deps.requests.reservationHolder('name', request.accountName)).toBeUndefined();

    const [message, ...more] = messagesFor(request);
    expect(more).toEqual([]);
    const posted = JSON.stringify(message!.payload);
    expect(posted).toContain('<@U012ALICE>');
    expect(message!.rendered).toContain(explained.advice);
    expect(message!.rendered).toContain('failed while waiting for AWS to create the account');
    expect(message!.rendered).toContain(request.requestId);

    // The requester can ask again for the same name.
    await expect(
      storeRequest(env.deps, testRequest({ name: request.name, accountName: request.accountName })),
    ).resolves.toBeDefined();
  });

  it('runs twice without telling twice or changing the record', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const input = {
      request,
      creation: {
        state: 'FAILED',
        failureReason: 'ACCOUNT_LIMIT_EXCEEDED',
        createAccountRequestId: 'car-none',
      },
    };
    await recordFailure(env.deps, failureInput(input));
    const first = await stored(request);

    await expect(recordFailure(env.deps, failureInput(input))).resolves.toMatchObject({
      status: 'failed',
      step: 'waitForAccount',
    });

    expect(messagesFor(request)).toHaveLength(1);
    const second = await stored(request);
    expect(second.failure).toEqual(first.failure);
    expect(second.notification).toEqual(first.notification);
    expect(second.steps).toEqual(first.steps);
  });

  it('uses the reason and advice a step recorded, and keeps the reservations when an account exists', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    await env.deps.requests.update(request.requestId, { accountId: '210987654321' });
    const failing = runStep(env.deps, stepInput(request), 'moveAccount', async () => {
      throw new VendFailureError(
        'The OU Workloads/Dev no longer exists.',
        'Ask the platform team which OU to use.',
      );
    });
    await expect(failing).rejects.toMatchObject({ name: 'Vend.Failed' });

    const output = await recordFailure(
      env.deps,
      failureInput({
        request,
        creation: { state: 'SUCCEEDED', accountId: '210987654321' },
        failure: {
          Error: 'Vend.Failed',
          Cause: JSON.stringify({
            errorType: 'Vend.Failed',
            errorMessage: 'The OU Workloads/Dev no longer exists.',
          }),
        },
      }),
    );

    expect(output).toEqual({
      status: 'failed',
      step: 'moveAccount',
      reason: 'The OU Workloads/Dev no longer exists.',
    });
    const record = await stored(request);
    expect(record).toMatchObject({
      status: 'failed',
      accountId: '210987654321',
      failure: { step: 'moveAccount', advice: 'Ask the platform team which OU to use.' },
    });
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBe(request.requestId);
    const [message] = messagesFor(request);
    expect(message!.rendered).toContain('Ask the platform team which OU to use.');
    expect(message!.rendered).toContain('failed while moving the account into its organizational unit');
    expect(message!.rendered).toContain('210987654321');
  });

  it('after retries ran out, blames the step that was running, in words (the error message kept internal), with generic advice', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    await env.deps.requests.update(request.requestId, { accountId: '210987654322' });
    await runStep(env.deps, stepInput(request), 'applyBaseline', async () => ({
      result: null,
      detail: 'done',
    }));
    await expect(
      runStep(env.deps, stepInput(request), 'applyBudget', async () => {
        throw new ThrottledError('TooManyRequestsException: Rate exceeded');
      }),
    ).rejects.toMatchObject({ name: 'Vend.Throttled' });

    const output = await recordFailure(
      env.deps,
      failureInput({
        request,
        creation: { state: 'SUCCEEDED', accountId: '210987654322' },
        moved: {},
        failure: {
          Error: 'Vend.Throttled',
          Cause: JSON.stringify({
            errorType: 'Vend.Throttled',
            errorMessage: 'TooManyRequestsException: Rate exceeded',
          }),
        },
      }),
    );

    expect(output).toMatchObject({ status: 'failed', step: 'applyBudget' });
    const record = await stored(request);
    expect(record.steps.applyBudget?.status).toBe('failed');
    expect(record.steps.applyBaseline?.status).toBe('succeeded');
    // AWS's own text stays in the internal error field: the reason is what the requester and Slack see.
    expect(record.failure?.reason).toBe('AWS kept asking Vend to slow down.');
    expect(record.failure?.advice).toContain('210987654322 exists but is not fully set up');
    expect(record.failure?.advice).toContain(request.requestId);
    expect(record.failure?.error).toBe('Vend.Throttled: TooManyRequestsException: Rate exceeded');
    expect(await env.deps.requests.reservationHolder('name', request.accountName)).toBe(request.requestId);
    expect(messagesFor(request)[0]!.rendered).toContain('failed while setting up the budget');
  });

  it('reads a plain-text Cause, and without any account frees the reservations and says to try again later', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);

    const output = await recordFailure(
      env.deps,
      failureInput({
        request,
        failure: { Error: 'Lambda.ServiceException', Cause: 'Lambda was unable to run the function.' },
      }),
    );

    expect(output).toMatchObject({ status: 'failed', step: 'createAccount' });
    const record = await stored(request);
    expect(record.failure?.reason).toBe("The step's function could not run.");
    expect(record.failure?.error).toBe('Lambda.ServiceException: Lambda was unable to run the function.');
    expect(record.failure?.advice).toMatch(/submit the request again later/);
    expect(record.steps.createAccount?.status).toBe('failed');
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBeUndefined();
  });

  it('on a deadline, says so and keeps the name and email while AWS may still create the account', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const { CreateAccountStatus } = await env.deps
      .client(OrganizationsClient)
      .send(new CreateAccountCommand({ AccountName: request.accountName, Email: request.email }));
    await env.deps.requests.setCreateAccountRequestId(request.requestId, CreateAccountStatus!.Id!);

    const output = await recordFailure(
      env.deps,
      failureInput({
        request,
        creation: {
          state: 'TIMED_OUT',
          createAccountRequestId: CreateAccountStatus!.Id!,
          waitedSeconds: 3600,
        },
      }),
    );

    expect(output).toMatchObject({ status: 'failed', step: 'waitForAccount' });
    const record = await stored(request);
    expect(record.failure?.reason).toContain('after 60 minutes');
    expect(record.failure?.advice).toContain(CreateAccountStatus!.Id!);
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBe(request.requestId);
  });

  it('finds an account the state did not know of (created after a crash) and records it instead of freeing its name', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const { status } = await createThroughOrganizations(request);
    expect(status.State).toBe('SUCCEEDED');

    await recordFailure(env.deps, failureInput({ request, failure: { Error: 'States.Timeout', Cause: '' } }));

    const record = await stored(request);
    expect(record).toMatchObject({ status: 'failed', accountId: status.AccountId });
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBe(request.requestId);
  });

  it('surfaces throttling by Organizations as Vend.Throttled for the state machine to retry, then records on the re-run', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    await env.deps.requests.setCreateAccountRequestId(
      request.requestId,
      'car-0000000000000000000000000000dead',
    );
    env.cloud.cloud.faults.add({
      service: 'organizations',
      operation: 'DescribeCreateAccountStatus',
      error: { code: 'TooManyRequestsException' },
      times: 1,
    });
    const input = { request, failure: { Error: 'States.Timeout', Cause: 'Task timed out' } };

    await expect(recordFailure(env.deps, failureInput(input))).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
    expect(messagesFor(request)).toEqual([]);

    await expect(recordFailure(env.deps, failureInput(input))).resolves.toMatchObject({ status: 'failed' });
    expect(messagesFor(request)).toHaveLength(1);
    expect(await env.deps.requests.reservationHolder('email', request.email)).toBeUndefined();
  });

  it.each([
    [503, 3, 'Vend.SlackUnavailable'],
    [404, 1, 'Vend.SlackRejected'],
  ])(
    'when Slack answers %i, records the failure and leaves the message pending in the outbox, without failing itself',
    async (status, times, name) => {
      const request = testRequest();
      await storeRequest(env.deps, request);
      sink.failNext(status, times);

      await expect(
        recordFailure(
          env.deps,
          failureInput({
            request,
            creation: { state: 'FAILED', failureReason: 'INTERNAL_FAILURE' },
          }),
        ),
      ).resolves.toMatchObject({
        status: 'failed',
      });

      const record = await stored(request);
      expect(record.status).toBe('failed');
      expect(record.failure?.step).toBe('waitForAccount');
      expect(record.notification).toMatchObject({ kind: 'failure', status: 'pending' });
      const outboxed = await env.deps.outbox.get(`${request.requestId}#failure`);
      expect(outboxed).toMatchObject({ kind: 'failure', state: 'pending' });
      expect(outboxed?.lastError).toContain(name);
      expect(outboxed?.lastError).not.toContain(sink.url);
      expect(messagesFor(request)).toEqual([]);
    },
  );

  it('a failure message the step could not deliver is delivered by the deliverer, once, and recorded as sent', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    sink.failNext(500, 3);
    const input = failureInput({ request, creation: { state: 'FAILED', failureReason: 'INTERNAL_FAILURE' } });
    await recordFailure(env.deps, input);
    expect(messagesFor(request)).toEqual([]);

    await pollOnClock(
      env.deps.sleep,
      async () => {
        await deliverMessages(env.deps);
        if (messagesFor(request).length > 0) return true;
        await env.deps.sleep(59_000);
        return false;
      },
      (ok) => ok,
      'the deliverer to deliver the failure message',
    );
    await recordFailure(env.deps, input);
    await deliverMessages(env.deps);

    expect(messagesFor(request)).toHaveLength(1);
    expect((await stored(request)).notification).toMatchObject({ kind: 'failure', status: 'sent' });
  });

  it('escapes a hostile name in the failure message', async () => {
    const request = testRequest({ name: '<!channel>', tags: { x: '@everyone' } });
    await storeRequest(env.deps, request);

    await recordFailure(
      env.deps,
      failureInput({ request, creation: { state: 'FAILED', failureReason: 'INVALID_EMAIL' } }),
    );

    const posted = JSON.stringify(messagesFor(request)[0]!.payload);
    expect(posted).not.toContain('<!channel>');
    expect(posted).toContain('&lt;!channel&gt;');
  });

  describe('after the "ready" message could not be sent', () => {
    it('records that the message failed and leaves the request succeeded', async () => {
      const request = testRequest();
      await storeRequest(env.deps, request);
      const accountId = '210987654329';
      await env.deps.requests.update(request.requestId, { accountId, status: 'configuring' });
      // "Announce ready" failed before it reached the outbox (its retries ran out on an error of its own).
      await expect(
        runStep(env.deps, stepInput(request), 'notify', async () => {
          throw new TransientError('the registry kept failing');
        }),
      ).rejects.toMatchObject({ name: 'Vend.Transient' });

      const output = await recordFailure(
        env.deps,
        failureInput({
          request,
          stage: 'notify',
          failure: {
            Error: 'Vend.Transient',
            Cause: JSON.stringify({ errorMessage: 'the registry kept failing' }),
          },
        }),
      );

      expect(output).toEqual({ stage: 'notify' });
      const record = await stored(request);
      expect(record.status).toBe('succeeded');
      expect(record.failure).toBeUndefined();
      expect(record.notification).toMatchObject({ kind: 'success', status: 'failed' });
      expect(record.notification?.error).toContain('Vend.Transient: the registry kept failing');
      expect(record.steps.notify?.status).toBe('failed');
      expect(await env.deps.requests.reservationHolder('email', request.email)).toBe(request.requestId);
      expect(messagesFor(request)).toEqual([]);
    });

    it('does not overwrite a message waiting in the outbox, which the deliverer delivers', async () => {
      const request = testRequest();
      await storeRequest(env.deps, request);
      const accountId = await createMemberAccount(env, 'waiting-out');
      await recordAccount(env.deps, request, accountId);
      sink.failNext(503, 3);
      await expect(completeRequest(env.deps, announceInput({ request, configured: [] }))).resolves.toEqual({
        notified: false,
        pending: true,
      });

      await recordFailure(
        env.deps,
        failureInput({
          request,
          stage: 'notify',
          failure: { Error: 'States.Timeout', Cause: 'Task timed out' },
        }),
      );

      expect((await stored(request)).notification).toMatchObject({ kind: 'success', status: 'pending' });
    });

    it('does not overwrite a message that did go out', async () => {
      const request = testRequest();
      await storeRequest(env.deps, request);
      const accountId = await createMemberAccount(env, 'went-out');
      await env.deps.requests.update(request.requestId, { accountId, status: 'configuring' });
      await completeRequest(env.deps, announceInput({ request, accountId, configured: [] }));
      const sent = (await stored(request)).notification;

      await recordFailure(
        env.deps,
        failureInput({
          request,
          stage: 'notify',
          failure: { Error: 'States.Timeout', Cause: 'Task timed out' },
        }),
      );

      expect((await stored(request)).notification).toEqual(sent);
    });
  });
});

describe('causeMessage', () => {
  it('takes errorMessage from a Lambda error, the text from anything else', () => {
    expect(causeMessage(JSON.stringify({ errorType: 'Error', errorMessage: 'boom', trace: [] }))).toBe(
      'boom',
    );
    expect(causeMessage('{not json')).toBe('{not json');
    expect(causeMessage('Task timed out after 120 seconds')).toBe('Task timed out after 120 seconds');
    expect(causeMessage(undefined)).toBe('');
  });
});
