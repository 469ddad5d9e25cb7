import { aws, ConfigError } from './errors.ts';

/**
 * Slack's own incoming-webhook hosts: Slack's commercial service and GovSlack (Slack API docs, "Sending messages
 * using incoming webhooks": `https://hooks.slack.com/services/T.../B.../...`; GovSlack's "Developing for
 * GovSlack": `hooks.slack-gov.com`). A webhook anywhere else would send requesters' details to another server.
 */
export const SLACK_WEBHOOK_HOSTS: readonly string[] = ['hooks.slack.com', 'hooks.slack-gov.com'];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Checks a webhook URL and returns it: https on one of `SLACK_WEBHOOK_HOSTS` with a `/services/...` path, or,
 * only when `allowLoopback` (a setting the local pipeline passes in code, never read from a deployed function's
 * environment), http or https on a loopback address (the local Slack sink). Anything else is a ConfigError that
 * names the host and the fix, never the URL itself (its path is the secret).
 */
export function checkWebhookUrl(value: string, options: { allowLoopback?: boolean } = {}): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('the Slack webhook is not a URL: put the incoming-webhook URL Slack gave you');
  }
  if (options.allowLoopback && LOOPBACK_HOSTS.has(url.hostname) && /^https?:$/.test(url.protocol))
    return value;
  const slackHost = SLACK_WEBHOOK_HOSTS.includes(url.hostname);
  if (url.protocol !== 'https:' || !slackHost || url.port !== '' || url.username || url.password) {
    throw new ConfigError(
      `the Slack webhook must be an https URL on ${SLACK_WEBHOOK_HOSTS.join(' or ')}; got ${url.protocol}//${url.host}: ` +
        'put the incoming-webhook URL Slack gave you (https://hooks.slack.com/services/...)',
    );
  }
  if (!url.pathname.startsWith('/services/')) {
    throw new ConfigError(
      `the Slack webhook on ${url.hostname} must have a /services/... path: put the incoming-webhook URL Slack gave you`,
    );
  }
  return value;
}

/**
 * What the stack stores in the Slack webhook secret until the operator puts the URL in: anything that is not a
 * URL counts as "no webhook configured", so the pipeline vends accounts and records that nobody was told.
 */
export const SLACK_SECRET_PLACEHOLDER =
  'REPLACE-ME: the Slack incoming-webhook URL (https://hooks.slack.com/...)';

/** How long a secret without a URL is believed: the operator's update takes effect within this time. */
export const UNSET_SECRET_RECHECK_MS = 5 * 60 * 1000;

/** Reads a secret's string value (GetSecretValue); injectable so the caching can be tested without AWS. */
export type SecretReader = (secretArn: string) => Promise<string | undefined>;

/** Reads the webhook URL; `refresh` reads its source again (Slack answered that the webhook is gone). */
export type WebhookSource = (options?: { refresh?: boolean }) => Promise<string | undefined>;

/**
 * The webhook URL from a Secrets Manager secret, read on first use and kept for the life of the Lambda
 * environment, or until a caller asks to `refresh` it (Slack answered 404 or 410: the URL was rotated). A secret
 * that holds no URL yet (the placeholder) is read again after `UNSET_SECRET_RECHECK_MS`; a URL that is not a Slack
 * webhook (see `checkWebhookUrl`) is refused with a ConfigError and read again on the next call. The value is never
 * logged: it grants posting to the channel.
 */
export function slackWebhookFromSecret(
  secretArn: string,
  options: { read?: SecretReader; now?: () => number; onUnset?: () => void; allowLoopback?: boolean } = {},
): WebhookSource {
  const read = options.read ?? readSecretString;
  const now = options.now ?? Date.now;
  let url: string | undefined;
  let unsetUntil = 0;
  let pending: Promise<string | undefined> | undefined;
  return async (request) => {
    if (request?.refresh) {
      url = undefined;
      unsetUntil = 0;
    }
    if (url) return url;
    if (now() < unsetUntil) return undefined;
    pending ??= read(secretArn)
      .then((value) => {
        const trimmed = value?.trim();
        if (trimmed && /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
          url = checkWebhookUrl(trimmed, { allowLoopback: options.allowLoopback === true });
          return url;
        }
        unsetUntil = now() + UNSET_SECRET_RECHECK_MS;
        options.onUnset?.();
        return undefined;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/**
 * What the stack stores in the Slack signing secret until the operator puts the app's signing secret in (it has
 * spaces, which a signing secret never has): until then every interactivity callback is refused with 401.
 */
export const SLACK_SIGNING_SECRET_PLACEHOLDER =
  "REPLACE-ME: the Slack app's signing secret (Basic Information, App Credentials)";

/** How long the signing secret is believed, set or not: an operator's update or rotation takes effect within this. */
export const SIGNING_SECRET_RECHECK_MS = 5 * 60 * 1000;

/** The Slack app's signing secret; undefined when none is configured. */
export type SigningSecretSource = () => Promise<string | undefined>;

/**
 * The Slack signing secret from a Secrets Manager secret, read on first use and again once
 * `SIGNING_SECRET_RECHECK_MS` has passed (never on a failed signature, which anyone can send: that would let them
 * drive the reads). A value that is empty or has whitespace (the placeholder) is no secret: `onUnset` is called and
 * undefined returned. The value is never logged.
 */
export function slackSigningSecretFromSecret(
  secretArn: string,
  options: { read?: SecretReader; now?: () => number; onUnset?: () => void } = {},
): SigningSecretSource {
  const read = options.read ?? readSecretString;
  const now = options.now ?? Date.now;
  let cached: { value: string | undefined; until: number } | undefined;
  let pending: Promise<string | undefined> | undefined;
  return async () => {
    if (cached && now() < cached.until) return cached.value;
    pending ??= read(secretArn)
      .then((raw) => {
        const trimmed = raw?.trim();
        const value = trimmed && !/\s/.test(trimmed) ? trimmed : undefined;
        cached = { value, until: now() + SIGNING_SECRET_RECHECK_MS };
        if (value === undefined) options.onUnset?.();
        return value;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

/**
 * Whether a `response_url` of an interactivity payload is Slack's, and so may be posted to: https on one of
 * `SLACK_WEBHOOK_HOSTS` (Slack API docs, "Handling user interaction": `https://hooks.slack.com/actions/...`), or,
 * only when `allowLoopback` (the local pipeline sets it in code), http or https on a loopback address (the local
 * Slack sink). The payload is signed, but a check costs nothing and keeps a leaked signing secret from turning
 * the function into a way to post anywhere.
 */
export function isSlackResponseUrl(value: unknown, options: { allowLoopback?: boolean } = {}): boolean {
  if (typeof value !== 'string') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (options.allowLoopback && LOOPBACK_HOSTS.has(url.hostname) && /^https?:$/.test(url.protocol))
    return true;
  return url.protocol === 'https:' && SLACK_WEBHOOK_HOSTS.includes(url.hostname) && url.port === '';
}

/**
 * GetSecretValue through `@aws-sdk/client-secrets-manager`, loaded only when a secret is configured (on AWS; the
 * local pipeline passes the URL directly): the bundle carries the client but evaluates it on first use.
 */
async function readSecretString(secretArn: string): Promise<string | undefined> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  client ??= new SecretsManagerClient({});
  const { SecretString } = await aws(client.send(new GetSecretValueCommand({ SecretId: secretArn })));
  return SecretString;
}

/** One client per Lambda environment. */
let client: import('@aws-sdk/client-secrets-manager').SecretsManagerClient | undefined;
