/**
 * (4) Burst: many requests at once while Organizations allows only a few creations in progress. Every request
 * must succeed (none refused or failed on limits, no account created twice); the figure is the makespan, in
 * simulated time, against the floor set by the creation slots: ceil(requests / slots) x creation time.
 */
import type { LocalExecution } from '../local/runner.ts';
import {
  callsByOperation,
  diffCounts,
  median,
  note,
  postAccount,
  round,
  startBenchPipeline,
  sum,
} from './common.ts';

export interface BurstResult {
  requests: number;
  slots: number;
  creationMinutes: number;
  speed: number;
  accepted: number;
  succeeded: number;
  failed: number;
  /** Failures whose error or recorded reason is about limits (slots, throttling, quota). */
  failedOnLimits: number;
  /** Accounts in the organization with a name of this burst, and how many names have more than one. */
  accounts: number;
  duplicateAccounts: number;
  makespanMinutes: number;
  floorMinutes: number;
  burstMakespanRatio: number;
  /** Simulated minutes from the first POST until each request ended: median and largest. */
  medianCompletionMinutes: number;
  transitionsPerVend: { median: number; max: number; mean: number };
  invocationsPerVend: { median: number; max: number; mean: number };
  createAccountCalls: number;
  /** CreateAccount calls refused because every creation slot was taken. */
  slotRefusals: number;
  awsCallsPerVend: number;
  awsCalls: Record<string, number>;
  realSeconds: number;
}

export async function measureBurst(
  options: { requests?: number; slots?: number; creationMinutes?: number; speed?: number } = {},
): Promise<BurstResult> {
  const requests = options.requests ?? 100;
  const slots = options.slots ?? 5;
  const creationMinutes = options.creationMinutes ?? 3;
  const speed = options.speed ?? 20;
  const pipeline = await startBenchPipeline({
    speed,
    cloud: { creationDelayMs: creationMinutes * 60_000, maxCreationsInProgress: slots },
  });
  // As on AWS: the first look at a creation after 45 s (vend.config.json's 2 s suits a 3-second local creation).
  pipeline.config.creation.firstWaitSeconds = 45;
  const clock = pipeline.cloud.cloud.clock;
  let refusals = 0;
  const unsubscribe = pipeline.cloud.subscribe((event) => {
    if (event.eventName === 'CreateAccount' && event.errorCode === 'ConstraintViolationException') refusals++;
  });
  try {
    const before = callsByOperation(pipeline);
    const realStart = performance.now();
    const startedAt = clock.now();
    note(`burst: ${requests} requests at once, ${slots} creation slots, ${creationMinutes} min per creation`);
    const answers = await Promise.all(
      Array.from({ length: requests }, (_, i) =>
        postAccount(
          pipeline.api!.url,
          { name: `burst-${i + 1}`, organizationalUnit: 'Sandbox', owner: 'alice@example.com' },
          { 'idempotency-key': `burst-${i + 1}` },
        ),
      ),
    );
    const accepted = answers.filter((answer) => answer.status === 202);
    if (accepted.length !== requests) {
      const refused = answers.find((answer) => answer.status !== 202)!;
      note(
        `burst: ${requests - accepted.length} refused, e.g. ${refused.status} ${JSON.stringify(refused.body)}`,
      );
    }
    const ended: number[] = [];
    const executions: LocalExecution[] = [];
    let done = 0;
    const progress = setInterval(() => {
      note(
        `burst: ${done}/${accepted.length} done at ${((clock.now() - startedAt) / 60_000).toFixed(1)} simulated min`,
      );
    }, 15_000);
    try {
      await Promise.all(
        accepted.map(async (answer) => {
          const execution = await pipeline.runner.get(answer.body.requestId!)!.done;
          ended.push(clock.now());
          executions.push(execution);
          done++;
        }),
      );
    } finally {
      clearInterval(progress);
    }
    const realSeconds = (performance.now() - realStart) / 1000;
    const calls = diffCounts(before, callsByOperation(pipeline));

    let failedOnLimits = 0;
    for (const execution of executions.filter((e) => e.status !== 'SUCCEEDED')) {
      const record = await pipeline.deps.requests.get(execution.name);
      const text = `${JSON.stringify(execution.error)} ${record?.failure?.reason ?? ''} ${record?.failure?.error ?? ''}`;
      if (/CreationSlotsFull|Throttl|quota|RATE_LIMIT|LIMIT_EXCEEDED|too many/i.test(text)) failedOnLimits++;
    }
    const names = new Map<string, number>();
    for (const account of Object.values(pipeline.cloud.cloud.state.accounts)) {
      if (account.name.startsWith('sbx-burst-')) names.set(account.name, (names.get(account.name) ?? 0) + 1);
    }
    const makespanMinutes = (Math.max(...ended) - startedAt) / 60_000;
    const floorMinutes = Math.ceil(requests / slots) * creationMinutes;
    const stats = (values: number[]) => ({
      median: median(values),
      max: Math.max(...values),
      mean: round(sum(values) / values.length, 1),
    });
    const succeeded = executions.filter((e) => e.status === 'SUCCEEDED').length;
    return {
      requests,
      slots,
      creationMinutes,
      speed,
      accepted: accepted.length,
      succeeded,
      failed: executions.length - succeeded,
      failedOnLimits,
      accounts: sum(names.values()),
      duplicateAccounts: [...names.values()].filter((count) => count > 1).length,
      makespanMinutes: round(makespanMinutes, 1),
      floorMinutes,
      burstMakespanRatio: round(makespanMinutes / floorMinutes, 3),
      medianCompletionMinutes: round(median(ended.map((at) => (at - startedAt) / 60_000)), 1),
      transitionsPerVend: stats(executions.map((e) => e.transitions)),
      invocationsPerVend: stats(executions.map((e) => e.invocations)),
      createAccountCalls: calls['organizations:CreateAccount'] ?? 0,
      slotRefusals: refusals,
      awsCallsPerVend: round(sum(Object.values(calls)) / requests, 1),
      awsCalls: calls,
      realSeconds: round(realSeconds, 1),
    };
  } finally {
    unsubscribe();
    await pipeline.close();
  }
}
