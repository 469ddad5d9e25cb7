import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { applyBaseline } from '../functions/apply-baseline/core.ts';
import { applyBudget } from '../functions/apply-budget/core.ts';
import { checkAccountCreation } from '../functions/check-account-creation/core.ts';
import { completeRequest } from '../functions/complete-request/core.ts';
import { connectDns } from '../functions/connect-dns/core.ts';
import { createAccount } from '../functions/create-account/core.ts';
import { grantAccess } from '../functions/grant-access/core.ts';
import { moveAccount } from '../functions/move-account/core.ts';
import { recordFailure } from '../functions/record-failure/core.ts';
import type { Deps } from '../functions/shared/deps.ts';
import type { ExecutionInput, WorkflowStarter } from '../functions/shared/submit.ts';
import { seededRandom } from './cloud/random.ts';

export const ASL_PATH = resolve(import.meta.dirname, '..', 'statemachine', 'vend.asl.json');

type JSONValue = Parameters<StateMachine['run']>[0];

// biome-ignore lint/suspicious/noExplicitAny: each core takes its own input type; the ASL decides what it gets.
type Core = (deps: Deps, input: any) => Promise<unknown>;

/** The step core behind each `${...}FunctionArn` placeholder of the ASL: the same code the Lambdas run. */
export const TASK_FUNCTIONS: Record<string, { core: Core; functionName: string }> = {
  CreateAccountFunctionArn: { core: createAccount, functionName: 'create-account' },
  CheckAccountCreationFunctionArn: { core: checkAccountCreation, functionName: 'check-account-creation' },
  MoveAccountFunctionArn: { core: moveAccount, functionName: 'move-account' },
  ApplyBaselineFunctionArn: { core: applyBaseline, functionName: 'apply-baseline' },
  ApplyBudgetFunctionArn: { core: applyBudget, functionName: 'apply-budget' },
  ConnectDnsFunctionArn: { core: connectDns, functionName: 'connect-dns' },
  GrantAccessFunctionArn: { core: grantAccess, functionName: 'grant-access' },
  CompleteRequestFunctionArn: { core: completeRequest, functionName: 'complete-request' },
  RecordFailureFunctionArn: { core: recordFailure, functionName: 'record-failure' },
};

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Next?: string;
  SecondsPath?: string;
  Seconds?: number;
  Retry?: AslRetrier[];
  Branches?: { States: Record<string, AslState> }[];
}

interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/**
 * How long Step Functions waits before retrying a state that failed with `errorName`, in seconds, as the ASL
 * specification defines it: the first retrier that matches, IntervalSeconds x BackoffRate^(n - 1) for its n-th
 * retry, at most MaxDelaySeconds, and with FULL jitter a random share of that. Undefined when no retrier
 * matches or the matching one has used up its attempts (the state then fails, or its Catch takes over).
 * `attempts` counts each retrier's retries so far and is updated.
 */
export function retryDelaySeconds(
  retriers: readonly AslRetrier[],
  errorName: string,
  attempts: number[],
  random: () => number,
): number | undefined {
  const index = retriers.findIndex(
    (retrier) =>
      retrier.ErrorEquals.includes(errorName) ||
      retrier.ErrorEquals.includes('States.ALL') ||
      (retrier.ErrorEquals.includes('States.TaskFailed') && !errorName.startsWith('States.')),
  );
  if (index < 0) return undefined;
  const retrier = retriers[index]!;
  const retry = (attempts[index] ?? 0) + 1;
  if (retry > (retrier.MaxAttempts ?? 3)) return undefined;
  attempts[index] = retry;
  let delay = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (retry - 1);
  if (retrier.MaxDelaySeconds !== undefined) delay = Math.min(delay, retrier.MaxDelaySeconds);
  return retrier.JitterStrategy === 'FULL' ? delay * random() : delay;
}

