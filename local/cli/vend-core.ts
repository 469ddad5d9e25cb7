import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Sha256 } from '@aws-crypto/sha256-js';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * What the CLI touches outside itself, injectable so tests drive it without a terminal, a network or a clock:
 * `main` passes the process's; tests pass a fake server's fetch, string sinks and an instant sleep.
 */
export interface VendIo {
  fetch: typeof globalThis.fetch;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  sleep: (ms: number) => Promise<void>;
  /** Whether stdout is a terminal: `--watch` redraws in place there, and appends lines otherwise. */
  isTTY: boolean;
  /** The terminal's width, to keep redrawn lines from wrapping. */
  columns?: number;
  /**
   * The caller's AWS credentials, or undefined when there are none. Default: `AWS_ACCESS_KEY_ID` and
   * `AWS_SECRET_ACCESS_KEY` from `env`, else the AWS SDK's default provider chain (profiles, SSO, web identity,
   * container and instance metadata).
   */
  credentials?: (options: { local: boolean }) => Promise<AwsCredentialIdentity | undefined>;
  readFile?: (path: string) => Promise<string>;
  /** Makes the Idempotency-Key of a `request` given none. */
  newIdempotencyKey?: () => string;
}

/** The exit codes scripts can rely on; `vend --help` documents them. */
export const EXIT = {
  /** Done; for `status` and `--watch`: the request succeeded, or is still under way without `--watch`. */
  ok: 0,
  /** The request failed (its status is `failed`). */
  requestFailed: 1,
  /** Bad flags or arguments, or no credentials for a remote API: nothing was sent. */
  usage: 2,
  /** The API refused the call (4xx). */
  refused: 3,
  /** The API could not be reached, answered 5xx, or answered something unreadable. */
  unavailable: 4,
} as const;

export const DEFAULT_API_URL = 'http://127.0.0.1:3000';
/** How often `--watch` asks for the request's progress. */
export const WATCH_INTERVAL_MS = 1000;
/** Attempts of one HTTP call when the network fails or the API answers 429/5xx (same Idempotency-Key each time). */
const HTTP_ATTEMPTS = 3;
const HTTP_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------------------------
// The API's contract, as far as the CLI reads it.

export type RequestStatus = 'pending' | 'creating' | 'configuring' | 'succeeded' | 'failed';

export interface StepView {
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt?: string;
  attempts: number;
  detail?: string;
}

export interface RequestView {
  requestId: string;
  status: RequestStatus;
  accountId?: string;
  accountName: string;
  email: string;
  organizationalUnit: { id: string; path: string };
  requester?: unknown;
  owner: string;
  steps: StepView[];
  failure?: { step: string; reason: string; advice: string };
  notification?: { kind?: string; status?: string; at?: string; error?: string };
  createdAt: string;
  updatedAt: string;
}

export interface AccountView {
  accountId: string;
  accountName: string;
  email: string;
  organizationalUnit: { id: string; path: string };
  tags?: Record<string, string>;
  baselineVersion?: string;
  budget?: {
    name?: string;
    monthlyLimitUsd: number;
    thresholds?: { percent: number; type: string }[];
  };
  dns?: { hostedZoneId: string; vpcId: string; region: string };
  alias?: string;
  owner: string;
  requestId: string;
  status: string;
  /** Changes made by hand and what Vend did about them; absent from older APIs. */
  drift?: DriftView;
  createdAt: string;
  updatedAt: string;
}

export interface DriftRecordView {
  id: string;
  source: 'event' | 'sweep';
  eventName?: string;
  aspects?: string[];
  what: string;
  by?: string;
  at: string;
  outcome: string;
  action?: string;
  reason?: string;
  announcement?: string;
  recordedAt?: string;
}

export interface DriftView {
  status: 'in-sync' | 'drifted' | 'unknown' | string;
  aspects?: Record<string, { status: string; checkedAt: string } | undefined>;
  history: DriftRecordView[];
}

interface Accepted {
  requestId: string;
  status: string;
  accountName: string;
  email: string;
  organizationalUnit: string | { id: string; path: string };
  links?: { self?: string };
}

const STEP_ORDER = [
  'createAccount',
  'waitForAccount',
  'moveAccount',
  'applyBaseline',
  'applyBudget',
  'connectDns',
  'notify',
];

// ---------------------------------------------------------------------------------------------------------------
// Errors, each with its exit code.

/** Bad flags or arguments: names the flag and how to fix it. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** The API answered 4xx: what it said, and its error body for `--json`. */
class RefusedError extends Error {
  constructor(
    readonly status: number,
    readonly field: string | undefined,
    message: string,
    readonly fix: string | undefined,
    readonly body: unknown,
  ) {
    super(message);
  }
}

/** The API could not be reached, answered 5xx or something unreadable. */
class UnavailableError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly body?: unknown,
    /** Whether a call may have reached the API (false when every attempt failed to connect). */
    readonly mayHaveArrived = true,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Flags.

type FlagSpec = { type: 'string' | 'boolean'; multiple?: boolean; value?: string; help: string };

const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  'api-url': {
    type: 'string',
    value: '<url>',
    help: `the request API (default: VEND_API_URL, else ${DEFAULT_API_URL})`,
  },
  json: { type: 'boolean', help: "print only the API's JSON on stdout" },
  help: { type: 'boolean', help: 'show help' },
};

