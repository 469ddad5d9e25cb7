/** Text helpers used across the functions, the local runtime and the CLI: one copy each. */

/**
 * An email address as Vend accepts it: something, `@`, a domain with a dot, no spaces. AWS's own checks are
 * looser or stricter per service; this is the rule for addresses a caller or the configuration gives Vend.
 */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** How many characters of an error Vend records or logs at most, by default. */
export const ERROR_TEXT_MAX = 1000;

/** An error as `Name: message`, cut to `max` characters, for the registry and the logs. */
export function errorText(error: unknown, max = ERROR_TEXT_MAX): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, max);
}

/**
 * JSON with every object's keys in code-unit order: the same text for the same value however its keys were
 * ordered. Like `JSON.stringify`, an object's undefined fields are left out and undefined array items are `null`.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
