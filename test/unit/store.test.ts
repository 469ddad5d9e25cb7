import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  RegistryConditionFailedError,
  ThrottledError,
} from '../../functions/shared/errors.ts';
import type { AccountDesiredState, DriftRecord, RequestRecord } from '../../functions/shared/model.ts';
import { conditionalWrite } from '../../functions/store/conditional.ts';
import { createStores } from '../../functions/store/stores.ts';
import { useStores } from './store-harness.ts';

const TABLE = 'vend-store-test';

const env = useStores(TABLE);
let serial = 0;
/** A fresh id per test, so that no test depends on another's items. */
const unique = (prefix: string) => `${prefix}-${++serial}`;

/** An item exactly as stored, keys included. */
async function raw(pk: string, sk: string) {
  return (await env.db.send(new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true })))
    .Item;
}

function requestRecord(
  overrides: { requestId?: string; accountName?: string; email?: string } = {},
): RequestRecord {
  const requestId = overrides.requestId ?? unique('req');
  const accountName = overrides.accountName ?? unique('plat-dev-payments');
  const now = new Date().toISOString();
  return {
    requestId,
    status: 'pending',
    request: {
      requestId,
      name: 'payments',
      accountName,
      email: overrides.email ?? `aws+${accountName}@example.com`,
      organizationalUnit: { id: 'ou-abcd-11111111', path: 'Workloads/Dev' },
      owner: 'alice@example.com',
      requester: { principal: 'arn:aws:iam::000000000000:user/alice' },
      budget: { monthlyLimitUsd: 200, thresholds: [{ percent: 80, type: 'ACTUAL' }] },
      tags: {},
      submittedAt: now,
    },
    steps: {},
    createdAt: now,
    updatedAt: now,
  };
}

/** An undecided approval by `platform-admins`, expiring in a week. */
function awaiting(): NonNullable<RequestRecord['approval']> {
  const now = Date.now();
  return {
    approvers: ['platform-admins'],
    requestedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 7 * 24 * 3_600_000).toISOString(),
  };
}

function desiredAccount(accountId: string, createdAt: string): AccountDesiredState {
  return {
    accountId,
    accountName: `plat-dev-${accountId}`,
    email: `aws+${accountId}@example.com`,
    organizationalUnit: { id: 'ou-abcd-11111111', path: 'Workloads/Dev' },
    tags: { team: 'payments' },
    baselineVersion: 'v1',
    budget: { monthlyLimitUsd: 200, thresholds: [], name: `vend-${accountId}` },
    owner: 'alice@example.com',
    requestId: unique('req'),
    status: 'active',
    createdAt,
    updatedAt: createdAt,
  };
}

