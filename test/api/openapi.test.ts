import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openApiDocument, REQUEST_SCHEMAS, RESPONSE_SCHEMAS } from '../../functions/api/openapi.ts';
import { errorResponseSchema } from '../../functions/api/schemas.ts';
import { ThrottledError } from '../../functions/shared/errors.ts';
import { PLATFORM_ADMIN, prodBody, seedWithApprovers } from './approvers.ts';
import { type Answer, type ApiEnv, accountBody, eventually, startApiEnv } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: the document is plain JSON, walked by key.
const doc = openApiDocument() as any;
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Credentials the local cloud never issued: API Gateway (here the local API) refuses their signature. */
const UNKNOWN_KEY: AwsCredentialIdentity = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' };
const APPROVAL = '/accounts/requests/{requestId}/approval';
const HOLD = '/accounts/{accountId}/hold';

/** The documented operations: path template, method, and the statuses each documents. */
const operations = Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>).flatMap(
  ([template, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      template,
      method: method.toUpperCase(),
      statuses: Object.keys(operation.responses).map(Number),
    })),
);

/** The zod schema the document's response for `status` was generated from. */
function schemaFor(template: string, method: string, status: number): z.ZodType | undefined {
  const response = doc.paths[template]?.[method.toLowerCase()]?.responses?.[String(status)];
  if (!response) return undefined;
  const ref: string | undefined = response.content?.['application/json']?.schema?.$ref;
  if (!ref) return z.record(z.string(), z.unknown());
  return RESPONSE_SCHEMAS[ref.split('/').pop() as keyof typeof RESPONSE_SCHEMAS];
}

/** Every answer must be documented for its operation and match the schema the document names. */
function conforms(template: string, method: string, answer: Answer): void {
  const schema = schemaFor(template, method, answer.status);
  expect(
    schema,
    `${method} ${template} answered ${answer.status}, which the document does not list`,
  ).toBeDefined();
  const parsed = schema!.safeParse(answer.body);
  expect(parsed.success, `${method} ${template} ${answer.status}: ${answer.text}`).toBe(true);
}

