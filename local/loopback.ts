/**
 * The guard every local server (the local cloud, the local API, the Slack sink) puts in front of its routes:
 * they listen on 127.0.0.1 and must answer only callers on this machine, never a web page the developer has
 * open. A page reaches 127.0.0.1 two ways: DNS rebinding (its own name resolves to 127.0.0.1, so the request
 * carries the page's Host) and cross-site requests (a form or `fetch` POST, an `<img>` GET, which carry the
 * page's Origin or `Sec-Fetch-Site: cross-site`). SDK clients, the AWS CLI and curl send Host = the endpoint's
 * host:port and neither Origin nor Sec-Fetch-Site, so they pass.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addSubnet('::1', 128, 'ipv6');

/** `name`, `name:port`, `[v6]` or `[v6]:port`, nothing else (no user info, no path). */
const HOST_PATTERN = /^(?:\[([0-9a-f:.]+)\]|([^:[\]/@\s]+))(?::(\d{1,5}))?$/i;

/** How much of a refused header a refusal quotes back. */
const QUOTE_LIMIT = 100;

/**
 * Whether a Host header value (or a URL's `host`) names this machine: `localhost` or a `*.localhost` name
 * (RFC 6761 section 6.3 reserves them for loopback), an address in 127.0.0.0/8, or `[::1]`, with or without a port.
 */
export function isLoopbackHost(host: string): boolean {
  const match = HOST_PATTERN.exec(host);
  if (!match) return false;
  const [, v6, name, port] = match;
  if (port !== undefined && Number(port) > 65_535) return false;
  if (v6 !== undefined) return isIPv6(v6) && LOOPBACK.check(v6, 'ipv6');
  const lower = (name ?? '').toLowerCase();
  if (isIPv4(lower)) return LOOPBACK.check(lower, 'ipv4');
  return (
    lower === 'localhost' || (lower.endsWith('.localhost') && /^(?:[a-z0-9-]+\.)+localhost$/.test(lower))
  );
}

/** Whether an Origin header value is an http(s) origin on this machine (`null` and other schemes are not). */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.host);
}

/** The headers the guard reads, as Node's `IncomingMessage.headers` has them (lower-case names). */
export interface CallerHeaders {
  readonly host?: string | undefined;
  readonly origin?: string | undefined;
  readonly 'sec-fetch-site'?: string | string[] | undefined;
}

/**
 * Why a request must be refused, or undefined when it comes from this machine. Refused: a Host that is not
 * loopback (DNS rebinding); an Origin that is not loopback, whatever the method, because the local cloud's
 * Query protocol (IAM, STS, EC2) takes actions by GET as well; and a request the browser marks
 * `Sec-Fetch-Site: cross-site` without a loopback Origin (an `<img>` or no-cors GET, which carries no Origin).
 * See MDN, "Fetch metadata" and "Sec-Fetch-Site". The servers send no CORS headers, so no page reads an answer.
 */
export function nonLocalCallerReason(headers: CallerHeaders): string | undefined {
  const host = headers.host;
  if (host === undefined || host === '')
    return 'the request has no Host header; this server answers only callers on this machine';
  if (!isLoopbackHost(host))
    return `Host '${quote(host)}' is not a loopback name or address (localhost, 127.0.0.1, [::1]); this server answers only callers on this machine`;
  const origin = headers.origin;
  if (origin !== undefined && !isLoopbackOrigin(origin))
    return `Origin '${quote(origin)}' is not on this machine; web pages from other sites may not call this server`;
  if (origin === undefined && String(headers['sec-fetch-site']).toLowerCase() === 'cross-site')
    return 'a browser request from another site (Sec-Fetch-Site: cross-site); web pages from other sites may not call this server';
  return undefined;
}

function quote(value: string): string {
  return value.length > QUOTE_LIMIT ? `${value.slice(0, QUOTE_LIMIT)}…` : value;
}
