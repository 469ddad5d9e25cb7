import { Duration } from 'aws-cdk-lib';
import { type EventPattern, Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
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
}

/**
 * Wires the drift function to EventBridge: a rule on the default bus for Organizations changes, a scheduled
 * rule for the sweep, both delivering with retries and, when those run out, to an encrypted dead-letter queue.
 */
export class DriftEvents extends Construct {
  readonly changesRule: Rule;
  readonly sweepRule: Rule;
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: DriftEventsProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
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
