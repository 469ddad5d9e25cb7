import { AwsError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Input, Output, Protocol } from './types.ts';

/**
 * AWS JSON 1.1 (Organizations, Budgets): `X-Amz-Target: Prefix.Operation`, a JSON body, timestamps as epoch seconds.
 */
export function jsonProtocol(targetPrefix: string): Protocol {
  return {
    decode(request: HttpRequest) {
      const target = request.headers['x-amz-target'] ?? '';
      const [prefix, operation] = target.split('.');
      if (request.method !== 'POST' || prefix !== targetPrefix || !operation) {
        throw new AwsError('UnknownOperationException', `Unknown operation ${target || '(no X-Amz-Target)'}`);
      }
      let input: unknown;
      try {
        input = request.body.trim() === '' ? {} : JSON.parse(request.body);
      } catch {
        throw new AwsError(
          'SerializationException',
          'Start of structure or map found where not expected, or the body is not valid JSON.',
        );
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'The request body must be a JSON object.');
      }
      return { operation, input: input as Input };
    },
    encode(_operation: string, output: Output, requestId: string): HttpResponse {
      return {
        status: 200,
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId },
        body: JSON.stringify(jsonDates(output ?? {})),
      };
    },
    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      return {
        status,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': error.code,
        },
        body: JSON.stringify({ __type: error.code, Message: error.message, ...error.fields }),
      };
    },
  };
}

/** JSON timestamps are epoch seconds; `JSON.stringify` calls `toJSON` first, so convert dates beforehand. */
export function jsonDates<T>(value: T): T {
  if (value instanceof Date) return (value.getTime() / 1000) as T;
  if (Array.isArray(value)) return value.map(jsonDates) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, jsonDates(entry)])) as T;
  }
  return value;
}