describe('conditionalWrite', () => {
  it('says ok when the condition holds, and condition-failed (writing nothing) when it does not', async () => {
    // Prepare
    const pk = unique('COND');
    const put = (value: string) =>
      new PutCommand({
        TableName: TABLE,
        Item: { pk, sk: 'X', value },
        ConditionExpression: 'attribute_not_exists(pk)',
      });

    // Act
    const first = await conditionalWrite(env.db, put('first'));
    const second = await conditionalWrite(env.db, put('second'));

    // Assess
    expect(first).toEqual({ ok: true });
    expect(second).toEqual({ ok: false, reason: 'condition-failed' });
    expect((await raw(pk, 'X'))?.value).toBe('first');
  });

  it("returns the item's new attributes when the write asks for them", async () => {
    // Prepare
    const pk = unique('COND');
    await conditionalWrite(env.db, new PutCommand({ TableName: TABLE, Item: { pk, sk: 'X', count: 1 } }));

    // Act
    const result = await conditionalWrite(
      env.db,
      new UpdateCommand({
        TableName: TABLE,
        Key: { pk, sk: 'X' },
        UpdateExpression: 'SET #count = #count + :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );

    // Assess
    expect(result).toEqual({ ok: true, attributes: { pk, sk: 'X', count: 2 } });
  });

  it('throws other failures as the workflow error that says how to treat them', async () => {
    // Prepare: DynamoDB refusing for throughput, as the SDK reports it.
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const failing = { send: () => Promise.reject(throttled) } as unknown as DynamoDBDocumentClient;

    // Act
    const result = conditionalWrite(
      failing,
      new PutCommand({ TableName: TABLE, Item: { pk: 'P', sk: 'S' } }),
    );

    // Assess
    await expect(result).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('the request store', () => {
  it('stores a request and its reservations under the registry keys the deployed table holds', async () => {
    // Prepare
    const record = requestRecord({ accountName: unique('Plat-Dev-Mixed') });

    // Act
    await env.stores.requests.create(record);

    // Assess
    const { requestId, request } = record;
    expect(await raw(`REQUEST#${requestId}`, 'REQUEST')).toMatchObject({
      requestId,
      gsi1pk: 'REQUEST',
      gsi1sk: `${record.createdAt}#${requestId}`,
    });
    expect(await raw(`EMAIL#${request.email.toLowerCase()}`, 'RESERVATION')).toMatchObject({ requestId });
    expect(await raw(`NAME#${request.accountName.toLowerCase()}`, 'RESERVATION')).toMatchObject({
      requestId,
    });
    expect(await env.stores.requests.get(requestId)).toEqual(record);
  });

  it('refuses a second request for a taken email, whatever its case, and frees what the loser took', async () => {
    // Prepare
    const first = requestRecord();
    await env.stores.requests.create(first);
    const second = requestRecord({ email: first.request.email.toUpperCase() });

    // Act
    const refused = await env.stores.requests.create(second);

    // Assess
    expect(refused).toEqual({ created: false, taken: 'email', heldBy: first.requestId });
    expect(await env.stores.requests.get(second.requestId)).toBeUndefined();
    expect(await env.stores.requests.reservationHolder('name', second.request.accountName)).toBeUndefined();
  });

  it('refuses a taken account name and releases the email it had reserved', async () => {
    // Prepare
    const first = requestRecord();
    await env.stores.requests.create(first);
    const second = requestRecord({
      accountName: first.request.accountName,
      email: `${unique('other')}@example.com`,
    });

    // Act
    const refused = await env.stores.requests.create(second);

    // Assess
    expect(refused).toEqual({ created: false, taken: 'name', heldBy: first.requestId });
    expect(await env.stores.requests.reservationHolder('email', second.request.email)).toBeUndefined();
  });

  it('answers a second store of the same request id with a result, and keeps its reservations', async () => {
    // Prepare
    const record = requestRecord();
    await env.stores.requests.create(record);

    // Act
    const again = await env.stores.requests.create(record);

    // Assess
    expect(again).toEqual({ created: false, taken: 'requestId' });
    expect(await env.stores.requests.reservationHolder('email', record.request.email)).toBe(record.requestId);
    expect(await env.stores.requests.reservationHolder('name', record.request.accountName)).toBe(
      record.requestId,
    );
  });

  it('lists the pending requests created in a window, oldest first, and no others', async () => {
    // Prepare: a year of its own, so that no other test's request falls in the window.
    const at = (minute: number) => `2001-02-03T04:${String(minute).padStart(2, '0')}:00.000Z`;
    const records = [1, 2, 3, 4].map((minute) => ({ ...requestRecord(), createdAt: at(minute) }));
    for (const record of records) await env.stores.requests.create(record);
    await env.stores.requests.update(records[1]!.requestId, { status: 'creating' });

    // Act
    const pending = await env.stores.requests.listPending(at(1), at(4));

    // Assess: minute 4 is past the window's end (its sort key is `<createdAt>#<id>`), minute 2 is no longer pending.
    expect(pending.map((record) => record.requestId)).toEqual([records[0]!.requestId, records[2]!.requestId]);
  });

  it('lists the requests in any of several statuses created in a window', async () => {
    // Prepare: a year of its own.
    const at = (minute: number) => `2002-03-04T05:${String(minute).padStart(2, '0')}:00.000Z`;
    const records = [1, 2, 3].map((minute) => ({ ...requestRecord(), createdAt: at(minute) }));
    records[1] = { ...records[1]!, status: 'awaiting-approval', approval: awaiting() };
    for (const record of records) await env.stores.requests.create(record);
    await env.stores.requests.update(records[2]!.requestId, { status: 'failed' });

    // Act
    const open = await env.stores.requests.listByStatus(['pending', 'awaiting-approval'], at(0), at(9));

    // Assess
    expect(open.map((record) => [record.requestId, record.status])).toEqual([
      [records[0]!.requestId, 'pending'],
      [records[1]!.requestId, 'awaiting-approval'],
    ]);
  });

  it('decides a request awaiting approval once: of concurrent decisions exactly one is written', async () => {
    // Prepare
    const record: RequestRecord = { ...requestRecord(), status: 'awaiting-approval', approval: awaiting() };
    await env.stores.requests.create(record);
    const pending = requestRecord();
    await env.stores.requests.create(pending);
    const decision = (outcome: 'approved' | 'denied', i: number) => ({
      outcome,
      by: `arn:aws:iam::000000000000:user/approver-${i}`,
      via: 'api' as const,
      at: new Date().toISOString(),
    });

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? env.stores.requests.decide(record.requestId, 'pending', decision('approved', i))
          : env.stores.requests.decide(record.requestId, 'denied', decision('denied', i)),
      ),
    );
    const notAwaiting = await env.stores.requests.decide(
      pending.requestId,
      'pending',
      decision('approved', 0),
    );
    const missingId = unique('req-missing');
    const missing = await env.stores.requests.decide(missingId, 'expired', {
      outcome: 'expired',
      via: 'expiry',
      at: new Date().toISOString(),
    });

    // Assess
    const winners = results.filter((result) => result !== undefined);
    expect(winners).toHaveLength(1);
    const stored = await env.stores.requests.get(record.requestId);
    expect(stored).toEqual(winners[0]);
    expect(stored?.status).toBe(stored?.approval?.decision?.outcome === 'approved' ? 'pending' : 'denied');
    expect(stored?.approval?.approvers).toEqual(['platform-admins']);
    expect(notAwaiting).toBeUndefined();
    expect((await env.stores.requests.get(pending.requestId))?.approval).toBeUndefined();
    expect(missing).toBeUndefined();
    expect(await raw(`REQUEST#${missingId}`, 'REQUEST')).toBeUndefined();
  });

  it('records the first attempt of a step in one write, and only once', async () => {
    // Prepare
    const record = requestRecord();
    await env.stores.requests.create(record);

    // Act
    const first = await env.stores.requests.startFirstAttempt(record.requestId, 'createAccount', 'creating');
    const again = await env.stores.requests.startFirstAttempt(record.requestId, 'createAccount');

    // Assess
    expect(first?.record.status).toBe('creating');
    expect(first?.record.steps.createAccount).toEqual(first?.started);
    expect(first?.record).not.toHaveProperty('pk');
    expect(again).toBeUndefined();
    expect(
      await env.stores.requests.startFirstAttempt(unique('req-missing'), 'createAccount'),
    ).toBeUndefined();
  });

  it('keeps the first CreateAccount request id and refuses another', async () => {
    // Prepare
    const record = requestRecord();
    await env.stores.requests.create(record);
    await env.stores.requests.setCreateAccountRequestId(record.requestId, 'car-1');

    // Act
    await env.stores.requests.setCreateAccountRequestId(record.requestId, 'car-1');
    const refused = env.stores.requests.setCreateAccountRequestId(record.requestId, 'car-2');

    // Assess
    await expect(refused).rejects.toBeInstanceOf(RegistryConditionFailedError);
    expect((await env.stores.requests.get(record.requestId))?.createAccountRequestId).toBe('car-1');
  });

  it('refuses to update a request the registry does not hold, rather than creating half of one', async () => {
    // Prepare
    const requestId = unique('req-missing');

    // Act
    const update = await env.stores.requests
      .update(requestId, { status: 'failed' })
      .catch((error: unknown) => error);
    const step = await env.stores.requests
      .updateStep(requestId, 'notify', {
        status: 'running',
        startedAt: new Date().toISOString(),
        attempts: 1,
      })
      .catch((error: unknown) => error);

    // Assess
    expect(update).toBeInstanceOf(RegistryConditionFailedError);
    expect(step).toBeInstanceOf(RegistryConditionFailedError);
    expect(await raw(`REQUEST#${requestId}`, 'REQUEST')).toBeUndefined();
  });

  it('frees only the reservations the request still holds', async () => {
    // Prepare
    const record = requestRecord();
    await env.stores.requests.create(record);
    const impostor = { ...record, requestId: unique('req-other') };

    // Act
    await env.stores.requests.releaseReservations(impostor);
    const heldAfterImpostor = await env.stores.requests.reservationHolder('email', record.request.email);
    await env.stores.requests.releaseReservations(record);

    // Assess
    expect(heldAfterImpostor).toBe(record.requestId);
    expect(await env.stores.requests.reservationHolder('email', record.request.email)).toBeUndefined();
    expect(await env.stores.requests.reservationHolder('name', record.request.accountName)).toBeUndefined();
  });
});

describe('the idempotency store', () => {
  it('lets exactly one of several concurrent claims of a key win, and the others see the winner', async () => {
    // Prepare
    const key = unique('key');

    // Act
    const claims = await Promise.all(
      ['req-a', 'req-b', 'req-c'].map((requestId) =>
        env.stores.idempotency.claim('alice', key, 'hash', requestId),
      ),
    );

    // Assess
    const winners = claims.filter((claim) => claim.claimed);
    expect(winners).toHaveLength(1);
    for (const claim of claims) expect(claim.record.requestId).toBe(winners[0]!.record.requestId);
    expect(await raw(`IDEMPOTENCY#alice#${key}`, 'IDEMPOTENCY')).toMatchObject({ bodyHash: 'hash' });
  });

  it('frees a key only for the request it stands for', async () => {
    // Prepare
    const key = unique('key');
    await env.stores.idempotency.claim('alice', key, 'hash', 'req-a');

    // Act
    await env.stores.idempotency.release('alice', key, 'req-b');
    const afterOther = await env.stores.idempotency.get('alice', key);
    await env.stores.idempotency.release('alice', key, 'req-a');

    // Assess
    expect(afterOther?.requestId).toBe('req-a');
    expect(await env.stores.idempotency.get('alice', key)).toBeUndefined();
  });

  it('ignores an expired key and lets a new claim take it', async () => {
    // Prepare: a key whose TTL has passed but that DynamoDB has not deleted yet.
    const key = unique('key');
    await env.db.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          pk: `IDEMPOTENCY#alice#${key}`,
          sk: 'IDEMPOTENCY',
          principal: 'alice',
          key,
          bodyHash: 'old',
          requestId: 'req-old',
          createdAt: '2020-01-01T00:00:00.000Z',
          expiresAt: 1,
        },
      }),
    );

    // Act
    const before = await env.stores.idempotency.get('alice', key);
    const claim = await env.stores.idempotency.claim('alice', key, 'new', 'req-new');

    // Assess
    expect(before).toBeUndefined();
    expect(claim).toMatchObject({ claimed: true, record: { requestId: 'req-new' } });
  });
});

describe('the account store', () => {
  it('lists accounts newest first, a page at a time, under the registry keys', async () => {
    // Prepare: created later than any other test's accounts, so that they lead the listing.
    const ids = [unique('1000000000'), unique('1000000000'), unique('1000000000')];
    for (const [i, id] of ids.entries()) {
      await env.stores.accounts.put(desiredAccount(id, `2999-01-0${i + 1}T00:00:00.000Z`));
    }

    // Act
    const first = await env.stores.accounts.list(2);
    const second = await env.stores.accounts.list(2, first.cursor);

    // Assess
    expect(first.items.map((account) => account.accountId)).toEqual([ids[2], ids[1]]);
    expect(second.items[0]?.accountId).toBe(ids[0]);
    expect(await raw(`ACCOUNT#${ids[0]}`, 'ACCOUNT')).toMatchObject({
      gsi1pk: 'ACCOUNT',
      gsi1sk: `2999-01-01T00:00:00.000Z#${ids[0]}`,
    });
  });

  it('changes the status of an account it holds, and refuses one it does not', async () => {
    // Prepare
    const accountId = unique('2000000000');
    await env.stores.accounts.put(desiredAccount(accountId, new Date().toISOString()));

    // Act
    await env.stores.accounts.setStatus(accountId, 'closed');
    const missing = await env.stores.accounts
      .setStatus(unique('3000000000'), 'closed')
      .catch((error: unknown) => error);

    // Assess
    expect((await env.stores.accounts.get(accountId))?.status).toBe('closed');
    expect(missing).toBeInstanceOf(RegistryConditionFailedError);
  });
});

describe('the drift store', () => {
  it('claims an event once: busy while it is acted on, done once finished, free again when given up', async () => {
    // Prepare
    const [finished, givenUp] = [unique('event'), unique('event')];

    // Act
    const claims = [
      await env.stores.drift.claimEvent(finished, 60_000),
      await env.stores.drift.claimEvent(finished, 60_000),
    ];
    await env.stores.drift.finishEvent(finished);
    claims.push(await env.stores.drift.claimEvent(finished, 60_000));
    await env.stores.drift.claimEvent(givenUp, 60_000);
    await env.stores.drift.releaseEvent(givenUp);
    claims.push(await env.stores.drift.claimEvent(givenUp, 60_000));

    // Assess
    expect(claims).toEqual(['claimed', 'busy', 'done', 'claimed']);
    expect(await raw(`DRIFTEVENT#${finished}`, 'DRIFTEVENT')).toMatchObject({ state: 'done' });
  });

  it('takes over an event claim whose lease has passed (its holder crashed)', async () => {
    // Prepare
    const eventId = unique('event');
    await env.stores.drift.claimEvent(eventId, -1);

    // Act
    const claim = await env.stores.drift.claimEvent(eventId, 60_000);

    // Assess
    expect(claim).toBe('claimed');
  });

  it("holds an account's lock for one owner at a time, until released or its lease ends", async () => {
    // Prepare
    const accountId = unique('4000000000');

    // Act
    const taken = [
      await env.stores.drift.acquireLock(accountId, 'a', 60_000),
      await env.stores.drift.acquireLock(accountId, 'b', 60_000),
      await env.stores.drift.acquireLock(accountId, 'a', 60_000),
    ];
    await env.stores.drift.releaseLock(accountId, 'b');
    taken.push(await env.stores.drift.acquireLock(accountId, 'b', 60_000));
    await env.stores.drift.releaseLock(accountId, 'a');
    taken.push(await env.stores.drift.acquireLock(accountId, 'b', -1));
    taken.push(await env.stores.drift.acquireLock(accountId, 'c', 60_000));

    // Assess
    expect(taken).toEqual([true, false, true, false, true, true]);
    expect(await raw(`ACCOUNT#${accountId}`, 'DRIFTLOCK')).toMatchObject({ owner: 'c' });
  });

  it('records a history entry once, however often it is recorded, and keeps concurrent entries', async () => {
    // Prepare
    const accountId = unique('5000000000');
    const entry = (id: string): DriftRecord => ({
      id,
      source: 'event',
      aspects: ['organizationalUnit'],
      what: 'moved to another OU',
      at: new Date().toISOString(),
      outcome: 'fixed',
      recordedAt: new Date().toISOString(),
    });

    // Act
    const results = await Promise.all([
      env.stores.drift.record(accountId, { aspects: { organizationalUnit: 'drifted' }, record: entry('e1') }),
      env.stores.drift.record(accountId, { record: entry('e2') }),
      env.stores.drift.record(accountId, { record: entry('e3') }),
    ]);
    const again = await env.stores.drift.record(accountId, { record: entry('e1') });

    // Assess
    expect(results.every((result) => result.recorded)).toBe(true);
    expect(again.recorded).toBe(false);
    const state = await env.stores.drift.get(accountId);
    expect(state?.history.map((item) => item.id).sort()).toEqual(['e1', 'e2', 'e3']);
    expect(state?.version).toBe(4);
    expect(await raw(`ACCOUNT#${accountId}`, 'DRIFT')).toMatchObject({ accountId });
  });

  it('gives up with ConcurrentModificationError when the record keeps changing under it', async () => {
    // Prepare: every write loses to another writer.
    const conflict = new ConditionalCheckFailedException({
      message: 'The conditional request failed',
      $metadata: {},
    });
    const racing = {
      send: (command: unknown) =>
        command instanceof GetCommand ? Promise.resolve({ Item: undefined }) : Promise.reject(conflict),
    } as unknown as DynamoDBDocumentClient;

    // Act
    const result = createStores(racing, TABLE).drift.record(unique('6000000000'), {
      aspects: { organizationalUnit: 'in-sync' },
    });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ConcurrentModificationError);
  });
});