describe('the OpenAPI document and the handler agree', () => {
  let env: ApiEnv;
  let requestId: string;
  let accountId: string;
  /** Statuses produced in this file, per operation. */
  const produced = new Map<string, Set<number>>();
  const record = (template: string, method: string, answer: Answer) => {
    conforms(template, method, answer);
    const key = `${method} ${template}`;
    if (!produced.has(key)) produced.set(key, new Set());
    produced.get(key)!.add(answer.status);
    return answer;
  };

  beforeAll(async () => {
    env = await startApiEnv({ seed: seedWithApprovers() });
    const accepted = await env.call('POST', '/accounts', { body: accountBody() });
    record('/accounts', 'POST', accepted);
    requestId = accepted.body.requestId;
    const done = await eventually(
      env,
      () => env.call('GET', `/accounts/requests/${requestId}`),
      (answer) => answer.body?.status === 'succeeded' && answer.body.notification !== undefined,
      'the account',
    );
    accountId = done.body.accountId;
  });
  afterAll(() => env.close());
  afterEach(() => env.pipeline.cloud.cloud.faults.clear());

  const fill = (template: string) =>
    template.replace('{accountId}', accountId).replace('{requestId}', requestId);

  let waiting = 0;
  /** A new request awaiting approval (Workloads/Prod), and its decision path. */
  const awaitingApproval = async () => {
    const answer = await env.call('POST', '/accounts', { body: prodBody(`openapi-prod-${++waiting}`) });
    expect(answer.body?.status, answer.text).toBe('awaiting-approval');
    return `/accounts/requests/${answer.body.requestId}/approval`;
  };
  /** A call of a documented operation that succeeds. */
  const succeeding = async (template: string, method: string) => {
    if (template === APPROVAL && method === 'POST') {
      return env.call('POST', await awaitingApproval(), {
        body: { decision: 'deny', reason: 'the OpenAPI test' },
        credentials: PLATFORM_ADMIN.credentials,
      });
    }
    if (template === HOLD) {
      // POST holds (methods are tried in the order of METHODS), DELETE releases.
      return env.call(method, fill(template), {
        ...(method === 'POST' ? { body: { reason: 'the OpenAPI test' } } : {}),
        credentials: PLATFORM_ADMIN.credentials,
      });
    }
    return env.call(method, fill(template), method === 'POST' ? { body: accountBody() } : {});
  };

  it('is OpenAPI 3.1 with components generated from the zod schemas the API uses', () => {
    expect(doc.openapi).toBe('3.1.0');
    const strip = (schema: object) => {
      const { $schema: _s, ...rest } = schema as Record<string, unknown>;
      return rest;
    };
    /** A component with its references to other components written out. */
    const inline = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(inline);
      if (!value || typeof value !== 'object') return value;
      const ref = (value as { $ref?: string }).$ref;
      if (ref) return inline(doc.components.schemas[ref.replace('#/components/schemas/', '')]);
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, inline(item)]));
    };
    for (const [name, schema] of Object.entries(RESPONSE_SCHEMAS)) {
      expect(inline(doc.components.schemas[name]), name).toEqual(
        strip(z.toJSONSchema(schema, { io: 'output' })),
      );
    }
    for (const [name, schema] of Object.entries(REQUEST_SCHEMAS)) {
      expect(inline(doc.components.schemas[name]), name).toEqual(
        strip(z.toJSONSchema(schema, { io: 'input' })),
      );
    }
    expect(doc.paths['/accounts'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/AccountRequest',
    });
    expect(JSON.stringify(doc)).not.toContain('"$ref":"#/components/schemas/undefined"');
  });

  it('GET /openapi.json serves the document', async () => {
    const answer = record('/openapi.json', 'GET', await env.call('GET', '/openapi.json'));
    expect(answer.body).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('every documented operation is answered by the handler, and every other method on its path is 405 with Allow', async () => {
    for (const template of Object.keys(doc.paths)) {
      const documented = operations.filter((op) => op.template === template).map((op) => op.method);
      for (const method of METHODS) {
        const answer = documented.includes(method)
          ? await succeeding(template, method)
          : await env.call(method, fill(template), method === 'POST' ? { body: accountBody() } : {});
        if (documented.includes(method)) {
          expect(answer.status, `${method} ${template}: ${answer.text}`).toBeLessThan(300);
          record(template, method, answer);
        } else {
          expect(answer.status, `${method} ${template}`).toBe(405);
          expect(errorResponseSchema.safeParse(answer.body).success).toBe(true);
          expect(answer.headers.get('allow')?.split(', ').sort()).toEqual([...documented].sort());
        }
      }
    }
  });

  it('the handler answers no path the document does not list', async () => {
    for (const path of [
      '/',
      '/account',
      '/accounts/requests',
      '/accounts/1/2',
      '/requests/x',
      '/openapi.yaml',
      '/accounts/requests/x/y',
    ]) {
      for (const method of METHODS) {
        const answer = await env.call(method, path, method === 'POST' ? { body: accountBody() } : {});
        // '/accounts/requests' is /accounts/{accountId} with an account id that is not one: documented as 400.
        if (path === '/accounts/requests') {
          expect([400, 405]).toContain(answer.status);
          continue;
        }
        expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(404);
        expect(errorResponseSchema.safeParse(answer.body).success).toBe(true);
      }
    }
  });

  it('every status documented for POST /accounts is produced, and each answer matches its schema', async () => {
    const post = (body: unknown, headers: Record<string, string> = {}, credentials?: AwsCredentialIdentity) =>
      env
        .call('POST', '/accounts', { body, headers, ...(credentials ? { credentials } : {}) })
        .then((answer) => record('/accounts', 'POST', answer));
    expect((await post(accountBody({ name: 'Bad_Name' }))).status).toBe(400);
    expect((await post(accountBody(), {}, UNKNOWN_KEY)).status).toBe(403);
    const taken = accountBody();
    expect((await post(taken, { 'idempotency-key': 'openapi-409' })).status).toBe(202);
    expect((await post(taken, { 'idempotency-key': 'openapi-409' })).status).toBe(202);
    expect((await post(accountBody(), { 'idempotency-key': 'openapi-409' })).status).toBe(409);
    expect((await post(accountBody({ name: taken.name }))).status).toBe(409);
    expect((await post(accountBody({ tags: { big: 'x'.repeat(40_000) } }))).status).toBe(413);
    expect((await post(accountBody(), { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post(accountBody({ organizationalUnit: 'Shared' }))).status).toBe(422);
    // The management account's root is no access entry's principal: it may request nowhere.
    expect((await post(accountBody(), {}, { accessKeyId: 'test', secretAccessKey: 'test' })).status).toBe(
      403,
    );
    const dryRun = record(
      '/accounts',
      'POST',
      await env.call('POST', '/accounts?dryRun=true', { body: accountBody() }),
    );
    expect(dryRun.status, dryRun.text).toBe(200);
    // A POST to a fresh API reads the organization (the OU lookup is cached), which fails as the fault says.
    const postWhenListRootsFails = async (code: string) => {
      const fresh = await env.startApi({});
      try {
        env.pipeline.cloud.cloud.faults.add({
          service: 'organizations',
          operation: 'ListRoots',
          error: { code },
          times: 1,
        });
        return record('/accounts', 'POST', await fresh.call('POST', '/accounts', { body: accountBody() }));
      } finally {
        await fresh.close();
      }
    };
    const failed = await postWhenListRootsFails('AccessDeniedException');
    expect(failed.status).toBe(500);
    expect(failed.text).not.toMatch(/AccessDenied|stack|at /);
    const throttled = await postWhenListRootsFails('TooManyRequestsException');
    expect(throttled.status).toBe(503);
    expect(throttled.headers.get('retry-after')).toBe('5');
    expect(throttled.text).not.toMatch(/TooManyRequests|stack|at /);

    const quota = await env.startApi({
      config: {
        ...env.pipeline.config,
        organization: { ...env.pipeline.config.organization, accountQuota: 1 },
      },
    });
    try {
      record('/accounts', 'POST', await quota.call('POST', '/accounts', { body: accountBody() }));
    } finally {
      await quota.close();
    }

    const documented = operations.find((op) => op.template === '/accounts' && op.method === 'POST')!.statuses;
    expect([...produced.get('POST /accounts')!].sort()).toEqual([...documented].sort());
  });

  it('every status documented for the GET operations is produced, and each answer matches its schema', async () => {
    const get = (template: string, path: string) =>
      env.call('GET', path).then((answer) => record(template, 'GET', answer));
    await get('/accounts', '/accounts?limit=1');
    await get('/accounts', '/accounts?limit=0');
    await get('/accounts/{accountId}', `/accounts/${accountId}`);
    await get('/accounts/{accountId}', '/accounts/123');
    await get('/accounts/{accountId}', '/accounts/123456789012');
    await get('/accounts/requests/{requestId}', `/accounts/requests/${requestId}`);
    await get('/accounts/requests/{requestId}', '/accounts/requests/req-unknown');
    for (const [template, path] of [
      ['/accounts', '/accounts'],
      ['/accounts/{accountId}', `/accounts/${accountId}`],
      ['/accounts/requests/{requestId}', `/accounts/requests/${requestId}`],
      ['/openapi.json', '/openapi.json'],
    ] as const) {
      const refused = record(template, 'GET', await env.call('GET', path, { credentials: UNKNOWN_KEY }));
      expect(refused.status).toBe(403);
    }

    // A registry that fails every call: unexpectedly (500, nothing said), or throttled by AWS (503, retry later).
    const failing = <T extends object>(store: T, error: () => Error): T =>
      new Proxy(store, {
        get: (target, property) =>
          typeof Reflect.get(target, property) === 'function'
            ? () => Promise.reject(error())
            : Reflect.get(target, property),
      });
    const failingWith = (error: () => Error) => {
      const { requests, idempotency, accounts, drift } = env.pipeline.deps;
      return {
        requests: failing(requests, error),
        idempotency: failing(idempotency, error),
        accounts: failing(accounts, error),
        drift: failing(drift, error),
      };
    };
    const outages = [
      {
        registry: failingWith(() => new Error('the registry is down')),
        check: (answer: Answer) =>
          expect(answer.body).toEqual({ error: { status: 500, message: 'Internal server error' } }),
      },
      {
        registry: failingWith(() => new ThrottledError('ThrottlingException: Rate exceeded')),
        check: (answer: Answer) => {
          expect(answer.status).toBe(503);
          expect(answer.headers.get('retry-after')).toBe('5');
          expect(answer.text).not.toMatch(/Rate exceeded|Throttling/);
        },
      },
    ];
    for (const { registry, check } of outages) {
      const broken = await env.startApi(registry);
      try {
        for (const [template, path] of [
          ['/accounts', '/accounts'],
          ['/accounts/{accountId}', `/accounts/${accountId}`],
          ['/accounts/requests/{requestId}', `/accounts/requests/${requestId}`],
        ] as const) {
          check(record(template, 'GET', await broken.call('GET', path)));
        }
      } finally {
        await broken.close();
      }
    }

    for (const op of operations.filter((o) => o.method === 'GET')) {
      expect([...(produced.get(`GET ${op.template}`) ?? [])].sort(), `GET ${op.template}`).toEqual(
        [...op.statuses].sort(),
      );
    }
  });

  it('every status documented for POST and DELETE /accounts/{accountId}/hold is produced, each matching its schema', async () => {
    const admin = PLATFORM_ADMIN.credentials;
    const call = (
      method: 'POST' | 'DELETE',
      path: string,
      options: { body?: unknown; headers?: Record<string, string>; credentials?: AwsCredentialIdentity } = {},
    ) =>
      env
        .call(method, path, { credentials: admin, ...options })
        .then((answer) => record(HOLD, method, answer));
    const path = `/accounts/${accountId}/hold`;
    const reason = { reason: 'INC-1: the OpenAPI test' };
    for (const method of ['POST', 'DELETE'] as const) {
      const body = method === 'POST' ? { body: reason } : {};
      expect((await call(method, '/accounts/123/hold', body)).status).toBe(400);
      expect((await call(method, path, { ...body, credentials: UNKNOWN_KEY })).status).toBe(403);
      // The local API's unsigned caller is a developer, who may not administer.
      expect((await env.call(method, path, body).then((a) => record(HOLD, method, a))).status).toBe(403);
      expect((await call(method, '/accounts/123456789012/hold', body)).status).toBe(404);
    }
    expect((await call('POST', path, { body: { reason: '' } })).status).toBe(400);
    expect((await call('POST', path, { body: { reason: 'x'.repeat(40_000) } })).status).toBe(413);
    expect(
      (await call('POST', path, { body: reason, headers: { 'content-type': 'text/plain' } })).status,
    ).toBe(415);
    expect((await call('DELETE', path)).status).toBe(409);
    expect((await call('POST', path, { body: reason })).status).toBe(200);
    expect((await call('POST', path, { body: { reason: 'another incident' } })).status).toBe(409);
    expect((await call('DELETE', path)).status).toBe(200);

    for (const [error, status] of [
      [() => new Error('the registry is down'), 500],
      [() => new ThrottledError('ThrottlingException: Rate exceeded'), 503],
    ] as const) {
      const accounts = new Proxy(env.pipeline.deps.accounts, {
        get: (target, property) =>
          typeof Reflect.get(target, property) === 'function'
            ? () => Promise.reject(error())
            : Reflect.get(target, property),
      });
      const broken = await env.startApi({ accounts });
      try {
        for (const method of ['POST', 'DELETE'] as const) {
          const answer = record(
            HOLD,
            method,
            await broken.call(method, path, {
              ...(method === 'POST' ? { body: reason } : {}),
              credentials: admin,
            }),
          );
          expect(answer.status).toBe(status);
          expect(answer.text).not.toMatch(/registry is down|Rate exceeded/);
        }
      } finally {
        await broken.close();
      }
    }

    for (const method of ['POST', 'DELETE']) {
      const documented = operations.find((op) => op.template === HOLD && op.method === method)!.statuses;
      expect([...produced.get(`${method} ${HOLD}`)!].sort(), `${method} ${HOLD}`).toEqual(
        [...documented].sort(),
      );
    }
  });

  it('every status documented for POST /accounts/requests/{requestId}/approval is produced, each matching its schema', async () => {
    const post = (
      path: string,
      body: unknown,
      options: { headers?: Record<string, string>; key?: string } = {},
    ) =>
      env
        .call('POST', path, {
          body,
          ...(options.headers ? { headers: options.headers } : {}),
          ...(options.key ? { credentials: { accessKeyId: options.key, secretAccessKey: options.key } } : {}),
        })
        .then((answer) => record(APPROVAL, 'POST', answer));
    const path = await awaitingApproval();
    const approve = { decision: 'approve' };
    expect((await post(path, { decision: 'maybe' }, { key: PLATFORM_ADMIN.key })).status).toBe(400);
    expect((await post(path, approve, { key: 'AKIAUNKNOWNKEY000000' })).status).toBe(403);
    expect((await post(path, approve)).status).toBe(403);
    expect(
      (await post('/accounts/requests/req-unknown/approval', approve, { key: PLATFORM_ADMIN.key })).status,
    ).toBe(404);
    const big = { decision: 'deny', reason: 'x'.repeat(40_000) };
    expect((await post(path, big, { key: PLATFORM_ADMIN.key })).status).toBe(413);
    const text = { headers: { 'content-type': 'text/plain' }, key: PLATFORM_ADMIN.key };
    expect((await post(path, approve, text)).status).toBe(415);
    const deny = { decision: 'deny', reason: 'the OpenAPI test' };
    expect((await post(path, deny, { key: PLATFORM_ADMIN.key })).status).toBe(200);
    expect((await post(path, deny, { key: PLATFORM_ADMIN.key })).status).toBe(409);

    // A registry that fails: unexpectedly (500, nothing said), or throttled by AWS (503, retry later).
    for (const [error, status] of [
      [() => new Error('the registry is down'), 500],
      [() => new ThrottledError('ThrottlingException: Rate exceeded'), 503],
    ] as const) {
      const requests = new Proxy(env.pipeline.deps.requests, {
        get: (target, property) =>
          typeof Reflect.get(target, property) === 'function'
            ? () => Promise.reject(error())
            : Reflect.get(target, property),
      });
      const broken = await env.startApi({ requests });
      try {
        const answer = record(
          APPROVAL,
          'POST',
          await broken.call('POST', path, { body: approve, credentials: PLATFORM_ADMIN.credentials }),
        );
        expect(answer.status).toBe(status);
        expect(answer.text).not.toMatch(/registry is down|Rate exceeded/);
      } finally {
        await broken.close();
      }
    }

    const documented = operations.find((op) => op.template === APPROVAL && op.method === 'POST')!.statuses;
    expect([...produced.get(`POST ${APPROVAL}`)!].sort()).toEqual([...documented].sort());
  });
});