const COMMAND_FLAGS: Record<string, Record<string, FlagSpec>> = {
  request: {
    name: { type: 'string', value: '<name>', help: "the account's short name, e.g. payments" },
    ou: { type: 'string', value: '<path>', help: 'the OU to vend into, e.g. Workloads/Dev' },
    owner: { type: 'string', value: '<email>', help: "the account owner's email (budget alerts go there)" },
    email: {
      type: 'string',
      value: '<email>',
      help: "the account's root email (default: the org's template)",
    },
    'slack-user': {
      type: 'string',
      value: '<id>',
      help: 'your Slack member id, to be mentioned, e.g. U0123ABCD',
    },
    budget: { type: 'string', value: '<usd>', help: 'the monthly budget in USD (default: the org default)' },
    tag: { type: 'string', multiple: true, value: '<key=value>', help: 'a tag for the account; repeatable' },
    vpc: { type: 'string', value: '<vpc-id:region>', help: 'a VPC to join to the shared private DNS' },
    'idempotency-key': {
      type: 'string',
      value: '<key>',
      help: 'repeat a request safely (default: a new key per run)',
    },
    file: { type: 'string', value: '<file>', help: "the request's JSON body; flags override its fields" },
    watch: { type: 'boolean', help: 'follow the request until it succeeds or fails' },
  },
  status: {
    watch: { type: 'boolean', help: 'follow the request until it succeeds or fails' },
  },
  list: {
    limit: { type: 'string', value: '<n>', help: 'accounts per page' },
    cursor: { type: 'string', value: '<cursor>', help: 'the page after a previous one (its nextCursor)' },
    all: { type: 'boolean', help: 'every page' },
  },
  show: {},
  drift: {},
};

/** Each command's positional arguments; `[name]` is optional. */
const POSITIONALS: Record<string, string[]> = {
  request: [],
  status: ['<requestId>'],
  list: [],
  show: ['<accountId>'],
  drift: ['[accountId]'],
};

const SYNOPSIS: Record<string, string> = {
  request:
    'vend request --name <name> --ou <path> --owner <email> [--email <email>] [--slack-user <id>] [--budget <usd>]\n' +
    '             [--tag <key=value> ...] [--vpc <vpc-id:region>] [--idempotency-key <key>] [--watch]\n' +
    '       vend request --file <request.json> [flags overriding its fields] [--watch]',
  status: 'vend status <requestId> [--watch]',
  list: 'vend list [--limit <n>] [--cursor <cursor>] [--all]',
  show: 'vend show <accountId>',
  drift: 'vend drift [accountId]',
};

const SUMMARY: Record<string, string> = {
  request: 'ask for an account; prints the request id and how to follow it',
  status: "a request's status and steps; on failure, the step, the reason and what to do",
  list: 'the vended accounts, as a table',
  show: "an account's desired state, as Vend recorded it, and its latest drift",
  drift:
    'changes made by hand to vended accounts and what Vend did: every account, or the whole history of one',
};

const EXIT_CODES_HELP = `Exit codes:
  0  ok (status, --watch: the request succeeded; status without --watch: also while it is still under way)
  1  the request failed
  2  usage error: a bad flag or argument (the message names it and the fix), or no AWS credentials for a remote API
  3  the API refused the call (4xx): the field, the message and the fix are printed
  4  the API could not be reached, or answered 5xx or something unreadable`;

function mainHelp(): string {
  const commands = Object.keys(SYNOPSIS)
    .map((command) => `  ${command.padEnd(8)} ${SUMMARY[command]}`)
    .join('\n');
  return `Usage: npm run vend -- <command> [flags]

Ask for AWS accounts and follow the requests, through Vend's request API.

Commands:
${commands}

${Object.values(SYNOPSIS)
  .map((synopsis) => `  ${synopsis.replaceAll('\n', '\n  ')}`)
  .join('\n')}

Flags for every command:
${flagLines(GLOBAL_FLAGS)}

The API: --api-url, else VEND_API_URL, else ${DEFAULT_API_URL} (the local pipeline of npm start).
Calls are signed with SigV4 (service execute-api) using your AWS credentials (AWS_PROFILE, SSO, environment
variables...); a local API is called unsigned when you have none.
With --json, stdout carries only the API's JSON (for an error too, when the API answered one); --watch --json
prints the request once it has finished.

${EXIT_CODES_HELP}
`;
}

function flagLines(flags: Record<string, FlagSpec>): string {
  return Object.entries(flags)
    .map(([name, spec]) => `  ${`--${name}${spec.value ? ` ${spec.value}` : ''}`.padEnd(30)} ${spec.help}`)
    .join('\n');
}

function commandHelp(command: string): string {
  return `Usage: ${SYNOPSIS[command]}

${SUMMARY[command]}.

Flags:
${flagLines(COMMAND_FLAGS[command] ?? {})}
${flagLines(GLOBAL_FLAGS)}

${EXIT_CODES_HELP}
`;
}

interface Parsed {
  command: string | undefined;
  positionals: string[];
  values: Record<string, string | string[] | boolean>;
}

