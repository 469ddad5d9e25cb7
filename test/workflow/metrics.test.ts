import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { completeRequest } from '../../functions/complete-request/core.ts';
import { failureCode, recordFailure } from '../../functions/record-failure/core.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { ThrottledError, VendFailureError } from '../../functions/shared/errors.ts';
import { powertoolsMetrics } from '../../functions/shared/lambda.ts';
import { MemoryMetrics } from '../../functions/shared/metrics.ts';
import { METRIC, METRIC_DIMENSION, METRICS_NAMESPACE } from '../../functions/shared/metrics-names.ts';
import { runStep } from '../../functions/shared/steps.ts';
import {
  announceInput,
  createMemberAccount,
  failureInput,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
} from './harness.ts';

describe('the vend metrics', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());

  const withMetrics = (): { deps: Deps; metrics: MemoryMetrics } => {
    const metrics = new MemoryMetrics();
    return { deps: { ...env.deps, metrics }, metrics };
  };

  it('counts a step attempted again as a retry of that step, and a first attempt not', async () => {
    const { deps, metrics } = withMetrics();
    const request = testRequest();
    await storeRequest(deps, request);
    await expect(
      runStep(deps, stepInput(request), 'applyBudget', async () => {
        throw new ThrottledError('slow down');
      }),
    ).rejects.toThrow(ThrottledError);
    expect(metrics.emitted).toEqual([]);

    await runStep(deps, stepInput(request), 'applyBudget', async () => ({ result: 1, detail: 'done' }));

    expect(metrics.emitted).toEqual([
      { name: METRIC.stepRetries, value: 1, dimensions: { [METRIC_DIMENSION.step]: 'applyBudget' } },
    ]);
  });

  it('counts a succeeded vend once, with the seconds from its submission to ready', async () => {
    const { deps, metrics } = withMetrics();
    const submittedAt = new Date(Date.now() - 600_000).toISOString();
    const request = testRequest({ submittedAt });
    await storeRequest(deps, request);
    const accountId = await createMemberAccount(env, 'metrics-ready');
    await deps.requests.update(request.requestId, { status: 'configuring', accountId });
    const configured = [
      { step: 'applyBaseline', version: '1', roles: [] },
      { step: 'applyBudget', budgetName: `vend-${request.accountName}`, monthlyLimitUsd: 200 },
      { step: 'connectDns', action: 'skipped' },
    ];

    await completeRequest(deps, announceInput({ request, configured }));
    await completeRequest(deps, announceInput({ request, configured }));

    expect(metrics.total(METRIC.vendsSucceeded)).toBe(1);
    const times = metrics.emitted.filter((metric) => metric.name === METRIC.timeToReadySeconds);
    expect(times).toHaveLength(1);
    expect(times[0]!.value).toBeGreaterThanOrEqual(600);
    expect(times[0]!.value).toBeLessThan(700);
  });

  it('counts a failed vend once, by a short reason code', async () => {
    const { deps, metrics } = withMetrics();
    const request = testRequest();
    await storeRequest(deps, request);
    await expect(
      runStep(deps, stepInput(request), 'connectDns', async () => {
        throw new VendFailureError('the VPC vpc-1 is not in the account', 'Name a VPC the account owns.');
      }),
    ).rejects.toThrow(VendFailureError);

    await recordFailure(deps, failureInput({ request, failure: { Error: 'VendFailureError', Cause: '{}' } }));
    await recordFailure(deps, failureInput({ request, failure: { Error: 'VendFailureError', Cause: '{}' } }));

    expect(metrics.emitted.filter((metric) => metric.name === METRIC.vendsFailed)).toEqual([
      { name: METRIC.vendsFailed, value: 1, dimensions: { [METRIC_DIMENSION.reason]: 'CONNECT_DNS_FAILED' } },
    ]);
  });

  it('names the reason of a failed creation by its AWS code, and never by free text', () => {
    const failure = { step: 'waitForAccount' as const, reason: 'some words', advice: 'more words' };
    const request = testRequest();
    expect(
      failureCode(
        {
          requestId: request.requestId,
          creation: { state: 'FAILED', failureReason: 'EMAIL_ALREADY_EXISTS' },
        },
        failure,
      ),
    ).toBe('EMAIL_ALREADY_EXISTS');
    expect(
      failureCode(
        {
          requestId: request.requestId,
          creation: { state: 'FAILED', failureReason: 'a sentence, not a code' },
        },
        failure,
      ),
    ).toBe('CREATION_FAILED');
    expect(failureCode({ requestId: request.requestId, creation: { state: 'TIMED_OUT' } }, failure)).toBe(
      'CREATION_TIMED_OUT',
    );
    expect(failureCode({ requestId: request.requestId }, { ...failure, step: 'createAccount' })).toBe(
      'CREATE_ACCOUNT_FAILED',
    );
  });
});

/** The part of an embedded-metric-format record the test reads. */
interface Emf {
  CloudWatchMetrics: {
    Namespace: string;
    Dimensions: string[][];
    Metrics: { Name: string; Unit: string }[];
  }[];
}

describe('Powertools Metrics on AWS', () => {
  it('writes embedded metric format in the Vend namespace, a dimensioned metric with its own dimension', async () => {
    // Dev mode writes through the global console (which the test reads); metrics stay enabled.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      const { Metrics } = await import('@aws-lambda-powertools/metrics');
      const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'vend-test' });
      const recorder = powertoolsMetrics(metrics);

      recorder.count(METRIC.vendsFailed, 1, { [METRIC_DIMENSION.reason]: 'EMAIL_ALREADY_EXISTS' });
      recorder.count(METRIC.timeToReadySeconds, 42);
      metrics.publishStoredMetrics();

      const emf = lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: Emf });
      const failed = emf.find((entry) => METRIC.vendsFailed in entry)!;
      expect(failed).toMatchObject({ Reason: 'EMAIL_ALREADY_EXISTS', [METRIC.vendsFailed]: 1 });
      expect(failed._aws.CloudWatchMetrics[0]).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [expect.arrayContaining(['Reason'])],
        Metrics: [{ Name: METRIC.vendsFailed, Unit: 'Count' }],
      });
      const ready = emf.find((entry) => METRIC.timeToReadySeconds in entry)!;
      expect(ready).not.toHaveProperty('Reason');
      expect(ready._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
        { Name: METRIC.timeToReadySeconds, Unit: 'Seconds' },
      ]);
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});
