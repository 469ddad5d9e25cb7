import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing, v0 (Slack API docs, "Verifying requests from Slack",
 * https://api.slack.com/authentication/verifying-requests-from-slack): Slack sends `X-Slack-Request-Timestamp`
 * (epoch seconds) and `X-Slack-Signature: v0=<hex>`, the HMAC-SHA256, keyed with the app's signing secret, of
 * `v0:{timestamp}:{raw body}`. The receiver computes the same over the body's bytes exactly as they arrived,
 * compares in constant time, and refuses a timestamp more than five minutes from its clock, so a captured request
 * cannot be replayed later; within those five minutes, remembering each accepted signature refuses it too.
 */

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';

/** How far a request's timestamp may be from the receiver's clock, either way (Slack's docs: five minutes). */
export const SLACK_SIGNATURE_MAX_SKEW_SECONDS = 5 * 60;

const VERSION = 'v0';

/** `v0=` and the hex HMAC-SHA256 of `v0:{timestamp}:{body}` with `secret`: the signature Slack sends. */
export function slackSignature(secret: string, timestamp: string | number, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${VERSION}:${timestamp}:`);
  hmac.update(body);
  return `${VERSION}=${hmac.digest('hex')}`;
}

/** The two headers Slack signs a request with, for a body sent at `nowMs` (the local Slack sink signs this way). */
export function signSlackRequest(
  secret: string,
  body: string,
  nowMs: number = Date.now(),
): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    [SLACK_TIMESTAMP_HEADER]: String(timestamp),
    [SLACK_SIGNATURE_HEADER]: slackSignature(secret, timestamp, body),
  };
}

/** Why a request was not accepted as Slack's: for the log only, never for the caller. */
export type SlackSignatureRefusal =
  | 'no signing secret configured'
  | 'missing X-Slack-Request-Timestamp or X-Slack-Signature'
  | 'malformed X-Slack-Request-Timestamp'
  | 'timestamp more than five minutes from now'
  | 'malformed X-Slack-Signature'
  | 'signature does not match'
  | 'replayed';

export type SlackVerification =
  | { readonly ok: true; readonly timestamp: number; readonly signature: string }
  | { readonly ok: false; readonly reason: SlackSignatureRefusal };

export interface SlackVerificationInput {
  /** The request's headers, any case (API Gateway passes them as the client sent them). */
  headers: Record<string, string | undefined> | null | undefined;
  /** The body's bytes exactly as they arrived. */
  rawBody: Buffer;
  /** The signing secret; undefined when none is configured (then every request is refused). */
  secret: string | undefined;
  /** Milliseconds since the epoch: the wall clock, as Slack's own. */
  nowMs: number;
  /**
   * Records an accepted (timestamp, signature) and answers whether it was new; false refuses the request as a
   * replay. Called only for a request whose signature and timestamp are good, so a forgery writes nothing.
   */
  remember: (timestamp: number, signature: string) => Promise<boolean>;
}

/**
 * Checks a request against Slack's v0 signature: both headers present, the timestamp within
 * `SLACK_SIGNATURE_MAX_SKEW_SECONDS` of `nowMs` either way, the signature equal (constant time) to the HMAC of
 * the raw body, and never seen before (`remember`). The refusal says why, for the log.
 */
export async function verifySlackRequest(input: SlackVerificationInput): Promise<SlackVerification> {
  if (!input.secret) return { ok: false, reason: 'no signing secret configured' };
  const timestampText = headerOf(input.headers, SLACK_TIMESTAMP_HEADER);
  const signature = headerOf(input.headers, SLACK_SIGNATURE_HEADER);
  if (timestampText === undefined || signature === undefined) {
    return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' };
  }
  if (!/^\d{1,12}$/.test(timestampText)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp' };
  const timestamp = Number(timestampText);
  if (Math.abs(input.nowMs / 1000 - timestamp) > SLACK_SIGNATURE_MAX_SKEW_SECONDS) {
    return { ok: false, reason: 'timestamp more than five minutes from now' };
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'malformed X-Slack-Signature' };
  const expected = Buffer.from(slackSignature(input.secret, timestampText, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual throws on buffers of different lengths; the pattern above fixes the length, checked again.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature does not match' };
  }
  if (!(await input.remember(timestamp, signature))) return { ok: false, reason: 'replayed' };
  return { ok: true, timestamp, signature };
}

/** A header's value, whatever its case; a repeated header (joined by commas) counts as malformed. */
function headerOf(
  headers: Record<string, string | undefined> | null | undefined,
  name: string,
): string | undefined {
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === name && value !== undefined) return value.trim();
  }
  return undefined;
}
