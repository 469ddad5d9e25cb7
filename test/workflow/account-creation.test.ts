import { randomUUID } from 'node:crypto';
import { ListParentsCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { checkAccountCreation } from '../../functions/check-account-creation/core.ts';
import { type CreationState, createAccount } from '../../functions/create-account/core.ts';
import { moveAccount } from '../../functions/move-account/core.ts';
import {
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
} from './harness.ts';

/** Makes the organization allow no more creations in progress than it has now. */

/** Puts a creation in progress that never finishes (another team's), and returns its id. */
function holdCreationSlot(env: WorkflowEnv): string {
  const id = `car-${randomUUID().replaceAll('-', '')}`;
  const now = env.cloud.cloud.clock.now();
  env.cloud.cloud.state.createAccountRequests[id] = {
    id,
    accountName: `other-${id.slice(4, 12)}`,
    email: `other-${id.slice(4, 12)}@example.com`,
    roleName: 'OrganizationAccountAccessRole',
    iamUserAccessToBilling: 'ALLOW',
    tags: [],
    state: 'IN_PROGRESS',
    requestedAt: now,
    completesAt: Number.MAX_SAFE_INTEGER,
    outcome: { state: 'SUCCEEDED' },
    requestedBy: {
      accountId: env.cloud.cloud.state.organization.managementAccountId,
      arn: `arn:aws:iam::${env.cloud.cloud.state.organization.managementAccountId}:root`,
      type: 'Root',
      principalId: env.cloud.cloud.state.organization.managementAccountId,
    },
  };
  return id;
}

function creationsOf(env: WorkflowEnv, accountName: string) {
  return Object.values(env.cloud.cloud.state.createAccountRequests).filter(
    (request) => request.accountName === accountName,
  );
}

async function untilCreated(
  env: WorkflowEnv,
  request: ReturnType<typeof testRequest>,
  first: CreationState,
): Promise<CreationState> {
  let creation = first;
  while (creation.state === 'IN_PROGRESS') {
    await env.deps.sleep(creation.waitSeconds * 1000);
    creation = await checkAccountCreation(env.deps, { ...stepInput(request), creation });
  }
  return creation;
}

describe('creating the account', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());
  beforeEach(() => {
    env.cloud.cloud.faults.clear();
    env.cloud.cloud.settings.maxCreationsInProgress = 5;
    env.cloud.cloud.settings.maxAccounts = 50;
  });

  it('asks Organizations once and records the CreateAccount request id before returning', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const creation = await createAccount(env.deps, stepInput(request));
    expect(creation).toMatchObject({ state: 'IN_PROGRESS', waitSeconds: 60, waitedSeconds: 0 });
    const record = await env.deps.requests.get(request.requestId);
    expect(record).toMatchObject({
      status: 'creating',
      createAccountRequestId: creation.createAccountRequestId,
    });
    expect(record?.steps.createAccount).toMatchObject({ status: 'succeeded', attempts: 1 });
    const [created] = creationsOf(env, request.accountName);
    expect(created?.tags).toEqual(
      expect.arrayContaining([
        { Key: 'vend:request-id', Value: request.requestId },
        { Key: 'team', Value: 'payments' },
      ]),
    );
  });

  it('does not ask again when the step runs again after success', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const first = await createAccount(env.deps, stepInput(request));
    const second = await createAccount(env.deps, stepInput(request));
    expect(second.createAccountRequestId).toBe(first.createAccountRequestId);
    expect(creationsOf(env, request.accountName)).toHaveLength(1);
  });

  it('finds its own earlier creation after a crash between CreateAccount and the registry write: one account, not two', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const original = env.deps.requests.setCreateAccountRequestId.bind(env.deps.requests);
    let crashes = 1;
    env.deps.requests.setCreateAccountRequestId = async (...args) => {
      if (crashes-- > 0) throw new Error('Lambda timed out');
      return original(...args);
    };
    try {
      await expect(createAccount(env.deps, stepInput(request))).rejects.toThrow('Lambda timed out');
      expect(creationsOf(env, request.accountName)).toHaveLength(1);
      const retried = await createAccount(env.deps, stepInput(request));
      expect(creationsOf(env, request.accountName)).toHaveLength(1);
      expect(retried.createAccountRequestId).toBe(creationsOf(env, request.accountName)[0]?.id);
      const done = await untilCreated(env, request, retried);
      expect(done.state).toBe('SUCCEEDED');
    } finally {
      env.deps.requests.setCreateAccountRequestId = original;
    }
  });

  it('finds its earlier creation even when reads of the search are throttled or fail on AWS side', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const original = env.deps.requests.setCreateAccountRequestId.bind(env.deps.requests);
    let crashes = 1;
    env.deps.requests.setCreateAccountRequestId = async (...args) => {
      if (crashes-- > 0) throw new Error('Lambda timed out');
      return original(...args);
    };
    try {
      await expect(createAccount(env.deps, stepInput(request))).rejects.toThrow('Lambda timed out');
      env.cloud.cloud.faults.add({
        service: 'organizations',
        operation: 'ListCreateAccountStatus',
        error: { code: 'TooManyRequestsException' },
        times: 2,
      });
      env.cloud.cloud.faults.add({
        service: 'organizations',
        operation: 'ListCreateAccountStatus',
        error: { code: 'ServiceException', status: 500 },
        times: 1,
      });
      const retried = await createAccount(env.deps, stepInput(request));
      expect(creationsOf(env, request.accountName)).toHaveLength(1);
      expect(retried.createAccountRequestId).toBe(creationsOf(env, request.accountName)[0]?.id);
    } finally {
      env.deps.requests.setCreateAccountRequestId = original;
      env.cloud.cloud.faults.clear();
    }
  });

  it('says the creation slots are full when Organizations has as many creations in progress as it allows', async () => {
    const stuck = holdCreationSlot(env);
    try {
      env.cloud.cloud.settings.maxCreationsInProgress = 1;
      const request = testRequest();
      await storeRequest(env.deps, request);
      await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject({
        name: 'Vend.CreationSlotsFull',
      });
      expect(creationsOf(env, request.accountName)).toHaveLength(0);
    } finally {
      delete env.cloud.cloud.state.createAccountRequests[stuck];
    }
  });

  it('retries after full slots without searching for an earlier creation, and creates one account once a slot frees', async () => {
    const limit = env.cloud.cloud.settings.maxCreationsInProgress;
    const searches = () =>
      env.cloud.cloud.callCount((_service, operation) => operation === 'ListCreateAccountStatus');
    const stuck = holdCreationSlot(env);
    try {
      env.cloud.cloud.settings.maxCreationsInProgress = 1;
      const request = testRequest();
      await storeRequest(env.deps, request);
      const refused = { name: 'Vend.CreationSlotsFull' };
      await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject(refused);
      const before = searches();
      await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject(refused);
      // One look at the creations in progress, to tell full slots from the daily limit; no search for our own.
      expect(searches() - before).toBe(1);
      env.cloud.cloud.settings.maxCreationsInProgress = limit;
      const after = searches();
      await createAccount(env.deps, stepInput(request));
      // Every attempt before was refused outright: nothing to look for.
      expect(searches() - after).toBe(0);
      expect(creationsOf(env, request.accountName)).toHaveLength(1);
    } finally {
      env.cloud.cloud.settings.maxCreationsInProgress = limit;
      delete env.cloud.cloud.state.createAccountRequests[stuck];
    }
  });

  it('fails for good, with what to do, when the organization is at its account quota', async () => {
    env.cloud.cloud.settings.maxAccounts = 1;
    const request = testRequest();
    await storeRequest(env.deps, request);
    await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Failed',
      message: 'the organization is at its account quota',
    });
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.failure).toMatchObject({
      step: 'createAccount',
      advice: expect.stringContaining('quota'),
    });
  });

  it('turns throttling into the error the state machine retries, and the retry creates one account', async () => {
    env.cloud.cloud.faults.add({
      service: 'organizations',
      operation: 'CreateAccount',
      error: { code: 'TooManyRequestsException' },
      times: 1,
    });
    const request = testRequest();
    await storeRequest(env.deps, request);
    await expect(createAccount(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
    await createAccount(env.deps, stepInput(request));
    expect(creationsOf(env, request.accountName)).toHaveLength(1);
  });
});

