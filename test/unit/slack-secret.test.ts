import { describe, expect, it, vi } from 'vitest';
import {
  checkWebhookUrl,
  isSlackResponseUrl,
  SIGNING_SECRET_RECHECK_MS,
  SLACK_SECRET_PLACEHOLDER,
  SLACK_SIGNING_SECRET_PLACEHOLDER,
  slackSigningSecretFromSecret,
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

  it('counts an empty value or one that is no URL as no webhook', async () => {
    for (const value of [undefined, '', '   ', 'hooks.slack.com/x', SLACK_SECRET_PLACEHOLDER]) {
      expect(await slackWebhookFromSecret(ARN, { read: async () => value })()).toBeUndefined();
    }
  });

  it('refuses a URL that is not a Slack webhook, naming the host and not the path, and reads again next time', async () => {
    const read = vi
      .fn<(arn: string) => Promise<string | undefined>>()
      .mockResolvedValueOnce('https://hooks.evil.example/services/T0/B0/secret')
      .mockResolvedValueOnce(URL);
    const webhook = slackWebhookFromSecret(ARN, { read });

    const refused = (await webhook().then(
      () => undefined,
      (error: unknown) => error,
    )) as Error;
    expect(refused).toMatchObject({ name: 'ConfigError' });
    expect(refused.message).toContain('hooks.evil.example');
    expect(refused.message).toContain('hooks.slack.com');
    expect(refused.message).not.toContain('secret');
    expect(await webhook()).toBe(URL);
  });

  it('reads the secret again when asked to refresh (Slack said the webhook is gone), and keeps the new URL', async () => {
    const rotated = 'https://hooks.slack.com/services/T0/B1/rotated';
    const read = vi
      .fn<(arn: string) => Promise<string | undefined>>()
      .mockResolvedValueOnce(URL)
      .mockResolvedValueOnce(rotated);
    const webhook = slackWebhookFromSecret(ARN, { read });
    expect(await webhook()).toBe(URL);
    expect(await webhook({ refresh: true })).toBe(rotated);
    expect(await webhook()).toBe(rotated);
    expect(read).toHaveBeenCalledTimes(2);
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

describe('checkWebhookUrl', () => {
  it("accepts Slack's and GovSlack's incoming-webhook URLs", () => {
    expect(checkWebhookUrl(URL)).toBe(URL);
    const gov = 'https://hooks.slack-gov.com/services/T0/B0/secret';
    expect(checkWebhookUrl(gov)).toBe(gov);
  });

  it.each([
    ['another host', 'https://example.com/services/T0/B0/x'],
    ['a look-alike host', 'https://hooks.slack.com.evil.example/services/T0/B0/x'],
    ['a subdomain of the host', 'https://x.hooks.slack.com/services/T0/B0/x'],
    ['http', 'http://hooks.slack.com/services/T0/B0/x'],
    ['another port', 'https://hooks.slack.com:8443/services/T0/B0/x'],
    ['credentials in the URL', 'https://user:pass@hooks.slack.com/services/T0/B0/x'],
    ['another path', 'https://hooks.slack.com/workflows/T0/x'],
    ['no URL at all', 'not a url'],
    ['a loopback sink when not allowed', 'http://127.0.0.1:4000/services/x'],
  ])('refuses %s with a ConfigError', (_what, url) => {
    expect(() => checkWebhookUrl(url)).toThrow(expect.objectContaining({ name: 'ConfigError' }));
  });

  it('accepts a loopback sink only when the local pipeline allows it', () => {
    for (const url of [
      'http://127.0.0.1:4000/hook',
      'http://localhost:4000/hook',
      'http://[::1]:4000/hook',
    ]) {
      expect(checkWebhookUrl(url, { allowLoopback: true })).toBe(url);
    }
    expect(() => checkWebhookUrl('http://10.0.0.1:4000/hook', { allowLoopback: true })).toThrow(
      expect.objectContaining({ name: 'ConfigError' }),
    );
  });
});

describe('the Slack signing secret from Secrets Manager', () => {
  const SIGNING_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:VendSlackSigningSecret-abc123';
  const SIGNING = '8f742231b10e8888abcd99yyyzzz85a5';

  it('reads the secret once, however many callbacks come at once, and again after a while (rotation)', async () => {
    let now = 0;
    let value = `${SIGNING}\n`;
    const read = vi.fn(async () => value);
    const secret = slackSigningSecretFromSecret(SIGNING_ARN, { read, now: () => now });
    expect(await Promise.all([secret(), secret(), secret()])).toEqual([SIGNING, SIGNING, SIGNING]);
    expect(read).toHaveBeenCalledTimes(1);
    expect(read).toHaveBeenCalledWith(SIGNING_ARN);

    value = 'rotated0123456789abcdef01234567';
    now += SIGNING_SECRET_RECHECK_MS - 1;
    expect(await secret()).toBe(SIGNING);
    now += 1;
    expect(await secret()).toBe('rotated0123456789abcdef01234567');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('counts the placeholder or an empty value as no secret, says so, and looks again after a while', async () => {
    for (const value of [SLACK_SIGNING_SECRET_PLACEHOLDER, undefined, '', '  ']) {
      let now = 0;
      const onUnset = vi.fn();
      const read = vi.fn(async () => value);
      const secret = slackSigningSecretFromSecret(SIGNING_ARN, { read, now: () => now, onUnset });
      expect(await secret()).toBeUndefined();
      expect(await secret()).toBeUndefined();
      expect(onUnset).toHaveBeenCalledTimes(1);
      now += SIGNING_SECRET_RECHECK_MS;
      await secret();
      expect(read).toHaveBeenCalledTimes(2);
    }
  });

  it('reads again after a failed read', async () => {
    const read = vi
      .fn<(arn: string) => Promise<string | undefined>>()
      .mockRejectedValueOnce(new Error('ThrottlingException'))
      .mockResolvedValueOnce(SIGNING);
    const secret = slackSigningSecretFromSecret(SIGNING_ARN, { read });
    await expect(secret()).rejects.toThrow('ThrottlingException');
    expect(await secret()).toBe(SIGNING);
  });
});

describe("an interaction's response_url", () => {
  it("is posted to only on Slack's hosts over https", () => {
    expect(isSlackResponseUrl('https://hooks.slack.com/actions/T0/1/abc')).toBe(true);
    expect(isSlackResponseUrl('https://hooks.slack-gov.com/actions/T0/1/abc')).toBe(true);
    for (const url of [
      'http://hooks.slack.com/actions/T0/1/abc',
      'https://hooks.slack.com:8443/actions/T0/1/abc',
      'https://hooks.slack.com.evil.example/actions/T0/1/abc',
      'https://user:pass@hooks.slack.com/actions/T0/1/abc',
      'https://169.254.169.254/latest/meta-data',
      'http://127.0.0.1:4580/actions/1/abc',
      'not a url',
      42,
      undefined,
    ]) {
      expect(isSlackResponseUrl(url), String(url)).toBe(false);
    }
  });

  it('may be the local sink only when the local pipeline allows it', () => {
    expect(isSlackResponseUrl('http://127.0.0.1:4580/actions/1/abc', { allowLoopback: true })).toBe(true);
    expect(isSlackResponseUrl('http://10.0.0.1:4580/actions/1/abc', { allowLoopback: true })).toBe(false);
  });
});
