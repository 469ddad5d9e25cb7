import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMetrics } from '../../functions/shared/metrics.ts';
import { METRIC } from '../../functions/shared/metrics-names.ts';
import { type ApiEnv, accountBody, startApiEnv } from './harness.ts';

describe('the API counts the vends it accepts', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());

  it('emits VendsRequested once per accepted POST: not for a replay, not for a refusal', async () => {
    const metrics = new MemoryMetrics();
    const api = await env.startApi({ metrics });
    try {
      const body = accountBody();
      const headers = { 'idempotency-key': `metrics-${Math.random().toString(36).slice(2)}` };
      expect((await api.call('POST', '/accounts', { body, headers })).status).toBe(202);
      expect((await api.call('POST', '/accounts', { body: accountBody() })).status).toBe(202);
      expect(metrics.total(METRIC.vendsRequested)).toBe(2);

      expect((await api.call('POST', '/accounts', { body, headers })).status).toBe(202);
      expect(
        (await api.call('POST', '/accounts', { body: { ...accountBody(), owner: 'nobody' } })).status,
      ).toBe(400);
      expect(metrics.total(METRIC.vendsRequested)).toBe(2);
    } finally {
      await api.close();
    }
  });
});
