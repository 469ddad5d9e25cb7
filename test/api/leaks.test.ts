import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { driftSchema, requestViewSchema } from '../../functions/api/schemas.ts';
import { DRIFT_FIX_FAILED, driftView, requestView } from '../../functions/api/views.ts';
import type { DriftState, RequestRecord } from '../../functions/shared/model.ts';
import { type ApiEnv, accountBody, eventually, startApiEnv } from './harness.ts';

/** What AWS says in the error: it must reach the logs and the registry's internal fields only. */
const SECRET = 'SECRET-AWS-DETAIL-9c1e arn:aws:iam::000000000000:role/VendPipeline';

describe("AWS's error text reaches neither the request's view nor Slack", () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());
  afterEach(() => env.pipeline.cloud.cloud.faults.clear());

  it('shows a retried error by name only, and a failure in Vend’s words, while the registry keeps the text', async () => {
    // Prepare: Budgets throttles every call with a distinctive message, so apply-budget retries, then fails.
    env.pipeline.cloud.cloud.faults.add({
      service: 'budgets',
      error: { code: 'ThrottlingException', message: SECRET },
    });
    const accepted = await env.call('POST', '/accounts', { body: accountBody() });
    expect(accepted.status, accepted.text).toBe(202);
    const location = accepted.headers.get('location')!;
    const { requestId } = accepted.body;

    // Act: follow the request while it retries, then to its end.
    const retrying = await eventually(
      env,
      () => env.call('GET', location),
      (answer) =>
        answer.body?.status === 'failed' ||
        answer.body?.steps?.some((step: { lastError?: string }) => step.lastError !== undefined),
      'a step to be retried',
    );
    const final = await eventually(
      env,
      () => env.call('GET', location),
      (answer) => answer.body?.status === 'failed' && answer.body.notification !== undefined,
      'the request to fail and the requester to be told',
      60_000,
    );

    // Assess: the registry has AWS's text (for operators), the view and Slack do not.
    const record = await env.pipeline.deps.requests.get(requestId);
    expect(JSON.stringify(record)).toContain('SECRET-AWS-DETAIL-9c1e');
    if (retrying.body.status !== 'failed') {
      const step = retrying.body.steps.find((s: { lastError?: string }) => s.lastError);
      expect(step.lastError).toBe('Vend.Throttled');
    }
    for (const answer of [retrying, final]) {
      requestViewSchema.parse(answer.body);
      expect(answer.text).not.toContain('SECRET-AWS-DETAIL-9c1e');
      expect(answer.text).not.toContain('VendPipeline');
    }
    expect(final.body.failure.reason).toMatch(/^[A-Z].*\.$/);
    expect(final.body.failure).not.toHaveProperty('error');

    const messages = env.pipeline.slack
      .messages()
      .filter((message) => JSON.stringify(message.payload).includes(requestId));
    expect(messages.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(JSON.stringify(message.payload)).not.toContain('SECRET-AWS-DETAIL-9c1e');
      expect(message.rendered).toContain(final.body.failure.reason);
    }
  }, 90_000);
});

describe('the views keep internal fields internal', () => {
  const at = '2026-11-22T10:00:00.000Z';

  it("shows a failed notification and a drift fix's failure in Vend's words, not what Slack or AWS said", () => {
    const record = {
      requestId: 'req-1',
      status: 'succeeded',
      request: {
        requestId: 'req-1',
        name: 'x',
        accountName: 'x',
        email: 'aws+x@example.com',
        organizationalUnit: { id: 'ou-ab12-cdef3456', path: 'Workloads/Dev' },
        owner: 'alice@example.com',
        requester: { principal: 'arn:aws:iam::000000000000:user/alice' },
        budget: { monthlyLimitUsd: 1, thresholds: [] },
        tags: {},
        submittedAt: at,
      },
      steps: {
        notify: {
          status: 'failed',
          startedAt: at,
          endedAt: at,
          attempts: 3,
          detail: `Slack: HTTP 500 ${SECRET}`,
        },
        applyBudget: {
          status: 'running',
          startedAt: at,
          attempts: 2,
          lastError: `Vend.Throttled: ${SECRET}`,
        },
      },
      notification: { kind: 'success', status: 'failed', at, error: SECRET },
      createdAt: at,
      updatedAt: at,
    } satisfies RequestRecord;
    const view = requestViewSchema.parse(requestView(record));
    expect(JSON.stringify(view)).not.toContain('SECRET-AWS-DETAIL-9c1e');
    expect(view.steps.find((step) => step.name === 'notify')?.detail).toContain(
      'Slack did not take the message',
    );
    expect(view.steps.find((step) => step.name === 'applyBudget')?.lastError).toBe('Vend.Throttled');

    const drift: DriftState = {
      accountId: '123456789012',
      aspects: { tags: { status: 'drifted', checkedAt: at } },
      history: [
        {
          id: 'evt-1',
          source: 'event',
          aspects: ['tags'],
          what: 'untagged team',
          at,
          outcome: 'failed',
          reason: `AccessDenied: ${SECRET}`,
          recordedAt: at,
        },
      ],
      version: 1,
      updatedAt: at,
    };
    const shown = driftSchema.parse(driftView(drift));
    expect(JSON.stringify(shown)).not.toContain('SECRET-AWS-DETAIL-9c1e');
    expect(shown.history[0]?.reason).toBe(DRIFT_FIX_FAILED);
  });
});
