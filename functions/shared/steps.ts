import type { Deps } from './deps.ts';
import { VendFailureError } from './errors.ts';
import { METRIC, METRIC_DIMENSION } from './metrics-names.ts';
import type { RequestRecord, StepName } from './model.ts';
import { errorText } from './text.ts';

/**
 * Runs one step of a request and records it in the registry: started (with the attempt number), then
 * succeeded with what it did, or failed. A VendFailureError also records the request's failure (the step,
 * the reason and the advice) before it propagates to the state machine's Catch.
 */
export async function runStep<T>(
  deps: Deps,
  requestId: string,
  step: StepName,
  work: (record: RequestRecord, attempt: number) => Promise<{ result: T; detail: string }>,
  status?: RequestRecord['status'],
): Promise<T> {
  const { record, startedAt, attempts } = await startAttempt(deps, requestId, step, status);
  if (attempts > 1) deps.metrics.count(METRIC.stepRetries, 1, { [METRIC_DIMENSION.step]: step });
  try {
    const { result, detail } = await work(record, attempts);
    await deps.requests.updateStep(requestId, step, {
      status: 'succeeded',
      startedAt,
      endedAt: new Date().toISOString(),
      attempts,
      detail,
    });
    return result;
  } catch (error) {
    if (error instanceof VendFailureError) {
      const endedAt = new Date().toISOString();
      await deps.requests.updateStep(requestId, step, {
        status: 'failed',
        startedAt,
        endedAt,
        attempts,
        detail: error.message,
      });
      await deps.requests.update(requestId, {
        failure: {
          step,
          reason: error.message,
          advice: error.advice,
          ...(error.cause ? { error: String(error.cause) } : {}),
        },
      });
    } else {
      const lastError = errorText(error);
      deps.log.warn('step attempt failed', { requestId, step, attempts, error: lastError });
      await deps.requests
        .updateStep(requestId, step, { status: 'running', startedAt, attempts, lastError })
        .catch(() => undefined);
    }
    throw error;
  }
}

/**
 * Records an attempt of a step as running: the first in one write, a further one (the state machine retrying,
 * or a re-run) after reading how many came before. A retry keeps the step's start time; a re-run of a finished
 * step starts it afresh.
 */
async function startAttempt(
  deps: Deps,
  requestId: string,
  step: StepName,
  status?: RequestRecord['status'],
): Promise<{ record: RequestRecord; startedAt: string; attempts: number }> {
  const first = await deps.requests.startFirstAttempt(requestId, step, status);
  if (first) return { record: first.record, startedAt: first.started.startedAt, attempts: 1 };
  const record = await deps.requests.get(requestId);
  if (!record)
    throw new VendFailureError(`request ${requestId} is not in the registry`, 'Submit the request again.');
  const previous = record.steps[step];
  const startedAt = previous?.status === 'running' ? previous.startedAt : new Date().toISOString();
  const attempts = (previous?.attempts ?? 0) + 1;
  await deps.requests.updateStep(requestId, step, { status: 'running', startedAt, attempts }, status);
  return { record, startedAt, attempts };
}
