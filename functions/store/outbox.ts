import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { aws } from '../shared/errors.ts';
import { type ItemKey, LIST_INDEX, type RegistryTable, stripKeys } from './table.ts';

/** Where a message lives, and the list index partition that holds the messages not delivered yet. */
const keyOf = (id: string): ItemKey => ({ pk: `OUTBOX#${id}`, sk: 'OUTBOX' });
const UNDELIVERED = 'OUTBOX#UNDELIVERED';
/** How long a delivered or refused message is remembered (DynamoDB's TTL deletes it then). */
export const OUTBOX_TTL_SECONDS = 30 * 24 * 60 * 60;

/**
 * What Vend sends: the ready and failure messages of a request, a drift event's and a sweep's announcement, the
 * request for approval to the approvers (`approval`), its outcome to the requester (`decision`), and an account put
 * on hold or released (`hold`).
 */
export type OutboxKind = 'ready' | 'failure' | 'drift' | 'sweep' | 'approval' | 'decision' | 'hold';

/**
 * A message on its way to Slack. `pending` waits for an attempt at `nextAttemptAt`; `sending` is claimed by one
 * attempt until `leaseUntil`; `delivered` Slack took it; `refused` Slack refused it for good (400: the message
 * itself is wrong), and no attempt will change that.
 */
export interface OutboxMessage {
  id: string;
  kind: OutboxKind;
  /** The Slack payload, as posted. */
  message: unknown;
  /** Ids to log with it (request id, account id, drift records): never a secret. */
  context: Record<string, unknown>;
  state: 'pending' | 'sending' | 'delivered' | 'refused';
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds of the next attempt, while pending. */
  nextAttemptAt: number;
  /** Attempts claimed so far. */
  attempts: number;
  /** Epoch milliseconds until which the claim of `claimToken` holds, while sending. */
  leaseUntil?: number;
  claimToken?: string;
  lastError?: string;
  /** Epoch milliseconds when it was delivered or refused. */
  endedAt?: number;
  /** Set when the message was first reported undelivered (metric SlackUndelivered). */
  reportedUndeliveredAt?: number;
  expiresAt?: number;
}

/** A message to put in the outbox. */
export interface NewOutboxMessage {
  /** Deterministic: the same message of the same request or event always has the same id. */
  id: string;
  kind: OutboxKind;
  message: unknown;
  context?: Record<string, unknown>;
}

/** What a claim found: the message is this attempt's to send, or why not. */
export type OutboxClaim =
  | { claimed: true; message: OutboxMessage }
  | { claimed: false; state: 'delivered' | 'refused' | 'busy' | 'missing'; message?: OutboxMessage };

const sortKey = (ms: number) => String(ms).padStart(15, '0');

/**
 * The Slack outbox: every message Vend sends is written here first under a deterministic id, so a retried step
 * never makes a second message, then claimed (one attempt at a time), posted and marked delivered. Messages not
 * delivered yet sit in the list index's `OUTBOX#UNDELIVERED` partition, ordered by their next attempt, for the
 * deliverer.
 */
export class OutboxStore {
  constructor(readonly table: RegistryTable) {}

  /** A message, read consistently. */
  get(id: string): Promise<OutboxMessage | undefined> {
    return this.table.get<OutboxMessage>(keyOf(id));
  }

