import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createApiHandler } from '../functions/api/core.ts';
import { type DeliverMessagesOutput, deliverMessages } from '../functions/deliver-messages/core.ts';
import { type DriftEventResult, handleDriftEvent } from '../functions/drift/core.ts';
import { type SweepInput, type SweepResult, sweepDrift } from '../functions/drift/sweep.ts';
import { type ReapInput, type ReapResult, reapRequests } from '../functions/reap-requests/core.ts';
import { type DecideApproval, decideApproval } from '../functions/shared/approval.ts';
import { readConfigFile, type VendConfig } from '../functions/shared/config.ts';
import { buildDeps, type Deps, type Log } from '../functions/shared/deps.ts';
import { DRIFT_EVENT_PATTERN } from '../functions/shared/drift-pattern.ts';
import { createSlackInteractionsHandler } from '../functions/slack-interactions/core.ts';
import { type LocalApi, SLACK_INTERACTIONS_PATH, startLocalApi } from './api-server.ts';
import {
  type Clock,
  type LatencyOptions,
  type LocalCloud,
  type RateLimitOptions,
  type Seed,
  startLocalCloud,
  systemClock,
} from './cloud/index.ts';
import { seededRandom } from './cloud/random.ts';
import { ensureRegistryTable, type LocalDynamo, startDynamo } from './dynamo.ts';
import { LocalEventBus } from './event-bus.ts';
import { LocalRunner } from './runner.ts';
import { credentialsIssuedBy } from './sigv4.ts';
import { type SlackSink, startSlackSink } from './slack-sink.ts';

export const DEFAULT_CONFIG = resolve(import.meta.dirname, '..', 'vend.config.json');
export const DEFAULT_SEED = resolve(import.meta.dirname, 'seed.json');

/** The pipeline's own key in the seed: Vend acts as itself, never as the administrator key `test`. */
export const PIPELINE_ACCESS_KEY = 'vend-pipeline';

/** How often `npm start` runs the drift sweep, on the pipeline's clock. */
export const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60_000;

/** How often `npm start` runs the reaper of requests left pending, on the pipeline's clock (as the AWS schedule). */
export const DEFAULT_REAP_INTERVAL_MS = 5 * 60_000;

/** How often `npm start` runs the Slack outbox deliverer, on the pipeline's clock (as the stack's schedule does). */
export const DEFAULT_DELIVER_INTERVAL_MS = 60_000;

export interface LocalPipelineOptions {
  /** Keeps the local cloud's state and the registry here across restarts; in memory when absent. */
  dataDir?: string;
  /** @default 4566 */
  cloudPort?: number;
  /** The local cloud's request rates (LocalCloudOptions.rateLimits); `npm start` passes `aws`. @default 'off' */
  cloudRateLimits?: RateLimitOptions;
  /** The local cloud's call latencies (LocalCloudOptions.latency); `npm start` passes `aws`. @default 'off' */
  cloudLatency?: LatencyOptions;
  /** @default any free port */
  slackPort?: number;
  seed?: Seed | string;
  /** The configuration, or the path of its file. @default vend.config.json */
  config?: VendConfig | string;
  clock?: Clock;
  /** Simulated seconds per real second of `clock`. @default 1 */
  speed?: number;
  /** Print Slack messages to the terminal. */
  printSlack?: boolean;
  log?: Log;
  /** Run again the requests that were in flight when the pipeline last stopped. @default true */
  resume?: boolean;
  /** Serve the request API on this port (0: any free one); no API when absent. */
  apiPort?: number;
  /**
   * Route the local cloud's Organizations changes (its CloudTrail records, as EventBridge would deliver them) to
   * the drift function. @default true
   */
  driftEvents?: boolean;
  /**
   * How many drift events are handled at a time. 1 handles them one by one, in order; more acts like concurrent
   * Lambda invocations of the drift function. @default 1
   */
  driftConcurrency?: number;
  /**
   * Run the drift sweep every this many milliseconds of the pipeline's clock. 0 or absent: only on demand
   * (`pipeline.sweep()`), so that tests sweep when they ask; `npm start` passes DEFAULT_SWEEP_INTERVAL_MS.
   */
  sweepIntervalMs?: number;
  /**
   * Run the reaper of requests left pending every this many milliseconds of the pipeline's clock. 0 or absent: only
   * on demand (`pipeline.reap()`); `npm start` passes DEFAULT_REAP_INTERVAL_MS.
   */
  reapIntervalMs?: number;
  /**
   * Run the Slack outbox deliverer every this many milliseconds of the pipeline's clock. 0 or absent: only on
   * demand (`pipeline.deliver()`); `npm start` passes DEFAULT_DELIVER_INTERVAL_MS.
   */
  deliverIntervalMs?: number;
  /**
   * The Slack app's signing secret that the Slack sink signs button presses with and `POST /slack/interactions`
   * checks. @default a random one, made at each start (never a fixed one that could be deployed)
   */
  slackSigningSecret?: string;
  /** How `POST /slack/interactions` decides (tests inject a fake). @default decideApproval */
  decide?: DecideApproval;
}