describe('the outbox store', () => {
  const T0 = Date.UTC(2026, 0, 1);
  const LEASE = 60_000;

  it('keeps the first message under an id: a second enqueue of the same id changes nothing', async () => {
    const id = unique('outbox');
    expect(await env.stores.outbox.enqueue({ id, kind: 'ready', message: { text: 'first' } }, T0)).toEqual({
      created: true,
    });
    expect(
      await env.stores.outbox.enqueue({ id, kind: 'ready', message: { text: 'second' } }, T0 + 1000),
    ).toEqual({ created: false });
    expect(await env.stores.outbox.get(id)).toMatchObject({
      message: { text: 'first' },
      state: 'pending',
      createdAt: T0,
      attempts: 0,
    });
  });

  it('lets one attempt hold a message until its lease runs out, then another take it over', async () => {
    const id = unique('outbox');
    await env.stores.outbox.enqueue({ id, kind: 'drift', message: { text: 'x' } }, T0);

    expect(await env.stores.outbox.claim(id, 'a', T0, LEASE)).toMatchObject({
      claimed: true,
      message: { state: 'sending', attempts: 1, claimToken: 'a' },
    });
    expect(await env.stores.outbox.claim(id, 'b', T0 + LEASE - 1, LEASE)).toMatchObject({
      claimed: false,
      state: 'busy',
    });
    expect(await env.stores.outbox.claim(id, 'b', T0 + LEASE + 1, LEASE)).toMatchObject({
      claimed: true,
      message: { attempts: 2, claimToken: 'b' },
    });
  });

  it('never gives a delivered message to another attempt, and lists it no more', async () => {
    const id = unique('outbox');
    await env.stores.outbox.enqueue({ id, kind: 'failure', message: { text: 'x' } }, T0);
    await env.stores.outbox.claim(id, 'a', T0, LEASE);
    await env.stores.outbox.markDelivered(id, T0 + 10);

    expect(await env.stores.outbox.claim(id, 'b', T0 + 10 * LEASE, LEASE)).toMatchObject({
      claimed: false,
      state: 'delivered',
    });
    expect((await env.stores.outbox.due(T0 + 10 * LEASE, 100)).map((m) => m.id)).not.toContain(id);
  });

  it('lists a released message as due only from its next attempt, and a claimed one only after its lease', async () => {
    const id = unique('outbox');
    await env.stores.outbox.enqueue({ id, kind: 'ready', message: { text: 'x' } }, T0);
    expect((await env.stores.outbox.due(T0, 1000)).map((m) => m.id)).toContain(id);

    await env.stores.outbox.claim(id, 'a', T0, LEASE);
    expect((await env.stores.outbox.due(T0 + LEASE - 1, 1000)).map((m) => m.id)).not.toContain(id);
    expect((await env.stores.outbox.due(T0 + LEASE + 1, 1000)).map((m) => m.id)).toContain(id);

    await env.stores.outbox.release(id, 'a', T0 + 5 * LEASE, 'Vend.SlackUnavailable: HTTP 503');
    expect(await env.stores.outbox.get(id)).toMatchObject({
      state: 'pending',
      lastError: 'Vend.SlackUnavailable: HTTP 503',
    });
    expect((await env.stores.outbox.due(T0 + 5 * LEASE - 1, 1000)).map((m) => m.id)).not.toContain(id);
    expect((await env.stores.outbox.due(T0 + 5 * LEASE, 1000)).map((m) => m.id)).toContain(id);
  });

  it('marks a message reported undelivered once', async () => {
    const id = unique('outbox');
    await env.stores.outbox.enqueue({ id, kind: 'ready', message: { text: 'x' } }, T0);
    expect(await env.stores.outbox.markReportedUndelivered(id, T0 + 3_600_000)).toBe(true);
    expect(await env.stores.outbox.markReportedUndelivered(id, T0 + 3_700_000)).toBe(false);
  });
});
