import type { Deps } from '../shared/deps.ts';
import { METRIC } from '../shared/metrics-names.ts';
import { deliverMessage, UNDELIVERED_REPORT_MS } from '../shared/slack.ts';
import { errorText } from '../shared/text.ts';
import type { OutboxMessage } from '../store/outbox.ts';

/** What one run did. */
export interface DeliverMessagesOutput {
  /** Messages due (pending, or claimed by an attempt whose lease ran out). */
  due: number;
  delivered: number;
  /** Still not delivered: tried again later. */
  pending: number;
  refused: number;
  /** Messages reported by this run as undelivered for `UNDELIVERED_REPORT_MS` (metric SlackUndelivered). */
  reportedUndelivered: number;
}

/** How many messages one run takes at most. */
export const DELIVER_BATCH = 50;
/** A run starts no message after this long, so it ends well within the function's timeout. */
export const DELIVER_RUN_MS = 2 * 60_000;

/**
 * The scheduled deliverer (every minute on AWS; the local pipeline runs it on its clock): tries again every outbox
 * message whose next attempt is due, oldest first, one at a time (`deliverMessage`: claimed, posted, marked), and
 * records a delivery in the request or the drift history it belongs to. A message still undelivered an hour after
 * it was written is reported once with the metric SlackUndelivered (the stack alarms on it) and kept trying.
 */
export async function deliverMessages(deps: Deps, _input?: unknown): Promise<DeliverMessagesOutput> {
  const started = deps.now();
  const due = await deps.outbox.due(started, DELIVER_BATCH);
  const output: DeliverMessagesOutput = {
    due: due.length,
    delivered: 0,
    pending: 0,
    refused: 0,
    reportedUndelivered: 0,
  };
  for (const message of due) {
    if (deps.now() - started > DELIVER_RUN_MS) {
      output.pending++;
      continue;
    }
    const outcome = await deliverMessage(deps, message.id);
    if (outcome === 'delivered') {
      output.delivered++;
      await recordDelivered(deps, message);
    } else if (outcome === 'refused') {
      output.refused++;
    } else {
      output.pending++;
      if (await reportIfLate(deps, message)) output.reportedUndelivered++;
    }
  }
  if (due.length > 0) deps.log.info('outbox delivery ran', { ...output });
  return output;
}

/** Reports a message undelivered for `UNDELIVERED_REPORT_MS`, once (a conditional write marks it reported). */
async function reportIfLate(deps: Deps, message: OutboxMessage): Promise<boolean> {
  const now = deps.now();
  if (message.reportedUndeliveredAt !== undefined || now - message.createdAt < UNDELIVERED_REPORT_MS)
    return false;
  if (!(await deps.outbox.markReportedUndelivered(message.id, now))) return false;
  deps.metrics.count(METRIC.slackUndelivered);
  const current = await deps.outbox.get(message.id);
  deps.log.error('a Slack message has not been delivered for an hour: it is still retried', {
    outboxId: message.id,
    kind: message.kind,
    ...message.context,
    attempts: current?.attempts,
    lastError: current?.lastError,
  });
  return true;
}

/**
 * Records a late delivery where the message's outcome is shown: the request's notification (ready, failure, denied
 * or expired), the drift history.
 */
async function recordDelivered(deps: Deps, message: OutboxMessage): Promise<void> {
  const at = new Date(deps.now()).toISOString();
  try {
    const { requestId, records } = message.context;
    if ((message.kind === 'ready' || message.kind === 'failure') && typeof requestId === 'string') {
      const kind = message.kind === 'ready' ? 'success' : 'failure';
      await deps.requests.update(requestId, { notification: { kind, status: 'sent', at } });
    }
    // A denial or an expiry is the request's last message; an approval is followed by the ready or failure one.
    if (
      message.kind === 'decision' &&
      message.context.outcome !== 'approved' &&
      typeof requestId === 'string'
    ) {
      await deps.requests.update(requestId, { notification: { kind: 'decision', status: 'sent', at } });
    }
    if ((message.kind === 'drift' || message.kind === 'sweep') && Array.isArray(records)) {
      for (const entry of records as { accountId?: unknown; recordId?: unknown }[]) {
        if (typeof entry.accountId !== 'string' || typeof entry.recordId !== 'string') continue;
        await deps.drift.record(entry.accountId, {
          patch: { id: entry.recordId, fields: { announcement: 'sent' } },
        });
      }
    }
  } catch (error) {
    // Slack has the message: only the record of it is behind, which the logs show.
    deps.log.warn('delivered, but the delivery could not be recorded', {
      outboxId: message.id,
      error: errorText(error),
    });
  }
}