  /** Puts a message in, unless one with its id is there already (`created: false`: the earlier one stands). */
  async enqueue(entry: NewOutboxMessage, now: number): Promise<{ created: boolean }> {
    const written = await this.table.write(
      new PutCommand({
        TableName: this.table.name,
        Item: {
          ...keyOf(entry.id),
          id: entry.id,
          kind: entry.kind,
          message: entry.message,
          context: entry.context ?? {},
          state: 'pending',
          createdAt: now,
          nextAttemptAt: now,
          attempts: 0,
          gsi1pk: UNDELIVERED,
          gsi1sk: `${sortKey(now)}#${entry.id}`,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { created: written.ok };
  }

  /**
   * Claims a message for one attempt of `leaseMs`: a pending one, or one whose earlier claim expired (its holder
   * crashed or timed out). A delivered or refused message, or one a live attempt holds, is not claimed.
   */
  async claim(id: string, token: string, now: number, leaseMs: number): Promise<OutboxClaim> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keyOf(id),
        UpdateExpression:
          'SET #state = :sending, leaseUntil = :lease, claimToken = :token, attempts = attempts + :one, gsi1sk = :sk',
        ConditionExpression:
          'attribute_exists(pk) AND (#state = :pending OR (#state = :sending AND leaseUntil < :now))',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sending': 'sending',
          ':pending': 'pending',
          ':lease': now + leaseMs,
          ':token': token,
          ':one': 1,
          ':now': now,
          // Listed again as due when the lease runs out, in case this attempt never finishes.
          ':sk': `${sortKey(now + leaseMs)}#${id}`,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (written.ok) return { claimed: true, message: stripKeys<OutboxMessage>(written.attributes ?? {}) };
    const current = await this.get(id);
    if (!current) return { claimed: false, state: 'missing' };
    const state = current.state === 'delivered' || current.state === 'refused' ? current.state : 'busy';
    return { claimed: false, state, message: current };
  }

  /** Marks a claimed message delivered: it leaves the undelivered list and is never sent again. */
  async markDelivered(id: string, now: number): Promise<void> {
    await this.finish(id, 'delivered', now);
  }

  /** Marks a claimed message refused for good (Slack answered that the message itself is wrong). */
  async markRefused(id: string, now: number, error: string): Promise<void> {
    await this.finish(id, 'refused', now, error);
  }

  /** Gives a claimed message back for another attempt at `nextAttemptAt`, with what went wrong. */
  async release(id: string, token: string, nextAttemptAt: number, error: string): Promise<void> {
    await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keyOf(id),
        UpdateExpression:
          'SET #state = :pending, nextAttemptAt = :next, lastError = :error, gsi1sk = :sk REMOVE leaseUntil, claimToken',
        ConditionExpression: '#state = :sending AND claimToken = :token',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':sending': 'sending',
          ':next': nextAttemptAt,
          ':error': error.slice(0, 1000),
          ':sk': `${sortKey(nextAttemptAt)}#${id}`,
          ':token': token,
        },
      }),
    );
  }

  /** Records that the message was reported undelivered, once. */
  async markReportedUndelivered(id: string, now: number): Promise<boolean> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keyOf(id),
        UpdateExpression: 'SET reportedUndeliveredAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(reportedUndeliveredAt)',
        ExpressionAttributeValues: { ':now': now },
      }),
    );
    return written.ok;
  }

  /**
   * Messages not delivered yet whose next attempt is due at `now` (claimed ones included: their lease may have
   * expired), oldest due first, at most `limit`.
   */
  async due(now: number, limit: number): Promise<OutboxMessage[]> {
    const result = await aws(
      this.table.db.send(
        new QueryCommand({
          TableName: this.table.name,
          IndexName: LIST_INDEX,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk < :upto',
          ExpressionAttributeValues: { ':p': UNDELIVERED, ':upto': `${sortKey(now)}#\uffff` },
          ScanIndexForward: true,
          Limit: limit,
        }),
      ),
    );
    return (result.Items ?? []).map((item) => stripKeys<OutboxMessage>(item));
  }

  private async finish(
    id: string,
    state: 'delivered' | 'refused',
    now: number,
    error?: string,
  ): Promise<void> {
    // Not conditioned on this attempt's claim: a message another attempt took over after this one's lease ran out
    // is marked all the same, since Slack has it (or refused it) either way.
    await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: keyOf(id),
        UpdateExpression: `SET #state = :state, endedAt = :now, expiresAt = :expires${error ? ', lastError = :error' : ''} REMOVE gsi1pk, gsi1sk, leaseUntil, claimToken`,
        ConditionExpression: 'attribute_exists(pk) AND #state <> :delivered',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':state': state,
          ':now': now,
          ':expires': Math.floor(now / 1000) + OUTBOX_TTL_SECONDS,
          ':delivered': 'delivered',
          ...(error ? { ':error': error.slice(0, 1000) } : {}),
        },
      }),
    );
  }
}
