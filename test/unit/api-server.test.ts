import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import { rawRequest } from './raw-request.ts';

describe('the local API server', () => {
  it('lets a request under way finish when it is closed, then takes no more', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const api = await startLocalApi({
      port: 0,
      handler: async () => {
        entered();
        await gate;
        return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
    });
    const post = () =>
      fetch(`${api.url}/accounts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    const underWay = post();
    await inHandler;

    let closed = false;
    const closing = api.close().then(() => {
      closed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);

    release();
    const answer = await underWay;
    expect(answer.status).toBe(202);
    expect(await answer.json()).toEqual({ ok: true });
    await closing;
    expect(closed).toBe(true);
    await expect(post()).rejects.toThrow();
  });
});

describe('the local API server, for callers on this machine only', () => {
  let api: LocalApi;
  let calls: number;
  beforeEach(async () => {
    calls = 0;
    api = await startLocalApi({
      port: 0,
      handler: async () => {
        calls++;
        return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
    });
  });
  afterEach(() => api.close());

  it('refuses a request whose Host is not this machine (DNS rebinding) before the handler sees it', async () => {
    const answer = await rawRequest(`${api.url}/accounts`, { headers: { host: `evil.example:${api.port}` } });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        status: 403,
        message: expect.stringMatching(/^Host 'evil\.example:\d+' is not a loopback name or address/),
        fix: expect.stringContaining('from this machine'),
      },
    });
    expect(calls).toBe(0);
  });

  it("refuses a web page's text/plain POST from another site, with no CORS header", async () => {
    const answer = await rawRequest(`${api.url}/accounts`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("Origin 'http://evil.example' is not on this machine");
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('answers a loopback Origin, no Origin, and [::1] or localhost as the Host', async () => {
    const cases: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${api.port}` },
      {},
      { host: `[::1]:${api.port}` },
      { host: `localhost:${api.port}` },
    ];
    for (const headers of cases) {
      const answer = await rawRequest(`${api.url}/accounts`, { method: 'POST', headers, body: '{}' });
      expect(answer.status).toBe(202);
    }
    expect(calls).toBe(4);
  });
});

describe('the local API server, for Slack’s callbacks', () => {
  it('hands POST /slack/interactions to its own handler, with no caller identity and the body byte for byte', async () => {
    const events: APIGatewayProxyEvent[] = [];
    let apiCalls = 0;
    const api = await startLocalApi({
      port: 0,
      handler: async () => {
        apiCalls++;
        return { statusCode: 404, body: '{}' };
      },
      slackInteractions: async (event) => {
        events.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"text":"ok"}' };
      },
    });
    try {
      const form = 'payload=%7B%22type%22%3A%22block_actions%22%7D&extra=caf%C3%A9+au+lait';
      const signedAsIam =
        'AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0';
      const answer = await fetch(`${api.url}/slack/interactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'X-Slack-Signature': 'v0=abc',
          authorization: signedAsIam,
        },
        body: form,
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ text: 'ok' });
      const bytes = Buffer.from([0x70, 0x3d, 0xff, 0xfe, 0x00, 0x41]);
      await fetch(`${api.url}/slack/interactions`, { method: 'POST', body: bytes });

      expect(apiCalls).toBe(0);
      const [text, binary] = events;
      expect(text).toMatchObject({
        httpMethod: 'POST',
        path: '/slack/interactions',
        resource: '/slack/interactions',
        body: form,
        isBase64Encoded: false,
      });
      expect(text!.headers['X-Slack-Signature']).toBe('v0=abc');
      expect(text!.requestContext.identity).toMatchObject({
        caller: null,
        userArn: null,
        user: null,
        accessKey: null,
      });
      expect(binary).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });

      // Other methods and paths still go to the API.
      await fetch(`${api.url}/slack/interactions`);
      await fetch(`${api.url}/slack/interactions/x`, { method: 'POST', body: '{}' });
      expect(apiCalls).toBe(2);
      expect(events).toHaveLength(2);
    } finally {
      await api.close();
    }
  });
});