describe('waiting for the account', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());

  it('waits longer each time and reports the account once it exists', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const first = await createAccount(env.deps, stepInput(request));
    const waits: number[] = [first.waitSeconds];
    let creation = first;
    while (creation.state === 'IN_PROGRESS') {
      await env.deps.sleep(creation.waitSeconds * 1000);
      creation = await checkAccountCreation(env.deps, { ...stepInput(request), creation });
      if (creation.state === 'IN_PROGRESS') waits.push(creation.waitSeconds);
    }
    expect(creation).toMatchObject({ state: 'SUCCEEDED', accountId: expect.stringMatching(/^\d{12}$/) });
    expect(waits[0]).toBe(60);
    for (let i = 1; i < waits.length; i++) expect(waits[i]).toBeGreaterThan(waits[i - 1]!);
    expect((await env.deps.requests.get(request.requestId))?.accountId).toBe(creation.accountId);
  });

  it('reports a failed creation with its reason', async () => {
    env.cloud.cloud.settings.nextCreationOutcomes.push({
      state: 'FAILED',
      failureReason: 'EMAIL_ALREADY_EXISTS',
      delayMs: 1_000,
    });
    const request = testRequest();
    await storeRequest(env.deps, request);
    const creation = await untilCreated(env, request, await createAccount(env.deps, stepInput(request)));
    expect(creation).toMatchObject({ state: 'FAILED', failureReason: 'EMAIL_ALREADY_EXISTS' });
  });

  it('gives up at the deadline', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const creation: CreationState = {
      createAccountRequestId: 'car-0123456789abcdef0123456789abcdef',
      state: 'IN_PROGRESS',
      waitSeconds: 900,
      waitedSeconds: 3000,
      polls: 9,
    };
    env.cloud.cloud.state.createAccountRequests[creation.createAccountRequestId] = {
      ...Object.values(env.cloud.cloud.state.createAccountRequests)[0]!,
      id: creation.createAccountRequestId,
      state: 'IN_PROGRESS',
      completesAt: Number.MAX_SAFE_INTEGER,
    };
    await env.deps.requests.setCreateAccountRequestId(request.requestId, creation.createAccountRequestId);
    const next = await checkAccountCreation(env.deps, { ...stepInput(request), creation });
    expect(next).toMatchObject({ state: 'TIMED_OUT', waitedSeconds: 3900 });
  });
});

