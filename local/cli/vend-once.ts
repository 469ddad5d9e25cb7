import { parseArgs } from 'node:util';
import { RequestRejectedError } from '../../functions/shared/errors.ts';
import { STEP_NAMES } from '../../functions/shared/model.ts';
import { submitRequest } from '../../functions/shared/submit.ts';
import { scaledClock } from '../cloud/index.ts';
import { PIPELINE_ACCESS_KEY, startLocalPipeline } from '../pipeline.ts';

const USAGE = `Usage: npm run vend:once -- --name <name> [--ou <path>] [--owner <email>] [--slack-user <id>] [--creation-minutes <n>]

Vends one account through the whole local pipeline in memory (local cloud, registry, the state machine, the
Slack sink), prints each step and the Slack message, then exits: 0 when the account is ready, 1 when the
request failed, 2 when it was refused.
  --creation-minutes <n>   simulate an account creation of n minutes (time runs 1000x faster); default: real time,
                           3 seconds as the seed says`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      ou: { type: 'string', default: 'Workloads/Dev' },
      owner: { type: 'string', default: 'alice@example.com' },
      'slack-user': { type: 'string' },
      'creation-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || !values.name) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const minutes = values['creation-minutes'] === undefined ? undefined : Number(values['creation-minutes']);
  if (minutes !== undefined && !(minutes > 0))
    throw new Error('--creation-minutes must be a positive number');
  const speed = minutes === undefined ? 1 : 1000;
  const pipeline = await startLocalPipeline({
    cloudPort: 0,
    printSlack: true,
    ...(minutes === undefined ? {} : { clock: scaledClock(speed), speed }),
  });
  try {
    const { settings } = pipeline.cloud.cloud;
    if (minutes !== undefined) {
      settings.creationDelayMs = minutes * 60_000;
      settings.consistencyWindowMs = 60_000;
    }
    const body = {
      name: values.name,
      organizationalUnit: values.ou,
      owner: values.owner,
      ...(values['slack-user'] ? { requester: { slackUserId: values['slack-user'] } } : {}),
    };
    let requestId: string;
    try {
      requestId = (
        await submitRequest(pipeline.deps, pipeline.runner, body, 'arn:aws:iam::000000000000:user/local')
      ).requestId;
    } catch (error) {
      if (error instanceof RequestRejectedError) {
        console.error(`refused (${error.statusCode}): ${error.message}\n  fix: ${error.fix}`);
        return 2;
      }
      throw error;
    }
    console.log(
      `request ${requestId}: ${values.name} in ${values.ou}, creation taking ${minutes === undefined ? `${settings.creationDelayMs / 1000} s` : `${minutes} simulated min`}`,
    );
    const execution = await pipeline.runner.get(requestId)!.done;
    const record = (await pipeline.deps.requests.get(requestId))!;
    console.log('\nstep              status     tries  detail');
    for (const step of STEP_NAMES) {
      const s = record.steps[step];
      if (s)
        console.log(
          `${step.padEnd(17)} ${s.status.padEnd(10)} ${String(s.attempts).padStart(5)}  ${s.detail ?? ''}`,
        );
    }
    const apiCalls = pipeline.cloud.cloud.callCount(
      (_service, _operation, key) => key === PIPELINE_ACCESS_KEY || key.startsWith('ASIA'),
    );
    console.log(
      `\n${record.status === 'succeeded' ? `ready: account ${record.accountId}` : `failed at ${record.failure?.step}: ${record.failure?.reason}\n  what to do: ${record.failure?.advice}`}`,
    );
    console.log(
      `state transitions ${execution.transitions}, step invocations ${execution.invocations}, AWS API calls ${apiCalls}`,
    );
    return record.status === 'succeeded' ? 0 : 1;
  } finally {
    await pipeline.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`vend: ${(error as Error).message}`);
    process.exit(2);
  },
);
