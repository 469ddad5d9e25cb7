import { createHash, timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Cloud } from './cloud/index.ts';
import type { CallerRecord } from './cloud/state.ts';

/** What the issuer of an access key knows of it: enough to check a signature made with it and to name the caller. */
export interface IssuedCredential {
  secretAccessKey: string;
  /** Temporary credentials only: the token every request signed with them must carry (X-Amz-Security-Token). */
  sessionToken?: string;
  /** Whether the temporary credential has expired, by the issuer's clock. */
  expired: boolean;
  caller: CallerRecord;
}

/** The credential behind an access key id, or undefined for a key the issuer never gave out. */
export type CredentialLookup = (accessKeyId: string) => IssuedCredential | undefined;

/** The credentials a local cloud issued (its seeded keys and its AssumeRole sessions), expiry by its clock. */
export function credentialsIssuedBy(cloud: Cloud): CredentialLookup {
  return (accessKeyId) => {
    const record = cloud.state.credentials[accessKeyId];
    if (!record) return undefined;
    return {
      secretAccessKey: record.secretAccessKey,
      ...(record.sessionToken !== undefined ? { sessionToken: record.sessionToken } : {}),
      expired: record.expiresAt !== undefined && record.expiresAt <= cloud.clock.now(),
      caller: record.caller,
    };
  };
}

/** An HTTP request as it arrived: nothing decoded or normalized, the body's raw bytes. */
export interface ReceivedRequest {
  method: string;
  /** The request target: path and query, as sent. */
  target: string;
  /** Node's `rawHeaders`: name, value, name, value... */
  rawHeaders: string[];
  body: Buffer;
}

export type SignatureCheck =
  | { kind: 'unsigned' }
  | { kind: 'verified'; accessKeyId: string; caller: CallerRecord }
  /** API Gateway's answer: 403 with `{"message": ...}` and the `x-amzn-ErrorType` header. */
  | { kind: 'refused'; errorType: string; message: string };

/**
 * How far X-Amz-Date may be from the receiver's real time, either way. API Gateway's IAM authorization allows 5
 * minutes ("Signature expired: ... (... - 5 min.)"), less than the 15 of most AWS services.
 */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

const SERVICE = 'execute-api';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

// API Gateway's own wording for each refusal (AWS re:Post, "Troubleshoot signature mismatch errors with IAM
// authentication for API Gateway"; the IAM User Guide, "Troubleshoot signed requests for AWS APIs").
const INVALID_TOKEN = 'The security token included in the request is invalid.';
const EXPIRED_TOKEN = 'The security token included in the request is expired';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

const refuse = (errorType: string, message: string): SignatureCheck => ({
  kind: 'refused',
  errorType,
  message,
});

/**
 * Checks a request's SigV4 signature (service `execute-api`, Authorization header) the way API Gateway's IAM
 * authorization does, against the credentials `lookup` knows: the signature is computed again with
 * @smithy/signature-v4 from the signed headers only, the X-Amz-Date, the path and query as received and the hash
 * of the body's bytes, then compared in constant time. A request with neither an Authorization header nor
 * X-Amz-Signature in its query is unsigned. `now` is real time (ms), for the allowed clock skew.
 */
