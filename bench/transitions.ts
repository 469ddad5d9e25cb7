/**
 * (2) State transitions and step invocations per vend, for account creations of several lengths, and (3) the AWS
 * API calls of each against the minimal calls for the same vend at the same polling cadence.
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

export interface TransitionsRow {
  creationMinutes: number;
  status: string;
  transitions: number;
  invocations: number;
  polls: number;
  /** Wait, Check account creation and Account ready? for each poll. */
  pollTransitions: number;
  /** What a geometric wait (first wait w, rate r) needs at least: ceil(log_r((r-1) t / w + 1)). */
  logBoundPolls: number;
  awsCalls: number;
  minimalAwsCalls: number;
  awsCallsRatio: number;
}

/** Simulated seconds per real second: slow enough that the machine's own work adds little simulated time. */
const SPEED = 100;

export async function measureTransitions(minutesList = [1, 3, 10, 30]): Promise<TransitionsRow[]> {
  const rows: TransitionsRow[] = [];
  for (const minutes of minutesList) {
    const config = benchConfig();
    // As on AWS: the first look after 45 s (vend.config.json's 2 s suits the 3-second local creation).
    config.creation.firstWaitSeconds = 45;
    const pipeline = await startBenchPipeline({
      speed: SPEED,
      config,
      cloud: { creationDelayMs: minutes * 60_000 },
    });
    try {
      let before = callsByOperation(pipeline);
      const answer = await postAccount(pipeline.api!.url, {
        name: `measure-${minutes}`,
        organizationalUnit: 'Sandbox',
        owner: 'alice@example.com',
      });
      if (answer.status !== 202)
        throw new Error(`POST /accounts ${answer.status}: ${JSON.stringify(answer.body)}`);
      const execution = await pipeline.runner.get(answer.body.requestId!)!.done;
      const awsCalls = sum(Object.values(diffCounts(before, callsByOperation(pipeline))));
      const stored = (await pipeline.deps.requests.get(answer.body.requestId!))!;
      const polls = stored.steps.waitForAccount?.attempts ?? 0;

      before = callsByOperation(pipeline);
      await new MinimalVendor({
        endpoint: pipeline.cloud.endpoint,
        config,
        accessKeyId: PIPELINE_ACCESS_KEY,
        sleep: pipeline.deps.sleep,
        now: () => pipeline.cloud.cloud.clock.now(),
        slackUrl: pipeline.slack.url,
      }).vend({ name: `minimal-${minutes}`, organizationalUnit: 'Sandbox', owner: 'alice@example.com' });
      const minimalAwsCalls = sum(Object.values(diffCounts(before, callsByOperation(pipeline))));

      const { firstWaitSeconds: w, backoffRate: r } = config.creation;
      rows.push({
        creationMinutes: minutes,
        status: execution.status,
        transitions: execution.transitions,
        invocations: execution.invocations,
        polls,
        pollTransitions: 3 * polls,
        logBoundPolls: Math.ceil(Math.log(((r - 1) * minutes * 60) / w + 1) / Math.log(r)),
        awsCalls,
        minimalAwsCalls,
        awsCallsRatio: round(awsCalls / minimalAwsCalls),
      });
      note(
        `transitions: ${minutes} min creation: ${execution.status}, ${execution.transitions} transitions, ${polls} polls`,
      );
    } finally {
      await pipeline.close();
    }
  }
  return rows;
}
