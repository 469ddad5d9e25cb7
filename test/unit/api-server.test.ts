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