/** Edit distance, to suggest the flag a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Reads the command line. A small parser of its own rather than `util.parseArgs`, so that a missing value
 * (`--name --ou x`) and an unknown flag are named exactly, with the fix.
 */
function parseCommandLine(argv: string[]): Parsed {
  const positionals: string[] = [];
  const raw: { name: string; rawName: string; value: string | undefined }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      raw.push({ name: 'help', rawName: arg, value: undefined });
    } else if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      raw.push({ name, rawName: `--${name}`, value: eq === -1 ? undefined : arg.slice(eq + 1) });
      const spec = GLOBAL_FLAGS[name] ?? Object.values(COMMAND_FLAGS).find((flags) => flags[name])?.[name];
      if (eq === -1 && spec?.type === 'string') {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          raw[raw.length - 1]!.value = next;
          i++;
        }
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      throw new UsageError(
        `unknown flag ${arg}`,
        'Flags are spelled out with two dashes, e.g. --name; see npm run vend -- --help.',
      );
    } else {
      positionals.push(arg);
    }
  }
  const command = positionals.shift();
  const known = command ? COMMAND_FLAGS[command] : undefined;
  if (command !== undefined && !known) {
    const guess = closest(command, Object.keys(COMMAND_FLAGS));
    throw new UsageError(
      `unknown command '${command}'`,
      `${guess ? `Did you mean '${guess}'? ` : ''}The commands are ${Object.keys(COMMAND_FLAGS).join(', ')}; see npm run vend -- --help.`,
    );
  }
  const flags: Record<string, FlagSpec> = { ...GLOBAL_FLAGS, ...known };
  const values: Parsed['values'] = {};
  for (const { name, rawName, value } of raw) {
    const spec = flags[name];
    if (!spec) {
      const guess = closest(name, Object.keys(flags));
      const where = command ? `vend ${command}` : 'vend';
      throw new UsageError(
        `unknown flag ${rawName} for ${where}`,
        guess
          ? `Did you mean --${guess}? See npm run vend -- ${command ?? ''} --help.`.replace('  ', ' ')
          : `Its flags are ${Object.keys(flags)
              .map((f) => `--${f}`)
              .join(', ')}.`,
        command,
      );
    }
    if (spec.type === 'boolean') {
      if (value !== undefined)
        throw new UsageError(`${rawName} takes no value`, `Write ${rawName} alone.`, command);
      values[name] = true;
      continue;
    }
    if (value === undefined || value === '') {
      throw new UsageError(
        `${rawName} needs a value`,
        `Write ${rawName} ${spec.value ?? '<value>'}.`,
        command,
      );
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined)
      throw new UsageError(`${rawName} is given twice`, `Give ${rawName} once.`, command);
    else values[name] = value;
  }
  return { command, positionals, values };
}

function str(values: Parsed['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// The API client: signing, retries, errors.

function isLocalHost(hostname: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname) || hostname.endsWith('.localhost');
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
    throw new UsageError(
      `no AWS credentials to sign the call to the API (${why})`,
      'Give the credentials of the principal allowed to call the API: export AWS_PROFILE=<profile> (after `aws sso login --profile <profile>` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).',
    );
  }
}

interface ApiError {
  status?: number;
  field?: string;
  message?: string;
  fix?: string;
}

