import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applyBaseline } from '../../functions/apply-baseline/core.ts';
import { connectDns } from '../../functions/connect-dns/core.ts';
import { createAccount } from '../../functions/create-account/core.ts';
import { recordFailure } from '../../functions/record-failure/core.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import {
  createMemberAccount,
  failureInput,
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
  withFault,
} from './harness.ts';

/**
 * The reason and advice of a failed request reach the requester, the API and the shared Slack channel: AWS's own
 * error text (which can name internal ARNs, principals and policies) must not. It is kept in the internal
 * `failure.error` field only.
 */
const SECRET = 'arn:aws:iam::999988887777:role/internal-secret-zq7';

describe('AWS error text stays out of what the requester sees', () => {
  let env: WorkflowEnv;
  beforeAll(async () => {
    env = await startWorkflowEnv();
  });
  afterAll(() => env.close());
  afterEach(() => env.cloud.cloud.faults.clear());

  const failureOf = async (request: VendRequest) => (await env.deps.requests.get(request.requestId))?.failure;

  function expectClean(failure: { reason: string; advice: string; error?: string } | undefined) {
    expect(failure).toBeDefined();
    expect(failure!.reason).not.toContain(SECRET);
    expect(failure!.advice).not.toContain(SECRET);
    expect(failure!.error).toContain(SECRET);
  }

  it('says in words why IAM refused the baseline, keeping IAM text internal', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
    const fault = {
      service: 'iam',
      operation: 'CreateRole',
      error: { code: 'MalformedPolicyDocument', message: `This policy names ${SECRET}` },
    };

    await expect(
      withFault(env, fault, () => applyBaseline(env.deps, stepInput(request))),
    ).rejects.toMatchObject({ name: 'Vend.Failed' });

    const failure = await failureOf(request);
    expectClean(failure);
    expect(failure!.reason).toBe(
      'IAM refused role VendAdmin of the baseline: the policy document is not one IAM accepts',
    );
  });

  it('says in words why Route 53 refused the VPC, keeping Route 53 text internal', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
    const fault = {
      service: 'route53',
      operation: 'CreateVPCAssociationAuthorization',
      error: { code: 'InvalidVPCId', message: `VPC refused for ${SECRET}` },
    };

    await expect(withFault(env, fault, () => connectDns(env.deps, stepInput(request)))).rejects.toMatchObject(
      { name: 'Vend.Failed' },
    );

    const failure = await failureOf(request);
    expectClean(failure);
    expect(failure!.reason).toMatch(
      /^Route 53 refused to authorize the VPC vpc-\w+ of account \d{12} in us-east-1: it does not take the VPC id$/,
    );
  });

  it("names Organizations' reason code, not its text, when it refuses the account's details", async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);
    const fault = {
      service: 'organizations',
      operation: 'CreateAccount',
      error: {
        code: 'InvalidInputException',
        message: `Bad input near ${SECRET}`,
        fields: { Reason: 'INVALID_FULL_NAME_TARGET' },
      },
    };

    await expect(
      withFault(env, fault, () => createAccount(env.deps, stepInput(request))),
    ).rejects.toMatchObject({
      name: 'Vend.Failed',
    });

    const failure = await failureOf(request);
    expectClean(failure);
    expect(failure!.reason).toBe("Organizations refused the account's details (INVALID_FULL_NAME_TARGET)");
  });

  it('records an error that outlasted the retries in words, with AWS text only in the error field', async () => {
    const request = testRequest();
    await storeRequest(env.deps, request);

    await recordFailure(
      env.deps,
      failureInput({
        request,
        failure: {
          Error: 'Vend.Throttled',
          Cause: JSON.stringify({
            errorType: 'Vend.Throttled',
            errorMessage: `Throttling: Rate exceeded for ${SECRET}`,
          }),
        },
      }),
    );

    const failure = await failureOf(request);
    expectClean(failure);
    expect(failure!.reason).toBe('AWS kept asking Vend to slow down.');
  });
});