/** Every state of a definition, branches included, by name. */
export function allStates(definition: { States: Record<string, AslState> }): Map<string, AslState> {
  const states = new Map<string, AslState>();
  const walk = (entries: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(entries)) {
      states.set(name, state);
      for (const branch of state.Branches ?? []) walk(branch.States);
    }
  };
  walk(definition.States);
  return states;
}

/** The `${Name}` placeholders of the ASL text. */
export function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((match) => match[1]!))];
}

/** Reads the ASL file and fills its placeholders with local function ARNs. */
export function loadDefinition(path = ASL_PATH): { States: Record<string, AslState>; StartAt: string } {
  const text = readFileSync(path, 'utf8');
  const filled = text.replace(/\$\{(\w+)\}/g, (_match, name: string) => {
    const fn = TASK_FUNCTIONS[name];
    if (!fn) throw new Error(`${path}: no local function for placeholder \${${name}}`);
    return `arn:aws:lambda:us-east-1:000000000000:function:vend-${fn.functionName}`;
  });
  return JSON.parse(filled);
}

function valueAt(input: unknown, path: string): unknown {
  if (!path.startsWith('$.')) return undefined;
  return path
    .slice(2)
    .split('.')
    .reduce<unknown>(
      (value, key) =>
        value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined,
      input,
    );
}

/**
 * The Task's `TimeoutSeconds` on the simulated clock: Step Functions fails the Task with States.Timeout when its
 * function has not answered by then (and the ASL's Retry or Catch takes over), while the invocation itself goes
 * on. At speed 1 aws-local-stepfunctions enforces it in real time itself. The attempt must also have run
 * `realFloorMs` of real time (see `LocalRunnerOptions.realTimeoutFloorMs`).
 */
function withinTimeout<T>(
  deps: Deps,
  call: Promise<T>,
  stateName: string,
  state: AslState,
  realFloorMs: number,
): Promise<T> {
  const seconds = state.TimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS;
  const realStart = Date.now();
  let settled = false;
  return new Promise<T>((resolve, reject) => {
    call.then(
      (value) => {
        settled = true;
        resolve(value);
      },
      (error: unknown) => {
        settled = true;
        reject(error);
      },
    );
    const expire = () => {
      if (settled) return;
      const realLeft = realFloorMs - (Date.now() - realStart);
      if (realLeft > 0) {
        setTimeout(expire, realLeft).unref();
        return;
      }
      reject(statesTimeout(stateName, seconds));
    };
    void deps.sleep(seconds * 1000).then(expire);
  });
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';

/** A Task's timeout when it gives none, as the Amazon States Language specifies (60 s). */
const DEFAULT_TASK_TIMEOUT_SECONDS = 60;

/** See `LocalRunnerOptions.realTimeoutFloorMs`. */
const DEFAULT_REAL_TIMEOUT_FLOOR_MS = 5000;

/** The error Step Functions fails a Task with when it runs longer than its `TimeoutSeconds`. */
function statesTimeout(stateName: string, seconds: number): Error {
  return Object.assign(new Error(`${stateName} ran longer than its TimeoutSeconds (${seconds} s)`), {
    name: 'States.Timeout',
  });
}

export interface LocalExecution {
  name: string;
  /** The execution's input as given: Vend's API gives `{ requestId }`; a test may give anything. */
  input: unknown;
  status: ExecutionStatus;
  output?: unknown;
  error?: { Error: string; Cause: unknown };
  startedAt: string;
  stoppedAt?: string;
  /** State transitions as Step Functions bills them: every state entered, every retry. */
  transitions: number;
  /** Step function invocations, retries included. */
  invocations: number;
  done: Promise<LocalExecution>;
}

export class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'ExecutionAlreadyExists';
}

