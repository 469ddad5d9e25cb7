import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expectInOrder, type FakeApi, PAYMENTS, startFakeApi, vend } from './support.ts';

let api: FakeApi;
let env: Record<string, string>;
beforeEach(async () => {
  api = await startFakeApi();
  env = { VEND_API_URL: api.url };
});
afterEach(() => api.close());

describe('vend --help', () => {
  it('documents every command and the exit codes a script can rely on', async () => {
    const run = await vend(['--help'], { env });
    expect(run.code).toBe(0);
    for (const command of ['request', 'status', 'list', 'show', 'drift'])
      expect(run.stdout).toContain(`vend ${command}`);
    expectInOrder(run.stdout, [
      'Exit codes:',
      '0  ok',
      '1  the request failed',
      '2  usage error',
      '3  the API refused',
      '4  the API could not be reached',
    ]);
    expect(api.received).toHaveLength(0);
  });

  it('shows a command’s flags with --help after it', async () => {
    const run = await vend(['request', '--help'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--idempotency-key <key>');
    expect(run.stdout).toContain('--vpc <vpc-id:region>');
  });
});

describe('usage errors exit 2, name the flag and the fix, and send nothing', () => {
  it.each([
    [['request', '--nme', 'payments'], 'unknown flag --nme for vend request', 'Did you mean --name?'],
    [['request', '--name', '--ou', 'Workloads/Dev'], '--name needs a value', 'Write --name <name>.'],
    [
      ['request', '--name', 'payments', '--ou', 'Workloads/Dev'],
      '--owner is required',
      '--owner alice@example.com',
    ],
    [['request', ...PAYMENTS, '--budget', 'lots'], '--budget lots is not a positive amount', '--budget 200'],
    [['request', ...PAYMENTS, '--budget', '-5'], '--budget -5 is not a positive amount', '--budget 200'],
    [['request', ...PAYMENTS, '--budget'], '--budget needs a value', 'Write --budget <usd>.'],
    [['request', ...PAYMENTS, '--tag', 'team'], '--tag team is not key=value', '--tag team=payments'],
    [['request', ...PAYMENTS, '--vpc', 'vpc-123'], '--vpc vpc-123 is not <vpc-id>:<region>', ':us-east-1'],
    [['request', ...PAYMENTS, '--watch=yes'], '--watch takes no value', 'Write --watch alone.'],
    [['status'], '<requestId> is missing', 'vend status <requestId>'],
    [['status', 'req-1', '--all'], 'unknown flag --all for vend status', 'Its flags are'],
    [['list', '--limit', '0'], '--limit 0 is not a positive whole number', '--limit 50'],
    [['show', 'payments'], '<accountId> payments is not an account id', '12-digit'],
    [['stauts', 'req-1'], "unknown command 'stauts'", "Did you mean 'status'?"],
    [[], 'no command given', 'request, status, approve, deny, list, show, drift'],
    [
      ['list', '--api-url', 'ftp://example.com'],
      '--api-url ftp://example.com is not an http(s) URL',
      'execute-api',
    ],
  ])('%j', async (argv, message, fix) => {
    const run = await vend(argv, { env });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
    expect(run.stderr).toMatch(/\n {2}fix: /);
    expect(run.stderr).toContain(fix);
    expect(api.received).toHaveLength(0);
  });
});
