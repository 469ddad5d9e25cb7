import { relative } from 'node:path';
import {
  DEFAULT_DELIVER_INTERVAL_MS,
  DEFAULT_REAP_INTERVAL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  startLocalPipeline,
} from '../pipeline.ts';
import { describeCloud, parseCloudArgs, stopOnSignal } from './local-cloud.ts';

/**
 * `npm start`: the whole local pipeline on one machine: the local cloud (seeded from local/seed.json), dynalite
 * with the registry, the runner that executes the state machine, and the Slack sink, with state kept in .vend/
 * across restarts.
 */
async function main(): Promise<void> {
  const options = parseCloudArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(
      'Usage: npm start -- [--port <n>] [--api-port <n>] [--slack-port <n>] [--seed <file>] [--data-dir <dir>] [--in-memory] [--fresh] [--rate-limits aws|off|<json>] [--latency aws|off|<json>]',
    );
    return;
  }
  if (options.fresh && options.dataFile) {
    const { rmSync } = await import('node:fs');
    rmSync(`${options.dataFile}`, { force: true });
    rmSync(`${options.dataFile.replace(/cloud\.json$/, 'registry')}`, { recursive: true, force: true });
  }
  const dataDir = options.dataFile?.replace(/\/cloud\.json$/, '');
  let pipeline: Awaited<ReturnType<typeof startLocalPipeline>>;
  try {
    pipeline = await startLocalPipeline({
      cloudPort: options.port,
      cloudRateLimits: options.rateLimits,
      cloudLatency: options.latency,
      apiPort: options.apiPort,
      slackPort: options.slackPort,
      seed: options.seed,
      printSlack: true,
      sweepIntervalMs: DEFAULT_SWEEP_INTERVAL_MS,
      deliverIntervalMs: DEFAULT_DELIVER_INTERVAL_MS,
      reapIntervalMs: DEFAULT_REAP_INTERVAL_MS,
      ...(dataDir ? { dataDir } : {}),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      const busy = (error as { port?: number }).port ?? options.port;
      const flag =
        busy === options.slackPort ? '--slack-port' : busy === options.apiPort ? '--api-port' : '--port';
      throw new Error(
        `port ${busy} is already in use: stop what runs there, or pick another with ${flag} <n>`,
      );
    }
    throw error;
  }
  console.log('Vend local pipeline is running.\n');
  console.log(
    `request API    ${pipeline.api?.url} (POST /accounts, GET /accounts/requests/{id}, POST /accounts/requests/{id}/approval, GET /accounts, GET /accounts/{id}, POST and DELETE /accounts/{id}/hold, GET /openapi.json)`,
  );
  console.log(
    describeCloud(pipeline.cloud, options, [
      `registry       ${pipeline.dynamo.endpoint} (dynalite), table vend-registry${dataDir ? `, in ${relative(process.cwd(), dataDir) || dataDir}/registry` : ''}`,
      'workflow       statemachine/vend.asl.json, run by aws-local-stepfunctions with the functions/ code',
      `Slack sink     ${pipeline.slack.url} (messages are printed here)`,
      `Slack buttons  ${pipeline.api?.url}/slack/interactions, signed with a signing secret made at this start (npm run slack -- press <message> approve|deny --as <member id>)`,
      `drift          Organizations changes to vended accounts are ${pipeline.config.drift.mode === 'fix' ? 'put back' : 'reported'}; sweep every ${DEFAULT_SWEEP_INTERVAL_MS / 60_000} minutes`,
    ]),
  );
  if (pipeline.resumed.length > 0)
    console.log(
      `\nresumed ${pipeline.resumed.length} request(s) that were in flight: ${pipeline.resumed.join(', ')}`,
    );
  console.log('\nAsk for an account (in another terminal):');
  console.log(
    '  npm run vend -- request --name payments --ou Workloads/Dev --owner alice@example.com --tag cost-center=cc-1234 --slack-user U012ALICE',
  );
  console.log('  npm run vend -- status <request id> --watch');
  console.log('\nPress Ctrl+C to stop.');
  stopOnSignal(() => pipeline.close());
}

main().catch((error: unknown) => {
  console.error(`vend: ${(error as Error).message}`);
  process.exit(2);
});
