import { AwsError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Input, Output, Protocol } from './types.ts';
import { escapeXml, toXml } from './xml.ts';

/**
 * Parses form parameters of the Query protocols into nested objects: `Tags.member.1.Key=a` becomes
 * `{ Tags: [{ Key: 'a' }] }` (Query), `Filter.1.Value.1=x` becomes `{ Filter: [{ Value: ['x'] }] }` (EC2).
 */
export function parseQueryParameters(params: URLSearchParams): Input {
  const root: Record<string, unknown> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const segments = key
      .split('.')
      .filter((segment, index, all) => !(segment === 'member' && /^\d+$/.test(all[index + 1] ?? '')));
    let container: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      const last = i === segments.length - 1;
      const nextIsIndex = /^\d+$/.test(segments[i + 1] ?? '');
      const slot: string | number = Array.isArray(container) ? Number(segment) - 1 : segment;
      if (Array.isArray(container) && (!Number.isInteger(slot) || (slot as number) < 0)) {
        throw new AwsError('MalformedQueryString', `Bad list index in parameter ${key}`);
      }
      const target = container as Record<string | number, unknown>;
      if (last) {
        target[slot] = value;
      } else {
        if (target[slot] === undefined || typeof target[slot] !== 'object')
          target[slot] = nextIsIndex ? [] : {};
        container = target[slot] as Record<string, unknown> | unknown[];
      }
    }
  }
  return compactArrays(root) as Input;
}

function compactArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((entry) => entry !== undefined).map(compactArrays);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, compactArrays(entry)]));
  }
  return value;
}

function formParameters(request: HttpRequest): URLSearchParams {
  const params = new URLSearchParams(request.query);
  if (request.method === 'POST' && request.body) {
    for (const [key, value] of new URLSearchParams(request.body)) params.append(key, value);
  }
  return params;
}

/** The Query protocol of IAM and STS: form-encoded input, XML output wrapped in `<OpResponse><OpResult>`. */
export function queryProtocol(xmlNamespace: string): Protocol {
  return {
    decode(request: HttpRequest) {
      const params = formParameters(request);
      const operation = params.get('Action');
      if (!operation) throw new AwsError('InvalidAction', 'The request has no Action parameter.');
      return { operation, input: parseQueryParameters(params) };
    },
    encode(operation: string, output: Output, requestId: string): HttpResponse {
      const result = output
        ? `<${operation}Result>${toXml(output, { listMember: 'member' })}</${operation}Result>`
        : '';
      return {
        status: 200,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<${operation}Response xmlns="${xmlNamespace}">${result}` +
          `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`,
      };
    },
    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      const type = status >= 500 ? 'Receiver' : 'Sender';
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<ErrorResponse xmlns="${xmlNamespace}"><Error><Type>${type}</Type><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    },
  };
}

/** The EC2 Query protocol: form-encoded input without `member`, lowerCamel XML output with `item` lists. */
export function ec2Protocol(xmlNamespace: string): Protocol {
  return {
    decode(request: HttpRequest) {
      const params = formParameters(request);
      const operation = params.get('Action');
      if (!operation) throw new AwsError('InvalidAction', 'The request has no Action parameter.');
      return { operation, input: parseQueryParameters(params) };
    },
    encode(operation: string, output: Output, requestId: string): HttpResponse {
      return {
        status: 200,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<${operation}Response xmlns="${xmlNamespace}"><requestId>${requestId}</requestId>` +
          `${toXml(output ?? {}, { listMember: 'item' })}</${operation}Response>`,
      };
    },
    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      return {
        status,
        headers: { 'content-type': 'text/xml;charset=UTF-8' },
        body:
          `<Response><Errors><Error><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>` +
          `</Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      };
    },
  };
}