export interface LocalRunnerOptions {
  deps: Deps;
  /**
   * Simulated seconds per real second of the clock that `deps.sleep` runs on. At 1 (real time) the library's own
   * retry back-off and jitter apply; otherwise the runner waits each retry's delay (`retryDelaySeconds`: back-off,
   * MaxDelaySeconds, jitter) on the simulated clock before the state runs again.
   */
  speed?: number;
  /**
   * Real milliseconds a Task must also have run before its `TimeoutSeconds` (on the simulated clock) fails it.
   * The code of a step runs at real speed on AWS as here, so its own work must not count a thousand times over
   * on a fast clock; a step that hangs on the simulated clock (a slow AWS answer, a wait) still times out.
   * @default 5000
   */
  realTimeoutFloorMs?: number;
  /** The seed of the retries' jitter, so that simulated runs repeat. Default 1. */
  randomSeed?: number;
  definitionPath?: string;
  /**
   * Awaited before each Task state's step runs (tests: look at the account at an exact point of the workflow, such
   * as "configured, still quarantined, not yet moved"). Not an AWS feature: the deployed state machine has none.
   */
  beforeTask?: (stateName: string, input: unknown) => Promise<void>;
}

/**
 * Executes the state machine's ASL file with aws-local-stepfunctions, mapping each Task to the step core its
 * Lambda runs. Wait states wait on the simulated clock: the runner turns a Wait into a sleep (`deps.sleep`) just
 * before the state that follows it, so their durations scale with the clock and still count as transitions.
 * Executions are named, like Step Functions': starting a name again with the same input returns the same
 * execution, with another input is refused.
 */
export class LocalRunner implements WorkflowStarter {
  private readonly executions = new Map<string, LocalExecution>();
  private readonly stateMachine: StateMachine;
  private readonly states: Map<string, AslState>;
  private readonly aborts = new Set<() => void>();
  /** Step calls under way, so that shutdown can wait for them before the services they use go away. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopping = false;
  /** The retries' jitter, seeded. */
  private readonly random: () => number;

