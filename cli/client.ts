import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { SignatureV4 } from '@smithy/signature-v4';
import { retry } from '../functions/shared/retry.ts';
import { DEFAULT_API_URL } from './args.ts';
import type { ErrorResponse } from './contract.ts';
import { RefusedError, UnavailableError, UsageError } from './errors.ts';
import type { VendIo } from './io.ts';

/** Attempts of one HTTP call when the network fails or the API answers 429/5xx (same Idempotency-Key each time). */
export const HTTP_ATTEMPTS = 3;
/** The cap of the first retry's back-off, in milliseconds; it doubles each attempt (full jitter below it). */
export const HTTP_BASE_DELAY_MS = 500;
const HTTP_TIMEOUT_MS = 30_000;
/** The longest Retry-After the CLI honours: a server asking for more is retried sooner. */
const MAX_RETRY_AFTER_MS = 30_000;
/** 5xx answers worth another attempt: a gateway or a Lambda that failed once may not fail again. */
const RETRYABLE_5XX = [500, 502, 503, 504];
/** Network failures where nothing reached the API. */
const NOT_CONNECTED = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'];

const CREDENTIALS_FIX =
  'Give the credentials of the principal allowed to call the API: export AWS_PROFILE=<profile> (after `aws sso login --profile <profile>` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).';

function isLocalHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname) || hostname.endsWith('.localhost');
}

/**
 * The API's base URL: `--api-url` (`flag`), else VEND_API_URL, else the local default; and the flag to repeat in
 * the hints printed (empty unless it was given as a flag). Throws UsageError for what is not an http(s) URL.
 */
export function resolveApiBase(
  flag: string | undefined,
  env: VendIo['env'],
  command?: string,
): { url: URL; flag: string } {
  const value = flag ?? env['VEND_API_URL'] ?? DEFAULT_API_URL;
  const source = flag !== undefined ? '--api-url' : env['VEND_API_URL'] ? 'VEND_API_URL' : 'the default';
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search || url.hash) {
    throw new UsageError(
      `${source} ${value} is not an http(s) URL`,
      "Give the API's base URL, e.g. --api-url https://abc123.execute-api.us-east-1.amazonaws.com/prod (or http://127.0.0.1:3000 locally).",
      command,
    );
  }
  return { url, flag: flag !== undefined ? ` --api-url ${value}` : '' };
}

/** The region to sign for: the one in an API Gateway URL, else AWS_REGION, else us-east-1. */
export function signingRegion(url: URL, env: VendIo['env']): string {
  const match = /\.execute-api\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname);
  return match?.[1] ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
}

/** Credentials from `env` first (so an injected environment is honoured), then the SDK's default chain. */
async function defaultCredentials(
  env: VendIo['env'],
  local: boolean,
): Promise<AwsCredentialIdentity | undefined> {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (accessKeyId && secretAccessKey && !env['AWS_PROFILE']) {
    const sessionToken = env['AWS_SESSION_TOKEN'];
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
  }
  try {
    // Locally, do not wait long for an instance metadata service that a laptop does not have.
    return await defaultProvider({
      ...(env['AWS_PROFILE'] ? { profile: env['AWS_PROFILE'] } : {}),
      ...(local ? { timeout: 300, maxRetries: 0 } : {}),
    })();
  } catch (error) {
    if (local) return undefined;
    const why = (error as Error).message;
    throw new UsageError(`no AWS credentials to sign the call to the API (${why})`, CREDENTIALS_FIX);
  }
}

/** A Retry-After header's delay (seconds, or an HTTP date), in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (!value) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : 0;
}

type ApiError = Partial<ErrorResponse['error']>;

/** Reads the API's `{ error: { status, field, message, fix } }`, or API Gateway's own `{ message }`. */
function describeError(json: unknown, text: string, status: number): ApiError {
  const body = json as { error?: ApiError; message?: string; Message?: string } | undefined;
  if (body && typeof body.error === 'object' && body.error) return body.error;
  const message = body?.message ?? body?.Message ?? (text.slice(0, 200) || `status ${status}`);
  const fix =
    status === 403
      ? 'Check that your AWS credentials are those of a principal allowed to call the API (AWS_PROFILE, or AWS_ACCESS_KEY_ID...), and that they have not expired.'
      : status === 429
        ? 'The API is throttling calls: wait a little and try again.'
        : undefined;
  return { message, ...(fix ? { fix } : {}) };
}

/** A failed attempt worth another: the failure to report if none succeeds, and the wait its answer asked for. */
class TransientFailure extends Error {
  override readonly name = 'TransientFailure';
  constructor(
    readonly failure: UnavailableError | RefusedError,
    readonly requestedDelayMs = 0,
  ) {
    super(failure.message, { cause: failure });
  }
}

