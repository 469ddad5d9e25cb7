import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { nonLocalCallerReason } from './loopback.ts';
import { type CredentialLookup, type SignatureCheck, verifySignature } from './sigv4.ts';

/** The API Lambda's handler, as API Gateway invokes it. */
export type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The principal of unsigned local requests: a developer of the management account, documented in the README. */
export const LOCAL_DEVELOPER: LocalPrincipal = {
  arn: 'arn:aws:iam::000000000000:user/local-developer',
  accountId: '000000000000',
};

/** What API Gateway's identity carries for API keys, client certificates and Cognito: none of them here. */
const UNUSED_IDENTITY_FIELDS = {
  apiKey: null,
  apiKeyId: null,
  clientCert: null,
  cognitoAuthenticationProvider: null,
  cognitoAuthenticationType: null,
  cognitoIdentityId: null,
  cognitoIdentityPoolId: null,
  principalOrgId: null,
} as const;

/** Bodies larger than this are cut off here, as API Gateway would refuse them (10 MB); the handler has its own, lower limit. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

/** How long close() waits for requests under way before cutting their connections. */
const CLOSE_DEADLINE_MS = 10_000;

export interface LocalApi {
  url: string;
  port: number;
  /** Stops taking requests, lets those under way finish (10 s at most), then closes. */
  close(): Promise<void>;
}

/** Who the event's `requestContext.identity` names: the local developer, or the principal whose signature was verified. */
export interface LocalPrincipal {
  arn: string;
  accountId: string;
}

/**
 * `requestContext.identity` as API Gateway's IAM authorization fills it. For an assumed role, `userArn` is the
 * session's ARN (arn:aws:sts::ACCOUNT:assumed-role/Role/session) and `caller` and `user` its principal id
 * (AROA...:session); for a user or the root, the ARN.
 */
function identityOf(
  request: IncomingMessage,
  check: Exclude<SignatureCheck, { kind: 'refused' }>,
  anonymous: LocalPrincipal,
) {
  const common = {
    sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
    userAgent: request.headers['user-agent'] ?? null,
  };
  if (check.kind === 'unsigned') {
    return {
      accessKey: null,
      accountId: anonymous.accountId,
      caller: anonymous.arn,
      userArn: anonymous.arn,
      user: anonymous.arn,
      ...common,
    };
  }
  const { caller } = check;
  const callerId = caller.type === 'AssumedRole' ? caller.principalId : caller.arn;
  return {
    accessKey: check.accessKeyId,
    accountId: caller.accountId,
    caller: callerId,
    userArn: caller.arn,
    user: callerId,
    ...common,
  };
}

/**
 * The API on 127.0.0.1, for callers on this machine only (see `nonLocalCallerReason`): each HTTP request becomes the API Gateway REST proxy event the Lambda receives on AWS
 * (`resource: '/{proxy+}'`), and the handler's result becomes the HTTP response.
 */
export async function startLocalApi(options: {
  handler: ApiHandler;
  port?: number;
  /**
   * The credentials signatures are checked against (`credentialsIssuedBy(localCloud)`): a signed request whose
   * key, session token, expiry, date or signature does not hold is refused with 403 before the handler sees it,
   * as API Gateway's IAM authorization does. @default none: every signed request is refused
   */
  credentials?: CredentialLookup;
  /**
   * Who an unsigned request comes from. API Gateway with IAM authorization refuses unsigned requests; locally
   * `curl` is welcome, as this developer. @default LOCAL_DEVELOPER
   */
  anonymous?: LocalPrincipal;
  /**
   * The handler of `POST /slack/interactions` (Slack's button callbacks), which on AWS has no IAM authorization:
   * it gets the request without a caller identity and with its body exactly as sent, and checks Slack's signature.
   */
  slackInteractions?: ApiHandler;
}): Promise<LocalApi> {
  const credentials = options.credentials ?? (() => undefined);
  const anonymous = options.anonymous ?? LOCAL_DEVELOPER;
  // Requests being answered, so that close() lets them finish instead of cutting them off mid-write.
  const inFlight = new Set<Promise<void>>();
  let closing = false;
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    if (closing) {
      response
        .writeHead(503, { 'content-type': 'application/json', connection: 'close', 'retry-after': '5' })
        .end(
          JSON.stringify({
            error: { status: 503, message: 'the local API is stopping', fix: 'Start it again, then retry.' },
          }),
        );
      return;
    }
    const refusal = nonLocalCallerReason(request.headers);
    if (refusal !== undefined) {
      response.writeHead(403, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          error: {
            status: 403,
            message: refusal,
            fix: 'Call the local API from this machine, at http://127.0.0.1 or http://localhost, not from a web page.',
          },
        }),
      );
      return;
    }
    if (options.slackInteractions && isSlackInteraction(request)) {
      await answerSlackInteraction(request, response, options.slackInteractions);
      return;
    }
    try {
      const body = await readBody(request, response);
      if (body === undefined) return;
      const url = new URL(request.url ?? '/', 'http://local');
      const { headers, multiValueHeaders } = headersOf(request);
      const query: Record<string, string> = {};
      const multiQuery: Record<string, string[]> = {};
      for (const [key, value] of url.searchParams) {
        query[key] = value;
        multiQuery[key] = [...(multiQuery[key] ?? []), value];
      }
      const check = await verifySignature(
        { method: request.method ?? 'GET', target: request.url ?? '/', rawHeaders: request.rawHeaders, body },
        credentials,
      );
      if (check.kind === 'refused') {
        response
          .writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': check.errorType })
          .end(JSON.stringify({ message: check.message }));
        return;
      }
      const requestId = randomUUID();
      const event: APIGatewayProxyEvent = {
        resource: '/{proxy+}',
        path: url.pathname,
        httpMethod: request.method ?? 'GET',
        headers,
        multiValueHeaders,
        queryStringParameters: Object.keys(query).length ? query : null,
        multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
        pathParameters: { proxy: url.pathname.replace(/^\//, '') },
        stageVariables: null,
        body: body.length ? body.toString('utf8') : null,
        isBase64Encoded: false,
        requestContext: {
          accountId: '000000000000',
          apiId: 'local',
          authorizer: null,
          protocol: `HTTP/${request.httpVersion}`,
          httpMethod: request.method ?? 'GET',
          identity: {
            ...identityOf(request, check, anonymous),
            ...UNUSED_IDENTITY_FIELDS,
          },
          path: `/local${url.pathname}`,
          stage: 'local',
          requestId,
          requestTimeEpoch: Date.now(),
          resourceId: 'local',
          resourcePath: '/{proxy+}',
        },
      };
      const context = {
        awsRequestId: requestId,
        functionName: 'vend-api',
        functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:vend-api',
        memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/vend-api',
        logStreamName: 'local',
        callbackWaitsForEmptyEventLoop: false,
        getRemainingTimeInMillis: () => 30_000,
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
      } as Context;
      const result = await options.handler(event, context);
      const out: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(result.headers ?? {})) out[name] = String(value);
      for (const [name, values] of Object.entries(result.multiValueHeaders ?? {}))
        out[name] = values.map(String);
      const payload = result.isBase64Encoded
        ? Buffer.from(result.body, 'base64')
        : Buffer.from(result.body ?? '', 'utf8');
      response.writeHead(result.statusCode, { ...out, 'content-length': payload.length }).end(payload);
    } catch (error) {
      console.error('local API: the handler failed', error);
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
      response.end('{"message":"Internal server error"}');
    }
  };
  const server = createServer((request, response) => {
    const work = answer(request, response);
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 3000, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests under way finish (their registry writes and executions with them), within a deadline.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_DEADLINE_MS);
        }),
      ]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The path of Slack's interactivity callbacks (the Request URL configured in the Slack app). */
