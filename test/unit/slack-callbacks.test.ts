import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { SLACK_CALLBACK_TTL_SECONDS } from '../../functions/store/slack-callbacks.ts';
import { REGISTRY_TABLE } from '../../functions/store/table.ts';
import { useStores } from './store-harness.ts';

const TABLE = 'vend-slack-callbacks-test';
const env = useStores(TABLE);
let serial = 0;
const signature = () => `v0=${String(++serial).padStart(64, '0')}`;

describe('the Slack callbacks store', () => {
  it('remembers a callback once: the same timestamp and signature again is not new', async () => {
    const sig = signature();
    expect(await env.stores.slackCallbacks.remember(1_790_000_000, sig)).toBe(true);
    expect(await env.stores.slackCallbacks.remember(1_790_000_000, sig)).toBe(false);
    expect(await env.stores.slackCallbacks.remember(1_790_000_001, sig)).toBe(true);
    expect(await env.stores.slackCallbacks.remember(1_790_000_000, signature())).toBe(true);
  });

  it('lets exactly one of many simultaneous deliveries of a callback be new', async () => {
    const sig = signature();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => env.stores.slackCallbacks.remember(1_790_000_000, sig)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('expires the record through the table TTL once its timestamp is no longer accepted', async () => {
    const sig = signature();
    await env.stores.slackCallbacks.remember(1_790_000_000, sig, Date.UTC(2026, 8, 21));
    const { Item } = await env.db.send(
      new GetCommand({
        TableName: TABLE,
        Key: { pk: `SLACK-CALLBACK#1790000000#${sig}`, sk: 'SLACK-CALLBACK' },
        ConsistentRead: true,
      }),
    );
    expect(Item).toMatchObject({
      timestamp: 1_790_000_000,
      signature: sig,
      receivedAt: '2026-09-21T00:00:00.000Z',
      [REGISTRY_TABLE.timeToLiveAttribute]: 1_790_000_000 + SLACK_CALLBACK_TTL_SECONDS,
    });
    expect(SLACK_CALLBACK_TTL_SECONDS).toBeGreaterThan(5 * 60);
  });
});
