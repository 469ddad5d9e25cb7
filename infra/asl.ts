import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './paths.ts';

/** The only copy of the workflow, deployed as is with its `${...}` placeholders substituted by CloudFormation. */
export const ASL_PATH = join(REPOSITORY_ROOT, 'statemachine', 'vend.asl.json');

interface AslState {
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
 * The longest `TimeoutSeconds` of the Task states whose Resource is each placeholder: a function's own timeout
 * must be a little longer, so that the state machine's `States.Timeout` (which the ASL retries) fires first.
 */
export function taskTimeouts(states: Map<string, AslState>): Map<string, number> {
  const timeouts = new Map<string, number>();
  for (const state of states.values()) {
    const placeholder = state.Type === 'Task' ? /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1] : undefined;
    if (!placeholder) continue;
    const seconds = state.TimeoutSeconds ?? 60;
    timeouts.set(placeholder, Math.max(seconds, timeouts.get(placeholder) ?? 0));
  }
  return timeouts;
}
