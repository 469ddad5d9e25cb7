import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Log } from '../shared/deps.ts';
import {
  ConcurrentModificationError,
  HttpError,
  RequestRejectedError,
  ThrottledError,
  TransientError,
} from '../shared/errors.ts';
import type { ErrorResponse } from './schemas.ts';

/** Headers every answer carries. */
const COMMON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

/** A JSON answer. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return { statusCode, headers: { ...COMMON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** A request header's value, whatever its case (API Gateway passes them as the client sent them). */
export function header(event: APIGatewayProxyEvent, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/** Turns any failure into the answer the caller sees: HttpError and RequestRejectedError as they say, the rest as a bare 500. */
export function errorResponse(error: unknown): { result: APIGatewayProxyResult; exposed: boolean } {
  if (error instanceof RequestRejectedError) {
    return {
      exposed: true,
      result: json(error.statusCode, errorBody(error.statusCode, error.message, error.field, error.fix)),
    };
  }
  if (error instanceof HttpError && error.expose) {
    return {
      exposed: true,
      result: json(
        error.statusCode,
        errorBody(error.statusCode, error.message, error.details.field, error.details.fix),
        error.details.headers,
      ),
    };
  }
  if (
    error instanceof ThrottledError ||
    error instanceof TransientError ||
    error instanceof ConcurrentModificationError
  ) {
    // AWS throttled a call or failed briefly (after the SDK's own retries): a retry soon will do. Nothing
    // internal is said; the header tells well-behaved clients (and the vend CLI) when.
    return {
      exposed: false,
      result: json(
        503,
        errorBody(
          503,
          'AWS is busy or briefly unavailable, so the request could not be handled now',
          undefined,
          `Retry after ${RETRY_AFTER_SECONDS} seconds, with the same Idempotency-Key if you sent one.`,
        ),
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      ),
    };
  }
  return { exposed: false, result: json(500, errorBody(500, 'Internal server error')) };
}

/** What a 503 asks the caller to wait, in seconds. */
export const RETRY_AFTER_SECONDS = 5;

function errorBody(status: number, message: string, field?: string, fix?: string): ErrorResponse {
  return {
    error: { status, ...(field ? { field } : {}), message, ...(fix ? { fix } : {}) },
  };
}

/** Slack webhook URLs are secrets: whatever an error says, they never reach a log. */
const WEBHOOK = /https:\/\/hooks\.slack(?:-gov)?\.com\/\S*/gi;
export function redact(text: string): string {
  return text.replace(WEBHOOK, '[redacted webhook]');
}

type ApiMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>;

/**
 * Catches every error: the caller gets the error JSON (a bare 500 for anything unexpected, so nothing
 * internal leaks); the log gets the unexpected ones in full, webhook URLs redacted.
 */
export function httpErrors(log: Log): ApiMiddleware {
  return {
    name: 'httpErrors',
    onError: (request) => {
      const { result, exposed } = errorResponse(request.error);
      if (!exposed) {
        const error = request.error;
        log.error('request failed', {
          error: error instanceof Error ? error.name : 'unknown',
          message: redact(error instanceof Error ? error.message : String(error)),
          stack: error instanceof Error && error.stack ? redact(error.stack) : undefined,
        });
      }
      request.response = result;
    },
  };
}

/** One log line per request: method, path, status and duration; never the body or the headers. */
export function accessLog(log: Log): ApiMiddleware {
  const started = new WeakMap<object, number>();
  const done = (request: Parameters<NonNullable<ApiMiddleware['after']>>[0]) => {
    const status = request.response?.statusCode ?? 500;
    const entry = {
      method: request.event.httpMethod,
      path: request.event.path,
      status,
      durationMs: Date.now() - (started.get(request) ?? Date.now()),
      requestId: request.event.requestContext?.requestId,
    };
    if (status >= 500) log.error('request', entry);
    else log.info('request', entry);
  };
  return {
    name: 'accessLog',
    before: (request) => {
      started.set(request, Date.now());
    },
    after: done,
    onError: done,
  };
}