/**
 * The body, cut off as API Gateway cuts it (413 answered here, undefined returned) when larger than it takes.
 */
async function readBody(request: IncomingMessage, response: ServerResponse): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > GATEWAY_MAX_BODY) {
      response.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Too Long"}');
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The headers as the REST proxy event carries them: repeated ones joined with commas, and each one's values. */
function headersOf(request: IncomingMessage) {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    const value = request.rawHeaders[i + 1]!;
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  return { headers, multiValueHeaders };
}

export const SLACK_INTERACTIONS_PATH = '/slack/interactions';

function isSlackInteraction(request: IncomingMessage): boolean {
  return (
    request.method === 'POST' &&
    new URL(request.url ?? '/', 'http://local').pathname === SLACK_INTERACTIONS_PATH
  );
}

/**
 * `POST /slack/interactions`, as API Gateway hands it to its own Lambda on AWS: a method without IAM
 * authorization, so no caller identity (only the source address and user agent), and the body byte for byte (as
 * text when it is UTF-8, else base64 with `isBase64Encoded`), since Slack's signature covers the raw body.
 */
async function answerSlackInteraction(
  request: IncomingMessage,
  response: ServerResponse,
  handler: ApiHandler,
): Promise<void> {
  try {
    const body = await readBody(request, response);
    if (body === undefined) return;
    const text = body.toString('utf8');
    const asText = Buffer.from(text, 'utf8').equals(body);
    const { headers, multiValueHeaders } = headersOf(request);
    const requestId = randomUUID();
    const event = {
      resource: SLACK_INTERACTIONS_PATH,
      path: SLACK_INTERACTIONS_PATH,
      httpMethod: 'POST',
      headers,
      multiValueHeaders,
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: body.length === 0 ? null : asText ? text : body.toString('base64'),
      isBase64Encoded: body.length > 0 && !asText,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        authorizer: null,
        protocol: `HTTP/${request.httpVersion}`,
        httpMethod: 'POST',
        identity: {
          accessKey: null,
          accountId: null,
          caller: null,
          user: null,
          userArn: null,
          sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
          userAgent: request.headers['user-agent'] ?? null,
          ...UNUSED_IDENTITY_FIELDS,
        },
        path: `/local${SLACK_INTERACTIONS_PATH}`,
        stage: 'local',
        requestId,
        requestTimeEpoch: Date.now(),
        resourceId: 'local',
        resourcePath: SLACK_INTERACTIONS_PATH,
      },
    } satisfies APIGatewayProxyEvent;
    const context = {
      awsRequestId: requestId,
      functionName: 'vend-slack-interactions',
      getRemainingTimeInMillis: () => 29_000,
    } as Context;
    const result = await handler(event, context);
    const payload = Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8');
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(result.headers ?? {})) out[name] = String(value);
    response.writeHead(result.statusCode, { ...out, 'content-length': payload.length }).end(payload);
  } catch (error) {
    console.error('local API: the Slack interactions handler failed', error);
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
    response.end('{"message":"Internal server error"}');
  }
}
