import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../cli/contract.ts';
import type { VendIo } from '../../cli/io.ts';
import {
  assumeLocalRole,
  LocalCredentialsError,
  parseLocalCredentialsArgs,
  shellExports,
} from '../../local/cli/local-credentials.ts';
import { steppedClock } from '../../local/cloud/index.ts';
import { type LocalPipeline, startLocalPipeline } from '../../local/pipeline.ts';
import { vend } from './support.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/** Runs `npm run -s local-credentials -- <args>` as a shell would (Node 22 with tsx), then `eval`s its output in bash. */
async function evalLocalCredentials(args: string[]): Promise<Record<string, string>> {
  const script = await run(process.execPath, ['--import', 'tsx', 'local/cli/local-credentials.ts', ...args], {
    cwd: ROOT,
  });
  const shell = await run(
    'bash',
    [
      '-c',
      'eval "$1"; printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN" "$(printenv AWS_PROFILE || echo unset)"',
      'bash',
      script.stdout,
    ],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AWS_PROFILE: 'someone-else' } },
  );
  const [accessKeyId, secretAccessKey, sessionToken, profile] = shell.stdout.split('\n');
  return {
    comment: script.stdout.split('\n')[0]!,
    AWS_ACCESS_KEY_ID: accessKeyId!,
    AWS_SECRET_ACCESS_KEY: secretAccessKey!,
    AWS_SESSION_TOKEN: sessionToken!,
    AWS_PROFILE: profile!,
  };
}

describe('npm run local-credentials', () => {
  let pipeline: LocalPipeline;
  beforeAll(async () => {
    pipeline = await startLocalPipeline({
      cloudPort: 0,
      apiPort: 0,
      clock: steppedClock(1000),
      speed: 1000,
    });
  }, 30_000);
  afterAll(() => pipeline?.close());

  it('prints exports that make the vend CLI sign as a Developer session, recorded as the requester', async () => {
    const env = await evalLocalCredentials([
      'Developer',
      '--session-name',
      'ci-developer',
      '--endpoint-url',
      pipeline.cloud.endpoint,
    ]);
    expect(env.comment).toMatch(
      /^# arn:aws:sts::000000000000:assumed-role\/Developer\/ci-developer until \d{4}-\d\d-\d\dT/,
    );
    expect(env.AWS_ACCESS_KEY_ID).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(env.AWS_SECRET_ACCESS_KEY).toHaveLength(40);
    expect(env.AWS_SESSION_TOKEN).toMatch(/^FwoGZXIvYXdzE/);
    expect(env.AWS_PROFILE).toBe('unset');

    const io: Partial<VendIo> = {
      env: {
        VEND_API_URL: pipeline.api!.url,
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
        AWS_SESSION_TOKEN: env.AWS_SESSION_TOKEN,
      },
      credentials: undefined,
      sleep: pipeline.deps.sleep,
    };
    const request = await vend(
      ['request', '--name', 'devsession', '--ou', 'Sandbox', '--owner', 'alice@example.com', '--json'],
      io,
    );
    expect(request.code, request.stdout + request.stderr).toBe(0);
    const { requestId } = JSON.parse(request.stdout) as { requestId: string };
    const status = await vend(['status', requestId, '--json'], io);
    expect((JSON.parse(status.stdout) as RequestView).requester.principal).toBe(
      'arn:aws:sts::000000000000:assumed-role/Developer/ci-developer',
    );

    const forged = await vend(['list'], {
      ...io,
      env: { ...io.env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
    });
    expect(forged.code).toBe(3);
    expect(forged.stderr).toContain('The request signature we calculated does not match');
  }, 30_000);

  it('assumes PlatformAdmin too, and says what to do about a role the local cloud does not have', async () => {
    const options = { sessionName: 'ci-admin', durationSeconds: 900, endpoint: pipeline.cloud.endpoint };
    const session = await assumeLocalRole({ ...options, role: 'PlatformAdmin' });
    expect(session.arn).toBe('arn:aws:sts::000000000000:assumed-role/PlatformAdmin/ci-admin');
    expect(shellExports(session)).toContain(
      `export AWS_ACCESS_KEY_ID=${session.accessKeyId} AWS_SECRET_ACCESS_KEY=${session.secretAccessKey} AWS_SESSION_TOKEN=${session.sessionToken}`,
    );
    await expect(assumeLocalRole({ ...options, role: 'Nobody' })).rejects.toThrow(
      /not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role\/Nobody\. .*npm start -- --fresh/,
    );
  });

  it('says to start the local cloud when nothing answers', async () => {
    await expect(
      assumeLocalRole({
        role: 'Developer',
        sessionName: 'x1',
        durationSeconds: 900,
        endpoint: 'http://127.0.0.1:1',
      }),
    ).rejects.toThrow(/no local cloud answers at http:\/\/127\.0\.0\.1:1: start it with npm start/);
  });
});

describe('the local-credentials command line', () => {
  it('defaults to the local cloud on 4566 (or VEND_CLOUD_PORT), an hour, and a session named after the user', () => {
    const options = parseLocalCredentialsArgs(['Developer'], {});
    expect(options).toMatchObject({
      role: 'Developer',
      durationSeconds: 3600,
      endpoint: 'http://127.0.0.1:4566',
    });
    expect((options as { sessionName: string }).sessionName).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(parseLocalCredentialsArgs(['Developer'], { VEND_CLOUD_PORT: '4600' })).toMatchObject({
      endpoint: 'http://127.0.0.1:4600',
    });
    expect(parseLocalCredentialsArgs(['--help'], {})).toBe('help');
  });

  it('refuses a missing role, a bad session name or duration, and an endpoint off this machine', () => {
    const cases: [string[], RegExp][] = [
      [[], /give exactly one role/],
      [['Developer', 'PlatformAdmin'], /give exactly one role/],
      [['Developer', '--session-name', 'a b'], /--session-name 'a b' must be 2-64 characters/],
      [
        ['Developer', '--duration-seconds', '7200'],
        /--duration-seconds must be a whole number from 900 to 3600/,
      ],
      [
        ['Developer', '--endpoint-url', 'https://sts.amazonaws.com'],
        /is not the local cloud on this machine/,
      ],
      [['Developer', '--endpoint-url', 'nope'], /is not a URL/],
      [['Developer', '--role-arn', 'x'], /Unknown option '--role-arn'/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseLocalCredentialsArgs(argv, {}), argv.join(' ')).toThrow(message);
      expect(() => parseLocalCredentialsArgs(argv, {})).toThrow(LocalCredentialsError);
    }
  });
});