const IN_FLIGHT = new Set(['pending', 'creating', 'configuring']);

/**
 * Starts again, under their own execution names, the requests the registry shows in flight: after a stop or a
 * crash their executions are gone, and every step is safe to run again (the account is not created twice, the
 * requester is not told twice), so they finish once. Returns the request ids resumed.
 */
export async function resumeInFlight(deps: Deps, runner: LocalRunner): Promise<string[]> {
  const resumed: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.requests.list(100, cursor);
    for (const record of page.items) {
      if (!IN_FLIGHT.has(record.status) || runner.get(record.requestId)) continue;
      runner.run(record.requestId, { requestId: record.requestId });
      resumed.push(record.requestId);
    }
    cursor = page.cursor;
  } while (cursor);
  return resumed;
}

export interface LocalPipeline {
  cloud: LocalCloud;
  dynamo: LocalDynamo;
  slack: SlackSink;
  runner: LocalRunner;
  /** The request API, when `apiPort` was given; it serves `POST /slack/interactions` too. */
  api?: LocalApi;
  /** The signing secret shared by the Slack sink and `POST /slack/interactions`. */
  slackSigningSecret: string;
  deps: Deps;
  config: VendConfig;
  /** Requests that were in flight at the last stop and were started again. */
  resumed: string[];
  /** The event bus that hands Organizations changes to the drift function (`idle()`, `deliveries`). */
  events: LocalEventBus<DriftEventResult>;
  /** Runs the drift sweep now (as the schedule does), with optional overrides of `drift.sweep`. */
  sweep(input?: SweepInput): Promise<SweepResult>;
  /** Runs the Slack outbox deliverer now (as its schedule does). */
  deliver(): Promise<DeliverMessagesOutput>;
  /** Runs the reaper now (as the schedule does), with the runner standing in for Step Functions. */
  reap(input?: ReapInput): Promise<ReapResult>;
  close(): Promise<void>;
}

/**
 * The whole pipeline on one machine: the local cloud, dynalite with the registry table, the Slack sink, and the
 * runner that executes the state machine's ASL with the step functions' code, acting as Vend's own principal.
 */
