import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_ERROR_NAMES } from '../../functions/shared/errors.ts';
import { ASL_PATH, allStates, loadDefinition, placeholders, TASK_FUNCTIONS } from '../../local/runner.ts';

const text = readFileSync(ASL_PATH, 'utf8');
const definition = loadDefinition();
const states = [...allStates(definition as never).values()] as unknown as {
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[] }[];
}[];
const mentioned = new Set(
  states.flatMap((state) =>
    [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((rule) => rule.ErrorEquals),
  ),
);

/**
 * Errors the steps raise on purpose without a retry: they go to the Catch (States.ALL) and end the request, or (an
 * execution that is not the request's own) end the execution without recording anything.
 */
const NOT_RETRIED = new Set(['Vend.Failed', 'Vend.ExecutionRejected']);

describe('the state machine and the code agree', () => {
  it('names only workflow errors that the code defines, besides Step Functions and Lambda errors', () => {
    for (const name of mentioned) {
      if (name.startsWith('States.') || name.startsWith('Lambda.')) continue;
      expect(WORKFLOW_ERROR_NAMES, `the ASL retries or catches ${name}`).toContain(name);
    }
  });

  it('retries every workflow error the code raises for retrying', () => {
    for (const name of WORKFLOW_ERROR_NAMES) {
      if (NOT_RETRIED.has(name)) continue;
      expect([...mentioned], `the code raises ${name} but the ASL never retries it`).toContain(name);
    }
  });

  it('has a function for every placeholder, and no function without one', () => {
    expect(placeholders(text).sort()).toEqual(Object.keys(TASK_FUNCTIONS).sort());
  });

  it('keeps every Task retrying throttling and transient errors and every step but the last two caught', () => {
    const tasks = [...allStates(definition as never).entries()].filter(
      ([, state]) => (state as { Type: string }).Type === 'Task',
    );
    for (const [name, state] of tasks) {
      const retried = new Set(
        ((state as { Retry?: { ErrorEquals: string[] }[] }).Retry ?? []).flatMap((rule) => rule.ErrorEquals),
      );
      expect(retried, `${name} retries throttling`).toContain('Vend.Throttled');
      expect(retried, `${name} retries transient errors`).toContain('Vend.Transient');
    }
  });

  it('retries Connect DNS for a new account that is not ready over many minutes, even with jitter halving each wait', () => {
    // EC2 in a new account can answer OptInRequired, and its default VPC can be missing, for minutes after
    // AssumeRole works (EC2 API reference, error codes: OptInRequired).
    const state = allStates(definition as never).get('Connect DNS') as {
      Retry: {
        ErrorEquals: string[];
        IntervalSeconds: number;
        BackoffRate: number;
        MaxAttempts: number;
        MaxDelaySeconds: number;
      }[];
    };
    const rule = state.Retry.find((entry) => entry.ErrorEquals.includes('Vend.AccountNotReady'));
    expect(rule).toBeDefined();
    let total = 0;
    for (let attempt = 0; attempt < rule!.MaxAttempts; attempt++) {
      total += Math.min(rule!.IntervalSeconds * rule!.BackoffRate ** attempt, rule!.MaxDelaySeconds) / 2;
    }
    expect(total).toBeGreaterThanOrEqual(15 * 60);
  });
});