class ApiClient {
  private credentials: Promise<AwsCredentialIdentity | undefined> | undefined;
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
        throw new UsageError(
          `no AWS credentials to sign the call to ${this.base.origin}`,
          'Give the credentials of the principal allowed to call the API: export AWS_PROFILE=<profile> (after `aws sso login --profile <profile>` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).',
        );
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
   * Calls the API and returns its JSON. Retries the network failing, 429 and 5xx (a POST keeps its
   * Idempotency-Key, so a retry never makes a second request), then throws RefusedError or UnavailableError.
   */
  async call<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { query?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const url = this.url(path, options.query);
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    let last: UnavailableError | RefusedError | undefined;
    let arrived = false;
    /** What the last answer's Retry-After asked for, in milliseconds. */
    let asked = 0;
    for (let attempt = 1; attempt <= HTTP_ATTEMPTS; attempt++) {
      if (attempt > 1) await this.io.sleep(Math.max(500 * 2 ** (attempt - 2), asked));
      asked = 0;
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
        if (!['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(cause?.code ?? '')) arrived = true;
        last = new UnavailableError(
          `could not reach the API at ${this.base.href.replace(/\/$/, '')} (${why})`,
          this.local
            ? 'Start the local pipeline with `npm start`, or point --api-url (or VEND_API_URL) at the deployed API.'
            : 'Check the URL (--api-url or VEND_API_URL) and your network, then try again.',
          undefined,
          arrived,
        );
        continue;
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
      asked = retryAfterMs(response.headers.get('retry-after'));
      if (response.status >= 500) {
        last = new UnavailableError(
          `the API failed (${response.status}): ${error.message}`,
          error.fix ?? 'Try again in a while; if it keeps failing, tell your platform team.',
          parsed ? json : undefined,
        );
        if ([500, 502, 503, 504].includes(response.status)) continue;
        throw last;
      }
      last = new RefusedError(
        response.status,
        error.field,
        error.message ?? `status ${response.status}`,
        error.fix,
        parsed ? json : undefined,
      );
      if (response.status === 429) continue;
      throw last;
    }
    throw last!;
  }
}

/** The longest Retry-After the CLI honours: a server asking for more is retried sooner. */
const MAX_RETRY_AFTER_MS = 30_000;

/** A Retry-After header's delay (seconds, or an HTTP date), in milliseconds; 0 when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (!value) return 0;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : 0;
}

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

// ---------------------------------------------------------------------------------------------------------------
// Output.

class Output {
  constructor(
    private readonly io: VendIo,
    readonly json: boolean,
  ) {}
  /** Human output: nothing on stdout in --json mode. */
  line(text = ''): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }
  raw(text: string): void {
    if (!this.json) this.io.stdout.write(text);
  }
  data(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
  error(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}

/** `2026-11-22T03:14:44.873Z` -> `03:14:44`, in UTC. */
function clock(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(11, 19);
}

function dateTime(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function took(step: StepView): string {
  if (!step.endedAt) return '';
  const ms = new Date(step.endedAt).getTime() - new Date(step.startedAt).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds === 0) return '<1s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

function orderedSteps(steps: StepView[]): StepView[] {
  const rank = (name: string) => {
    const i = STEP_ORDER.indexOf(name);
    return i === -1 ? STEP_ORDER.length : i;
  };
  return [...(steps ?? [])].sort(
    (a, b) => rank(a.name) - rank(b.name) || a.startedAt.localeCompare(b.startedAt),
  );
}

function requesterText(requester: unknown): string | undefined {
  if (typeof requester === 'string') return requester;
  if (requester && typeof requester === 'object') {
    const { principal, slackUserId } = requester as { principal?: string; slackUserId?: string };
    return (
      [principal, slackUserId ? `Slack ${slackUserId}` : undefined].filter(Boolean).join(', ') || undefined
    );
  }
  return undefined;
}

/** The request and each of its steps, as `vend status` prints it. */
function describeRequest(request: RequestView): string[] {
  const ou = request.organizationalUnit;
  const head = table(
    [
      ['account', `${request.accountName}${request.accountId ? ` (${request.accountId})` : ''}`],
      ['email', request.email],
      ['OU', ou ? `${ou.path}${ou.id && ou.id !== ou.path ? ` (${ou.id})` : ''}` : ''],
      ['owner', request.owner],
      ['requester', requesterText(request.requester) ?? ''],
      ['created', dateTime(request.createdAt)],
      ['updated', dateTime(request.updatedAt)],
    ]
      .filter(([, value]) => value)
      .map(([key, value]) => [`  ${key}`, value!]),
  );
  const lines = [`Request ${request.requestId}: ${request.status}`, ...head];
  const steps = orderedSteps(request.steps);
  if (steps.length > 0) {
    lines.push('');
    lines.push(
      ...table([
        ['step', 'status', 'started', 'ended', 'took', 'tries', 'detail'],
        ...steps.map((step) => [
          step.name,
          step.status,
          clock(step.startedAt),
          clock(step.endedAt),
          took(step),
          String(step.attempts),
          step.detail ?? '',
        ]),
      ]),
    );
    lines.push('(times in UTC)');
  } else {
    lines.push('', 'No step has started yet.');
  }
  const notification = request.notification;
  if (notification?.status) {
    lines.push(
      '',
      `Slack: ${notification.kind ? `${notification.kind} message ` : ''}${notification.status}${notification.at ? ` at ${dateTime(notification.at)}` : ''}${notification.error ? ` (${notification.error})` : ''}`,
    );
  }
  return lines;
}

/** What to do next, under the request: the account, the failure and its advice, or how to follow it. */
function outcome(request: RequestView, followHint: string): string[] {
  if (request.status === 'succeeded') {
    return [
      `Account ${request.accountId ?? ''} (${request.accountName}) is ready in ${request.organizationalUnit?.path ?? 'its OU'}.`,
    ];
  }
  if (request.status === 'failed') {
    const failure = request.failure;
    if (!failure) return ['The request failed.'];
    return [`Failed at ${failure.step}: ${failure.reason}`, `What to do: ${failure.advice}`];
  }
  return [`Still ${request.status}. Follow it: ${followHint}`];
}

// ---------------------------------------------------------------------------------------------------------------
// Commands.

interface Context {
  io: VendIo;
  out: Output;
  api: ApiClient;
  /** `--api-url <url>` when given as a flag, to repeat in the hints printed. */
  apiUrlFlag: string;
}

function followHint(context: Context, requestId: string): string {
  return `npm run vend -- status ${requestId} --watch${context.apiUrlFlag}`;
}

async function getRequest(context: Context, requestId: string): Promise<RequestView> {
  return context.api.call<RequestView>('GET', `/accounts/requests/${encodeURIComponent(requestId)}`);
}

const TERMINAL = new Set<RequestStatus>(['succeeded', 'failed']);
/** Polls after the request ended, while its last step is still recorded as running. */
const SETTLE_POLLS = 5;

/**
 * Polls the request about once a second until it succeeds or fails. Not on a terminal: appends a line for
 * each step as it starts, is tried again and ends (in the order things happened). On a terminal: redraws the
 * status in place.
 */
async function watch(context: Context, requestId: string): Promise<RequestView> {
  const { io, out } = context;
  const seen = new Map<string, { status: string; attempts: number }>();
  let lastStatus: string | undefined;
  let drawn = 0;
  let settlePolls = 0;
  let request = await getRequest(context, requestId);
  for (;;) {
    if (!out.json) {
      if (io.isTTY) {
        const width = Math.max(40, (io.columns ?? 120) - 1);
        const lines = [
          ...describeRequest(request),
          '',
          TERMINAL.has(request.status) ? '' : `watching (every ${WATCH_INTERVAL_MS / 1000} s; Ctrl+C stops)`,
        ].map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
        out.raw(`${drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else {
        if (lastStatus === undefined) {
          out.line(
            `Request ${request.requestId}: ${request.accountName} (${request.email}) in ${request.organizationalUnit?.path ?? '?'}; times in UTC`,
          );
        }
        for (const line of events(request, lastStatus, seen)) out.line(line);
      }
      lastStatus = request.status;
    }
    if (TERMINAL.has(request.status)) {
      // The request ends as soon as the account is ready (or failed); the announcement is recorded just
      // after. Wait a few polls for it, so the last step is shown ended; the outcome is already known.
      const settling = request.steps.some((step) => step.status === 'running');
      if (!settling || settlePolls >= SETTLE_POLLS) return request;
      settlePolls++;
    }
    await io.sleep(WATCH_INTERVAL_MS);
    try {
      request = await getRequest(context, requestId);
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      if (TERMINAL.has(request.status)) return request;
      throw new UnavailableError(
        error.message,
        `${error.fix} The request goes on without you: resume with ${followHint(context, requestId)}`,
        error.body,
      );
    }
  }
}

/**
 * The lines for what changed since the last poll, oldest first: the request's status, and each step started,
 * tried again or ended. A retry and a status change are dated by the request's last update (the API keeps no
 * time for them).
 */
function events(
  request: RequestView,
  lastStatus: string | undefined,
  seen: Map<string, { status: string; attempts: number }>,
): string[] {
  const found: { at: string; text: string }[] = [];
  if (request.status !== lastStatus) found.push({ at: request.updatedAt, text: `request ${request.status}` });
  for (const step of orderedSteps(request.steps)) {
    const previous = seen.get(step.name);
    if (!previous) {
      found.push({
        at: step.startedAt,
        text: `${step.name} started${step.attempts > 1 && step.status === 'running' ? ` (attempt ${step.attempts})` : ''}`,
      });
    } else if (step.status === 'running' && step.attempts > previous.attempts) {
      found.push({ at: request.updatedAt, text: `${step.name} attempt ${step.attempts}` });
    }
    // A step that ran again (each look at the account creation is one) ends again, with new news.
    if (
      step.status !== 'running' &&
      (previous?.status !== step.status || step.attempts > previous.attempts)
    ) {
      const tries =
        step.name === 'waitForAccount'
          ? ` (look ${step.attempts})`
          : step.attempts > 1
            ? ` after ${step.attempts} attempts`
            : '';
      const duration = took(step);
      found.push({
        at: step.endedAt ?? request.updatedAt,
        text: `${step.name} ${step.status}${duration ? ` in ${duration}` : ''}${tries}${step.detail ? `: ${step.detail}` : ''}`,
      });
    }
    seen.set(step.name, { status: step.status, attempts: step.attempts });
  }
  return found
    .map((event, index) => ({ ...event, index }))
    .sort((a, b) => a.at.localeCompare(b.at) || a.index - b.index)
    .map((event) => `${clock(event.at)}  ${event.text}`);
}

/** Prints a finished or current request and returns the exit code its status means. */
function finish(context: Context, request: RequestView, watched: boolean): number {
  const { out } = context;
  out.data(request);
  // Watching has shown the steps already, as lines or redrawn.
  if (!watched) for (const line of describeRequest(request)) out.line(line);
  out.line();
  for (const line of outcome(request, followHint(context, request.requestId))) out.line(line);
  return request.status === 'failed' ? EXIT.requestFailed : EXIT.ok;
}

async function statusCommand(context: Context, parsed: Parsed): Promise<number> {
  const requestId = parsed.positionals[0]!;
  if (parsed.values['watch']) {
    const request = await watch(context, requestId);
    return finish(context, request, true);
  }
  return finish(context, await getRequest(context, requestId), false);
}

function usage(command: string, message: string, fix: string): UsageError {
  return new UsageError(message, fix, command);
}

/** The request's body: the file's, then each flag over it. Checks what can be checked without the API. */
async function requestBody(context: Context, values: Parsed['values']): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  const file = str(values, 'file');
  if (file !== undefined) {
    let text: string;
    try {
      text = await (context.io.readFile ?? ((path: string) => readFile(path, 'utf8')))(file);
    } catch (error) {
      throw usage(
        'request',
        `--file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'Give the path of a JSON file with the request, e.g. --file request.json.',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw usage(
        'request',
        `--file ${file} is not JSON (${(error as Error).message})`,
        'Write the request as a JSON object: {"name": "payments", "organizationalUnit": "Workloads/Dev", "owner": "alice@example.com"}.',
      );
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw usage(
        'request',
        `--file ${file} does not hold a JSON object`,
        'Write the request as a JSON object: {"name": "payments", "organizationalUnit": "Workloads/Dev", "owner": "alice@example.com"}.',
      );
    }
    body = { ...(json as Record<string, unknown>) };
  }
  const name = str(values, 'name');
  if (name !== undefined) body['name'] = name;
  const ou = str(values, 'ou');
  if (ou !== undefined) body['organizationalUnit'] = ou;
  const owner = str(values, 'owner');
  if (owner !== undefined) body['owner'] = owner;
  const email = str(values, 'email');
  if (email !== undefined) body['email'] = email;
  const slackUser = str(values, 'slack-user');
  if (slackUser !== undefined) {
    body['requester'] = { ...(body['requester'] as object | undefined), slackUserId: slackUser };
  }
  const budget = str(values, 'budget');
  if (budget !== undefined) {
    const monthlyLimitUsd = Number(budget);
    if (!/^\d+(\.\d+)?$/.test(budget.trim()) || !(monthlyLimitUsd > 0)) {
      throw usage(
        'request',
        `--budget ${budget} is not a positive amount`,
        'Give the monthly limit in USD, e.g. --budget 200.',
      );
    }
    body['budget'] = { ...(body['budget'] as object | undefined), monthlyLimitUsd };
  }
  const tags = values['tag'] as string[] | undefined;
  if (tags) {
    const merged: Record<string, string> = { ...(body['tags'] as Record<string, string> | undefined) };
    for (const tag of tags) {
      const eq = tag.indexOf('=');
      if (eq <= 0) {
        throw usage(
          'request',
          `--tag ${tag} is not key=value`,
          'Write each tag as --tag key=value, e.g. --tag team=payments.',
        );
      }
      merged[tag.slice(0, eq)] = tag.slice(eq + 1);
    }
    body['tags'] = merged;
  }
  const vpc = str(values, 'vpc');
  if (vpc !== undefined) {
    const match = /^(vpc-[0-9a-zA-Z]+):([a-z]{2}(?:-[a-z]+)+-\d+)$/.exec(vpc);
    if (!match) {
      throw usage(
        'request',
        `--vpc ${vpc} is not <vpc-id>:<region>`,
        'Give the VPC id and its region, e.g. --vpc vpc-0abc1234def567890:us-east-1.',
      );
    }
    body['vpc'] = { id: match[1], region: match[2] };
  }
  const required: [string, string, string][] = [
    ['name', '--name', "the account's short name, e.g. --name payments"],
    ['organizationalUnit', '--ou', 'the OU to vend into, e.g. --ou Workloads/Dev'],
    ['owner', '--owner', "the owner's email, e.g. --owner alice@example.com"],
  ];
  for (const [field, flag, fix] of required) {
    if (body[field] === undefined || body[field] === '') {
      throw usage(
        'request',
        `${flag} is required`,
        `Give ${fix}${file ? ` (or "${field}" in ${file})` : ''}.`,
      );
    }
  }
  return body;
}

async function requestCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out, io } = context;
  const body = await requestBody(context, parsed.values);
  const key =
    str(parsed.values, 'idempotency-key') ?? (io.newIdempotencyKey ?? (() => `vend-cli-${randomUUID()}`))();
  let accepted: Accepted;
  try {
    accepted = await context.api.call<Accepted>('POST', '/accounts', {
      body,
      headers: { 'idempotency-key': key },
    });
  } catch (error) {
    if (error instanceof UnavailableError && error.mayHaveArrived) {
      throw new UnavailableError(
        error.message,
        `${error.fix} The request may have been accepted: repeat the command with --idempotency-key ${key} to find out without asking for a second account.`,
        error.body,
      );
    }
    throw error;
  }
  if (parsed.values['watch']) {
    if (!out.json) {
      out.line(`Request ${accepted.requestId} accepted (idempotency key ${key}).`);
      out.line();
    }
    const request = await watch(context, accepted.requestId);
    return finish(context, request, true);
  }
  out.data(accepted);
  const ou =
    typeof accepted.organizationalUnit === 'string'
      ? accepted.organizationalUnit
      : accepted.organizationalUnit?.path;
  out.line(
    `Request ${accepted.requestId} accepted: ${accepted.accountName} (${accepted.email}) in ${ou}, ${accepted.status}.`,
  );
  out.line(`Follow it:  ${followHint(context, accepted.requestId)}`);
  return EXIT.ok;
}

interface AccountPage {
  accounts: AccountView[];
  nextCursor?: string;
}

async function listCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const limit = str(parsed.values, 'limit');
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) {
    throw usage(
      'list',
      `--limit ${limit} is not a positive whole number`,
      'Give how many accounts a page holds, e.g. --limit 50.',
    );
  }
  const all = parsed.values['all'] === true;
  let cursor = str(parsed.values, 'cursor');
  const accounts: AccountView[] = [];
  const cursors = new Set<string>();
  let page: AccountPage;
  for (;;) {
    page = await context.api.call<AccountPage>('GET', '/accounts', {
      query: { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) },
    });
    accounts.push(...(page.accounts ?? []));
    if (!all || !page.nextCursor || cursors.has(page.nextCursor)) break;
    cursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
  out.data(all ? { accounts } : page);
  if (accounts.length === 0) {
    out.line(cursor ? 'No more accounts.' : 'No account has been vended yet.');
  } else {
    for (const line of table([
      ['ACCOUNT ID', 'NAME', 'OU', 'OWNER', 'STATUS'],
      ...accounts.map((account) => [
        account.accountId,
        account.accountName,
        account.organizationalUnit?.path ?? '',
        account.owner,
        account.status,
      ]),
    ]))
      out.line(line);
  }
  if (!all && page.nextCursor) {
    out.line();
    out.line(
      `More: npm run vend -- list --cursor ${page.nextCursor}${limit ? ` --limit ${limit}` : ''}${context.apiUrlFlag}, or --all for every page.`,
    );
  }
  return EXIT.ok;
}

async function showCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0]!;
  if (!/^\d{12}$/.test(accountId)) {
    throw usage(
      'show',
      `<accountId> ${accountId} is not an account id`,
      'Give the 12-digit account id, e.g. vend show 123456789012 (vend list shows them).',
    );
  }
  const account = await context.api.call<AccountView>('GET', `/accounts/${accountId}`);
  out.data(account);
  const ou = account.organizationalUnit;
  const budget = account.budget;
  const tags = Object.entries(account.tags ?? {});
  const rows: [string, string | undefined][] = [
    ['email', account.email],
    ['OU', ou ? `${ou.path}${ou.id && ou.id !== ou.path ? ` (${ou.id})` : ''}` : undefined],
    ['owner', account.owner],
    ['baseline', account.baselineVersion === undefined ? undefined : `version ${account.baselineVersion}`],
    [
      'budget',
      budget
        ? `${budget.monthlyLimitUsd} USD a month${budget.name ? ` (${budget.name})` : ''}${
            budget.thresholds?.length
              ? `; alerts at ${budget.thresholds.map((t) => `${t.percent}% ${t.type.toLowerCase()}`).join(', ')}`
              : ''
          }`
        : undefined,
    ],
    ['tags', tags.length ? tags.map(([k, v]) => `${k}=${v}`).join(', ') : undefined],
    [
      'DNS',
      account.dns
        ? `${account.dns.vpcId} (${account.dns.region}) in zone ${account.dns.hostedZoneId}`
        : undefined,
    ],
    ['alias', account.alias],
    ['request', account.requestId],
    ['created', dateTime(account.createdAt)],
    ['updated', dateTime(account.updatedAt)],
  ];
  if (account.drift) rows.push(['drift', driftSummary(account.drift)]);
  out.line(`Account ${account.accountId}  ${account.accountName}  ${account.status}`);
  for (const line of table(rows.filter(([, v]) => v).map(([k, v]) => [`  ${k}`, v!]))) out.line(line);
  const recent = account.drift?.history.slice(0, SHOW_DRIFT_ENTRIES) ?? [];
  if (recent.length > 0) {
    out.line();
    out.line('Drift (latest first):');
    for (const line of driftTable(recent)) out.line(`  ${line}`);
    if ((account.drift?.history.length ?? 0) > recent.length)
      out.line(`  …the rest: npm run vend -- drift ${account.accountId}${context.apiUrlFlag}`);
  }
  return EXIT.ok;
}