export async function verifySignature(
  request: ReceivedRequest,
  lookup: CredentialLookup,
  now: number = Date.now(),
): Promise<SignatureCheck> {
  const headers = headerValues(request.rawHeaders);
  const queryStart = request.target.indexOf('?');
  const path = queryStart === -1 ? request.target : request.target.slice(0, queryStart);
  const rawQuery = queryStart === -1 ? '' : request.target.slice(queryStart + 1);
  const query = new URLSearchParams(rawQuery);
  const authorization = headers.get('authorization');
  if (authorization === undefined) {
    if ([...query.keys()].some((key) => key.toLowerCase() === 'x-amz-signature')) {
      return refuse(
        'IncompleteSignatureException',
        'The local API verifies signatures in the Authorization header only: sign the request instead of presigning its URL.',
      );
    }
    return { kind: 'unsigned' };
  }

  const parsed = parseAuthorization(authorization, headers.get('x-amz-date'));
  if ('refused' in parsed) return parsed.refused;
  const { accessKeyId, shortDate, region, signedHeaders, signature, amzDate } = parsed;

  const signedAt = Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)),
  );
  if (shortDate !== amzDate.slice(0, 8)) {
    return refuse(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${shortDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (signedAt < now - MAX_CLOCK_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${basicIso(now - MAX_CLOCK_SKEW_MS)} (${basicIso(now)} - 5 min.)`,
    );
  }
  if (signedAt > now + MAX_CLOCK_SKEW_MS) {
    return refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${basicIso(now + MAX_CLOCK_SKEW_MS)} (${basicIso(now)} + 5 min.)`,
    );
  }

  const credential = lookup(accessKeyId);
  if (!credential) return refuse('UnrecognizedClientException', INVALID_TOKEN);
  const token = headers.get('x-amz-security-token');
  if (
    credential.sessionToken === undefined ? token !== undefined : !sameText(token, credential.sessionToken)
  ) {
    return refuse('UnrecognizedClientException', INVALID_TOKEN);
  }
  if (credential.expired) return refuse('ExpiredTokenException', EXPIRED_TOKEN);

  // The signer hashed the payload it declared in x-amz-content-sha256 (when sent): it must be this body's hash,
  // or a changed body would pass under the old hash. An unsigned payload would leave the body unauthenticated.
  const bodyHash = request.body.length
    ? createHash('sha256').update(request.body).digest('hex')
    : EMPTY_SHA256;
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash.toLowerCase() !== bodyHash) {
    return refuse('InvalidSignatureException', MISMATCH);
  }

  const toSign: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = headers.get(name);
    if (value !== undefined && name !== 'x-amz-date') toSign[name] = value;
  }
  const signer = new SignatureV4({
    service: SERVICE,
    region,
    credentials: { accessKeyId, secretAccessKey: credential.secretAccessKey },
    sha256: Sha256,
    // x-amz-content-sha256 is part of the canonical request only when the caller signed it.
    applyChecksum: false,
  });
  let expected: string | undefined;
  try {
    const signed = await signer.sign(
      {
        method: request.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        path,
        query: queryObject(query),
        headers: toSign,
        body: request.body,
      },
      { signingDate: new Date(signedAt), signableHeaders: new Set(signedHeaders) },
    );
    expected = /Signature=([0-9a-f]{64})$/.exec(signed.headers.authorization ?? '')?.[1];
  } catch {
    expected = undefined;
  }
  if (!expected || !sameHex(expected, signature)) return refuse('InvalidSignatureException', MISMATCH);
  return { kind: 'verified', accessKeyId, caller: credential.caller };
}

interface ParsedAuthorization {
  accessKeyId: string;
  shortDate: string;
  region: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

/** Reads `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...` and X-Amz-Date, or the refusal. */
function parseAuthorization(
  authorization: string,
  amzDate: string | undefined,
): ParsedAuthorization | { refused: SignatureCheck } {
  const incomplete = (message: string) => ({ refused: refuse('IncompleteSignatureException', message) });
  const space = authorization.indexOf(' ');
  const algorithm = space === -1 ? authorization : authorization.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return incomplete(
      `Authorization header requires the ${ALGORITHM} algorithm (Signature Version 4, service ${SERVICE}).`,
    );
  }
  const parameters = new Map<string, string>();
  for (const part of authorization.slice(space + 1).split(',')) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    parameters.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const missing = [
    ...['Credential', 'Signature', 'SignedHeaders']
      .filter((name) => !parameters.get(name))
      .map((name) => `Authorization header requires '${name}' parameter.`),
    ...(amzDate === undefined ? ["Authorization header requires existence of a 'X-Amz-Date' header."] : []),
  ];
  if (missing.length > 0) return incomplete(missing.join(' '));
  const [accessKeyId, shortDate, region, service, terminator, ...rest] = parameters
    .get('Credential')!
    .split('/');
  if (!accessKeyId || !shortDate || !region || terminator !== 'aws4_request' || rest.length > 0) {
    return incomplete(
      'Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.',
    );
  }
  if (service !== SERVICE) {
    return {
      refused: refuse(
        'InvalidSignatureException',
        `Credential should be scoped to correct service: '${SERVICE}'.`,
      ),
    };
  }
  if (!/^\d{8}T\d{6}Z$/.test(amzDate!)) {
    return incomplete(
      `X-Amz-Date '${amzDate}' is not an ISO-8601 basic date and time such as 20261122T031440Z.`,
    );
  }
  const signedHeaders = parameters
    .get('SignedHeaders')!
    .split(';')
    .map((name) => name.toLowerCase());
  if (!signedHeaders.includes('host')) {
    return incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  return {
    accessKeyId,
    shortDate,
    region,
    signedHeaders,
    signature: parameters.get('Signature')!,
    amzDate: amzDate!,
  };
}

/** Header values by lower-case name; repeated headers joined with commas, as SigV4's canonical headers have them. */
function headerValues(rawHeaders: string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!.trim();
    const earlier = values.get(name);
    values.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  return values;
}

/** The query as the handler sees it (URLSearchParams), repeated keys as arrays. */
function queryObject(query: URLSearchParams): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [key, value] of query) {
    const earlier = result[key];
    result[key] = earlier === undefined ? value : [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return result;
}

function sameHex(expected: string, provided: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(provided)) return false;
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(provided, 'hex'));
}

function sameText(provided: string | undefined, expected: string): boolean {
  if (provided === undefined) return false;
  const a = createHash('sha256').update(provided).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** 20261122T031440Z */
function basicIso(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}
