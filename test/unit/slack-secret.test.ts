import { describe, expect, it, vi } from 'vitest';
import {
  SLACK_SECRET_PLACEHOLDER,
  slackWebhookFromSecret,
  UNSET_SECRET_RECHECK_MS,
} from '../../functions/shared/slack-secret.ts';

const ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:VendSlackWebhook-abc123';
const URL = 'https://hooks.slack.com/services/T0/B0/secret';

describe('the Slack webhook from Secrets Manager', () => {
  it('reads the secret once per Lambda environment, however many messages follow', async () => {
    const read = vi.fn(async () => `${URL}\n`);
    const webhook = slackWebhookFromSecret(ARN, { read });
    expect(await Promise.all([webhook(), webhook()])).toEqual([URL, URL]);
    expect(await webhook()).toBe(URL);
    expect(read).toHaveBeenCalledTimes(1);
    expect(read).toHaveBeenCalledWith(ARN);
  });

  it('counts the placeholder as no webhook, and looks again after a while for the operator’s URL', async () => {
    let now = 0;
    let value = SLACK_SECRET_PLACEHOLDER;
    const read = vi.fn(async () => value);
    const onUnset = vi.fn();
    const webhook = slackWebhookFromSecret(ARN, { read, now: () => now, onUnset });
    expect(await webhook()).toBeUndefined();
    expect(onUnset).toHaveBeenCalledTimes(1);

    value = URL;
    now += UNSET_SECRET_RECHECK_MS - 1;
    expect(await webhook()).toBeUndefined();
    expect(read).toHaveBeenCalledTimes(1);

    now += 1;
    expect(await webhook()).toBe(URL);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('counts an empty or non-https value as no webhook', async () => {
    for (const value of [undefined, '', '   ', 'http://hooks.slack.com/x', 'hooks.slack.com/x']) {
      expect(await slackWebhookFromSecret(ARN, { read: async () => value })()).toBeUndefined();
    }
  });

  it('lets a failed read propagate and tries again on the next message', async () => {
    const read = vi
      .fn<(arn: string) => Promise<string | undefined>>()
      .mockRejectedValueOnce(Object.assign(new Error('rate exceeded'), { name: 'Vend.Throttled' }))
      .mockResolvedValueOnce(URL);
    const webhook = slackWebhookFromSecret(ARN, { read });
    await expect(webhook()).rejects.toMatchObject({ name: 'Vend.Throttled' });
    expect(await webhook()).toBe(URL);
  });
});
