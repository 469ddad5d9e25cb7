import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { SLACK_SIGNATURE_MAX_SKEW_SECONDS } from '../shared/slack-signature.ts';
import type { ItemKey, RegistryTable } from './table.ts';

/**
 * How long after its own timestamp a callback is remembered: as long as its timestamp is accepted
 * (`SLACK_SIGNATURE_MAX_SKEW_SECONDS`), and a minute more for clocks that differ; DynamoDB's TTL deletes it later.
 */
export const SLACK_CALLBACK_TTL_SECONDS = SLACK_SIGNATURE_MAX_SKEW_SECONDS + 60;

const keyOf = (timestamp: number, signature: string): ItemKey => ({
  pk: `SLACK-CALLBACK#${timestamp}#${signature}`,
  sk: 'SLACK-CALLBACK',
});

/** A Slack callback accepted once: its signed timestamp and signature. */
export interface SlackCallbackRecord {
  timestamp: number;
  signature: string;
  receivedAt: string;
  /** Epoch seconds, the table's TTL attribute. */
  expiresAt: number;
}

/**
 * The Slack callbacks accepted lately, so that the same signed callback sent again is refused: a signature is
 * good for five minutes (see `verifySlackRequest`), and within those the registry remembers it.
 */
export class SlackCallbackStore {
  constructor(readonly table: RegistryTable) {}

  /**
   * Remembers a callback; true when it is new, false when it was accepted before. A conditional write, so of two
   * deliveries of the same callback at the same moment exactly one is new.
   */
  async remember(timestamp: number, signature: string, nowMs: number = Date.now()): Promise<boolean> {
    const record: SlackCallbackRecord = {
      timestamp,
      signature,
      receivedAt: new Date(nowMs).toISOString(),
      expiresAt: timestamp + SLACK_CALLBACK_TTL_SECONDS,
    };
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keyOf(timestamp, signature), ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return written.ok;
  }
}
