import { DescribeExecutionCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { classifyAwsError, isAwsError } from './errors.ts';
import type { WorkflowStarter } from './submit.ts';

/** The state machine's executions, as the reaper sees them: started by name, looked up by name. */
export interface WorkflowExecutions extends WorkflowStarter {
  /** Whether an execution of this name exists (running or ended). */
  exists(executionName: string): Promise<boolean>;
}

/**
 * An execution's ARN from its state machine's ARN and its name: `arn:<partition>:states:<region>:<account>:
 * execution:<stateMachineName>:<executionName>` (Step Functions API Reference, DescribeExecution, executionArn).
 */
export function executionArn(stateMachineArn: string, executionName: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${executionName}`;
}

/**
 * Starts the state machine with StartExecution, named after the request; a second start of the same name is a
 * success, and looks an execution up with DescribeExecution (ExecutionDoesNotExist: there is none).
 * StartExecution is idempotent for a STANDARD state machine: the same name and input as a running execution
 * answers that execution; a closed one, or another input, is ExecutionAlreadyExists (SFN SDK model,
 * StartExecutionCommand), which for a request's own name means it was started already.
 */
export function stepFunctionsStarter(client: SFNClient, stateMachineArn: string): WorkflowExecutions {
  return {
    async start(executionName, input) {
      try {
        await client.send(
          new StartExecutionCommand({ stateMachineArn, name: executionName, input: JSON.stringify(input) }),
        );
      } catch (error) {
        if (isAwsError(error, 'ExecutionAlreadyExists')) return;
        throw classifyAwsError(error);
      }
    },
    async exists(executionName) {
      try {
        await client.send(
          new DescribeExecutionCommand({ executionArn: executionArn(stateMachineArn, executionName) }),
        );
        return true;
      } catch (error) {
        if (isAwsError(error, 'ExecutionDoesNotExist')) return false;
        throw classifyAwsError(error);
      }
    },
  };
}
