import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { AwsError } from '../errors.ts';
import type { HttpRequest, HttpResponse, Input, Output, Protocol } from './types.ts';
import { escapeXml, toXml } from './xml.ts';

/** One operation of a REST-XML service: where it lives on the wire and how its members bind to HTTP. */
export interface RestXmlRoute {
  readonly operation: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template; `{Member}` matches one path segment and binds it, percent-decoded, to that input member. */
  readonly path: string;
  /** Query string parameter -> input member. */
  readonly query?: Readonly<Record<string, string>>;
  /** Success status, when it is not 200 (CreateHostedZone answers 201). */
  readonly status?: number;
  /** Output member -> the response header it is bound to instead of the body. */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RestXmlOptions {
  readonly xmlNamespace: string;
  readonly routes: readonly RestXmlRoute[];
  /**
   * Element name of the members of each list-valued element (`VPCs` -> `VPC`). REST-XML names list members per
   * shape, so a list without an entry here is a bug in the service and fails loudly rather than writing XML
   * the SDK would silently misread.
   */
  readonly listMembers: Readonly<Record<string, string>>;
}

/** Keys that must never become properties of parsed input. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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

function invalidXml(detail: string): AwsError {
  return new AwsError('InvalidInput', `Invalid XML ; ${detail}`);
}

interface CompiledRoute {
  readonly route: RestXmlRoute;
  /** Literal segments, or the member a `{label}` segment binds. */
  readonly segments: readonly ({ literal: string } | { label: string })[];
}

function compile(route: RestXmlRoute): CompiledRoute {
  const segments = route.path
    .split('/')
    .slice(1)
    .map((segment) => {
      const label = /^\{(\w+)\}$/.exec(segment)?.[1];
      return label ? { label } : { literal: segment };
    });
  return { route, segments };
}

/**
 * The REST-XML protocol (Route 53): the operation comes from the method and path, path labels and query
 * parameters become input members, the body is an XML document whose root element is `<OperationRequest>`.
 * Responses are `<OperationResponse xmlns=...>` documents; errors are `<ErrorResponse>` documents.
 */
