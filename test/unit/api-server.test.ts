import { describe, expect, it } from 'vitest';
import { startLocalApi } from '../../local/api-server.ts';

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
