import type { Log } from '../functions/shared/deps.ts';
import { type EventPattern, matchesPattern } from '../functions/shared/event-pattern.ts';
import { type AuditEvent, toEventBridgeEvent } from './cloud/index.ts';

type EventBridgeEvent = ReturnType<typeof toEventBridgeEvent>;

/** One event the bus delivered: what the function answered, or the error of its last attempt. */
export interface Delivery<R> {
  event: EventBridgeEvent;
  /** How many times the function ran on it (Lambda's `approximateInvokeCount`). */
  attempts: number;
  result?: R;
  error?: string;
}

/**
 * What Lambda sends to an asynchronous invocation's on-failure destination (Lambda developer guide,
 * "Asynchronous invocation", invocation records): the event, why it failed and the function's last error.
 */
export interface FailureRecord {
  version: '1.0';
  timestamp: string;
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: 'RetriesExhausted' | 'EventAgeExceeded';
    approximateInvokeCount: number;
  };
  requestPayload: EventBridgeEvent;
  responseContext: { statusCode: 200; executedVersion: '$LATEST'; functionError: 'Unhandled' };
  responsePayload: { errorType: string; errorMessage: string };
}

/** An event EventBridge could not hand to Lambda, in the rule target's dead-letter queue. */
export interface DeadLetter {
  event: EventBridgeEvent;
  /** The delivery error (what Lambda's Invoke answered). */
  error: string;
}

export interface LocalEventBusOptions<R> {
  /** The rule's pattern: only matching events reach the target. */
  pattern: EventPattern;
  /** The function the rule targets (the drift function's core). */
  target: (event: EventBridgeEvent) => Promise<R>;
  /** Events handled at a time: 1 handles them one by one, in order (the default). */
  concurrency?: number;
  /**
   * Lambda's asynchronous retries of an event whose handler threw (`EventInvokeConfig.MaximumRetryAttempts`, 0-2).
   * @default 2
   */
  retryAttempts?: number;
  /**
   * Lambda's waits before each retry: one minute before the second attempt, two before the third (Lambda
   * developer guide, "Asynchronous invocation").
   * @default [60_000, 120_000]
   */
  retryDelaysMs?: readonly number[];
  /**
   * How long an accepted event may wait for an attempt (`EventInvokeConfig.MaximumEventAgeInSeconds`), in ms.
   * @default 6 hours
   */
  maxEventAgeMs?: number;
  /**
   * Delivery faults: returns the error Lambda's Invoke answers for this event (the function cannot be reached),
   * or undefined when Lambda accepts it. Each refusal is one delivery attempt.
   * @default - Lambda accepts every event
   */
  refuseDelivery?: (event: EventBridgeEvent) => string | undefined;
  /**
   * The rule target's delivery attempts before the event goes to its dead-letter queue (`RetryPolicy`).
   * @default 8
   */
  deliveryAttempts?: number;
  /** The ARN the failure records name. @default a local drift function ARN */
  functionArn?: string;
  /** Pauses between attempts, on the pipeline's (simulated) clock. */
  sleep: (ms: number) => Promise<void>;
  /** The pipeline's clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  log: Log;
}

/**
 * The default event bus with one rule targeting a Lambda function, locally, as AWS runs it: EventBridge invokes
 * Lambda asynchronously. The local cloud's CloudTrail records, wrapped as EventBridge delivers them
 * (`toEventBridgeEvent`), go to the function when they match the pattern.
 * - Delivery: an event Lambda refuses (`refuseDelivery`) is retried, then lands in the target's dead-letter queue
 *   (`deadLetters`); a rule target's retry policy and dead-letter queue cover delivery only (EventBridge user
 *   guide, "Event retry policy and using dead-letter queues").
 * - Invocation: an event Lambda accepted whose handler throws is retried `retryAttempts` times after Lambda's
 *   delays, then goes to the function's on-failure destination (`failures`), as Lambda's asynchronous invocation
 *   does with an `EventInvokeConfig`.
 * Unlike AWS, it delivers in order unless told to deliver several at a time.
 */
export class LocalEventBus<R> {
  private readonly queue: EventBridgeEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: (() => void)[] = [];
  private closed = false;
  /** Every event the function ran on, in the order they ended. */
  readonly deliveries: Delivery<R>[] = [];
  /** The on-failure destination: events whose handler failed on every attempt, as Lambda records them. */
  readonly failures: FailureRecord[] = [];
  /** The rule target's dead-letter queue: events Lambda never accepted. */
  readonly deadLetters: DeadLetter[] = [];