/** The request API over HTTP: SigV4-signed when there are credentials, each call retried through `retry`. */
export class ApiClient {
  private credentials: Promise<AwsCredentialIdentity | undefined> | undefined;
  /** Whether the API is on this machine: then it may be called unsigned. */
  readonly local: boolean;

  constructor(
    readonly base: URL,
    private readonly io: VendIo,
  ) {
    this.local = isLocalHost(base.hostname);
  }

  private resolveCredentials(): Promise<AwsCredentialIdentity | undefined> {
    this.credentials ??= (async () => {
      const found = await (this.io.credentials
        ? this.io.credentials({ local: this.local })
        : defaultCredentials(this.io.env, this.local));
      if (!found && !this.local) {
        throw new UsageError(`no AWS credentials to sign the call to ${this.base.origin}`, CREDENTIALS_FIX);
      }
      return found;
    })();
    return this.credentials;
  }

  /** The URL of `path` under the base, which may carry a stage (`https://x.execute-api.../prod`). */
  url(path: string, query: Record<string, string> = {}): URL {
    const url = new URL(this.base.href);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    return url;
  }

  /** One signed HTTP exchange. */
  private async send(
    method: string,
    url: URL,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<Response> {
    const credentials = await this.resolveCredentials();
    let sent = headers;
    if (credentials) {
      const signer = new SignatureV4({
        service: 'execute-api',
        region: signingRegion(url, this.io.env),
        credentials,
        sha256: Sha256,
      });
      const query: Record<string, string> = {};
      for (const [key, value] of url.searchParams) query[key] = value;
      const signed = await signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers: { ...headers, host: url.host },
        ...(body === undefined ? {} : { body }),
      });
      // fetch sets Host itself, to the same url.host that was signed.
      const { host: _host, ...rest } = signed.headers;
      sent = rest;
    }
    return this.io.fetch(url, {
      method,
      headers: sent,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
    });
  }

  /**
   * Calls the API and returns its JSON. Retries the network failing, 429 and 500/502/503/504 through the shared
   * retry helper, waiting at least what a Retry-After asks (a POST keeps its Idempotency-Key, so a retry never
   * makes a second request); then throws RefusedError or UnavailableError.
   */
  async call<T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    /** Whether any attempt may have reached the API. */
    let arrived = false;
    const attempt = async (): Promise<T> => {
      let response: Response;
      try {
        response = await this.send(method, url, headers, body);
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why =
          (error as Error).name === 'TimeoutError'
            ? `no answer in ${HTTP_TIMEOUT_MS / 1000} s`
            : (cause?.code ?? cause?.message ?? (error as Error).message);
        if (!NOT_CONNECTED.includes(cause?.code ?? '')) arrived = true;
        throw new TransientFailure(
          new UnavailableError(
            `could not reach the API at ${this.base.href.replace(/\/$/, '')} (${why})`,
            this.local
              ? 'Start the local pipeline with `npm start`, or point --api-url (or VEND_API_URL) at the deployed API.'
              : 'Check the URL (--api-url or VEND_API_URL) and your network, then try again.',
            undefined,
            arrived,
          ),
        );
      }
      arrived = true;
      const text = await response.text();
      let json: unknown;
      let parsed = true;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = false;
      }
      if (response.ok) {
        if (!parsed || json === undefined || typeof json !== 'object') {
          throw new UnavailableError(
            `the API answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`,
            'Check that --api-url (or VEND_API_URL) is the request API.',
          );
        }
        return json as T;
      }
      const error = describeError(json, text, response.status);
      const asked = retryAfterMs(response.headers.get('retry-after'));
      if (response.status >= 500) {
        const failure = new UnavailableError(
          `the API failed (${response.status}): ${error.message}`,
          error.fix ?? 'Try again in a while; if it keeps failing, tell your platform team.',
          parsed ? json : undefined,
        );
        throw RETRYABLE_5XX.includes(response.status) ? new TransientFailure(failure, asked) : failure;
      }
      const refused = new RefusedError(
        response.status,
        error.field,
        error.message ?? `status ${response.status}`,
        error.fix,
        parsed ? json : undefined,
      );
      throw response.status === 429 ? new TransientFailure(refused, asked) : refused;
    };
    try {
      return await retry(attempt, {
        retryable: (error) => error instanceof TransientFailure,
        maxAttempts: HTTP_ATTEMPTS,
        baseDelayMs: HTTP_BASE_DELAY_MS,
        maxDelayMs: MAX_RETRY_AFTER_MS,
        requestedDelayMs: (error) => (error as TransientFailure).requestedDelayMs,
        sleep: this.io.sleep,
        random: this.io.random ?? Math.random,
      });
    } catch (error) {
      throw error instanceof TransientFailure ? error.failure : error;
    }
  }
}
