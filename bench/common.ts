import { readConfigFile, type VendConfig } from '../functions/shared/config.ts';
import { type CloudSettings, scaledClock } from '../local/cloud/index.ts';
import { DEFAULT_CONFIG, type LocalPipeline, startLocalPipeline } from '../local/pipeline.ts';

/** The repository's configuration, with the account quota raised for runs that vend hundreds of accounts. */
export function benchConfig(accountQuota = 10_000): VendConfig {
  const config = readConfigFile(DEFAULT_CONFIG);
  config.organization.accountQuota = accountQuota;
  return config;
}

/**
 * The configuration with its profiles' gates opened: no approval, no required tags, root emails of the request's
 * own in example.com. For the soak, which measures the pipeline under faults, not the vending policy.
 */
export function withoutPolicyGates(config: VendConfig): VendConfig {
  const profiles = Object.fromEntries(
    Object.entries(config.profiles).map(([name, profile]) => [
      name,
      {
        ...profile,
        tags: {},
        approval: { ...profile.approval, required: false },
        rootEmail: { source: 'request-in-domains' as const, allowedDomains: ['example.com'] },
      },
    ]),
  );
  return { ...config, profiles };
}

export interface BenchPipelineOptions {
  speed: number;
  cloud?: Partial<CloudSettings>;
  config?: VendConfig;
  dataDir?: string;
  /** @default any free port */
  apiPort?: number;
}

/**
 * The whole local pipeline (cloud, registry, Slack sink, runner, API) on a scaled clock, on free ports, with the
 * cloud's settings overridden (the account quota is always raised).
 */
export async function startBenchPipeline(options: BenchPipelineOptions): Promise<LocalPipeline> {
  const pipeline = await startLocalPipeline({
    cloudPort: 0,
    apiPort: options.apiPort ?? 0,
    clock: scaledClock(options.speed),
    speed: options.speed,
    config: options.config ?? benchConfig(),
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  Object.assign(pipeline.cloud.cloud.settings, {
    maxAccounts: 100_000,
    maxCreationsPerDay: 100_000,
    ...options.cloud,
  });
  return pipeline;
}

export interface Posted {
  status: number;
  body: { requestId?: string; error?: { message?: string } } & Record<string, unknown>;
  headers: Headers;
}

/** POST /accounts over HTTP, unsigned (the local API's developer). */
export async function postAccount(
  apiUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Posted> {
  const response = await fetch(`${apiUrl}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: Posted['body'] = {};
  try {
    parsed = JSON.parse(text) as Posted['body'];
  } catch {
    parsed = { error: { message: text } };
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

/** The AWS API calls the local cloud has answered, by `service:Operation`. */
export function callsByOperation(pipeline: LocalPipeline): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [key, count] of pipeline.cloud.cloud.calls) {
    const [service, operation] = key.split(':');
    const name = `${service}:${operation}`;
    counts.set(name, (counts.get(name) ?? 0) + count);
  }
  return counts;
}

/** `after - before`, per operation, dropping zeros. */
export function diffCounts(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) diff[key] = delta;
  }
  return Object.fromEntries(Object.entries(diff).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const value of values) total += value;
  return total;
};

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Runs `work` over `items` with at most `limit` at once, in order of start. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Progress on stderr, so that stdout keeps only the results. */
export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