  constructor(private readonly options: LocalEventBusOptions<R>) {}

  /** Hands a CloudTrail record to the bus (the local cloud's audit listener). */
  publish(record: AuditEvent): void {
    if (this.closed) return;
    const event = toEventBridgeEvent(record);
    if (!matchesPattern(this.options.pattern, event)) return;
    this.queue.push(event);
    this.pump();
  }

  /** Resolves once nothing is queued or being delivered (or fails after `timeoutMs` of real time). */
  async idle(timeoutMs = 30_000): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== done);
        reject(
          new Error(
            `the event bus still had ${this.queue.length + this.inFlight.size} event(s) after ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  /** Stops taking events, drops those queued, and waits for those being delivered. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.allSettled([...this.inFlight]);
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  private pump(): void {
    const concurrency = Math.max(1, this.options.concurrency ?? 1);
    while (this.inFlight.size < concurrency && this.queue.length > 0) {
      const event = this.queue.shift()!;
      const delivery = this.deliver(event)
        .then((accepted) => (accepted ? this.invoke(event, accepted) : undefined))
        .finally(() => {
          this.inFlight.delete(delivery);
          this.pump();
          if (this.isIdle()) {
            const waiters = this.waiters;
            this.waiters = [];
            for (const waiter of waiters) waiter();
          }
        });
      this.inFlight.add(delivery);
    }
  }

  /** EventBridge hands the event to Lambda; resolves to when Lambda accepted it, or undefined (dead-lettered). */
  private async deliver(event: EventBridgeEvent): Promise<number | undefined> {
    const attempts = Math.max(1, this.options.deliveryAttempts ?? 8);
    for (let attempt = 1; ; attempt++) {
      const refusal = this.options.refuseDelivery?.(event);
      if (refusal === undefined) return this.now();
      if (attempt >= attempts || this.closed) {
        this.options.log.error('event bus: Lambda did not accept the event (to the dead-letter queue)', {
          eventId: event.id,
          attempts: attempt,
          error: refusal,
        });
        this.deadLetters.push({ event, error: refusal });
        return undefined;
      }
      await this.options.sleep(1000 * 2 ** (attempt - 1));
    }
  }

  /** Lambda runs the accepted event, with its asynchronous retries, then the on-failure destination. */
  private async invoke(event: EventBridgeEvent, acceptedAt: number): Promise<void> {
    const retries = Math.min(2, Math.max(0, this.options.retryAttempts ?? 2));
    const delays = this.options.retryDelaysMs ?? [60_000, 120_000];
    const maxAge = this.options.maxEventAgeMs ?? 6 * 3600_000;
    for (let attempt = 1; ; attempt++) {
      try {
        // Each attempt gets its own copy, as each Lambda invocation gets its own parsed event.
        const result = await this.options.target(structuredClone(event));
        this.deliveries.push({ event, attempts: attempt, result });
        return;
      } catch (error) {
        const errorType = error instanceof Error ? error.name : 'Error';
        const errorMessage = error instanceof Error ? error.message : String(error);
        const delay = delays[Math.min(attempt - 1, delays.length - 1)] ?? 0;
        const tooOld = this.now() + delay - acceptedAt > maxAge;
        if (attempt > retries || tooOld || this.closed) {
          this.options.log.error(
            'event bus: the function failed on every attempt (to its on-failure destination)',
            {
              eventId: event.id,
              eventName: event.detail.eventName,
              attempts: attempt,
              error: `${errorType}: ${errorMessage}`,
            },
          );
          this.deliveries.push({ event, attempts: attempt, error: `${errorType}: ${errorMessage}` });
          this.failures.push(this.failureRecord(event, attempt, errorType, errorMessage, tooOld));
          return;
        }
        this.options.log.warn('event bus: the function failed; Lambda retries it', {
          eventId: event.id,
          attempt,
          error: `${errorType}: ${errorMessage}`,
        });
        await this.options.sleep(delay);
      }
    }
  }

  private failureRecord(
    event: EventBridgeEvent,
    attempts: number,
    errorType: string,
    errorMessage: string,
    tooOld: boolean,
  ): FailureRecord {
    return {
      version: '1.0',
      timestamp: new Date(this.now()).toISOString(),
      requestContext: {
        requestId: event.id,
        functionArn:
          this.options.functionArn ?? 'arn:aws:lambda:us-east-1:000000000000:function:vend-drift:$LATEST',
        condition: tooOld ? 'EventAgeExceeded' : 'RetriesExhausted',
        approximateInvokeCount: attempts,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorType, errorMessage },
    };
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
