import { describe, expect, it } from 'vitest';
import { DRIFT_EVENT_PATTERN } from '../../functions/shared/drift-pattern.ts';
import type { AuditEvent } from '../../local/cloud/index.ts';
import { LocalEventBus, type LocalEventBusOptions } from '../../local/event-bus.ts';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

function moveAccount(eventID: string): AuditEvent {
  return {
    sequence: 1,
    eventVersion: '1.08',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::000000000000:user/alice' },
    eventTime: '2026-01-01T00:00:00Z',
    eventSource: 'organizations.amazonaws.com',
    eventName: 'MoveAccount',
    awsRegion: 'us-east-1',
    sourceIPAddress: '127.0.0.1',
    userAgent: 'test',
    requestParameters: { accountId: '123456789012', destinationParentId: 'ou-ab12-11111111' },
    responseElements: null,
    requestID: `request-${eventID}`,
    eventID,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '000000000000',
  };
}

/** A bus on a simulated clock: each pause advances it at once and is recorded. */
function busWith(
  target: LocalEventBusOptions<string>['target'],
  options: Partial<LocalEventBusOptions<string>> = {},
) {
  let now = Date.UTC(2026, 0, 1);
  const pauses: number[] = [];
  const bus = new LocalEventBus<string>({
    pattern: DRIFT_EVENT_PATTERN,
    target,
    sleep: async (ms) => {
      pauses.push(ms);
      now += ms;
    },
    now: () => now,
    log: quiet,
    ...options,
  });
  return { bus, pauses };
}

describe('the local event bus (EventBridge invoking Lambda asynchronously)', () => {
  it("gives a handler that throws Lambda's two retries, a minute then two apart, then sends it to the on-failure destination", async () => {
    // Prepare
    let calls = 0;
    const { bus, pauses } = busWith(async () => {
      calls++;
      throw Object.assign(new Error('registry unavailable'), { name: 'RegistryUnavailableError' });
    });

    // Act
    bus.publish(moveAccount('e-1'));
    await bus.idle();

    // Assess
    expect(calls).toBe(3);
    expect(pauses).toEqual([60_000, 120_000]);
    expect(bus.deadLetters).toEqual([]);
    expect(bus.failures).toHaveLength(1);
    expect(bus.failures[0]).toMatchObject({
      version: '1.0',
      requestContext: { requestId: 'e-1', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
      requestPayload: { id: 'e-1', detail: { eventName: 'MoveAccount' } },
      responseContext: { functionError: 'Unhandled' },
      responsePayload: { errorType: 'RegistryUnavailableError', errorMessage: 'registry unavailable' },
    });
    expect(bus.deliveries).toMatchObject([
      { attempts: 3, error: 'RegistryUnavailableError: registry unavailable' },
    ]);
  });

  it('acts on an event whose handler succeeds on a retry, and sends nothing to the destination', async () => {
    // Prepare
    let calls = 0;
    const { bus } = busWith(async () => {
      calls++;
      if (calls < 3) throw new Error('throttled');
      return 'fixed';
    });

    // Act
    bus.publish(moveAccount('e-2'));
    await bus.idle();

    // Assess
    expect(bus.deliveries).toMatchObject([{ attempts: 3, result: 'fixed' }]);
    expect(bus.failures).toEqual([]);
  });

  it('retries as many times as the EventInvokeConfig says', async () => {
    // Prepare
    let calls = 0;
    const { bus } = busWith(
      async () => {
        calls++;
        throw new Error('no');
      },
      { retryAttempts: 0 },
    );

    // Act
    bus.publish(moveAccount('e-3'));
    await bus.idle();

    // Assess
    expect(calls).toBe(1);
    expect(bus.failures[0]!.requestContext).toMatchObject({ approximateInvokeCount: 1 });
  });

  it('gives up on an event older than the maximum event age, with that condition', async () => {
    // Prepare
    const { bus } = busWith(
      async () => {
        throw new Error('no');
      },
      { maxEventAgeMs: 90_000 },
    );

    // Act
    bus.publish(moveAccount('e-4'));
    await bus.idle();

    // Assess: the second retry would start 180 s after Lambda took the event.
    expect(bus.failures[0]!.requestContext).toMatchObject({
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 2,
    });
  });

  it('puts only an event Lambda never accepted in the target’s dead-letter queue, without running the handler', async () => {
    // Prepare
    let calls = 0;
    const { bus } = busWith(
      async () => {
        calls++;
        return 'ran';
      },
      { refuseDelivery: () => 'TooManyRequestsException', deliveryAttempts: 3 },
    );

    // Act
    bus.publish(moveAccount('e-5'));
    await bus.idle();

    // Assess
    expect(calls).toBe(0);
    expect(bus.deadLetters).toMatchObject([{ event: { id: 'e-5' }, error: 'TooManyRequestsException' }]);
    expect(bus.failures).toEqual([]);
  });
});
