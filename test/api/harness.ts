import type { z } from 'zod';
import { type ApiDeps, createApiHandler } from '../../functions/api/core.ts';
import { errorResponseSchema } from '../../functions/api/schemas.ts';
import { readConfigFile, type VendConfig } from '../../functions/shared/config.ts';
import { type LocalApi, startLocalApi } from '../../local/api-server.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { DEFAULT_CONFIG, type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { pollOnClock } from '../local-cloud/wait.ts';

/** Simulated seconds per real millisecond: a 3-second account creation takes 3 ms. */
export const SPEED = 1000;

/** Unsigned requests come from this principal (the local API's developer). */
export const DEVELOPER = 'arn:aws:iam::000000000000:user/local-developer';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked against the schemas, not typed by hand.
  body: any;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as it is, instead of `body` as JSON. */
  raw?: string;
  headers?: Record<string, string>;
  /** Sign as this access key (the local cloud resolves it to its principal). */
  accessKeyId?: string;
}

export interface ApiEnv {
  pipeline: LocalPipeline;
  api: LocalApi;
  call(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** Another API on the same pipeline, with other dependencies (a lower quota, another clock). */
  startApi(overrides: Partial<ApiDeps>): Promise<{ call: ApiEnv['call']; close(): Promise<void> }>;
  /** What exists now: executions and stored requests, to show a refusal started nothing. */
  snapshot(): Promise<{ executions: number; requests: number }>;
  close(): Promise<void>;
}

/** The repository's configuration (vend.config.json), as `npm start` reads it. */
export function defaultConfig(): VendConfig {
  return readConfigFile(DEFAULT_CONFIG);
}

/**
 * A configuration whose profiles let requests give root emails in example.com (the default takes them from the
 * template only), for tests of the email rules themselves.
 */
export function withRequestedRootEmails(config: VendConfig = defaultConfig()): VendConfig {
  const profiles = Object.fromEntries(
    Object.entries(config.profiles).map(([name, profile]) => [
      name,
      { ...profile, rootEmail: { source: 'request-in-domains' as const, allowedDomains: ['example.com'] } },
    ]),
  );
  return { ...config, profiles };
}

/** The local pipeline (cloud, registry, runner, Slack sink) on a scaled clock, with the API over HTTP in front. */
export async function startApiEnv(options: { config?: VendConfig } = {}): Promise<ApiEnv> {
  const pipeline = await startLocalPipeline({
    cloudPort: 0,
    clock: steppedClock(SPEED),
    speed: SPEED,
    ...(options.config ? { config: options.config } : {}),
  });
  const servers: LocalApi[] = [];
  const serve = async (overrides: Partial<ApiDeps>) => {
    const handler = createApiHandler({ ...pipeline.deps, starter: pipeline.runner, ...overrides });
    const api = await startLocalApi({
      handler,
      port: 0,
      resolvePrincipal: (key) => {
        const c = pipeline.cloud.cloud.state.credentials[key]?.caller;
        return c && { arn: c.arn, accountId: c.accountId };
      },
    });
    servers.push(api);
    return api;
  };
  const caller =
    (api: LocalApi) =>
    async (method: string, path: string, options: CallOptions = {}) => {
      const headers: Record<string, string> = { ...options.headers };
      if (options.accessKeyId) {
        headers.authorization = `AWS4-HMAC-SHA256 Credential=${options.accessKeyId}/20261122/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0`;
      }
      let body: string | undefined = options.raw;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) {
          headers['content-type'] = 'application/json';
        }
      }
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: response.status, headers: response.headers, text, body: parsed };
    };
  try {
    const api = await serve({});
    return {
      pipeline,
      api,
      call: caller(api),
      async startApi(overrides) {
        const other = await serve(overrides);
        return { call: caller(other), close: () => other.close() };
      },
      async snapshot() {
        const requests = await pipeline.deps.requests.list(1000);
        return { executions: pipeline.runner.list().length, requests: requests.items.length };
      },
      async close() {
        for (const server of servers) await server.close();
        await pipeline.close();
      },
    };
  } catch (error) {
    await pipeline.close();
    throw error;
  }
}

/** Waits on the simulated clock (one simulated second per poll) until `condition` holds, or fails after `timeoutMs` of real time. */
export function eventually<T>(
  env: ApiEnv,
  probe: () => Promise<T>,
  condition: (value: T) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  return pollOnClock(env.pipeline.deps.sleep, probe, condition, what, timeoutMs);
}

let counter = 0;
/** A valid request body with a name no other test uses. */
export function accountBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: `svc-${++counter}-${Math.random().toString(36).slice(2, 7)}`,
    organizationalUnit: 'Workloads/Dev',
    owner: 'alice@example.com',
    requester: { slackUserId: 'U012ALICE' },
    tags: { team: 'payments', 'cost-center': 'cc-1234' },
    ...overrides,
  };
}

/** Checks an error answer: the status, the error JSON (and only it), the field at fault, a fix. */
export function expectError(
  answer: Answer,
  status: number,
  field?: string,
): z.output<typeof errorResponseSchema>['error'] {
  const parsed = errorResponseSchema.safeParse(answer.body);
  if (answer.status !== status || !parsed.success) {
    throw new Error(`expected a ${status} error answer, got ${answer.status}: ${answer.text}`);
  }
  const { error } = parsed.data;
  if (error.status !== status)
    throw new Error(`error.status ${error.status} is not the HTTP status ${status}`);
  if (field !== undefined && error.field !== field) {
    throw new Error(`expected the field ${field}, got ${error.field}: ${answer.text}`);
  }
  if (status < 500 && !error.fix) throw new Error(`a ${status} should say how to fix it: ${answer.text}`);
  if (!answer.headers.get('content-type')?.startsWith('application/json')) {
    throw new Error(`errors are JSON, got ${answer.headers.get('content-type')}`);
  }
  return error;
}