/** How many drift entries `vend show` prints; `vend drift <accountId>` prints them all. */
const SHOW_DRIFT_ENTRIES = 5;

const ASPECT_NAMES: Record<string, string> = {
  organizationalUnit: 'OU',
  tags: 'tags',
  membership: 'membership',
  baseline: 'baseline',
  budget: 'budget',
  dns: 'DNS',
};

/** `drifted (OU, tags)`, `in sync (checked 2026-11-22 10:00:00 UTC)`, `never checked`. */
function driftSummary(drift: DriftView): string {
  const aspects = Object.entries(drift.aspects ?? {});
  if (drift.status === 'unknown' || aspects.length === 0) return 'never checked';
  const drifted = aspects
    .filter(([, aspect]) => aspect?.status === 'drifted')
    .map(([name]) => ASPECT_NAMES[name] ?? name);
  const last = aspects
    .map(([, aspect]) => aspect?.checkedAt ?? '')
    .sort()
    .at(-1);
  const checked = last ? ` (last checked ${dateTime(last)})` : '';
  return drift.status === 'drifted' ? `drifted: ${drifted.join(', ')}${checked}` : `in sync${checked}`;
}

/** Drift entries as a table: when, what, who, and what became of it. */
function driftTable(entries: DriftRecordView[]): string[] {
  return table([
    ['WHEN', 'OUTCOME', 'WHAT', 'BY', 'DONE'],
    ...entries.map((entry) => [
      dateTime(entry.at),
      entry.outcome,
      `${entry.eventName ? `${entry.eventName}: ` : entry.source === 'sweep' ? 'sweep: ' : ''}${entry.what}`,
      entry.by ?? (entry.source === 'sweep' ? '(found by the sweep)' : ''),
      entry.outcome === 'failed'
        ? `failed: ${entry.reason ?? ''}${entry.action ? `; done: ${entry.action}` : ''}`
        : (entry.action ?? ''),
    ]),
  ]);
}

