/**
 * (1) Overhead and (3) AWS API calls: the same vends through the whole local pipeline (HTTP API, registry, runner,
 * step cores, Slack) and by the minimal SDK calls (bench/minimal.ts), on one local cloud, with no creation delay
 * and no consistency window, so that what is measured is the machinery, not the waiting.
 */
import { PIPELINE_ACCESS_KEY } from '../local/pipeline.ts';
import {
  benchConfig,
  callsByOperation,
  diffCounts,
  note,
  postAccount,
  round,
  startBenchPipeline,
  sum,
} from './common.ts';
import { MinimalVendor } from './minimal.ts';

export interface OverheadResult {
  vends: number;
  /** How many vends ran at once, in both. */
  concurrency: number;
  rounds: number;
  pipelineMs: number[];
  minimalMs: number[];
  /** Sum of the pipeline's wall times over the sum of the minimal's. */
  overheadRatio: number;
  pipelineCallsPerVend: number;
  minimalCallsPerVend: number;
  apiCallsRatio: number;
  /** Per vend, by `service:Operation`. */
  pipelineCalls: Record<string, number>;
  minimalCalls: Record<string, number>;
}

const SPEED = 1000;
const OU = 'Workloads/Dev';

/**
 * Runs `rounds` rounds, each of `vends` minimal vends then `vends` pipeline vends (after a warm-up of both),
 * `concurrency` at a time. Calls are counted at the local cloud over each phase: everything it answered.
 */
export async function measureOverhead(
  options: { vends?: number; rounds?: number; concurrency?: number } = {},
): Promise<OverheadResult> {
  const vends = options.vends ?? 50;
  const rounds = options.rounds ?? 2;
  const concurrency = options.concurrency ?? vends;
  const config = benchConfig();
  const pipeline = await startBenchPipeline({
    speed: SPEED,
    config,
    cloud: {
      creationDelayMs: 0,
      consistencyWindowMs: 0,
      serviceActivationMs: 0,
      defaultVpcDelayMs: 0,
      maxCreationsInProgress: 10_000,
    },
  });
  try {
    const api = pipeline.api!;
    const minimal = new MinimalVendor({
      endpoint: pipeline.cloud.endpoint,
      config,
      accessKeyId: PIPELINE_ACCESS_KEY,
      sleep: pipeline.deps.sleep,
      now: () => pipeline.cloud.cloud.clock.now(),
      slackUrl: pipeline.slack.url,
    });
    let serial = 0;
    const batch = async (count: number, one: (name: string) => Promise<void>) => {
      const names = Array.from({ length: count }, () => `bench-${++serial}`);
      const before = callsByOperation(pipeline);
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(concurrency, count) }, async () => {
          while (next < names.length) await one(names[next++]!);
        }),
      );
      const ms = performance.now() - started;
      return { ms, calls: diffCounts(before, callsByOperation(pipeline)) };
    };
    const viaPipeline = async (name: string) => {
      const answer = await postAccount(api.url, {
        name,
        organizationalUnit: OU,
        owner: 'alice@example.com',
        tags: { 'cost-center': 'cc-1234' },
      });
      if (answer.status !== 202)
        throw new Error(`POST /accounts ${answer.status}: ${JSON.stringify(answer.body)}`);
      const execution = await pipeline.runner.get(answer.body.requestId!)!.done;
      if (execution.status !== 'SUCCEEDED')
        throw new Error(`${name}: ${execution.status} ${JSON.stringify(execution.error)}`);
    };
    const viaMinimal = async (name: string) => {
      await minimal.vend({ name, organizationalUnit: OU, owner: 'alice@example.com' });
    };

    note(`overhead: warm-up`);
    await batch(5, viaMinimal);
    await batch(5, viaPipeline);

    const pipelineMs: number[] = [];
    const minimalMs: number[] = [];
    let pipelineCalls: Record<string, number> = {};
    let minimalCalls: Record<string, number> = {};
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so that neither always runs on the fuller organization.
      const order = round % 2 === 0 ? (['minimal', 'pipeline'] as const) : (['pipeline', 'minimal'] as const);
      for (const which of order) {
        const result = await batch(vends, which === 'minimal' ? viaMinimal : viaPipeline);
        note(`overhead: round ${round + 1}: ${which} ${vends} vends in ${Math.round(result.ms)} ms`);
        if (which === 'minimal') {
          minimalMs.push(result.ms);
          minimalCalls = result.calls;
        } else {
          pipelineMs.push(result.ms);
          pipelineCalls = result.calls;
        }
      }
    }
    const perVend = (calls: Record<string, number>) =>
      Object.fromEntries(Object.entries(calls).map(([key, count]) => [key, round(count / vends, 2)]));
    const pipelineCallsPerVend = sum(Object.values(pipelineCalls)) / vends;
    const minimalCallsPerVend = sum(Object.values(minimalCalls)) / vends;
    return {
      vends,
      concurrency,
      rounds,
      pipelineMs: pipelineMs.map((ms) => Math.round(ms)),
      minimalMs: minimalMs.map((ms) => Math.round(ms)),
      overheadRatio: round(sum(pipelineMs) / sum(minimalMs)),
      pipelineCallsPerVend: round(pipelineCallsPerVend),
      minimalCallsPerVend: round(minimalCallsPerVend),
      apiCallsRatio: round(pipelineCallsPerVend / minimalCallsPerVend),
      pipelineCalls: perVend(pipelineCalls),
      minimalCalls: perVend(minimalCalls),
    };
  } finally {
    await pipeline.close();
  }
}
