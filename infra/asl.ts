import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './paths.ts';

/** The only copy of the workflow, deployed as is with its `${...}` placeholders substituted by CloudFormation. */
export const ASL_PATH = join(REPOSITORY_ROOT, 'statemachine', 'vend.asl.json');

/** A state of the ASL, as far as the stack reads it. */
export interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Branches?: { States: Record<string, AslState> }[];
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
}

export function readAsl(path = ASL_PATH): { text: string; states: Map<string, AslState> } {
  const text = readFileSync(path, 'utf8');
  const definition = JSON.parse(text) as { States: Record<string, AslState> };
  const states = new Map<string, AslState>();
  const walk = (entries: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(entries)) {
      states.set(name, state);
      for (const branch of state.Branches ?? []) walk(branch.States);
      for (const nested of [state.ItemProcessor, state.Iterator]) if (nested) walk(nested.States);
    }
  };
  walk(definition.States);
  return { text, states };
}

/** The `${Name}` placeholders of a definition, each once, in order of appearance. */
export function aslPlaceholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]!))];
}

/**
 * How much sooner than its Task's `TimeoutSeconds` a step function must time out. The Task's clock includes what
 * the function's own timeout does not: Lambda's Init phase, which may take up to 10 s on a cold start and is not
 * counted against the function's timeout ("Understanding the Lambda execution environment lifecycle", Init phase),
 * and the Invoke call's own latency. With this margin the Lambda attempt has always ended (returned, failed or
 * timed out) when the state machine's `States.Timeout` fires and the ASL's retry starts a second attempt.
 */
export const TASK_TIMEOUT_MARGIN_SECONDS = 15;

/**
 * The shortest `TimeoutSeconds` of the Task states whose Resource is each placeholder (60 when a Task gives none,
 * the ASL default is no timeout at all, which Vend never relies on): the function must end before every one of
 * them.
 */
export function taskTimeouts(states: Map<string, AslState>): Map<string, number> {
  const timeouts = new Map<string, number>();
  for (const [name, state] of states) {
    const placeholder = state.Type === 'Task' ? /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1] : undefined;
    if (!placeholder) continue;
    if (state.TimeoutSeconds === undefined) {
      throw new Error(
        `${ASL_PATH}: Task ${name} has no TimeoutSeconds: give it one, the function's timeout derives from it`,
      );
    }
    const seconds = state.TimeoutSeconds;
    timeouts.set(placeholder, Math.min(seconds, timeouts.get(placeholder) ?? Number.POSITIVE_INFINITY));
  }
  return timeouts;
}

/**
 * A step function's Lambda timeout for a Task timeout: `TASK_TIMEOUT_MARGIN_SECONDS` shorter, so the Lambda
 * attempt always ends before the Task's `States.Timeout` (which the ASL retries) can start another.
 */
export function functionTimeoutSeconds(taskTimeoutSeconds: number): number {
  const seconds = taskTimeoutSeconds - TASK_TIMEOUT_MARGIN_SECONDS;
  if (seconds < 1) {
    throw new Error(
      `${ASL_PATH}: a Task's TimeoutSeconds (${taskTimeoutSeconds}) leaves its function no time: give it more than ${TASK_TIMEOUT_MARGIN_SECONDS} s`,
    );
  }
  return seconds;
}
