import { z } from 'zod';
import type { Clock } from './clock.ts';
import { AwsError } from './errors.ts';

/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond` on the cloud's clock; each call takes one,
 * and a call that finds none is throttled. This is how EC2 documents its request throttling (EC2 Developer Guide,
 * "Request throttling for the Amazon EC2 API": a bucket per API, per account and Region) and how IAM and STS
 * describe theirs (AWS Security Blog, "How to monitor and query IAM resources at scale – Part 2").
 */
export interface TokenBucketLimit {
  /** Tokens added per second of the cloud's clock. */
  ratePerSecond: number;
  /** The bucket's capacity: the calls that may come at once after a quiet spell. */
  burst: number;
  /**
   * `operation` (default): each operation has its own bucket, per account and region; `service`: one bucket for
   * the service's every operation (Route 53: "five requests per second per AWS account", all requests together).
   */
  scope?: 'operation' | 'service';
}

/**
 * Limits by key, the most specific first: `<service>:<Operation>` (`organizations:CreateAccount`), then
 * `<service>:mutating` or `<service>:read` (by whether the operation changes state), then `<service>`. Services
 * are named by their signing name (`organizations`, `sts`, `iam`, `budgets`, `route53`, `ec2`, `sso`,
 * `identitystore`, `s3`, `account`).
 */
export type RateLimitTable = Record<string, TokenBucketLimit>;

/**
 * The realistic profile. Where AWS publishes a figure it is used, and named; elsewhere AWS says only that it
 * throttles (Organizations: TooManyRequestsException, "Quotas for Organizations" lists no request rate; IAM and
 * STS: token buckets whose sizes it does not publish), and the figure is a local default, chosen low enough that
 * a design that hammers the API is throttled here as it would be there, and configurable.
 */
export const AWS_RATE_LIMITS: RateLimitTable = {
  // Not published: a local default.
  organizations: { ratePerSecond: 10, burst: 20 },
  'organizations:mutating': { ratePerSecond: 5, burst: 10 },
  // Not published: a local default.
  sts: { ratePerSecond: 50, burst: 100 },
  // Not published: a local default.
  iam: { ratePerSecond: 20, burst: 40 },
  'iam:mutating': { ratePerSecond: 10, burst: 20 },
  // Not published: a local default.
  budgets: { ratePerSecond: 5, burst: 10 },
  // Route 53 Developer Guide, "Quotas", API requests: "Five requests per second per AWS account".
  route53: { ratePerSecond: 5, burst: 5, scope: 'service' },
  // EC2 Developer Guide, "Request throttling for the Amazon EC2 API": non-mutating actions bucket 100, refill 20
  // per second; mutating actions bucket 50, refill 5 per second.
  ec2: { ratePerSecond: 20, burst: 100 },
  'ec2:mutating': { ratePerSecond: 5, burst: 50 },
  // Not published: local defaults.
  sso: { ratePerSecond: 20, burst: 40 },
  identitystore: { ratePerSecond: 20, burst: 40 },
  s3: { ratePerSecond: 20, burst: 40 },
  account: { ratePerSecond: 10, burst: 20 },
};

/**
 * Each service's answer to a throttled call, as its SDK model names it: Organizations and the Account API
 * TooManyRequestsException (HTTP 429), SSO Admin and Identity Store ThrottlingException (429), Budgets and Route 53
 * ThrottlingException (400), IAM and STS `Throttling` "Rate exceeded" (400: AWS re:Post, "How do I resolve API
 * throttling or 'Rate exceeded' errors for IAM and AWS STS?"), EC2 RequestLimitExceeded (503, EC2 API Reference,
 * "Error codes"), S3 SlowDown (503, S3 API Reference, "Error responses"). Every one of them is a throttling error to
 * the SDK's retry strategy, which backs off and tries again.
 */
const THROTTLING: Record<string, { code: string; status: number; message: string }> = {
  organizations: {
    code: 'TooManyRequestsException',
    status: 429,
    message: 'You have sent too many requests in too short a period of time. Try again later.',
  },
  account: { code: 'TooManyRequestsException', status: 429, message: 'Too many requests.' },
  sso: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
  identitystore: { code: 'ThrottlingException', status: 429, message: 'Rate exceeded' },
  budgets: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  route53: { code: 'ThrottlingException', status: 400, message: 'Rate exceeded' },
  iam: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  sts: { code: 'Throttling', status: 400, message: 'Rate exceeded' },
  ec2: { code: 'RequestLimitExceeded', status: 503, message: 'Request limit exceeded.' },
  s3: { code: 'SlowDown', status: 503, message: 'Please reduce your request rate.' },
};

export const tokenBucketLimitSchema = z.strictObject({
  ratePerSecond: z.number().positive(),
  burst: z.number().int().positive(),
  scope: z.enum(['operation', 'service']).optional(),
});

/**
 * How the local cloud throttles: `off` (nothing is throttled), `aws` (AWS_RATE_LIMITS), or a profile with
 * `limits` added or replaced by key (`null` removes a key, so that the next less specific one applies).
 */
const profileNameSchema = z.enum(['off', 'aws']);

/** A profile name, or else the object form: a union would hide which field of the object is wrong. */
function profileOrObject<T extends z.ZodType>(object: T) {
  return z.custom<z.infer<typeof profileNameSchema> | z.infer<T>>().superRefine((value, context) => {
    const parsed = (typeof value === 'string' ? profileNameSchema : object).safeParse(value);
    for (const issue of parsed.success ? [] : parsed.error.issues)
      context.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
}

export const rateLimitOptionsSchema = profileOrObject(
  z.strictObject({
    profile: profileNameSchema.optional(),
    limits: z
      .record(z.string().regex(/^[a-z0-9]+(:[A-Za-z]+)?$/), tokenBucketLimitSchema.nullable())
      .optional(),
  }),
);
export type RateLimitOptions = z.infer<typeof rateLimitOptionsSchema>;

/** The table an option describes. */
export function rateLimitTable(options: RateLimitOptions): RateLimitTable {
  if (options === 'off') return {};
  if (options === 'aws') return { ...AWS_RATE_LIMITS };
  const table: RateLimitTable = options.profile === 'aws' ? { ...AWS_RATE_LIMITS } : {};
  for (const [key, limit] of Object.entries(options.limits ?? {})) {
    if (limit === null) delete table[key];
    else table[key] = limit;
  }
  return table;
}

/** Token buckets per account, region, service and operation (or service), on the cloud's clock. */
export class RateLimiter {
  private table: RateLimitTable;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** Throttled calls by `service:Operation` (not persisted): benchmarks and tests count these. */
  readonly throttled = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    options: RateLimitOptions = 'off',
  ) {
    this.table = rateLimitTable(options);
  }

  /** Replaces the limits; buckets start full again. */
  configure(options: RateLimitOptions): void {
    this.table = rateLimitTable(options);
    this.buckets.clear();
  }

  limits(): RateLimitTable {
    return { ...this.table };
  }

  /** The limit that applies to an operation, if any. */
  limitFor(service: string, operation: string, mutating: boolean): TokenBucketLimit | undefined {
    return (
      this.table[`${service}:${operation}`] ??
      this.table[`${service}:${mutating ? 'mutating' : 'read'}`] ??
      this.table[service]
    );
  }

  /** Takes a token for one call; returns the service's throttling error when the bucket is empty. */
  take(call: {
    service: string;
    operation: string;
    mutating: boolean;
    accountId: string;
    region: string;
  }): AwsError | undefined {
    const limit = this.limitFor(call.service, call.operation, call.mutating);
    if (!limit) return undefined;
    const scope = limit.scope === 'service' ? '*' : call.operation;
    const key = `${call.accountId}:${call.region}:${call.service}:${scope}`;
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(
      limit.burst,
      bucket.tokens + (Math.max(0, now - bucket.at) * limit.ratePerSecond) / 1000,
    );
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    const counter = `${call.service}:${call.operation}`;
    this.throttled.set(counter, (this.throttled.get(counter) ?? 0) + 1);
    const answer = THROTTLING[call.service] ?? {
      code: 'ThrottlingException',
      status: 400,
      message: 'Rate exceeded',
    };
    return new AwsError(answer.code, answer.message, { status: answer.status });
  }

  /** Throttled calls so far, optionally only of one service or operation. */
  throttledCount(filter: (service: string, operation: string) => boolean = () => true): number {
    let total = 0;
    for (const [key, count] of this.throttled) {
      const [service, operation] = key.split(':') as [string, string];
      if (filter(service, operation)) total += count;
    }
    return total;
  }
}

/**
 * Simulated milliseconds each service takes to answer, by signing name. The realistic profile: AWS publishes no
 * latencies; these are round figures of the order seen from a client in the same region (global services such as
 * Organizations and IAM a little slower), used so that benchmarks measure time to ready as a user would see it.
 */
export const AWS_LATENCY_MS: Record<string, number> = {
  organizations: 150,
  sts: 50,
  iam: 100,
  budgets: 120,
  route53: 120,
  ec2: 80,
  sso: 100,
  identitystore: 60,
  s3: 60,
  account: 100,
};

/**
 * How long calls take: `off` (at once), `aws` (AWS_LATENCY_MS), or a profile with per-service figures added or
 * replaced (`services`, simulated milliseconds by signing name).
 */
export const latencyOptionsSchema = profileOrObject(
  z.strictObject({
    profile: profileNameSchema.optional(),
    services: z.record(z.string().regex(/^[a-z0-9]+$/), z.number().int().nonnegative()).optional(),
  }),
);
export type LatencyOptions = z.infer<typeof latencyOptionsSchema>;

/** The per-service latencies an option describes. */
export function latencyTable(options: LatencyOptions): Record<string, number> {
  if (options === 'off') return {};
  if (options === 'aws') return { ...AWS_LATENCY_MS };
  return { ...(options.profile === 'aws' ? AWS_LATENCY_MS : {}), ...options.services };
}

/**
 * Reads a rate-limit or latency option from an environment variable or flag: `off`, `aws`, or JSON of the object
 * form. A bad value names the variable and what it accepts.
 */
export function parseProfileOption<T>(
  text: string | undefined,
  name: string,
  schema: z.ZodType<T>,
  fallback: T,
): T {
  if (text === undefined || text === '') return fallback;
  let value: unknown = text;
  if (text.trim().startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(`${name} must be off, aws, or a JSON object; '${text}' is not valid JSON`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const detail = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(value)'}: ${issue.message}`,
    );
    throw new Error(`${name} must be off, aws, or {"profile","limits"|"services"}: ${detail.join('; ')}`);
  }
  return parsed.data;
}
