import type { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { stepFunctionsStarter } from '../../functions/shared/step-functions.ts';
import { testRequest } from '../workflow/harness.ts';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:vend';

function fakeClient(answer: (command: StartExecutionCommand) => Promise<unknown>) {
  const sent: StartExecutionCommand[] = [];
  const client = {
    send: (command: StartExecutionCommand) => {
      sent.push(command);
      return answer(command);
    },
  } as unknown as SFNClient;
  return { client, sent };
}

const awsError = (name: string) => Object.assign(new Error(`${name} happened`), { name });

describe('the Step Functions starter', () => {
  it('starts the state machine with the request id as the execution name and {request} as input', async () => {
    const { client, sent } = fakeClient(async () => ({ executionArn: `${ARN}:x` }));
    const request = testRequest();
    await stepFunctionsStarter(client, ARN).start(request.requestId, { request });
    expect(sent[0]!.input).toEqual({
      stateMachineArn: ARN,
      name: request.requestId,
      input: JSON.stringify({ request }),
    });
  });

  it('takes ExecutionAlreadyExists for the same name as done', async () => {
    const { client } = fakeClient(() => Promise.reject(awsError('ExecutionAlreadyExists')));
    const request = testRequest();
    await expect(
      stepFunctionsStarter(client, ARN).start(request.requestId, { request }),
    ).resolves.toBeUndefined();
  });

  it('passes throttling on as the workflow error that says so', async () => {
    const { client } = fakeClient(() => Promise.reject(awsError('ThrottlingException')));
    const request = testRequest();
    await expect(
      stepFunctionsStarter(client, ARN).start(request.requestId, { request }),
    ).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
  });

  it('looks an execution up by the ARN made of the state machine and the name', async () => {
    const { client, sent } = fakeClient(async () => ({ status: 'RUNNING' }));
    await expect(stepFunctionsStarter(client, ARN).exists('req-1')).resolves.toBe(true);
    expect(sent[0]!.input).toEqual({
      executionArn: 'arn:aws:states:us-east-1:000000000000:execution:vend:req-1',
    });
  });

  it('answers ExecutionDoesNotExist as no execution, and other errors as the workflow error', async () => {
    const missing = fakeClient(() => Promise.reject(awsError('ExecutionDoesNotExist')));
    await expect(stepFunctionsStarter(missing.client, ARN).exists('req-1')).resolves.toBe(false);
    const throttled = fakeClient(() => Promise.reject(awsError('ThrottlingException')));
    await expect(stepFunctionsStarter(throttled.client, ARN).exists('req-1')).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
  });
});
