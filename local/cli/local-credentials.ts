import { userInfo } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { isLoopbackHost } from '../loopback.ts';

const USAGE = `Usage: npm run -s local-credentials -- <role> [options]

Assumes a role of the running local cloud's management account (Developer, PlatformAdmin, or a role ARN) with
the administrator key test, and prints the session as shell exports, so that the vend CLI, curl --aws-sigv4 or
the AWS CLI sign as that role:

  eval "$(npm run -s local-credentials -- Developer)"

Options:
  --session-name <name>      the session's name, the last part of its ARN (default: your user name)
  --duration-seconds <n>     900 to 3600 (default 3600)
  --endpoint-url <url>       the local cloud (default http://127.0.0.1:4566, or VEND_CLOUD_PORT)
  -h, --help                 show this help`;

/** The administrator key of the local cloud's seed (local/seed.json): the management account's root. */
const ADMIN = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface LocalCredentialsOptions {
  /** A role name of the management account, or a role ARN. */
  role: string;
  sessionName: string;
  durationSeconds: number;
  endpoint: string;
}

/** A session of a role, ready for the shell. */
export interface LocalSession {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** The session's ARN: arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION. */
  arn: string;
  expiration: Date;
}

/** A bad command line or a refusal: the message says what and how to fix it. */
export class LocalCredentialsError extends Error {
  override readonly name = 'LocalCredentialsError';
}

/** Reads the command line; a bad flag names itself and the fix. */
export function parseLocalCredentialsArgs(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): LocalCredentialsOptions | 'help' {
  let parsed: ReturnType<typeof parseArgsStrict>;
  try {
    parsed = parseArgsStrict(argv);
  } catch (error) {
    throw new LocalCredentialsError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  const [role, ...extra] = positionals;
  if (!role || extra.length > 0) {
    throw new LocalCredentialsError(`give exactly one role, such as Developer or PlatformAdmin\n\n${USAGE}`);
  }
  const sessionName = values['session-name'] ?? defaultSessionName();
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    throw new LocalCredentialsError(
      `--session-name '${sessionName}' must be 2-64 characters of letters, digits and +=,.@_- (STS RoleSessionName)`,
    );
  }
  const durationText = values['duration-seconds'] ?? '3600';
  const durationSeconds = Number(durationText);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 3600) {
    throw new LocalCredentialsError(
      `--duration-seconds must be a whole number from 900 to 3600 (the seeded roles' maximum), got '${durationText}'`,
    );
  }
  const endpoint = values['endpoint-url'] ?? `http://127.0.0.1:${env['VEND_CLOUD_PORT'] ?? '4566'}`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new LocalCredentialsError(`--endpoint-url '${endpoint}' is not a URL, e.g. http://127.0.0.1:4566`);
  }
  if (url.protocol !== 'http:' || !isLoopbackHost(url.host)) {
    throw new LocalCredentialsError(
      `--endpoint-url '${endpoint}' is not the local cloud on this machine: give http://127.0.0.1:<port>`,
    );
  }
  return { role, sessionName, durationSeconds, endpoint: url.origin };
}

function parseArgsStrict(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'session-name': { type: 'string' },
      'duration-seconds': { type: 'string' },
      'endpoint-url': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/** The user's login name as a valid RoleSessionName, so that sessions say who took them; `local` failing that. */
function defaultSessionName(): string {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    name = '';
  }
  const cleaned = name.replace(/[^\w+=,.@-]/g, '').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : 'local';
}

/** Assumes the role in the local cloud as its administrator key. */
export async function assumeLocalRole(options: LocalCredentialsOptions): Promise<LocalSession> {
  const sts = new STSClient({
    endpoint: options.endpoint,
    region: 'us-east-1',
    credentials: ADMIN,
    maxAttempts: 1,
  });
  try {
    let roleArn = options.role;
    if (!roleArn.startsWith('arn:')) {
      const { Account } = await sts.send(new GetCallerIdentityCommand({}));
      roleArn = `arn:aws:iam::${Account}:role/${options.role}`;
    }
    const { Credentials, AssumedRoleUser } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: options.sessionName,
        DurationSeconds: options.durationSeconds,
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken) {
      throw new LocalCredentialsError(
        `the local cloud at ${options.endpoint} answered AssumeRole without credentials`,
      );
    }
    return {
      accessKeyId: Credentials.AccessKeyId,
      secretAccessKey: Credentials.SecretAccessKey,
      sessionToken: Credentials.SessionToken,
      arn: AssumedRoleUser?.Arn ?? roleArn,
      expiration: Credentials.Expiration ?? new Date(),
    };
  } catch (error) {
    if (error instanceof LocalCredentialsError) throw error;
    const code =
      (error as { code?: string; cause?: { code?: string } }).code ??
      (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED') {
      throw new LocalCredentialsError(
        `no local cloud answers at ${options.endpoint}: start it with npm start (or give --endpoint-url)`,
      );
    }
    if ((error as Error).name === 'AccessDenied') {
      throw new LocalCredentialsError(
        `${(error as Error).message}. The role must exist in the local cloud and trust the management account; ` +
          'Developer and PlatformAdmin are in local/seed.json (a state saved before they were seeded lacks them: npm start -- --fresh).',
      );
    }
    throw error;
  } finally {
    sts.destroy();
  }
}

/** A value as the shell reads it back unchanged. */
function shellQuote(value: string): string {
  return /^[\w/+=.,:@-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/** The session as lines for `eval`: a comment naming it, then the exports (AWS_PROFILE would take precedence). */
export function shellExports(session: LocalSession): string {
  return [
    `# ${session.arn} until ${session.expiration.toISOString()}`,
    'unset AWS_PROFILE',
    `export AWS_ACCESS_KEY_ID=${shellQuote(session.accessKeyId)} AWS_SECRET_ACCESS_KEY=${shellQuote(session.secretAccessKey)} AWS_SESSION_TOKEN=${shellQuote(session.sessionToken)}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseLocalCredentialsArgs(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  process.stdout.write(shellExports(await assumeLocalRole(options)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(`local-credentials: ${(error as Error).message}`);
    process.exit(2);
  });
}
