import { Duration } from 'aws-cdk-lib';
import { type EventPattern, Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DriftEventsProps {
  /** The drift function: receives the Organizations events and the periodic sweep. */
  readonly handler: IFunction;
  /** Which events on the default bus reach it (`DRIFT_EVENT_PATTERN`). */
  readonly eventPattern: EventPattern;
  /** When the sweep runs (it finds drift whose event was missed). */
  readonly sweepSchedule: Schedule;
  /**
   * How long EventBridge keeps retrying an event the function did not take.
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /**
   * How many times EventBridge retries delivering an event before it goes to the dead-letter queue.
   * @default 8
   */
  readonly retryAttempts?: number;
  /**
   * How many times Lambda retries an invocation whose handler threw (asynchronous invocation, 0-2).
   * @default 2
   */
  readonly invokeRetryAttempts?: number;
  /**
   * How long Lambda keeps an event it accepted but could not run yet or that failed (asynchronous invocation).
   * @default Duration.hours(6)
   */
  readonly invokeMaxEventAge?: Duration;
}

/**
 * Wires the drift function to EventBridge: a rule on the default bus for Organizations changes and a scheduled
 * rule for the sweep. EventBridge invokes Lambda asynchronously, so nothing is dropped at two places:
 * - delivery: the targets retry, then put what Lambda never accepted in the dead-letter queue (a target's retry
 *   policy and dead-letter queue cover delivery only: EventBridge user guide, "Event retry policy and using
 *   dead-letter queues");
 * - the handler: an event Lambda accepted whose handler throws gets Lambda's own retries, then goes to the
 *   function's on-failure destination, the failure queue (Lambda developer guide, "Asynchronous invocation":
 *   error handling and destinations; CloudFormation `AWS::Lambda::EventInvokeConfig`).
 */
export class DriftEvents extends Construct {
  readonly changesRule: Rule;
  readonly sweepRule: Rule;
  readonly deadLetterQueue: Queue;
  /** Events whose handler failed on every attempt (Lambda's on-failure destination records). */
  readonly failureQueue: Queue;

  constructor(scope: Construct, id: string, props: DriftEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.failureQueue = new Queue(this, 'HandlerFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    props.handler.configureAsyncInvoke({
      retryAttempts: props.invokeRetryAttempts ?? 2,
      maxEventAge: props.invokeMaxEventAge ?? Duration.hours(6),
      onFailure: new SqsDestination(this.failureQueue),
    });
    const target = () =>
      new LambdaFunction(props.handler, {
        deadLetterQueue: this.deadLetterQueue,
        maxEventAge: props.maxEventAge ?? Duration.hours(6),
        retryAttempts: props.retryAttempts ?? 8,
      });
    this.changesRule = new Rule(this, 'OrganizationsChanges', {
      description: 'Vend: Organizations changes to vended accounts (CloudTrail, us-east-1 default bus)',
      eventPattern: props.eventPattern,
      targets: [target()],
    });
    this.sweepRule = new Rule(this, 'Sweep', {
      description: 'Vend: periodic drift sweep over every vended account',
      schedule: props.sweepSchedule,
      targets: [target()],
    });
  }
}
