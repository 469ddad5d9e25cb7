import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Input, Output, Protocol } from './types.ts';
import { escapeXml, toXml } from './xml.ts';

/** S3 Control's namespace, on request payloads and response documents (S3 API Reference, S3 Control actions). */
export const S3_CONTROL_XML_NAMESPACE = 'http://awss3control.amazonaws.com/doc/2018-08-20/';

/** One S3 Control operation as the SDK's schema places it (client-s3-control, `{ http: [method, path, code] }`). */
export interface S3ControlRoute {
  readonly operation: string;
  readonly method: 'GET' | 'PUT' | 'DELETE';
  readonly path: string;
  /**
   * The request member bound to the XML body (`@httpPayload`), whose root element has the member's name; absent
   * when the operation takes no body.
   */
  readonly payload?: string;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  commentPropName: false,
});

/** Keys that must never become properties of parsed input. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** S3's error for a body that is not the XML the operation takes (S3 API Reference, "Error responses"). */
function malformedXml(): AwsError {
  return new AwsError(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
}

function copySafe(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (!UNSAFE_KEYS.has(key)) copy[key] = copySafe(entry);
  return copy;
}

/**
 * S3 Control's REST-XML dialect: the account id travels in the `x-amz-account-id` header (and in front of the
 * host, which the local cloud does not need), the request body is the payload member's own element
 * (`<PublicAccessBlockConfiguration xmlns=...>`), and a response with one payload member is that element.
 * Errors are `<ErrorResponse><Error><Code>` documents, as S3 Control's (not S3's unwrapped `<Error>`).
 */
export function s3ControlProtocol(routes: readonly S3ControlRoute[]): Protocol {
  const byOperation = new Map(routes.map((route) => [route.operation, route]));
  return {
    decode(request: HttpRequest) {
      const route = routes.find((entry) => entry.method === request.method && entry.path === request.path);
      if (!route) {
        throw new AwsError(
          'UnknownOperationException',
          `The local cloud has no operation at ${request.method} ${request.path}.`,
          { status: 404 },
        );
      }
      const input: Input = {};
      const accountId = request.headers['x-amz-account-id'];
      if (accountId !== undefined) input.AccountId = accountId;
      if (route.payload !== undefined && request.body.trim() !== '') {
        input[route.payload] = parsePayload(request.body, route.payload);
      }
      return { operation: route.operation, input };
    },

    encode(operation: string, output: Output, requestId: string): HttpResponse {
      const headers = { 'content-type': 'application/xml', 'x-amz-request-id': requestId };
      const members = Object.entries(output ?? {}).filter(([, value]) => value !== undefined);
      if (byOperation.get(operation) === undefined || members.length === 0)
        return { status: 200, headers, body: '' };
      const [element, value] = members[0] as [string, unknown];
      return {
        status: 200,
        headers,
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<${element} xmlns="${S3_CONTROL_XML_NAMESPACE}">` +
          `${toXml(value, { listMember: 'member' })}</${element}>`,
      };
    },

    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      return {
        status,
        headers: { 'content-type': 'application/xml', 'x-amz-request-id': requestId },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Code>${escapeXml(error.code)}</Code>` +
          `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    },
  };
}

function parsePayload(body: string, element: string): Input {
  // S3 refuses documents that declare a DTD; refusing them also rules out entity expansion attacks.
  if (/<!DOCTYPE/i.test(body) || XMLValidator.validate(body) !== true) throw malformedXml();
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(body) as Record<string, unknown>;
  } catch {
    throw malformedXml();
  }
  const roots = Object.keys(parsed);
  if (roots.length !== 1 || roots[0] !== element) throw malformedXml();
  const content = parsed[element];
  if (content === '') return {};
  if (typeof content !== 'object' || content === null || Array.isArray(content)) throw malformedXml();
  return copySafe(content) as Input;
}