describe('moving the account to its OU', () => {
  let env: WorkflowEnv;
  let accountId: string;
  let devId: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    const rootId = (await env.deps.client(OrganizationsClient).send(new ListRootsCommand({}))).Roots![0]!.Id!;
    const workloads = Object.values(env.cloud.cloud.state.organizationalUnits).find(
      (ou) => ou.name === 'Workloads' && ou.parentId === rootId,
    )!;
    devId = Object.values(env.cloud.cloud.state.organizationalUnits).find(
      (ou) => ou.name === 'Dev' && ou.parentId === workloads.id,
    )!.id;
    const request = testRequest();
    await storeRequest(env.deps, request);
    const creation = await untilCreated(env, request, await createAccount(env.deps, stepInput(request)));
    accountId = creation.accountId!;
  });
  afterAll(() => env.close());

  it('moves it from the root, and a second run finds it already there', async () => {
    const request = testRequest({ organizationalUnit: { id: devId, path: 'Workloads/Dev' } });
    await storeRequest(env.deps, request);
    await recordAccount(env.deps, request, accountId);
    expect(await moveAccount(env.deps, stepInput(request))).toMatchObject({ action: 'moved', to: devId });
    const parents = await env.deps
      .client(OrganizationsClient)
      .send(new ListParentsCommand({ ChildId: accountId }));
    expect(parents.Parents?.[0]?.Id).toBe(devId);
    expect(await moveAccount(env.deps, stepInput(request))).toMatchObject({ action: 'already-there' });
    expect((await env.deps.requests.get(request.requestId))?.status).toBe('configuring');
  });

  it('retries when someone moved it between looking and moving', async () => {
    const request = testRequest({
      organizationalUnit: { id: env.cloud.cloud.state.organization.rootId, path: 'Root' },
    });
    await storeRequest(env.deps, request);
    await recordAccount(env.deps, request, accountId);
    env.cloud.cloud.faults.add({
      service: 'organizations',
      operation: 'MoveAccount',
      error: { code: 'SourceParentNotFoundException' },
      times: 1,
    });
    await expect(moveAccount(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.ConcurrentModification',
    });
    expect(await moveAccount(env.deps, stepInput(request))).toMatchObject({ action: 'moved' });
  });

  it('fails with advice when the OU no longer exists', async () => {
    const request = testRequest({ organizationalUnit: { id: 'ou-zzzz-00000000', path: 'Gone' } });
    await storeRequest(env.deps, request);
    await recordAccount(env.deps, request, accountId);
    await expect(moveAccount(env.deps, stepInput(request))).rejects.toMatchObject({
      name: 'Vend.Failed',
    });
  });
});
