import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { callerOf } from '../../functions/api/caller.ts';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import type { ManualClock } from '../../local/cloud/clock.ts';
import { type LocalCloud, manualClock, startLocalCloud } from '../../local/cloud/index.ts';
import { DEFAULT_SEED } from '../../local/pipeline.ts';
import { credentialsIssuedBy } from '../../local/sigv4.ts';
import { rawRequest } from './raw-request.ts';
import { signedHeaders } from './sign.ts';

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

describe('the local API server, for callers on this machine only', () => {
  let api: LocalApi;
  let calls: number;
  beforeEach(async () => {
    calls = 0;
    api = await startLocalApi({
      port: 0,
      handler: async () => {
        calls++;
        return { statusCode: 202, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' };
      },
    });
  });
  afterEach(() => api.close());

  it('refuses a request whose Host is not this machine (DNS rebinding) before the handler sees it', async () => {
    const answer = await rawRequest(`${api.url}/accounts`, { headers: { host: `evil.example:${api.port}` } });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toEqual({
      error: {
        status: 403,
        message: expect.stringMatching(/^Host 'evil\.example:\d+' is not a loopback name or address/),
        fix: expect.stringContaining('from this machine'),
      },
    });
    expect(calls).toBe(0);
  });

  it("refuses a web page's text/plain POST from another site, with no CORS header", async () => {
    const answer = await rawRequest(`${api.url}/accounts`, {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(answer.status).toBe(403);
    expect(answer.body).toContain("Origin 'http://evil.example' is not on this machine");
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('answers a loopback Origin, no Origin, and [::1] or localhost as the Host', async () => {
    const cases: Record<string, string>[] = [
      { origin: `http://127.0.0.1:${api.port}` },
      {},
      { host: `[::1]:${api.port}` },
      { host: `localhost:${api.port}` },
    ];
    for (const headers of cases) {
      const answer = await rawRequest(`${api.url}/accounts`, { method: 'POST', headers, body: '{}' });
      expect(answer.status).toBe(202);
    }
    expect(calls).toBe(4);
  });
});

describe('the local API verifies SigV4 signatures against the credentials the local cloud issued', () => {
  const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };
  let cloud: LocalCloud;
  let clock: ManualClock;
  let api: LocalApi;
  let events: APIGatewayProxyEvent[];

  beforeAll(async () => {
    clock = manualClock();
    cloud = await startLocalCloud({ port: 0, seed: DEFAULT_SEED, clock });
    api = await startLocalApi({
      port: 0,
      credentials: credentialsIssuedBy(cloud.cloud),
      handler: async (event) => {
        events.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await cloud?.close();
  });
  beforeEach(() => {
    events = [];
  });

  const BODY = JSON.stringify({ name: 'payments', organizationalUnit: 'Workloads/Dev' });

  /** POSTs `body` with headers signed for `signedBody` (the same unless a test tampers with it). */
  async function post(
    credentials: AwsCredentialIdentity,
    options: {
      body?: string;
      signedBody?: string;
      at?: Date;
      headers?: (h: Record<string, string>) => void;
    } = {},
  ) {
    const body = options.body ?? BODY;
    const headers = await signedHeaders(
      `${api.url}/accounts?dryRun=true`,
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: options.signedBody ?? body },
      credentials,
      options.at,
    );
    options.headers?.(headers);
    const answer = await fetch(`${api.url}/accounts?dryRun=true`, { method: 'POST', headers, body });
    return {
      status: answer.status,
      errorType: answer.headers.get('x-amzn-errortype'),
      body: await answer.json(),
    };
  }

  async function assume(role: string, sessionName: string, durationSeconds = 3600) {
    const sts = new STSClient({ endpoint: cloud.endpoint, region: 'us-east-1', credentials: ADMIN });
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::000000000000:role/${role}`,
        RoleSessionName: sessionName,
        DurationSeconds: durationSeconds,
      }),
    );
    return {
      accessKeyId: Credentials!.AccessKeyId!,
      secretAccessKey: Credentials!.SecretAccessKey!,
      sessionToken: Credentials!.SessionToken!,
    };
  }

  function expectRefused(answer: { status: number; body: unknown }, message: string | RegExp) {
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({
      message: typeof message === 'string' ? message : expect.stringMatching(message),
    });
    expect(events).toHaveLength(0);
  }

  it('passes a good signature with the key test, as the management account root', async () => {
    const answer = await post(ADMIN);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(events).toHaveLength(1);
    const event = events[0]!;
    expect(event.body).toBe(BODY);
    expect(event.requestContext.identity).toMatchObject({
      accessKey: 'test',
      accountId: '000000000000',
      userArn: 'arn:aws:iam::000000000000:root',
      caller: 'arn:aws:iam::000000000000:root',
      user: 'arn:aws:iam::000000000000:root',
    });
    expect(callerOf(event)).toEqual({
      arn: 'arn:aws:iam::000000000000:root',
      matchArn: 'arn:aws:iam::000000000000:root',
      accountId: '000000000000',
    });
  });

  it('treats an unsigned request as the local developer', async () => {
    const answer = await fetch(`${api.url}/accounts`, { method: 'POST', body: BODY });
    expect(answer.status).toBe(200);
    expect(events[0]!.requestContext.identity).toMatchObject({
      accessKey: null,
      accountId: '000000000000',
      userArn: 'arn:aws:iam::000000000000:user/local-developer',
    });
  });

  it('refuses a body changed after signing, whether or not X-Amz-Content-Sha256 was sent', async () => {
    const tampered = BODY.replace('payments', 'paymentz');
    expectRefused(
      await post(ADMIN, { body: tampered, signedBody: BODY }),
      /^The request signature we calculated does not match the signature you provided\./,
    );
    expectRefused(
      await post(ADMIN, {
        body: tampered,
        signedBody: BODY,
        headers: (headers) => {
          delete headers['x-amz-content-sha256'];
        },
      }),
      /^The request signature we calculated does not match/,
    );
  });

  it('refuses a query changed after signing', async () => {
    const headers = await signedHeaders(`${api.url}/accounts?limit=1`, {}, ADMIN);
    const answer = await fetch(`${api.url}/accounts?limit=100`, { headers });
    expect(answer.status).toBe(403);
    expect(events).toHaveLength(0);
    const good = await fetch(`${api.url}/accounts?limit=1`, { headers });
    expect(good.status).toBe(200);
  });

  it('refuses the wrong secret, an unknown key and a header the signature does not cover', async () => {
    const mismatch = await post({ accessKeyId: 'test', secretAccessKey: 'not-test' });
    expectRefused(mismatch, /^The request signature we calculated does not match/);
    expect(mismatch.errorType).toBe('InvalidSignatureException');
    const unknown = await post({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'test' });
    expectRefused(unknown, 'The security token included in the request is invalid.');
    expect(unknown.errorType).toBe('UnrecognizedClientException');
    expectRefused(
      await post(ADMIN, {
        headers: (headers) => {
          headers['content-type'] = 'text/plain';
        },
      }),
      /^The request signature we calculated does not match/,
    );
  });

  it('refuses an X-Amz-Date more than 5 minutes from now, and accepts one 4 minutes off', async () => {
    const now = Date.now();
    expectRefused(
      await post(ADMIN, { at: new Date(now - 6 * 60_000) }),
      /^Signature expired: \d{8}T\d{6}Z is now earlier than/,
    );
    expectRefused(await post(ADMIN, { at: new Date(now + 6 * 60_000) }), /^Signature not yet current:/);
    expect((await post(ADMIN, { at: new Date(now - 4 * 60_000) })).status).toBe(200);
  });

  it('refuses a malformed Authorization header and a presigned URL', async () => {
    for (const authorization of [
      'Bearer x',
      'AWS4-HMAC-SHA256 Credential=test/',
      'AWS4-HMAC-SHA256 Signature=0',
    ]) {
      const answer = await fetch(`${api.url}/accounts`, {
        method: 'POST',
        headers: { authorization },
        body: BODY,
      });
      expect(answer.status, authorization).toBe(403);
      expect(answer.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
    }
    const presigned = await fetch(`${api.url}/accounts?X-Amz-Signature=00&X-Amz-Credential=test`);
    expect(presigned.status).toBe(403);
    expect(events).toHaveLength(0);
  });

  it.each([
    ['Developer', 'alice'],
    ['PlatformAdmin', 'bob'],
  ])(
    'passes a %s session from STS AssumeRole, named as API Gateway names an assumed role',
    async (role, session) => {
      const credentials = await assume(role, session);
      const answer = await post(credentials);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const identity = events[0]!.requestContext.identity;
      const roleId = cloud.cloud.state.accounts['000000000000']!.iam.roles[role]!.roleId;
      expect(identity).toMatchObject({
        accessKey: credentials.accessKeyId,
        accountId: '000000000000',
        userArn: `arn:aws:sts::000000000000:assumed-role/${role}/${session}`,
        caller: `${roleId}:${session}`,
        user: `${roleId}:${session}`,
      });
      expect(roleId).toMatch(/^AROA/);
      expect(callerOf(events[0]!)).toEqual({
        arn: `arn:aws:sts::000000000000:assumed-role/${role}/${session}`,
        matchArn: `arn:aws:iam::000000000000:role/${role}`,
        accountId: '000000000000',
      });
    },
  );

  it('refuses a session whose token is missing or wrong', async () => {
    const credentials = await assume('Developer', 'carol');
    const { sessionToken: _token, ...withoutToken } = credentials;
    expectRefused(await post(withoutToken), 'The security token included in the request is invalid.');
    expectRefused(
      await post({ ...credentials, sessionToken: `${credentials.sessionToken}x` }),
      'The security token included in the request is invalid.',
    );
    expectRefused(
      await post({ ...ADMIN, sessionToken: credentials.sessionToken }),
      'The security token included in the request is invalid.',
    );
  });

  it('refuses a session that has expired by the local cloud clock', async () => {
    const credentials = await assume('Developer', 'dave', 900);
    expect((await post(credentials)).status).toBe(200);
    events = [];
    clock.advance(900_000);
    const expired = await post(credentials);
    expectRefused(expired, 'The security token included in the request is expired');
    expect(expired.errorType).toBe('ExpiredTokenException');
  });
});

describe('the local API server, for Slack’s callbacks', () => {
  it('hands POST /slack/interactions to its own handler, with no caller identity and the body byte for byte', async () => {
    const events: APIGatewayProxyEvent[] = [];
    let apiCalls = 0;
    const api = await startLocalApi({
      port: 0,
      handler: async () => {
        apiCalls++;
        return { statusCode: 404, body: '{}' };
      },
      slackInteractions: async (event) => {
        events.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"text":"ok"}' };
      },
    });
    try {
      const form = 'payload=%7B%22type%22%3A%22block_actions%22%7D&extra=caf%C3%A9+au+lait';
      const signedAsIam =
        'AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0';
      const answer = await fetch(`${api.url}/slack/interactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'X-Slack-Signature': 'v0=abc',
          authorization: signedAsIam,
        },
        body: form,
      });
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ text: 'ok' });
      const bytes = Buffer.from([0x70, 0x3d, 0xff, 0xfe, 0x00, 0x41]);
      await fetch(`${api.url}/slack/interactions`, { method: 'POST', body: bytes });

      expect(apiCalls).toBe(0);
      const [text, binary] = events;
      expect(text).toMatchObject({
        httpMethod: 'POST',
        path: '/slack/interactions',
        resource: '/slack/interactions',
        body: form,
        isBase64Encoded: false,
      });
      expect(text!.headers['X-Slack-Signature']).toBe('v0=abc');
      expect(text!.requestContext.identity).toMatchObject({
        caller: null,
        userArn: null,
        user: null,
        accessKey: null,
      });
      expect(binary).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });

      // Other methods and paths still go to the API.
      await fetch(`${api.url}/slack/interactions`);
      await fetch(`${api.url}/slack/interactions/x`, { method: 'POST', body: '{}' });
      expect(apiCalls).toBe(2);
      expect(events).toHaveLength(2);
    } finally {
      await api.close();
    }
  });
});
