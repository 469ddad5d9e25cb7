import type { Deps } from './deps.ts';
import { ExecutionRejectedError, VendFailureError } from './errors.ts';
import { METRIC, METRIC_DIMENSION } from './metrics-names.ts';
import type { RequestRecord, StepName } from './model.ts';
import { errorText } from './text.ts';

/**
 * What every Task of the state machine passes its step: the request's id, and the execution's own name and input
 * (`$$.Execution.Name`, `$$.Execution.Input`), by which the step checks that the execution is the request's own.
 * Everything else a step acts on (the request, the account, the desired state) it reads from the registry.
 */
export interface StepInput {
  requestId: string;
  execution: { name: string; input: unknown };
}

/** The one key an execution's input may carry: Vend's API starts each execution with `{ requestId }` only. */
const EXECUTION_INPUT_KEYS = ['requestId'];

/**
 * Refuses an execution that is not the request's own, before anything is read or written: the API starts each
 * request's execution named after the request, with `{ requestId }` as its only input. Anyone else who may start
 * an execution could otherwise re-run a request with another OU, owner or tags, or fail someone's request.
 */
export function checkExecution(input: StepInput): void {
  const { requestId, execution } = input;
  if (typeof requestId !== 'string' || requestId === '') {
    throw new ExecutionRejectedError(
      'the execution names no request: its input must be { "requestId": "..." }',
    );
  }
  if (execution?.name !== requestId) {
    throw new ExecutionRejectedError(
      `execution ${String(execution?.name)} is not the execution of request ${requestId}: Vend runs each request only in an execution named after it; nothing was changed`,
    );
  }
  const given = execution.input;
  const keys = typeof given === 'object' && given !== null && !Array.isArray(given) ? Object.keys(given) : [];
  const extra = keys.filter((key) => !EXECUTION_INPUT_KEYS.includes(key));
  if (extra.length > 0 || (given as { requestId?: unknown } | undefined)?.requestId !== requestId) {
    throw new ExecutionRejectedError(
      extra.length > 0
        ? `the execution's input may carry only the request id, and it also carries ${extra.sort().join(', ')}: Vend reads everything else from the registry; nothing was changed`
        : `the execution's input must be { "requestId": "${requestId}" }; nothing was changed`,
    );
  }
}

/** The account a request created, from the registry: steps after the creation act on it and on no other. */
export function accountOf(record: RequestRecord): string {
  if (!record.accountId) {
    throw new VendFailureError(
      `request ${record.requestId} has no account in the registry yet`,
      'Tell the platform team the request id: the workflow ran a step before the account existed.',
    );
  }
  return record.accountId;
}

/**
 * Runs one step of a request and records it in the registry, once the execution is known to be the request's own
 * (`checkExecution`): started (with the attempt number), then
 * succeeded with what it did, or failed. A VendFailureError also records the request's failure (the step,
 * the reason and the advice) before it propagates to the state machine's Catch.
 */
export async function runStep<T>(
  deps: Deps,
  input: StepInput,
  step: StepName,
  work: (record: RequestRecord, attempt: number) => Promise<{ result: T; detail: string }>,
  status?: RequestRecord['status'],
): Promise<T> {
  checkExecution(input);
  const { requestId } = input;
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
