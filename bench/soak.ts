/**
 * `npm run soak`: the load and fault harness (minutes; not part of `npm test`).
 *
 * A burst of requests (by default 500: 350 new, 100 repeating an earlier Idempotency-Key with the same body, 50
 * reusing an earlier request's email under another name) goes to the local pipeline's API while the local cloud
 * throttles 20% of all calls, answers ConcurrentModificationException and transient 500s, and refuses AssumeRole
 * into new accounts for a while after their creation; half way through, the pipeline is stopped and started
 * again on the same data. Clients act as the vend CLI does: every request carries an Idempotency-Key, and a
 * 5xx or a failed connection is sent again, unchanged.
 *
 * It ends by reconciling what the requesters were told, the registry, the Slack messages and the organization
 * itself, prints the reconciliation, and exits 1 on any mismatch.
 *
 * Options: --total 500 --duplicates 100 --email-reuses 50 --seed 42 --speed 1 --timeout-minutes 30
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { VendConfig } from '../functions/shared/config.ts';
import type { LocalPipeline } from '../local/pipeline.ts';
import type { ReceivedSlackMessage } from '../local/slack-sink.ts';
import { benchConfig, note, postAccount, startBenchPipeline, withoutPolicyGates } from './common.ts';
import { type PlannedRequest, planSoak, seededRandom } from './soak-plan.ts';
import { type Answer, reconcile } from './soak-reconcile.ts';

const { values } = parseArgs({
  options: {
    total: { type: 'string', default: '500' },
    duplicates: { type: 'string', default: '100' },
    'email-reuses': { type: 'string', default: '50' },
    seed: { type: 'string', default: '42' },
    speed: { type: 'string', default: '1' },
    'throttle-rate': { type: 'string', default: '0.2' },
    'timeout-minutes': { type: 'string', default: '30' },
    connections: { type: 'string', default: '64' },
    'keep-data': { type: 'boolean', default: false },
  },
});

const SPEED = Number(values.speed);
const THROTTLE_RATE = Number(values['throttle-rate']);
/** Attempts of one POST before the client gives up (the vend CLI makes 3; the soak's clients are more patient). */
const CLIENT_ATTEMPTS = 100;
/** Audit events kept in the persisted cloud state: the data file is rewritten on every change. */
const AUDIT_KEPT = 1000;

/** The faults of the soak, added again after the restart (faults live in memory). */
function injectFaults(pipeline: LocalPipeline): void {
  const faults = pipeline.cloud.cloud.faults;
  const throttling: [string, string][] = [
    ['organizations', 'TooManyRequestsException'],
    ['sts', 'Throttling'],
    ['iam', 'Throttling'],
    ['budgets', 'ThrottlingException'],
    ['route53', 'Throttling'],
    ['ec2', 'RequestLimitExceeded'],
  ];
  for (const [service, code] of throttling) faults.add({ service, error: { code }, rate: THROTTLE_RATE });
  const concurrent: [string, string, string][] = [
    ['organizations', 'CreateAccount', 'ConcurrentModificationException'],
    ['organizations', 'MoveAccount', 'ConcurrentModificationException'],
    ['iam', 'CreateRole', 'ConcurrentModification'],
    ['iam', 'AttachRolePolicy', 'ConcurrentModification'],
    ['iam', 'UpdateAccountPasswordPolicy', 'ConcurrentModification'],
    ['route53', 'AssociateVPCWithHostedZone', 'PriorRequestNotComplete'],
    ['route53', 'CreateVPCAssociationAuthorization', 'PriorRequestNotComplete'],
  ];
  for (const [service, operation, code] of concurrent)
    faults.add({ service, operation, error: { code }, rate: 0.05 });
  const transient: [string, string][] = [
    ['organizations', 'ServiceException'],
    ['sts', 'InternalFailure'],
    ['iam', 'ServiceFailure'],
    ['budgets', 'InternalErrorException'],
    ['route53', 'InternalFailure'],
    ['ec2', 'InternalError'],
  ];
  for (const [service, code] of transient) faults.add({ service, error: { code, status: 500 }, rate: 0.02 });
}

function startPipeline(config: VendConfig, dataDir: string, apiPort?: number) {
  return startBenchPipeline({
    speed: SPEED,
    config,
    dataDir,
    ...(apiPort !== undefined ? { apiPort } : {}),
    cloud: {
      creationDelayMs: 3_000,
      maxCreationsInProgress: 5,
      // AssumeRole into a new account is refused for this long after its creation.
      consistencyWindowMs: 15_000,
    },
  });
}

