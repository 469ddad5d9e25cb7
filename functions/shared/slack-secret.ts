import { aws } from './errors.ts';

/**
 * What the stack stores in the Slack webhook secret until the operator puts the URL in: anything that is not an
 * https URL counts as "no webhook configured", so the pipeline vends accounts and records that nobody was told.
 */
export const SLACK_SECRET_PLACEHOLDER =
  'REPLACE-ME: the Slack incoming-webhook URL (https://hooks.slack.com/...)';

/** How long a secret without a URL is believed: the operator's update takes effect within this time. */
export const UNSET_SECRET_RECHECK_MS = 5 * 60 * 1000;

/** Reads a secret's string value (GetSecretValue); injectable so the caching can be tested without AWS. */
export type SecretReader = (secretArn: string) => Promise<string | undefined>;

/**
 * The webhook URL from a Secrets Manager secret, read on first use and kept for the life of the Lambda
 * environment (a cold start reads it again). A secret that holds no https URL yet (the placeholder) is read again
 * after `UNSET_SECRET_RECHECK_MS`. The value is never logged: it grants posting to the channel.
 */
export function slackWebhookFromSecret(
  secretArn: string,
  options: { read?: SecretReader; now?: () => number; onUnset?: () => void } = {},
): () => Promise<string | undefined> {
  const read = options.read ?? readSecretString;
  const now = options.now ?? Date.now;
  let url: string | undefined;
  let unsetUntil = 0;
  let pending: Promise<string | undefined> | undefined;
  return async () => {
    if (url) return url;
    if (now() < unsetUntil) return undefined;
    pending ??= read(secretArn)
      .then((value) => {
        const trimmed = value?.trim();
        if (trimmed && /^https:\/\/\S+$/.test(trimmed)) {
          url = trimmed;
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