export async function startLocalPipeline(options: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const clock = options.clock ?? systemClock;
  const config =
    typeof options.config === 'object' ? options.config : readConfigFile(options.config ?? DEFAULT_CONFIG);
  const dataDir = options.dataDir ? resolve(options.dataDir) : undefined;
  if (dataDir) mkdirSync(dataDir, { recursive: true });

  const cloud = await startLocalCloud({
    port: options.cloudPort ?? 4566,
    seed: options.seed ?? DEFAULT_SEED,
    clock,
    ...(dataDir ? { dataFile: join(dataDir, 'cloud.json') } : {}),
    ...(options.cloudRateLimits !== undefined ? { rateLimits: options.cloudRateLimits } : {}),
    ...(options.cloudLatency !== undefined ? { latency: options.cloudLatency } : {}),
  });
  const started: { close(): Promise<void> }[] = [cloud];
  /** Stops the drift event routing and the sweep schedule (also when starting fails half-way). */
  let stopDrift = () => {};
  try {
    const dynamo = await startDynamo(dataDir ? { path: join(dataDir, 'registry') } : {});
    started.push(dynamo);
    const tableName = 'vend-registry';
    await ensureRegistryTable(dynamo.endpoint, tableName);
    const slack = await startSlackSink({ port: options.slackPort ?? 0, print: options.printSlack ?? false });
    started.push(slack);
    // Vend acts as the pipeline key's role: its changes (a drift fix, a vending step) are never drift.
    const ownRole = cloud.cloud.state.credentials[PIPELINE_ACCESS_KEY]?.caller.roleArn;
    const pipelineConfig: VendConfig =
      ownRole && !config.drift.ownPrincipalArns.includes(ownRole)
        ? {
            ...config,
            drift: { ...config.drift, ownPrincipalArns: [...config.drift.ownPrincipalArns, ownRole] },
          }
        : config;
    const deps = buildDeps({
      config: pipelineConfig,
      aws: {
        region: config.organization.homeRegion,
        endpoint: cloud.endpoint,
        // The seed's secret for the key (the local cloud does not check signatures on its own endpoints).
        credentials: {
          accessKeyId: PIPELINE_ACCESS_KEY,
          secretAccessKey: cloud.cloud.state.credentials[PIPELINE_ACCESS_KEY]?.secretAccessKey ?? 'local',
        },
        ...((options.speed ?? 1) !== 1 ? { maxAttempts: 1 } : {}),
      },
      tableName,
      dynamoEndpoint: dynamo.endpoint,
      slackWebhookUrl: async () => config.slack.webhookUrl ?? slack.url,
      // The Slack sink listens on 127.0.0.1 over http: accepted here only, never from a function's environment.
      allowLoopbackSlackWebhook: true,
      sleep: (ms) => new Promise((done) => clock.schedule(ms, () => done())),
      random: seededRandom(1).next,
      now: () => clock.now(),
      ...(options.log ? { log: options.log } : {}),
    });
    const runner = new LocalRunner({ deps, speed: options.speed ?? 1 });
    let api: LocalApi | undefined;
    const slackSigningSecret = options.slackSigningSecret ?? randomBytes(32).toString('hex');
    if (options.apiPort !== undefined) {
      api = await startLocalApi({
        handler: createApiHandler({ ...deps, starter: runner }),
        slackInteractions: createSlackInteractionsHandler({
          deps: { ...deps, starter: runner },
          signingSecret: async () => slackSigningSecret,
          decide: options.decide ?? decideApproval,
          // The sink's response_urls are on 127.0.0.1: accepted here only, in code.
          allowLoopbackResponseUrl: true,
        }),
        port: options.apiPort,
        credentials: credentialsIssuedBy(cloud.cloud),
      });
      started.push(api);
      slack.connectInteractions({
        url: `${api.url}${SLACK_INTERACTIONS_PATH}`,
        signingSecret: slackSigningSecret,
      });
    }
    const log = deps.log;
    const events = new LocalEventBus<DriftEventResult>({
      pattern: DRIFT_EVENT_PATTERN,
      target: (event) => handleDriftEvent(deps, event),
      concurrency: options.driftConcurrency ?? 1,
      sleep: deps.sleep,
      now: () => clock.now(),
      log,
    });
    // The default bus of the management account gets the events CloudTrail records there, not a member's calls.
    const management = cloud.cloud.state.organization.managementAccountId;
    const unsubscribe =
      options.driftEvents === false
        ? () => undefined
        : cloud.subscribe((record) => {
            if (record.recipientAccountId === management) events.publish(record);
          });
    const stopping = new AbortController();
    const sweeps = new Set<Promise<SweepResult>>();
    const sweep = (input: SweepInput = {}) => {
      const run = sweepDrift(deps, input, { signal: stopping.signal });
      sweeps.add(run);
      void run.catch(() => undefined).finally(() => sweeps.delete(run));
      return run;
    };
    const reaps = new Set<Promise<ReapResult>>();
    const executions = {
      start: (name: string, input: Parameters<LocalRunner['start']>[1]) => runner.start(name, input),
      exists: async (name: string) => runner.get(name) !== undefined,
    };
    const reap = (input: ReapInput = {}) => {
      const run = reapRequests({ ...deps, executions }, input);
      reaps.add(run);
      void run.catch(() => undefined).finally(() => reaps.delete(run));
      return run;
    };
    const cancels: (() => void)[] = [];
    /** Runs `job` every `interval` of the clock, one run at a time: a run still going when the next is due waits a period. */
    const every = (
      interval: number,
      what: string,
      running: Set<Promise<unknown>>,
      job: () => Promise<unknown>,
    ) => {
      if (interval <= 0) return;
      const slot = cancels.push(() => {}) - 1;
      const scheduleNext = () => {
        cancels[slot] = clock.schedule(interval, () => {
          if (stopping.signal.aborted) return;
          const done = running.size > 0 ? Promise.resolve() : job().then(() => undefined);
          done
            .catch((error: unknown) => log.error(`${what} failed`, { error: String(error) }))
            .finally(() => {
              if (!stopping.signal.aborted) scheduleNext();
            });
        });
      };
      scheduleNext();
    };
    const deliveries = new Set<Promise<DeliverMessagesOutput>>();
    const deliver = () => {
      const run = deliverMessages(deps);
      deliveries.add(run);
      void run.catch(() => undefined).finally(() => deliveries.delete(run));
      return run;
    };
    every(options.sweepIntervalMs ?? 0, 'the drift sweep', sweeps, () => sweep());
    every(options.reapIntervalMs ?? 0, 'the reaper of pending requests', reaps, () => reap());
    every(options.deliverIntervalMs ?? 0, 'the Slack deliverer', deliveries, () => deliver());
    stopDrift = () => {
      unsubscribe();
      stopping.abort();
      for (const cancel of cancels) cancel();
    };
    const resumed = options.resume === false ? [] : await resumeInFlight(deps, runner);
    return {
      ...(api ? { api } : {}),
      slackSigningSecret,
      resumed,
      cloud,
      dynamo,
      slack,
      runner,
      deps,
      config: pipelineConfig,
      events,
      sweep,
      deliver,
      reap,
      async close() {
        if (api) {
          await api.close();
          started.splice(started.indexOf(api), 1);
        }
        stopDrift();
        await events.close();
        await Promise.allSettled([...sweeps, ...reaps, ...deliveries]);
        await runner.stop();
        for (const service of started.reverse()) await service.close();
      },
    };
  } catch (error) {
    stopDrift();
    for (const service of started.reverse()) await service.close().catch(() => undefined);
    throw error;
  }
}
