/**
 * EventBridge's event-pattern matching, for the parts of it Vend's patterns use: a field's value list (the event
 * matches when its value, or any item of it when it is an array, equals one of the listed values) and nested
 * objects (each field of the pattern must match the event's field of that name, recursively). Every field the
 * pattern names must match; fields it does not name do not matter.
 *
 * The local event bus routes the local cloud's CloudTrail records to the drift function with it, and the drift
 * function checks what it is given against the same pattern, so a stray event is dropped there too. Content
 * filters (`prefix`, `anything-but`, `numeric`, `exists`, ...) are not implemented: a pattern using one is refused
 * with an error rather than matched wrongly.
 */

import { UnsupportedPatternError } from './errors.ts';

/** A pattern as EventBridge takes it: each leaf is the list of values the field may have. */
export interface EventPattern {
  readonly [field: string]: readonly (string | number | boolean | null)[] | EventPattern;
}

/** Whether `event` matches `pattern`, as EventBridge would decide it. */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (!isObject(pattern)) throw new UnsupportedPatternError('a pattern is a JSON object');
  if (!isObject(event)) return false;
  for (const [field, expected] of Object.entries(pattern)) {
    const value = Object.hasOwn(event, field) ? event[field] : undefined;
    if (Array.isArray(expected)) {
      if (!matchesValues(expected, value, field)) return false;
    } else if (isObject(expected)) {
      if (!isObject(value) || !matchesPattern(expected as EventPattern, value)) return false;
    } else {
      throw new UnsupportedPatternError(
        `pattern field ${field}: a pattern's values are lists (write [${JSON.stringify(expected)}])`,
      );
    }
  }
  return true;
}

function matchesValues(expected: readonly unknown[], value: unknown, field: string): boolean {
  if (expected.length === 0) throw new UnsupportedPatternError(`pattern field ${field}: an empty value list`);
  for (const candidate of expected) {
    if (isObject(candidate) || Array.isArray(candidate)) {
      throw new UnsupportedPatternError(
        `pattern field ${field}: content filters such as ${JSON.stringify(candidate)} are not supported`,
      );
    }
  }
  // A missing field matches nothing (only `exists: false` would, which is not supported).
  if (value === undefined) return false;
  const values = Array.isArray(value) ? value : [value];
  // Exact equality: strings case-sensitively, numbers by value, booleans and null as themselves.
  return values.some((item) => expected.includes(item as never));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
