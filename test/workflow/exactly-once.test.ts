import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CREATION_LEASE_MS, createAccount } from '../../functions/create-account/core.ts';
import type { Deps } from '../../functions/shared/deps.ts';
import { submitRequest, type WorkflowStarter } from '../../functions/shared/submit.ts';
import { functionTimeoutSeconds, readAsl, taskTimeouts } from '../../infra/asl.ts';
import { LocalRunner } from '../../local/runner.ts';
import {
  startWorkflowEnv,
  stepInput,
  storeRequest,
  TEST_SPEED,
  testRequest,
  type WorkflowEnv,
} from './harness.ts';

/** The runner's real-time floor for Task timeouts in the hang test, and a hang well past it and the Task's 120 s. */
const REAL_TIMEOUT_FLOOR_MS = 3_000;
const HANG_MS = 2 * REAL_TIMEOUT_FLOOR_MS * TEST_SPEED;

const NOT_STARTED: WorkflowStarter = { start: async () => undefined };

let counter = 0;
const body = () => ({
  name: `once-${++counter}-${Math.random().toString(36).slice(2, 6)}`,
  organizationalUnit: 'Workloads/Dev',
  owner: 'alice@example.com',
  requester: { slackUserId: 'U012ALICE' },
  tags: { team: 'payments' },
});

function creationsOf(env: WorkflowEnv, accountName: string) {
  return Object.values(env.cloud.cloud.state.createAccountRequests).filter(
    (request) => request.accountName === accountName,
  );
}

const createAccountCalls = (env: WorkflowEnv) =>
  env.cloud.cloud.callCount(
    (service, operation) => service === 'organizations' && operation === 'CreateAccount',
  );

/** Puts a creation in progress that never finishes (another team's, say), and returns its id. */
function holdCreationSlot(env: WorkflowEnv): string {
  const id = `car-${randomUUID().replaceAll('-', '')}`;
  const management = env.cloud.cloud.state.organization.managementAccountId;
  env.cloud.cloud.state.createAccountRequests[id] = {
    id,
    accountName: `other-${id.slice(4, 12)}`,
    email: `other-${id.slice(4, 12)}@example.com`,
    roleName: 'OrganizationAccountAccessRole',
    iamUserAccessToBilling: 'ALLOW',
    tags: [],
    state: 'IN_PROGRESS',
    requestedAt: env.cloud.cloud.clock.now(),
    completesAt: Number.MAX_SAFE_INTEGER,
    outcome: { state: 'SUCCEEDED' },
    requestedBy: {
      accountId: management,
      arn: `arn:aws:iam::${management}:root`,
      type: 'Root',
      principalId: management,
    },
  };
  return id;
}