async function main(): Promise<number> {
  const started = performance.now();
  // The soak measures the pipeline under faults: the vending policy's gates (approval, tags) would only hold it up.
  const config = withoutPolicyGates(benchConfig());
  const plan = planSoak(config, {
    total: Number(values.total),
    duplicates: Number(values.duplicates),
    emailReuses: Number(values['email-reuses']),
    seed: Number(values.seed),
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'vend-soak-'));
  note(
    `soak: data in ${dataDir}; ${plan.order.length} requests; speed ${SPEED}; throttling ${THROTTLE_RATE * 100}%`,
  );

  let pipeline = await startPipeline(config, dataDir);
  injectFaults(pipeline);
  const apiPort = pipeline.api!.port;
  const apiUrl = pipeline.api!.url;
  const trim = setInterval(() => {
    const audit = pipeline.cloud.cloud.state.audit;
    if (audit.length > AUDIT_KEPT) audit.splice(0, audit.length - AUDIT_KEPT);
  }, 500);
  const slackBefore: ReceivedSlackMessage[] = [];
  const random = seededRandom(Number(values.seed) + 1);
  const answers = new Map<number, Answer>();
  let postAttempts = 0;
  let serverErrors = 0;
  let restartedAt: number | undefined;
  let restarting: Promise<void> | undefined;
  let resumed = 0;

  let inFlight = 0;
  let drained: (() => void) | undefined;
  const send = async (planned: PlannedRequest): Promise<void> => {
    for (let attempt = 1; attempt <= CLIENT_ATTEMPTS; attempt++) {
      while (restarting) await restarting;
      postAttempts++;
      inFlight++;
      try {
        const answer = await postAccount(apiUrl, planned.body, { 'idempotency-key': planned.key });
        if (answer.status < 500 && answer.status !== 429) {
          answers.set(planned.index, {
            status: answer.status,
            requestId: answer.body.requestId,
            replayed: answer.headers.get('idempotent-replayed') === 'true',
            field: (answer.body.error as { field?: string } | undefined)?.field,
            message: (answer.body.error as { message?: string } | undefined)?.message,
            attempts: attempt,
          });
          return;
        }
        serverErrors++;
      } catch {
        // The connection broke: send the same request again.
      } finally {
        inFlight--;
        if (inFlight === 0) drained?.();
      }
      await new Promise((done) => setTimeout(done, Math.min(2000, 50 * 1.5 ** attempt) * (0.5 + random())));
    }
    answers.set(planned.index, { status: 0, attempts: CLIENT_ATTEMPTS, message: 'no answer: gave up' });
  };

  /**
   * Stops the pipeline and starts it again on the same data. Clients hold their next attempts meanwhile, and the
   * stop waits for the POSTs already sent (a load balancer draining the API): the local API server does not wait
   * for handlers still running when it closes, and they would write to a closed registry.
   */
  const restart = async () => {
    if (inFlight > 0) await new Promise<void>((done) => (drained = done));
    drained = undefined;
    note(`soak: stopping the pipeline (${answers.size} of ${plan.order.length} requests answered)`);
    const before = pipeline;
    await before.close();
    // After the close: steps under way at the stop finish first, and may post to the sink as they do.
    slackBefore.push(...before.slack.messages());
    pipeline = await startPipeline(config, dataDir, apiPort);
    injectFaults(pipeline);
    resumed = pipeline.resumed.length;
    restartedAt = (performance.now() - started) / 1000;
    note(`soak: started again; ${resumed} requests resumed`);
  };

  // The burst, with as many clients at once as connections.
  let next = 0;
  const clients = Array.from({ length: Number(values.connections) }, async () => {
    while (next < plan.order.length) await send(plan.order[next++]!);
  });
  const burst = Promise.all(clients).then(() =>
    note(`soak: every request answered after ${postAttempts} POSTs (${serverErrors} answered 5xx)`),
  );

  // Half way (half the accepted requests ended), stop and start the pipeline once.
  const deadline = Date.now() + Number(values['timeout-minutes']) * 60_000;
  /** How many accepted requests have ended; read from the registry's list (a few queries, not a read per request). */
  const terminal = async () => {
    const ids = new Set(
      [...answers.values()].flatMap((a) => (a.status === 202 && a.requestId ? [a.requestId] : [])),
    );
    let ended = 0;
    let cursor: string | undefined;
    do {
      const page = await pipeline.deps.requests.list(100, cursor);
      for (const record of page.items) {
        if (!ids.has(record.requestId)) continue;
        const execution = pipeline.runner.get(record.requestId);
        const settled = record.status === 'succeeded' || record.status === 'failed';
        if (settled && execution?.status !== 'RUNNING') ended++;
      }
      cursor = page.cursor;
    } while (cursor);
    return { ids, ended };
  };
  let burstDone = false;
  void burst.then(() => {
    burstDone = true;
  });
  for (let tick = 1; ; tick++) {
    await new Promise((done) => setTimeout(done, 1000));
    if (restarting) continue;
    const { ids, ended } = await terminal();
    if (tick % 10 === 0)
      note(
        `soak: ${answers.size}/${plan.order.length} answered, ${ended}/${ids.size} accepted requests ended`,
      );
    if (restartedAt === undefined && ended >= plan.originals / 2) {
      restarting = restart();
      await restarting;
      restarting = undefined;
      continue;
    }
    if (burstDone && restartedAt !== undefined && ended === ids.size) break;
    if (Date.now() > deadline) {
      note('soak: timed out waiting for every request to end');
      break;
    }
  }
  await burst;
  clearInterval(trim);

  const slack = [...slackBefore, ...pipeline.slack.messages()];
  const result = await reconcile({ plan, answers, slack, pipeline, config });
  const seconds = (performance.now() - started) / 1000;
  const transitions = pipeline.runner.list().map((execution) => execution.transitions);
  process.stdout.write(
    [
      '',
      `Soak: ${plan.order.length} requests (${plan.originals} new, ${plan.duplicates} repeated keys, ${plan.emailReuses} reused emails), seed ${values.seed}, speed ${SPEED}`,
      `Faults: throttling ${THROTTLE_RATE * 100}% of calls, ConcurrentModification 5% of some writes, transient 500s 2%, AssumeRole refused 15 s after creation; pipeline restarted at ${restartedAt?.toFixed(0) ?? '-'} s (${resumed} resumed)`,
      `Clients: ${postAttempts} POSTs for ${plan.order.length} requests, ${serverErrors} answered 5xx and were sent again`,
      `After the restart: ${transitions.length} executions, ${Math.max(0, ...transitions)} transitions at most`,
      '',
      ...result.lines,
      '',
      `${result.passed} passed, ${result.failed} failed (${seconds.toFixed(0)} s)`,
      '',
    ].join('\n'),
  );
  await pipeline.close();
  if (values['keep-data']) note(`soak: data kept in ${dataDir}`);
  else rmSync(dataDir, { recursive: true, force: true });
  return result.failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
