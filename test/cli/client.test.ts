import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retryAfterMs } from '../../cli/client.ts';
import { seededRandom } from '../../local/cloud/random.ts';
import {
  account,
  error,
  type FakeApi,
  PAYMENTS,
  type Received,
  SEED,
  startFakeApi,
  vend,
} from './support.ts';

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

/**
 * The waits the seeded random source gives the retries: full jitter below a cap of 500 ms that doubles each
 * attempt (what the shared retry helper does with the client's policy).
 */
function jitteredWaits(count: number): number[] {
  const random = seededRandom(SEED);
  return Array.from({ length: count }, (_, i) => Math.floor(random.next() * 500 * 2 ** i));
}

describe('retries, through the shared retry helper', () => {
  it('retries a call whose answer was lost with the same key, so only one request is made', async () => {
    api.interrupts.push('drop-after-handling', { status: 503, body: { message: 'Service Unavailable' } });
    const run = await vend(['request', ...PAYMENTS], { env });
    expect(run.code).toBe(0);
    expect(api.received).toHaveLength(3);
    expect(new Set(api.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect([...api.accepted.keys()]).toEqual(['req-1']);
    expect(run.stdout).toContain('Request req-1 accepted');
    expect(run.sleeps).toEqual(jitteredWaits(2));
  });

  it('waits with seeded jitter: the same seed, the same waits; another seed, others', async () => {
    const failTwice = () =>
      api.interrupts.push({ status: 502, body: { message: 'Bad Gateway' } }, { status: 504, body: {} });
    failTwice();
    const first = await vend(['list'], { env });
    failTwice();
    const again = await vend(['list'], { env });
    failTwice();
    const other = await vend(['list'], { env, random: seededRandom(SEED + 1).next });
    expect([first.code, again.code, other.code]).toEqual([0, 0, 0]);
    expect(first.sleeps).toEqual(jitteredWaits(2));
    expect(again.sleeps).toEqual(first.sleeps);
    expect(other.sleeps).not.toEqual(first.sleeps);
    expect(other.sleeps[0]).toBeLessThan(500);
    expect(other.sleeps[1]).toBeLessThan(1000);
  });

  it("waits as long as a 503's Retry-After asks, then succeeds with one request id", async () => {
    api.interrupts.push({
      status: 503,
      body: { error: { status: 503, message: 'AWS is busy', fix: 'Retry after 5 seconds.' } },
      headers: { 'retry-after': '5' },
    });
    const run = await vend(['request', ...PAYMENTS, '--json'], { env });
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([5000]);
    expect(api.received).toHaveLength(2);
    expect(new Set(api.received.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect([...api.accepted.keys()]).toEqual(['req-1']);
    expect(JSON.parse(run.stdout)).toMatchObject({ requestId: 'req-1', status: 'pending' });
  });

  it("waits as long as a 429's Retry-After asks, and no longer than 30 s", async () => {
    api.interrupts.push(
      { status: 429, body: { message: 'Too Many Requests' }, headers: { 'retry-after': '2' } },
      { status: 429, body: { message: 'Too Many Requests' }, headers: { 'retry-after': '3600' } },
    );
    const run = await vend(['list'], { env });
    expect(run.code).toBe(0);
    expect(run.sleeps).toEqual([2000, 30_000]);
  });

  it('gives up after three attempts with what the API said last, and does not retry a 4xx', async () => {
    for (let i = 0; i < 3; i++)
      api.interrupts.push({
        status: 429,
        body: { message: 'Too Many Requests' },
        headers: { 'retry-after': '1' },
      });
    const throttled = await vend(['list'], { env });
    expect(throttled.code).toBe(3);
    expect(api.received).toHaveLength(3);
    expect(throttled.sleeps).toEqual([1000, 1000]);
    expect(throttled.stderr).toContain('the API refused (429): Too Many Requests');
    expect(throttled.stderr).toContain('fix: The API is throttling calls');

    api.interrupts.push({ status: 501, body: error(501, 'not implemented') });
    const notImplemented = await vend(['list'], { env });
    expect(notImplemented.code).toBe(4);
    expect(notImplemented.sleeps).toEqual([]);
    const refused = await vend(['status', 'req-nope'], { env });
    expect(refused.code).toBe(3);
    expect(refused.sleeps).toEqual([]);
    expect(api.received).toHaveLength(5);
  });

  it('reads Retry-After as seconds or a date, and caps it', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(retryAfterMs('5', now)).toBe(5000);
    expect(retryAfterMs('Sun, 22 Nov 2026 10:00:10 GMT', now)).toBe(10_000);
    expect(retryAfterMs('3600', now)).toBe(30_000);
    expect(retryAfterMs(null, now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBe(0);
  });
});

describe('when the API cannot answer, the exit code is 4', () => {
  it('when nothing listens at the URL', async () => {
    const { url } = api;
    await api.close();
    const run = await vend(['request', ...PAYMENTS], { env: { VEND_API_URL: url } });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`could not reach the API at ${url} (ECONNREFUSED)`);
    expect(run.stderr).toContain('npm start');
    // Nothing reached the API, so there is no doubt to resolve with the idempotency key.
    expect(run.stderr).not.toContain('--idempotency-key');
    expect(run.sleeps).toEqual(jitteredWaits(2));
  });

  it('when it keeps answering 5xx, after three tries, with the key to repeat the request safely', async () => {
    for (let i = 0; i < 3; i++)
      api.interrupts.push({ status: 500, body: error(500, 'the registry is unavailable') });
    const run = await vend(['request', ...PAYMENTS, '--idempotency-key', 'k-1'], { env });
    expect(run.code).toBe(4);
    expect(api.received).toHaveLength(3);
    expect(run.stderr).toContain('the API failed (500): the registry is unavailable');
    expect(run.stderr).toContain('repeat the command with --idempotency-key k-1');
  });

  it('when it answers something that is not JSON', async () => {
    const run = await vend(['list'], {
      env,
      fetch: async () => new Response('<html>proxy login</html>', { status: 200 }),
    });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('not JSON');
  });
});

describe('signing', () => {
  const credentials = { accessKeyId: 'AKIDVENDTEST', secretAccessKey: 'secret-for-tests' };

  /** Re-signs what the server received with the same time: equal only if the CLI signed exactly that. */
  async function expectValidSignature(
    received: Received,
    host: string,
    region: string,
    path = received.path,
  ) {
    const authorization = received.headers['authorization']!;
    const signedHeaders = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
    const amzDate = received.headers['x-amz-date']!;
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
    );
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) headers[name] = name === 'host' ? host : received.headers[name]!;
    const url = new URL(`http://${host}`);
    const expected = await new SignatureV4({
      service: 'execute-api',
      region,
      credentials,
      sha256: Sha256,
    }).sign(
      {
        method: received.method,
        protocol: 'http:',
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path,
        query: received.query,
        headers,
        ...(received.body ? { body: received.body } : {}),
      },
      { signingDate },
    );
    expect(authorization).toBe(expected.headers['authorization']);
  }

  it('signs with SigV4 for execute-api with the access key found in the environment', async () => {
    const run = await vend(['request', ...PAYMENTS, '--tag', 'team=payments'], {
      env: {
        ...env,
        AWS_ACCESS_KEY_ID: credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      },
      credentials: undefined,
    });
    expect(run.code).toBe(0);
    const post = api.received[0]!;
    expect(post.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDVENDTEST\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*;idempotency-key[^,]*, Signature=[0-9a-f]{64}$/,
    );
    await expectValidSignature(post, `127.0.0.1:${api.port}`, 'us-east-1');

    await vend(['list', '--limit', '1', '--cursor', '1'], {
      env: { ...env, AWS_REGION: 'eu-central-1' },
      credentials: async () => credentials,
    });
    const list = api.received[1]!;
    expect(list.headers['authorization']).toContain('/eu-central-1/execute-api/aws4_request');
    await expectValidSignature(list, `127.0.0.1:${api.port}`, 'eu-central-1');
  });

  it('sends the session token of temporary credentials', async () => {
    await vend(['status', 'req-x'], {
      env,
      credentials: async () => ({ ...credentials, sessionToken: 'FwoGZXIvYXdzE' }),
    });
    expect(api.received[0]!.headers['x-amz-security-token']).toBe('FwoGZXIvYXdzE');
    expect(api.received[0]!.headers['authorization']).toContain('x-amz-security-token');
  });

  it('sends a local call unsigned when there are no credentials', async () => {
    const run = await vend(['list'], {
      env,
      credentials: async ({ local }) => (local ? undefined : credentials),
    });
    expect(run.code).toBe(0);
    expect(api.received[0]!.headers['authorization']).toBeUndefined();
    expect(api.received[0]!.headers['x-amz-date']).toBeUndefined();
  });

  it('signs for the region of an API Gateway URL, under its stage', async () => {
    const seen: Request[] = [];
    const run = await vend(
      ['show', '123456789012', '--api-url', 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod/'],
      {
        env: { AWS_REGION: 'us-west-2' },
        credentials: async () => credentials,
        fetch: async (input, init) => {
          seen.push(new Request(input, init));
          return Response.json(account(1, { accountId: '123456789012' }));
        },
      },
    );
    expect(run.code).toBe(0);
    expect(seen[0]!.url).toBe(
      'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod/accounts/123456789012',
    );
    expect(seen[0]!.headers.get('authorization')).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDVENDTEST\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    await expectValidSignature(
      {
        method: 'GET',
        path: '/prod/accounts/123456789012',
        query: {},
        headers: Object.fromEntries(seen[0]!.headers),
        body: '',
      },
      'abc123def4.execute-api.eu-west-1.amazonaws.com',
      'eu-west-1',
    );
  });

  it('exits 2 for a remote API without credentials, saying how to provide them', async () => {
    let calls = 0;
    const run = await vend(
      ['list', '--api-url', 'https://abc123def4.execute-api.eu-west-1.amazonaws.com/prod'],
      {
        env: {},
        credentials: async () => undefined,
        fetch: async () => {
          calls++;
          return Response.json({ accounts: [] });
        },
      },
    );
    expect(run.code).toBe(2);
    expect(calls).toBe(0);
    expect(run.stderr).toContain(
      'no AWS credentials to sign the call to https://abc123def4.execute-api.eu-west-1.amazonaws.com',
    );
    expect(run.stderr).toContain('AWS_PROFILE');
    expect(run.stderr).toContain('AWS_ACCESS_KEY_ID');
  });

  it('explains a 403 from API Gateway’s IAM authorization', async () => {
    const run = await vend(['list'], {
      env,
      fetch: async () =>
        Response.json(
          { message: 'User: anonymous is not authorized to perform: execute-api:Invoke' },
          { status: 403 },
        ),
    });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the API refused (403): User: anonymous is not authorized');
    expect(run.stderr).toContain('fix: Check that your AWS credentials');
  });
});