describe('exactly one account per request', () => {
  let env: WorkflowEnv;

  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());
  beforeEach(() => {
    env.cloud.cloud.faults.clear();
    env.cloud.cloud.settings.maxCreationsInProgress = 5;
    env.cloud.cloud.settings.maxCreationsPerDay = 100;
  });

  it('holds the CreateAccount lease longer than the create-account function can run', () => {
    const taskSeconds = taskTimeouts(readAsl().states).get('CreateAccountFunctionArn')!;
    expect(CREATION_LEASE_MS).toBeGreaterThan(functionTimeoutSeconds(taskSeconds) * 1000);
  });

  it('times out an attempt that hangs past its TimeoutSeconds, and the retry finds its creation: one account, the request succeeds', async () => {
    // The first attempt gets CreateAccount's answer and then hangs for hours before recording it, as a Lambda
    // stuck on a slow registry write would; the attempt goes on in the background, like a Lambda invocation.
    let stalled = 0;
    let leases = 0;
    const requests = Object.create(env.deps.requests) as Deps['requests'];
    requests.setCreateAccountRequestId = async (requestId, id) => {
      if (stalled++ === 0) await env.deps.sleep(HANG_MS);
      return env.deps.requests.setCreateAccountRequestId(requestId, id);
    };
    requests.takeCreationLease = (...args) => {
      leases++;
      return env.deps.requests.takeCreationLease(...args);
    };
    const runner = new LocalRunner({
      deps: { ...env.deps, requests },
      speed: TEST_SPEED,
      realTimeoutFloorMs: REAL_TIMEOUT_FLOOR_MS,
    });
    const record = await submitRequest(env.deps, runner, body(), 'arn:aws:iam::000000000000:user/alice');

    const execution = await runner.get(record.requestId)!.done;
    await runner.stop(); // waits for the hung attempt to end too

    expect(execution.status).toBe('SUCCEEDED');
    expect(leases).toBeGreaterThanOrEqual(2);
    expect(creationsOf(env, record.request.accountName)).toHaveLength(1);
    const stored = await env.deps.requests.get(record.requestId);
    expect(stored?.status).toBe('succeeded');
    expect(stored?.createAccountRequestId).toBe(creationsOf(env, record.request.accountName)[0]!.id);
  });

  it('never lets two concurrent attempts both call CreateAccount', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const before = createAccountCalls(env);

    const attempts = await Promise.allSettled(
      Array.from({ length: 4 }, () => createAccount(env.deps, stepInput(request))),
    );

    expect(createAccountCalls(env) - before).toBe(1);
    expect(creationsOf(env, request.accountName)).toHaveLength(1);
    const id = creationsOf(env, request.accountName)[0]!.id;
    for (const attempt of attempts) {
      if (attempt.status === 'fulfilled') expect(attempt.value.createAccountRequestId).toBe(id);
      else expect(attempt.reason).toMatchObject({ name: 'Vend.ConcurrentModification' });
    }
    expect(attempts.some((attempt) => attempt.status === 'fulfilled')).toBe(true);
  });

  it('waits for a lease held by a live attempt, then adopts what it recorded', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const holder = { owner: 'another-attempt', expiresAt: env.deps.now() + 24 * 3_600_000 };
    expect(
      await env.deps.requests.takeCreationLease(request.requestId, holder, env.deps.now()),
    ).toBeDefined();

    await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.ConcurrentModification',
    });
    expect(creationsOf(env, request.accountName)).toHaveLength(0);
  });

  it('looks for the creation of a holder whose lease expired before it recorded one, instead of calling again', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    // An attempt takes the lease, calls CreateAccount, and dies before recording the request id or giving the
    // lease back.
    await expect(
      createAccount({ ...env.deps, requests: dying(env.deps.requests) }, stepInput(request)),
    ).rejects.toThrow('the attempt died');
    expect(creationsOf(env, request.accountName)).toHaveLength(1);
    await env.deps.sleep(CREATION_LEASE_MS + 1_000);
    const calls = createAccountCalls(env);

    const creation = await createAccount(env.deps, stepInput(request));

    expect(createAccountCalls(env) - calls).toBe(0);
    expect(creationsOf(env, request.accountName)).toHaveLength(1);
    expect(creation.createAccountRequestId).toBe(creationsOf(env, request.accountName)[0]!.id);
  });

  describe('when Organizations answers ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED', () => {
    it('with creations in progress, waits for a slot through the state machine and vends one account', async () => {
      const stuck = holdCreationSlot(env);
      // The held creation fills the one slot, however many of the tests before are still in progress.
      env.cloud.cloud.settings.maxCreationsInProgress = 1;
      const runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
      const record = await submitRequest(env.deps, runner, body(), 'arn:aws:iam::000000000000:user/alice');
      try {
        // Refused at least once for full slots (the state machine retried the step), then a slot frees.
        await until(
          env,
          async () =>
            ((await env.deps.requests.get(record.requestId))?.steps.createAccount?.attempts ?? 0) >= 2,
        );
        expect(creationsOf(env, record.request.accountName)).toHaveLength(0);
        delete env.cloud.cloud.state.createAccountRequests[stuck];
        const execution = await runner.get(record.requestId)!.done;

        const failure = (await env.deps.requests.get(record.requestId))?.failure;
        expect(execution.status, JSON.stringify(failure)).toBe('SUCCEEDED');
        expect(creationsOf(env, record.request.accountName)).toHaveLength(1);
      } finally {
        delete env.cloud.cloud.state.createAccountRequests[stuck];
        await runner.stop();
      }
    });

    it('with none in progress, fails the request at once: the daily creation limit', async () => {
      const runner = new LocalRunner({ deps: env.deps, speed: TEST_SPEED });
      const record = await submitRequest(
        env.deps,
        NOT_STARTED,
        body(),
        'arn:aws:iam::000000000000:user/alice',
      );
      // Let every creation of the tests before finish, then allow no more today.
      await until(
        env,
        async () =>
          !Object.values(env.cloud.cloud.state.createAccountRequests).some(
            (creation) => creation.state === 'IN_PROGRESS',
          ),
      );
      const dayAgo = env.cloud.cloud.clock.now() - 24 * 3_600_000;
      env.cloud.cloud.settings.maxCreationsPerDay = Object.values(
        env.cloud.cloud.state.createAccountRequests,
      ).filter((creation) => creation.requestedAt > dayAgo).length;

      const execution = await runner.run(record.requestId, { requestId: record.requestId }).done;
      await runner.stop();

      expect(execution.status).toBe('FAILED');
      const stored = await env.deps.requests.get(record.requestId);
      expect(stored?.status).toBe('failed');
      expect(stored?.failure).toMatchObject({
        step: 'createAccount',
        reason: 'the organization has created as many accounts as AWS allows in a day',
      });
      expect(stored?.failure?.advice).toContain('tomorrow');
      expect(stored?.failure?.advice).toContain('AWS Support');
      expect(stored?.steps.createAccount?.attempts).toBe(1);
      expect(creationsOf(env, record.request.accountName)).toHaveLength(0);
      // Nothing was created: the name and email are free again.
      expect(await env.deps.requests.reservationHolder('email', record.request.email)).toBeUndefined();
    });
  });
});

/** Waits on the simulated clock until `condition` holds, for at most a simulated day. */
async function until(env: WorkflowEnv, condition: () => Promise<boolean>): Promise<void> {
  const deadline = env.cloud.cloud.clock.now() + 24 * 3_600_000;
  while (!(await condition())) {
    if (env.cloud.cloud.clock.now() > deadline)
      throw new Error('the condition did not hold within a simulated day');
    await env.deps.sleep(5_000);
  }
}

/** A request store of an attempt that dies right after calling CreateAccount: it records nothing, releases nothing. */
function dying(requests: Deps['requests']): Deps['requests'] {
  const store = Object.create(requests) as Deps['requests'];
  store.setCreateAccountRequestId = async () => {
    throw new Error('the attempt died before recording its creation');
  };
  store.releaseCreationLease = async () => undefined;
  return store;
}
