import { mkdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type LatencyOptions,
  type LocalCloud,
  type RateLimitOptions,
  startLocalCloud,
} from '../cloud/index.ts';
import { latencyOptionsSchema, parseProfileOption, rateLimitOptionsSchema } from '../cloud/rate-limits.ts';

export const DEFAULT_SEED = resolve(import.meta.dirname, '..', 'seed.json');

/** Where `npm start` puts the Slack sink, and where `npm run slack` looks for it (or VEND_SLACK_PORT). */
export const DEFAULT_SLACK_PORT = 4580;

const USAGE = `Usage: npm run local-cloud -- [options]

Starts the local cloud alone: an offline AWS control plane (Organizations, STS, IAM, Budgets, Route53, EC2, S3 Control, Account, SSO Admin, Identity Store)
that the AWS SDK and CLI reach through AWS_ENDPOINT_URL.

Options:
  --port <n>         TCP port on 127.0.0.1 (default 4566, or VEND_CLOUD_PORT)
  --seed <file>      organization to start from (default local/seed.json)
  --data-dir <dir>   where state is kept across restarts (default .vend, or VEND_DATA_DIR)
  --in-memory        keep no state on disk
  --fresh            forget the saved state and start from the seed again
  --rate-limits <p>  request rates: aws (default: AWS's quotas, see the README), off, or JSON
                     such as '{"profile":"aws","limits":{"organizations":{"ratePerSecond":2,"burst":4}}}'
                     (or VEND_CLOUD_RATE_LIMITS)
  --latency <p>      call latency: aws (default), off, or JSON such as '{"services":{"organizations":300}}'
                     (or VEND_CLOUD_LATENCY)
  -h, --help         show this help`;

export interface CloudCliOptions {
  port: number;
  /** The request API's port (npm start only). */
  apiPort: number;
  /** The Slack sink's port (npm start only): `npm run slack` finds the sink there. */
  slackPort: number;
  seed: string;
  dataFile: string | undefined;
  fresh: boolean;
  /** @default 'aws' */
  rateLimits: RateLimitOptions;
  /** @default 'aws' */
  latency: LatencyOptions;
}

/** Reads the command line; a bad flag names itself and the fix. */
export function parseCloudArgs(argv: string[]): CloudCliOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'api-port': { type: 'string' },
      'slack-port': { type: 'string' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      'rate-limits': { type: 'string' },
      latency: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const portText = values.port ?? process.env.VEND_CLOUD_PORT ?? '4566';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be a whole number from 0 to 65535, got '${portText}'`);
  }
  const apiPortText = values['api-port'] ?? process.env.VEND_API_PORT ?? '3000';
  const apiPort = Number(apiPortText);
  if (!Number.isInteger(apiPort) || apiPort < 0 || apiPort > 65_535) {
    throw new Error(`--api-port must be a whole number from 0 to 65535, got '${apiPortText}'`);
  }
  const slackPortText = values['slack-port'] ?? process.env.VEND_SLACK_PORT ?? String(DEFAULT_SLACK_PORT);
  const slackPort = Number(slackPortText);
  if (!Number.isInteger(slackPort) || slackPort < 0 || slackPort > 65_535) {
    throw new Error(`--slack-port must be a whole number from 0 to 65535, got '${slackPortText}'`);
  }
  const dataDir = values['data-dir'] ?? process.env.VEND_DATA_DIR ?? '.vend';
  return {
    port,
    apiPort,
    slackPort,
    seed: values.seed ?? DEFAULT_SEED,
    dataFile: values['in-memory'] ? undefined : join(resolve(dataDir), 'cloud.json'),
    fresh: values.fresh,
    rateLimits: parseProfileOption(
      values['rate-limits'] ?? process.env.VEND_CLOUD_RATE_LIMITS,
      '--rate-limits (or VEND_CLOUD_RATE_LIMITS)',
      rateLimitOptionsSchema,
      'aws',
    ),
    latency: parseProfileOption(
      values.latency ?? process.env.VEND_CLOUD_LATENCY,
      '--latency (or VEND_CLOUD_LATENCY)',
      latencyOptionsSchema,
      'aws',
    ),
  };
}

/** Starts the local cloud from command-line options; explains a busy port instead of a stack trace. */
export async function startCloudFromCli(options: CloudCliOptions): Promise<LocalCloud> {
  if (options.dataFile) {
    if (options.fresh) rmSync(options.dataFile, { force: true });
    mkdirSync(resolve(options.dataFile, '..'), { recursive: true });
  }
  try {
    return await startLocalCloud({
      port: options.port,
      seed: options.seed,
      ...(options.dataFile ? { dataFile: options.dataFile } : {}),
      rateLimits: options.rateLimits,
      latency: options.latency,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(
        `port ${options.port} is already in use: stop what runs there, or pick another with --port <n>`,
      );
    }
    throw error;
  }
}

export function describeCloud(local: LocalCloud, options: CloudCliOptions, more: string[] = []): string {
  const { state } = local.cloud;
  const paths: string[] = [];
  const walk = (parentId: string, prefix: string) => {
    for (const ou of Object.values(state.organizationalUnits).filter((unit) => unit.parentId === parentId)) {
      const path = prefix ? `${prefix}/${ou.name}` : ou.name;
      paths.push(path);
      walk(ou.id, path);
    }
  };
  walk(state.organization.rootId, '');
  const accounts = Object.values(state.accounts).map((account) => `${account.name} ${account.id}`);
  return [
    `local cloud    ${local.endpoint}  (Organizations, STS, IAM, Budgets, Route53, EC2, S3 Control, Account, SSO Admin, Identity Store; region ${state.region})`,
    `organization   ${state.organization.id}, management account ${state.organization.managementAccountId}`,
    `accounts       ${accounts.join(', ')}`,
    `OUs            ${paths.join(', ')}`,
    `state          ${options.dataFile ? `${relative(process.cwd(), options.dataFile) || options.dataFile} (kept across restarts; --fresh starts over)` : 'in memory only'}`,
    `control API    ${local.endpoint}/_local/settings, /_local/faults, /_local/audit, /_local/state, /_local/rate-limits, /_local/latency`,
    `rates, latency ${profileName(options.rateLimits)} request rates, ${profileName(options.latency)} latency (--rate-limits, --latency: aws, off or JSON)`,
    ...more,
    '',
    'Point the AWS SDK or CLI at it:',
    `  export AWS_ENDPOINT_URL=${local.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=${state.region} AWS_DEFAULT_REGION=${state.region}`,
    '  aws organizations describe-organization',
  ].join('\n');
}

/** `aws`, `off`, or `custom` for a profile given as JSON. */
function profileName(option: RateLimitOptions | LatencyOptions): string {
  return typeof option === 'string' ? option : 'custom';
}

/** Stops cleanly on Ctrl+C or SIGTERM, once. */
export function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function main(): Promise<void> {
  const options = parseCloudArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const local = await startCloudFromCli(options);
  console.log(describeCloud(local, options));
  console.log('\nPress Ctrl+C to stop.');
  stopOnSignal(() => local.close());
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(`local-cloud: ${(error as Error).message}`);
    process.exit(2);
  });
}