async function driftCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0];
  if (accountId !== undefined) {
    if (!/^\d{12}$/.test(accountId)) {
      throw usage(
        'drift',
        `[accountId] ${accountId} is not an account id`,
        'Give the 12-digit account id, e.g. vend drift 123456789012, or none for every account.',
      );
    }
    const account = await context.api.call<AccountView>('GET', `/accounts/${accountId}`);
    out.data(account.drift ?? null);
    out.line(`Account ${account.accountId}  ${account.accountName}  ${account.status}`);
    if (!account.drift) {
      out.line('The API reports no drift for accounts: it predates drift detection.');
      return EXIT.ok;
    }
    out.line(`  drift  ${driftSummary(account.drift)}`);
    out.line();
    if (account.drift.history.length === 0)
      out.line('No drift recorded: nobody has changed it by hand since Vend vended it.');
    else for (const line of driftTable(account.drift.history)) out.line(line);
    return EXIT.ok;
  }
  const accounts: AccountView[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (;;) {
    const page = await context.api.call<AccountPage>('GET', '/accounts', {
      query: { limit: '100', ...(cursor ? { cursor } : {}) },
    });
    accounts.push(...(page.accounts ?? []));
    if (!page.nextCursor || cursors.has(page.nextCursor)) break;
    cursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
  out.data({
    accounts: accounts.map((account) => ({
      accountId: account.accountId,
      accountName: account.accountName,
      drift: account.drift ?? null,
    })),
  });
  if (accounts.length === 0) {
    out.line('No account has been vended yet.');
    return EXIT.ok;
  }
  for (const line of table([
    ['ACCOUNT ID', 'NAME', 'STATUS', 'DRIFT', 'LATEST'],
    ...accounts.map((account) => {
      const latest = account.drift?.history[0];
      return [
        account.accountId,
        account.accountName,
        account.status,
        account.drift ? driftSummary(account.drift) : 'not reported by the API',
        latest
          ? `${dateTime(latest.at)} ${latest.outcome}: ${latest.eventName ? `${latest.eventName} ` : ''}${latest.what}`
          : '',
      ];
    }),
  ]))
    out.line(line);
  const drifted = accounts.filter((account) => account.drift?.status === 'drifted').length;
  out.line();
  out.line(
    `${drifted} of ${accounts.length} account(s) drifted. The whole history of one: npm run vend -- drift <accountId>${context.apiUrlFlag}`,
  );
  return EXIT.ok;
}

const COMMANDS: Record<string, (context: Context, parsed: Parsed) => Promise<number>> = {
  request: requestCommand,
  status: statusCommand,
  list: listCommand,
  show: showCommand,
  drift: driftCommand,
};

function apiBase(parsed: Parsed, env: VendIo['env']): { url: URL; flag: string } {
  const flag = str(parsed.values, 'api-url');
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
      parsed.command,
    );
  }
  return { url, flag: flag !== undefined ? ` --api-url ${value}` : '' };
}

