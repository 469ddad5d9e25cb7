/**
 * (5) API latency: POST /accounts under concurrent connections (autocannon, in its own process) against the local
 * API server, with its real pre-flight checks (local cloud), idempotency and registry writes (dynalite). The
 * workflow is started by a starter that only counts: on AWS StartExecution hands the run to Step Functions, and
 * here running thousands of executions on the same two cores would measure the runner, not the API.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createApiHandler } from '../functions/api/core.ts';
import { startLocalApi } from '../local/api-server.ts';
import { note, round, startBenchPipeline } from './common.ts';

export interface LatencyResult {
  connections: number;
  durationSeconds: number;
  requests: number;
  apiRps: number;
  apiP50Ms: number;
  apiP90Ms: number;
  apiP99Ms: number;
  apiMaxMs: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  errors: number;
  executionsStarted: number;
  /** The same with one connection: the time one request takes when nothing queues. */
  single: { requests: number; rps: number; p50Ms: number; p99Ms: number };
}

interface AutocannonOutput {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  statusCodeStats: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
  duration: number;
}

const CLIENT = resolve(import.meta.dirname, 'load-client.mjs');

function runClient(options: { url: string; connections: number; duration: number; prefix: string }) {
  return new Promise<AutocannonOutput>((done, fail) => {
    const child = spawn(process.execPath, [CLIENT, JSON.stringify(options)], {
      cwd: resolve(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`autocannon client exited with ${code}`));
      done(JSON.parse(output) as AutocannonOutput);
    });
  });
}

export async function measureLatency(
  options: { connections?: number; durationSeconds?: number; warmupSeconds?: number } = {},
): Promise<LatencyResult> {
  const connections = options.connections ?? 64;
  const durationSeconds = options.durationSeconds ?? 10;
  const pipeline = await startBenchPipeline({ speed: 1 });
  let started = 0;
  const handler = createApiHandler({
    ...pipeline.deps,
    starter: {
      async start() {
        started++;
      },
    },
  });
  // Answers still being worked out when the client hangs up must finish before the registry closes.
  const inFlight = new Set<Promise<unknown>>();
  const api = await startLocalApi({
    handler: (event, context) => {
      const answer = handler(event, context);
      inFlight.add(answer);
      void answer.finally(() => inFlight.delete(answer)).catch(() => undefined);
      return answer;
    },
    port: 0,
  });
  try {
    note(`latency: warm-up`);
    await runClient({ url: api.url, connections, duration: options.warmupSeconds ?? 3, prefix: 'warm' });
    started = 0;
    note(`latency: ${connections} connections for ${durationSeconds} s`);
    const result = await runClient({ url: api.url, connections, duration: durationSeconds, prefix: 'load' });
    const executionsStarted = started;
    note(`latency: 1 connection for ${Math.ceil(durationSeconds / 2)} s`);
    const single = await runClient({
      url: api.url,
      connections: 1,
      duration: Math.ceil(durationSeconds / 2),
      prefix: 'single',
    });
    const statuses = Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count]),
    );
    return {
      connections,
      durationSeconds,
      requests: result.requests.total,
      apiRps: round(result.requests.average, 1),
      apiP50Ms: result.latency.p50,
      apiP90Ms: result.latency.p90,
      apiP99Ms: result.latency.p99,
      apiMaxMs: result.latency.max,
      statuses,
      errors: result.errors + result.timeouts,
      executionsStarted,
      single: {
        requests: single.requests.total,
        rps: round(single.requests.average, 1),
        p50Ms: single.latency.p50,
        p99Ms: single.latency.p99,
      },
    };
  } finally {
    await Promise.allSettled([...inFlight]);
    await api.close();
    await pipeline.close();
  }
}