export function restXmlProtocol(options: RestXmlOptions): Protocol {
  const routes = options.routes.map(compile);
  const byOperation = new Map(options.routes.map((route) => [route.operation, route]));
  const listMemberOf = (key: string): string => {
    const member = options.listMembers[key];
    if (member === undefined) throw new Error(`rest-xml: no list member name for <${key}>`);
    return member;
  };

  const match = (request: HttpRequest): { route: RestXmlRoute; labels: Input } | undefined => {
    const raw = request.path.split('/').slice(1);
    let decoded: string[];
    try {
      decoded = raw.map((segment) => decodeURIComponent(segment));
    } catch {
      throw new AwsError(
        'InvalidInput',
        `The request path ${request.path} is not correctly percent-encoded.`,
      );
    }
    for (const { route, segments } of routes) {
      if (route.method !== request.method || segments.length !== decoded.length) continue;
      const labels: Input = {};
      const fits = segments.every((segment, index) => {
        const value = decoded[index] as string;
        if ('literal' in segment) return segment.literal === value;
        if (value === '') return false;
        labels[segment.label] = value;
        return true;
      });
      if (fits) return { route, labels };
    }
    return undefined;
  };

  /** Copies parsed XML into plain input: list wrappers become arrays, unsafe keys are dropped. */
  const normalise = (value: unknown, key: string): unknown => {
    const member = options.listMembers[key];
    if (member !== undefined) {
      if (value === '') return [];
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
      const items = (value as Record<string, unknown>)[member];
      return (Array.isArray(items) ? items : items === undefined ? [] : [items]).map((item) =>
        normalise(item, member),
      );
    }
    if (Array.isArray(value)) return value.map((item) => normalise(item, key));
    if (typeof value === 'object' && value !== null) {
      const copy: Record<string, unknown> = {};
      for (const [child, entry] of Object.entries(value)) {
        if (!UNSAFE_KEYS.has(child)) copy[child] = normalise(entry, child);
      }
      return copy;
    }
    return value;
  };

  const parseBody = (body: string, operation: string): Input => {
    if (body.trim() === '') return {};
    // AWS rejects documents that declare a DTD; refusing them also rules out entity expansion attacks.
    if (/<!DOCTYPE/i.test(body)) throw invalidXml('DOCTYPE is not allowed.');
    const valid = XMLValidator.validate(body);
    if (valid !== true)
      throw invalidXml(`${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
    let parsed: Record<string, unknown>;
    try {
      parsed = parser.parse(body) as Record<string, unknown>;
    } catch (error) {
      throw invalidXml((error as Error).message);
    }
    const roots = Object.keys(parsed);
    const expected = `${operation}Request`;
    if (roots.length !== 1 || roots[0] !== expected) {
      throw invalidXml(`the root element must be <${expected}>, not <${roots.join('>, <') || 'nothing'}>.`);
    }
    const content = normalise(parsed[expected], expected);
    if (content === '') return {};
    if (typeof content !== 'object' || content === null || Array.isArray(content)) {
      throw invalidXml(`<${expected}> must contain elements, not text.`);
    }
    return content as Input;
  };

  return {
    decode(request: HttpRequest) {
      const found = match(request);
      if (!found) {
        throw new AwsError(
          'UnknownOperationException',
          `The local cloud has no operation at ${request.method} ${request.path}.`,
          { status: 404 },
        );
      }
      const { route, labels } = found;
      const input: Input = { ...parseBody(request.body, route.operation) };
      for (const [parameter, member] of Object.entries(route.query ?? {})) {
        const value = request.query.get(parameter);
        if (value !== null) input[member] = value;
      }
      Object.assign(input, labels);
      return { operation: route.operation, input };
    },

    encode(operation: string, output: Output, requestId: string): HttpResponse {
      const route = byOperation.get(operation);
      const body: Record<string, unknown> = { ...output };
      const headers: Record<string, string> = { 'content-type': 'text/xml', 'x-amzn-requestid': requestId };
      for (const [member, header] of Object.entries(route?.headers ?? {})) {
        const value = body[member];
        if (value !== undefined && value !== null) headers[header.toLowerCase()] = String(value);
        delete body[member];
      }
      return {
        status: route?.status ?? 200,
        headers,
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<${operation}Response xmlns="${options.xmlNamespace}">` +
          `${toXml(body, { listMember: 'member', listMemberOf })}</${operation}Response>`,
      };
    },

    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      const type = status >= 500 ? 'Receiver' : 'Sender';
      return {
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body:
          `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${options.xmlNamespace}"><Error>` +
          `<Type>${type}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message>` +
          `</Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    },
  };
}

/** Route 53's namespace, on every request and response document. */
export const ROUTE53_XML_NAMESPACE = 'https://route53.amazonaws.com/doc/2013-04-01/';

/** Route 53's operations as the SDK's schemas place them (the ones the local cloud emulates). */
export const ROUTE53_ROUTES: readonly RestXmlRoute[] = [
  {
    operation: 'CreateHostedZone',
    method: 'POST',
    path: '/2013-04-01/hostedzone',
    status: 201,
    headers: { Location: 'Location' },
  },
  { operation: 'GetHostedZone', method: 'GET', path: '/2013-04-01/hostedzone/{Id}' },
  {
    operation: 'ListHostedZones',
    method: 'GET',
    path: '/2013-04-01/hostedzone',
    query: {
      marker: 'Marker',
      maxitems: 'MaxItems',
      delegationsetid: 'DelegationSetId',
      hostedzonetype: 'HostedZoneType',
    },
  },
  {
    operation: 'GetHostedZoneLimit',
    method: 'GET',
    path: '/2013-04-01/hostedzonelimit/{HostedZoneId}/{Type}',
  },
  {
    operation: 'AssociateVPCWithHostedZone',
    method: 'POST',
    path: '/2013-04-01/hostedzone/{HostedZoneId}/associatevpc',
  },
  {
    operation: 'DisassociateVPCFromHostedZone',
    method: 'POST',
    path: '/2013-04-01/hostedzone/{HostedZoneId}/disassociatevpc',
  },
  {
    operation: 'CreateVPCAssociationAuthorization',
    method: 'POST',
    path: '/2013-04-01/hostedzone/{HostedZoneId}/authorizevpcassociation',
  },
  {
    operation: 'ListVPCAssociationAuthorizations',
    method: 'GET',
    path: '/2013-04-01/hostedzone/{HostedZoneId}/authorizevpcassociation',
    query: { nexttoken: 'NextToken', maxresults: 'MaxResults' },
  },
  {
    operation: 'DeleteVPCAssociationAuthorization',
    method: 'POST',
    path: '/2013-04-01/hostedzone/{HostedZoneId}/deauthorizevpcassociation',
  },
  {
    operation: 'ListHostedZonesByVPC',
    method: 'GET',
    path: '/2013-04-01/hostedzonesbyvpc',
    query: { vpcid: 'VPCId', vpcregion: 'VPCRegion', maxitems: 'MaxItems', nexttoken: 'NextToken' },
  },
];

/** Route 53's wire protocol. */
export const route53Protocol: Protocol = restXmlProtocol({
  xmlNamespace: ROUTE53_XML_NAMESPACE,
  routes: ROUTE53_ROUTES,
  listMembers: {
    HostedZones: 'HostedZone',
    VPCs: 'VPC',
    NameServers: 'NameServer',
    HostedZoneSummaries: 'HostedZoneSummary',
  },
});
