import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyHash } from '../../functions/api/idempotency.ts';
import { requestAcceptedSchema, requestViewSchema } from '../../functions/api/schemas.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { PLATFORM_ADMIN, seedWithApprovers } from './approvers.ts';
import {
  type ApiEnv,
  accountBody,
  type CallOptions,
  DEVELOPER,
  expectError,
  startApiEnv,
} from './harness.ts';

describe('POST /accounts with an Idempotency-Key', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv({ seed: seedWithApprovers() });
  });
  afterAll(() => env.close());

  let keys = 0;
  const newKey = () => `key-${++keys}-${Math.random().toString(36).slice(2)}`;
  const post = (body: unknown, key: string, options: Pick<CallOptions, 'credentials'> = {}) =>
    env.call('POST', '/accounts', { body, headers: { 'idempotency-key': key }, ...options });
  const executionsNamed = (name: string) => env.pipeline.runner.list().filter((e) => e.name === name);

  it('50 concurrent identical requests with one key start one execution and all answer the same request', async () => {
    const body = accountBody();
    const key = newKey();
    const before = await env.snapshot();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(body, key)));
    for (const answer of answers) expect(answer.status, answer.text).toBe(202);
    const ids = new Set(answers.map((answer) => requestAcceptedSchema.parse(answer.body).requestId));
    expect(ids.size).toBe(1);
    const [requestId] = [...ids] as [string];
    expect(await env.snapshot()).toEqual({
      executions: before.executions + 1,
      requests: before.requests + 1,
    });
    expect(executionsNamed(requestId)).toHaveLength(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true').length).toBe(49);
    expect(new Set(answers.map((answer) => answer.headers.get('location')))).toEqual(
      new Set([`/accounts/requests/${requestId}`]),
    );

    const done = await executionsNamed(requestId)[0]!.done;
    expect(done.status).toBe('SUCCEEDED');
  });

  it('a retry with the same key and the same body, however ordered or spaced, answers the same request and starts nothing', async () => {
    const body = accountBody({ budget: { monthlyLimitUsd: 120 } });
    const key = newKey();
    const first = await post(body, key);
    expect(first.status).toBe(202);
    const { requestId } = requestAcceptedSchema.parse(first.body);
    await executionsNamed(requestId)[0]!.done;
    const before = await env.snapshot();

    const reordered = JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2);
    const again = await env.call('POST', '/accounts', {
      raw: reordered,
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    });
    expect(again.status, again.text).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(requestAcceptedSchema.parse(again.body)).toMatchObject({ requestId, status: 'succeeded' });
    expect(await env.snapshot()).toEqual(before);
  });

  it('the same key with a different body is refused with 409, starting nothing', async () => {
    const key = newKey();
    const body = accountBody();
    expect((await post(body, key)).status).toBe(202);
    const before = await env.snapshot();
    const error = expectError(await post({ ...body, owner: 'bob@example.com' }, key), 409, 'Idempotency-Key');
    expect(error.fix).toContain('new key');
    expect(await env.snapshot()).toEqual(before);
  });

  it('a key belongs to its caller: another principal may use it for its own request', async () => {
    const key = newKey();
    const mine = await post(accountBody(), key);
    const theirs = await post(accountBody(), key, {
      credentials: PLATFORM_ADMIN.credentials,
    });
    expect(mine.status).toBe(202);
    expect(theirs.status, theirs.text).toBe(202);
    expect(theirs.body.requestId).not.toBe(mine.body.requestId);
    const stored = requestViewSchema.parse(
      (
        await env.call('GET', `/accounts/requests/${theirs.body.requestId}`, {
          credentials: PLATFORM_ADMIN.credentials,
        })
      ).body,
    );
    expect(stored.requester.principal).toBe(PLATFORM_ADMIN.arn);
  });

  it('400 for a key that is empty, too long or not printable ASCII, starting nothing', async () => {
    const before = await env.snapshot();
    for (const key of ['', 'k'.repeat(256), 'tab\tinside']) {
      expectError(await post(accountBody(), key), 400, 'Idempotency-Key');
    }
    expect((await post(accountBody(), 'k'.repeat(255))).status).toBe(202);
    expect((await env.snapshot()).requests).toBe(before.requests + 1);
  });

  it('a refused request does not hold its key: corrected, it is accepted under the same key', async () => {
    const key = newKey();
    const taken = accountBody();
    expect((await post(taken, newKey())).status).toBe(202);
    expectError(await post(accountBody({ name: 'Not_Valid' }), key), 400, 'name');
    expectError(await post(accountBody({ name: taken.name }), key), 409, 'email');
    const corrected = await post(accountBody(), key);
    expect(corrected.status, corrected.text).toBe(202);
  });

  it('after a crash between claiming the key and storing the request, a retry submits it under the claimed id', async () => {
    const body = accountBody();
    const key = newKey();
    const requestId = `req-crashed-${Math.random().toString(36).slice(2)}`;
    const claim = await env.pipeline.deps.idempotency.claim(DEVELOPER, key, bodyHash(body), requestId);
    expect(claim.claimed).toBe(true);
    expectError(await env.call('GET', `/accounts/requests/${requestId}`), 404);

    const retry = await post(body, key);
    expect(retry.status, retry.text).toBe(202);
    expect(retry.body.requestId).toBe(requestId);
    expect(executionsNamed(requestId)).toHaveLength(1);
    expect((await executionsNamed(requestId)[0]!.done).status).toBe('SUCCEEDED');
    expect((await post(body, key)).body.requestId).toBe(requestId);
    expect(executionsNamed(requestId)).toHaveLength(1);
  });

  it('after a crash between storing the request and starting it, a retry starts it, once', async () => {
    const body = accountBody();
    const key = newKey();
    const requestId = `req-unstarted-${Math.random().toString(36).slice(2)}`;
    await env.pipeline.deps.idempotency.claim(DEVELOPER, key, bodyHash(body), requestId);
    const crashing = { start: () => Promise.reject(new Error('the Lambda timed out')) };
    await expect(
      submitRequest(env.pipeline.deps, crashing, body, DEVELOPER, { requestId }),
    ).rejects.toThrow();
    expect(executionsNamed(requestId)).toHaveLength(0);

    const retries = await Promise.all([post(body, key), post(body, key), post(body, key)]);
    for (const retry of retries) expect(retry.body?.requestId, retry.text).toBe(requestId);
    expect(executionsNamed(requestId)).toHaveLength(1);
    expect((await executionsNamed(requestId)[0]!.done).status).toBe('SUCCEEDED');
  });

  it('a key older than 24 hours is forgotten: it may be used again', async () => {
    const key = newKey();
    const db = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: env.pipeline.dynamo.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    await db.send(
      new PutCommand({
        TableName: env.pipeline.deps.idempotency.table.name,
        Item: {
          pk: `IDEMPOTENCY#${DEVELOPER}#${key}`,
          sk: 'IDEMPOTENCY',
          principal: DEVELOPER,
          key,
          bodyHash: 'an-old-body',
          requestId: 'req-long-ago',
          createdAt: new Date(Date.now() - 25 * 3600_000).toISOString(),
          expiresAt: Math.floor(Date.now() / 1000) - 3600,
        },
      }),
    );
    const answer = await post(accountBody(), key);
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.requestId).not.toBe('req-long-ago');
    db.destroy();
  });
});
