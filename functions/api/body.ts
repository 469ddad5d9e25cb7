import type { APIGatewayProxyEvent } from 'aws-lambda';
import { HttpError } from '../shared/errors.ts';
import { header } from './http.ts';

export const DEFAULT_MAX_BODY_BYTES = 32 * 1024;
/**
 * How deep a body may nest arrays and objects. A request nests four levels; 32 KiB of brackets nest thousands,
 * which would exhaust the stack of anything recursive that reads the body (the idempotency hash, validation).
 */
export const MAX_BODY_DEPTH = 32;

/**
 * The body of a request as JSON, read once: JSON content type in UTF-8, at most `maxBytes` bytes, not empty, valid
 * JSON nesting at most `MAX_BODY_DEPTH` levels. Each refusal names the header or `(body)` and the fix.
 */
export function readJsonBody(event: APIGatewayProxyEvent, maxBytes = DEFAULT_MAX_BODY_BYTES): unknown {
  const contentType = header(event, 'content-type');
  const [mediaType, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim());
  const fix = "Send the body as JSON, with the header 'Content-Type: application/json'.";
  if (mediaType?.toLowerCase() !== 'application/json') {
    throw new HttpError(
      415,
      contentType ? `content type '${contentType}' is not supported` : 'the Content-Type header is missing',
      { field: 'Content-Type', fix },
    );
  }
  for (const parameter of parameters) {
    const [name, value] = parameter.split('=').map((part) => part.trim().replace(/^"|"$/g, '').toLowerCase());
    if (name === 'charset' && value !== 'utf-8' && value !== 'utf8') {
      throw new HttpError(415, `charset '${value}' is not supported: JSON is UTF-8`, {
        field: 'Content-Type',
        fix: "Send UTF-8, with 'Content-Type: application/json' (or '; charset=utf-8').",
      });
    }
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) {
    throw new HttpError(413, `the body is ${bytes.length} bytes; the most accepted is ${maxBytes}`, {
      field: '(body)',
      fix: 'Send only the fields of the request schema (GET /openapi.json): a request is well under 32 KiB.',
    });
  }
  const text = bytes.toString('utf8');
  if (text.trim() === '') {
    throw new HttpError(400, 'the body is empty', {
      field: '(body)',
      fix: 'Send the request as a JSON object: see the schema in GET /openapi.json.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${(error as Error).message}`, {
      field: '(body)',
      fix: 'Send a JSON object (double-quoted keys and strings, no trailing commas).',
    });
  }
  if (nestsDeeperThan(parsed, MAX_BODY_DEPTH)) {
    throw new HttpError(400, `the body nests arrays and objects more than ${MAX_BODY_DEPTH} levels deep`, {
      field: '(body)',
      fix: 'Send the request object of the schema (GET /openapi.json): it nests four levels at most.',
    });
  }
  return parsed;
}

/** Whether `value` nests arrays and objects deeper than `limit` (the top level is 1); iterative, so any depth is safe. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [item, depth] = pending.pop()!;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return false;
}