  constructor(private readonly options: LocalRunnerOptions) {
    const random = seededRandom(options.randomSeed ?? 1);
    this.random = () => random.next();
    const definition = loadDefinition(options.definitionPath);
    this.states = allStates(definition);
    this.stateMachine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  async start(name: string, input: ExecutionInput): Promise<void> {
    this.run(name, input);
  }

  /**
   * Starts (or finds) an execution and returns it. The input is taken as given, as StartExecution takes any JSON:
   * the steps decide whether the execution is the request's own.
   */
  run(name: string, input: object): LocalExecution {
    const existing = this.executions.get(name);
    if (existing) {
      if (JSON.stringify(existing.input) !== JSON.stringify(input)) {
        throw new ExecutionAlreadyExistsError(`Execution ${name} already exists with another input`);
      }
      return existing;
    }
    const { deps } = this.options;
    const speed = this.options.speed ?? 1;
    const taskHandlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    const waitOverrides: Record<string, number> = {};
    const retryOverrides: Record<string, number[]> = {};
    // Retries of each Task state: the attempts of each retrier, and the delay to wait before the next run.
    const retries = new Map<string, { attempts: number[]; delayMs: number }>();
    const waitBefore = new Map<string, AslState>();
    for (const [stateName, state] of this.states) {
      if (state.Type === 'Wait') {
        waitOverrides[stateName] = 0;
        if (state.Next) waitBefore.set(state.Next, state);
      }
      // The library waits nothing; the task handler waits the delay on the simulated clock.
      if (speed !== 1 && state.Retry) retryOverrides[stateName] = state.Retry.map(() => 0);
    }
    const execution: LocalExecution = {
      name,
      input,
      status: 'RUNNING',
      startedAt: new Date().toISOString(),
      transitions: 0,
      invocations: 0,
      done: undefined as unknown as Promise<LocalExecution>,
    };
    for (const [stateName, state] of this.states) {
      if (state.Type !== 'Task' || !state.Resource) continue;
      const functionName = /function:vend-(.+)$/.exec(state.Resource)?.[1];
      const fn = Object.values(TASK_FUNCTIONS).find((candidate) => candidate.functionName === functionName);
      if (!fn) throw new Error(`state ${stateName}: no local function for ${state.Resource}`);
      const wait = waitBefore.get(stateName);
      taskHandlers[stateName] = async (taskInput) => {
        if (wait) {
          const seconds = wait.SecondsPath ? valueAt(taskInput, wait.SecondsPath) : wait.Seconds;
          if (typeof seconds !== 'number')
            throw new Error(`runner: ${stateName} has no ${wait.SecondsPath} in its input to wait for`);
          await deps.sleep(seconds * 1000);
        }
        const retry = retries.get(stateName);
        if (retry && retry.delayMs > 0) {
          const ms = retry.delayMs;
          retry.delayMs = 0;
          await deps.sleep(ms);
        }
        if (this.stopping) return new Promise<JSONValue>(() => undefined);
        await this.options.beforeTask?.(stateName, taskInput);
        execution.invocations++;
        const call = fn.core(deps, taskInput);
        this.inFlight.add(call);
        // Like a Lambda invocation, the attempt runs on after the Task gave up on it; shutdown still waits for it.
        void call.then(
          () => this.inFlight.delete(call),
          () => this.inFlight.delete(call),
        );
        try {
          const output = (await (speed === 1
            ? call
            : withinTimeout(
                deps,
                call,
                stateName,
                state,
                this.options.realTimeoutFloorMs ?? DEFAULT_REAL_TIMEOUT_FLOOR_MS,
              ))) as JSONValue;
          retries.delete(stateName);
          return output;
        } catch (error) {
          // After a stop the execution is abandoned (it resumes at the next start): its late errors go nowhere.
          if (this.stopping) return new Promise<JSONValue>(() => undefined);
          if (speed !== 1 && state.Retry) {
            const entry = retries.get(stateName) ?? { attempts: [], delayMs: 0 };
            const name = error instanceof Error ? error.name : 'Error';
            const seconds = retryDelaySeconds(state.Retry, name, entry.attempts, this.random);
            // No retry follows: the state is left, and a later entry starts its retriers afresh.
            if (seconds === undefined) retries.delete(stateName);
            else retries.set(stateName, { attempts: entry.attempts, delayMs: seconds * 1000 });
          }
          throw error;
        }
      };
    }
    const run = this.stateMachine.run(input as unknown as JSONValue, {
      overrides: {
        taskResourceLocalHandlers: taskHandlers,
        waitTimeOverrides: waitOverrides,
        retryIntervalOverrides: retryOverrides,
      },
      context: {
        Execution: {
          Id: `local:${name}`,
          Name: name,
          Input: input as unknown as JSONValue,
          StartTime: execution.startedAt,
        },
      },
    });
    this.aborts.add(run.abort);
    const counting = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') execution.transitions++;
        if (event.type === 'ExecutionFailed') execution.error = { Error: event.Error, Cause: event.Cause };
      }
    })();
    execution.done = run.result
      .then((output) => {
        execution.status = 'SUCCEEDED';
        execution.output = output;
      })
      .catch((error: Error) => {
        execution.status = error.name === 'ExecutionAbortedError' ? 'ABORTED' : 'FAILED';
        execution.error ??= { Error: error.name, Cause: error.message };
      })
      .then(() => counting.catch(() => undefined))
      .then(() => {
        execution.stoppedAt = new Date().toISOString();
        this.aborts.delete(run.abort);
        return execution;
      });
    this.executions.set(name, execution);
    return execution;
  }

  get(name: string): LocalExecution | undefined {
    return this.executions.get(name);
  }

  list(): LocalExecution[] {
    return [...this.executions.values()];
  }

  /**
   * Stops every running execution (on shutdown) and waits for step calls under way to settle; their requests
   * stay in the registry as they were, to be resumed at the next start.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const abort of this.aborts) abort();
    this.aborts.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every running execution without waiting (tests that tear everything down at once). */
  abortAll(): void {
    void this.stop();
  }
}