/**
 * The `vend` command: parses `argv` (the arguments after `vend`), talks to the request API and returns the exit
 * code (see EXIT). Never throws for what a user or the API can cause.
 */
export async function runVend(argv: string[], io: VendIo): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output(io, json);
  let parsed: Parsed | undefined;
  try {
    parsed = parseCommandLine(argv);
    const { command } = parsed;
    if (parsed.values['help'] || command === undefined) {
      if (command === undefined && !parsed.values['help']) {
        throw new UsageError(
          'no command given',
          'Give one of request, status, list, show, drift; see npm run vend -- --help.',
        );
      }
      io.stdout.write(command ? commandHelp(command) : mainHelp());
      return EXIT.ok;
    }
    const wanted = POSITIONALS[command]!;
    const required = wanted.filter((name) => !name.startsWith('['));
    if (parsed.positionals.length < required.length) {
      throw usage(command, `${wanted[parsed.positionals.length]} is missing`, `Write: ${SYNOPSIS[command]}.`);
    }
    if (parsed.positionals.length > wanted.length) {
      throw usage(
        command,
        `unexpected argument '${parsed.positionals[wanted.length]}'`,
        `Write: ${SYNOPSIS[command]} (values go after their flag, e.g. --tag team=payments).`,
      );
    }
    const base = apiBase(parsed, io.env);
    const context: Context = { io, out, api: new ApiClient(base.url, io), apiUrlFlag: base.flag };
    return await COMMANDS[command]!(context, parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      out.error(`vend: ${error.message}\n  fix: ${error.fix}`);
      return EXIT.usage;
    }
    if (error instanceof RefusedError) {
      if (error.body !== undefined) out.data(error.body);
      // The API's message may already start with the field.
      const message =
        error.field && error.message.startsWith(`${error.field}: `)
          ? error.message.slice(error.field.length + 2)
          : error.message;
      out.error(
        `vend: the API refused (${error.status})${error.field ? `: ${error.field}` : ''}: ${message}${error.fix ? `\n  fix: ${error.fix}` : ''}`,
      );
      return EXIT.refused;
    }
    if (error instanceof UnavailableError) {
      if (error.body !== undefined) out.data(error.body);
      out.error(`vend: ${error.message}\n  fix: ${error.fix}`);
      return EXIT.unavailable;
    }
    out.error(
      `vend: unexpected error: ${(error as Error).stack ?? error}\n  fix: the API may have answered something this CLI does not understand; check --api-url, or report it.`,
    );
    return EXIT.unavailable;
  }
}
