import type { Log } from '../functions/shared/deps.ts';
import { type EventPattern, matchesPattern } from '../functions/shared/event-pattern.ts';
import { errorText } from '../functions/shared/text.ts';
import { type AuditEvent, toEventBridgeEvent } from './cloud/index.ts';

type EventBridgeEvent = ReturnType<typeof toEventBridgeEvent>;

/** One event the bus delivered: what the target answered, or the error of its last attempt. */
export interface Delivery<R> {
  event: EventBridgeEvent;
  attempts: number;
  result?: R;
  error?: string;
}

export interface LocalEventBusOptions<R> {
  /** The rule's pattern: only matching events reach the target. */
  pattern: EventPattern;
  /** The rule's target (the drift function's core). */
  target: (event: EventBridgeEvent) => Promise<R>;
  /** Events handled at a time: 1 handles them one by one, in order (the default). */
  concurrency?: number;
  /** Attempts per event, as the rule's retry policy: a failing attempt is retried after a doubling pause. */
  maxAttempts?: number;
  /** Pauses between attempts (the pipeline's simulated clock). */
  sleep: (ms: number) => Promise<void>;
  log: Log;
}

/**
 * The default event bus with one rule, locally: the local cloud's CloudTrail records, wrapped as EventBridge
 * delivers them (`toEventBridgeEvent`), go to the target when they match the pattern. Like EventBridge it retries
 * an event whose delivery failed (with growing pauses), then gives up (where AWS would dead-letter it), logging
 * the error; unlike it, it delivers in order unless told to deliver several at a time.
 */
export class LocalEventBus<R> {
  private readonly queue: EventBridgeEvent[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private waiters: (() => void)[] = [];
  private closed = false;
  /** Every delivery so far, in the order they ended. */
  readonly deliveries: Delivery<R>[] = [];

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
      const delivery = this.deliver(event).finally(() => {
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

  private async deliver(event: EventBridgeEvent): Promise<void> {
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 4);
    for (let attempt = 1; ; attempt++) {
      try {
        // Each delivery gets its own copy, as each Lambda invocation gets its own parsed event.
        const result = await this.options.target(structuredClone(event));
        this.deliveries.push({ event, attempts: attempt, result });
        return;
      } catch (error) {
        const text = errorText(error);
        if (attempt >= maxAttempts || this.closed) {
          this.options.log.error(
            'event bus: the target failed on every attempt (on AWS: to the dead-letter queue)',
            {
              eventId: event.id,
              eventName: event.detail.eventName,
              attempts: attempt,
              error: text,
            },
          );
          this.deliveries.push({ event, attempts: attempt, error: text });
          return;
        }
        this.options.log.warn('event bus: the target failed; retrying', {
          eventId: event.id,
          attempt,
          error: text,
        });
        await this.options.sleep(1000 * 2 ** (attempt - 1));
      }
    }
  }
}
