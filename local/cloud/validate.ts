import type { Input } from './protocols/types.ts';

interface Bounds {
  required?: boolean;
  min?: number;
  max?: number;
}

/**
 * Reads operation input and checks it against AWS's documented constraints. Every failure raises the service's
 * own validation error (InvalidInputException, ValidationError, InvalidParameterException, InvalidInput ...)
 * naming the parameter, so the SDK surfaces it as the same typed exception AWS would.
 */
export class Params {
  constructor(private readonly invalid: (message: string, reason: string) => Error) {}

  fail(message: string, reason = 'INVALID_INPUT'): never {
    throw this.invalid(message, reason);
  }

  private present(input: Input, name: string, required: boolean | undefined): boolean {
    const value = input[name];
    if (value === undefined || value === null) {
      if (required)
        this.fail(
          `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
          'INPUT_REQUIRED',
        );
      return false;
    }
    return true;
  }

  string(
    input: Input,
    name: string,
    bounds: Bounds & { pattern?: RegExp; values?: readonly string[] } & { required: true },
  ): string;
  string(
    input: Input,
    name: string,
    bounds?: Bounds & { pattern?: RegExp; values?: readonly string[] },
  ): string | undefined;
  string(
    input: Input,
    name: string,
    bounds: Bounds & { pattern?: RegExp; values?: readonly string[] } = {},
  ): string | undefined {
    if (!this.present(input, name, bounds.required)) return undefined;
    const value = input[name];
    if (typeof value !== 'string') return this.fail(`Parameter ${name} must be a string.`, 'INVALID_INPUT');
    const at = `'${lowerFirst(name)}'`;
    if (bounds.min !== undefined && value.length < bounds.min) {
      this.fail(
        `1 validation error detected: Value at ${at} failed to satisfy constraint: Member must have length greater than or equal to ${bounds.min}`,
        'MIN_LENGTH_EXCEEDED',
      );
    }
    if (bounds.max !== undefined && value.length > bounds.max) {
      this.fail(
        `1 validation error detected: Value at ${at} failed to satisfy constraint: Member must have length less than or equal to ${bounds.max}`,
        'MAX_LENGTH_EXCEEDED',
      );
    }
    if (bounds.pattern && !bounds.pattern.test(value)) {
      this.fail(
        `1 validation error detected: Value '${value}' at ${at} failed to satisfy constraint: Member must satisfy regular expression pattern: ${bounds.pattern.source}`,
        'INVALID_PATTERN',
      );
    }
    if (bounds.values && !bounds.values.includes(value)) {
      this.fail(
        `1 validation error detected: Value '${value}' at ${at} failed to satisfy constraint: Member must satisfy enum value set: [${bounds.values.join(', ')}]`,
        'INVALID_ENUM',
      );
    }
    return value;
  }

  number(input: Input, name: string, bounds: Bounds & { integer?: boolean } & { required: true }): number;
  number(input: Input, name: string, bounds?: Bounds & { integer?: boolean }): number | undefined;
  number(input: Input, name: string, bounds: Bounds & { integer?: boolean } = {}): number | undefined {
    if (!this.present(input, name, bounds.required)) return undefined;
    const raw = input[name];
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (bounds.integer && !Number.isInteger(value))
    ) {
      return this.fail(
        `Parameter ${name} must be ${bounds.integer ? 'an integer' : 'a number'}.`,
        'INVALID_INPUT',
      );
    }
    const at = `'${lowerFirst(name)}'`;
    if (bounds.min !== undefined && value < bounds.min) {
      this.fail(
        `1 validation error detected: Value '${value}' at ${at} failed to satisfy constraint: Member must have value greater than or equal to ${bounds.min}`,
        'MIN_VALUE_EXCEEDED',
      );
    }
    if (bounds.max !== undefined && value > bounds.max) {
      this.fail(
        `1 validation error detected: Value '${value}' at ${at} failed to satisfy constraint: Member must have value less than or equal to ${bounds.max}`,
        'MAX_VALUE_EXCEEDED',
      );
    }
    return value;
  }

  boolean(input: Input, name: string): boolean | undefined {
    const value = input[name];
    if (value === undefined || value === null) return undefined;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    return this.fail(`Parameter ${name} must be true or false.`, 'INVALID_INPUT');
  }

  list(input: Input, name: string, bounds: Bounds = {}): unknown[] {
    if (!this.present(input, name, bounds.required)) return [];
    const value = input[name];
    if (!Array.isArray(value)) return this.fail(`Parameter ${name} must be a list.`, 'INVALID_INPUT');
    if (bounds.min !== undefined && value.length < bounds.min) {
      this.fail(
        `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length greater than or equal to ${bounds.min}`,
        'MIN_LENGTH_EXCEEDED',
      );
    }
    if (bounds.max !== undefined && value.length > bounds.max) {
      this.fail(
        `1 validation error detected: Value at '${lowerFirst(name)}' failed to satisfy constraint: Member must have length less than or equal to ${bounds.max}`,
        'MAX_LENGTH_EXCEEDED',
      );
    }
    return value;
  }

  object(input: Input, name: string, bounds: { required: true }): Input;
  object(input: Input, name: string, bounds?: { required?: boolean }): Input | undefined;
  object(input: Input, name: string, bounds: { required?: boolean } = {}): Input | undefined {
    if (!this.present(input, name, bounds.required)) return undefined;
    const value = input[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return this.fail(`Parameter ${name} must be a structure.`, 'INVALID_INPUT');
    }
    return value as Input;
  }

  /** Tags as `[{ Key, Value }]`, checked against AWS's tag limits. */
  tags(input: Input, name = 'Tags', max = 50): { Key: string; Value: string }[] {
    return this.list(input, name, { max }).map((entry) => {
      if (typeof entry !== 'object' || entry === null)
        return this.fail(`Each of ${name} must be a structure with Key and Value.`);
      const tag = entry as Input;
      const key = this.string(tag, 'Key', { required: true, min: 1, max: 128 });
      const value = this.string(tag, 'Value', { max: 256 }) ?? '';
      return { Key: key, Value: value };
    });
  }
}

export function lowerFirst(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** Pagination tokens: opaque to clients, an offset inside. */
export function encodeToken(offset: number, scope: string): string {
  return Buffer.from(JSON.stringify({ o: offset, s: scope })).toString('base64url');
}

export function decodeToken(token: string | undefined, scope: string, params: Params): number {
  if (token === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      s?: unknown;
    };
    if (typeof parsed.o === 'number' && Number.isInteger(parsed.o) && parsed.o >= 0 && parsed.s === scope)
      return parsed.o;
  } catch {
    // fall through to the error below
  }
  return params.fail('The specified pagination token is invalid or expired.', 'INVALID_NEXT_TOKEN');
}

/** One page of `items` from `token`, and the token for the next page if there is one. */
export function paginate<T>(
  items: readonly T[],
  offset: number,
  pageSize: number,
  scope: string,
): { page: T[]; next?: string } {
  const page = items.slice(offset, offset + pageSize);
  const end = offset + page.length;
  return end < items.length ? { page, next: encodeToken(end, scope) } : { page };
}
