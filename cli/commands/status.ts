import type { Parsed } from '../args.ts';
import type { RequestView } from '../contract.ts';
import { UnavailableError } from '../errors.ts';
import { EXIT } from '../io.ts';
import { approvalText, clock, describeRequest, orderedSteps, outcome, took } from '../render.ts';
import { type Context, followHint } from './context.ts';

/** How often `--watch` asks for the request's progress. */
export const WATCH_INTERVAL_MS = 1000;
/** The key under which `events` remembers that it showed the approval's decision. */
const DECISION = '#decision';
/** Polls after the request ended, while its last step is still recorded as running. */
const SETTLE_POLLS = 5;
const TERMINAL = new Set<RequestView['status']>(['succeeded', 'failed', 'denied', 'expired']);
/** The statuses that end a request without its account: the exit code says so (EXIT.requestFailed). */
const UNSUCCESSFUL = new Set<RequestView['status']>(['failed', 'denied', 'expired']);

async function getRequest(context: Context, requestId: string): Promise<RequestView> {
  return context.api.call<RequestView>('GET', `/accounts/requests/${encodeURIComponent(requestId)}`);
}

/**
 * Polls the request about once a second until it succeeds or fails. Not on a terminal: appends a line for
 * each step as it starts, is tried again and ends (in the order things happened). On a terminal: redraws the
 * status in place.
 */
export async function watch(context: Context, requestId: string): Promise<RequestView> {
  const { io, out } = context;
  const seen = new Map<string, { status: string; attempts: number }>();
  let lastStatus: string | undefined;
  let drawn = 0;
  let settlePolls = 0;
  let request = await getRequest(context, requestId);
  for (;;) {
    if (!out.json) {
      if (io.isTTY) {
        const width = Math.max(40, (io.columns ?? 120) - 1);
        const lines = [
          ...describeRequest(request),
          '',
          TERMINAL.has(request.status) ? '' : `watching (every ${WATCH_INTERVAL_MS / 1000} s; Ctrl+C stops)`,
        ].map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line));
        out.raw(`${drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else {
        if (lastStatus === undefined) {
          out.line(
            `Request ${request.requestId}: ${request.accountName} (${request.email}) in ${request.organizationalUnit?.path ?? '?'}; times in UTC`,
          );
        }
        for (const line of events(request, lastStatus, seen)) out.line(line);
      }
      lastStatus = request.status;
    }
    if (TERMINAL.has(request.status)) {
      // The request ends as soon as the account is ready (or failed); the announcement is recorded just
      // after. Wait a few polls for it, so the last step is shown ended; the outcome is already known.
      const settling = request.steps.some((step) => step.status === 'running');
      if (!settling || settlePolls >= SETTLE_POLLS) return request;
      settlePolls++;
    }
    await io.sleep(WATCH_INTERVAL_MS);
    try {
      request = await getRequest(context, requestId);
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      if (TERMINAL.has(request.status)) return request;
      throw new UnavailableError(
        error.message,
        `${error.fix} The request goes on without you: resume with ${followHint(context, requestId)}`,
        error.body,
      );
    }
  }
}

/**
 * The lines for what changed since the last poll, oldest first: the request's status, and each step started,
 * tried again or ended. A retry and a status change are dated by the request's last update (the API keeps no
 * time for them).
 */
function events(
  request: RequestView,
  lastStatus: string | undefined,
  seen: Map<string, { status: string; attempts: number }>,
): string[] {
  const found: { at: string; text: string }[] = [];
  if (request.status !== lastStatus) found.push({ at: request.updatedAt, text: `request ${request.status}` });
  const decision = request.approval?.decision;
  if (decision && !seen.has(DECISION)) {
    found.push({ at: decision.at, text: approvalText(request) ?? decision.outcome });
    seen.set(DECISION, { status: decision.outcome, attempts: 1 });
  }
  for (const step of orderedSteps(request.steps)) {
    const previous = seen.get(step.name);
    if (!previous) {
      found.push({
        at: step.startedAt,
        text: `${step.name} started${step.attempts > 1 && step.status === 'running' ? ` (attempt ${step.attempts})` : ''}`,
      });
    } else if (step.status === 'running' && step.attempts > previous.attempts) {
      found.push({ at: request.updatedAt, text: `${step.name} attempt ${step.attempts}` });
    }
    // A step that ran again (each look at the account creation is one) ends again, with new news.
    if (
      step.status !== 'running' &&
      (previous?.status !== step.status || step.attempts > previous.attempts)
    ) {
      const tries =
        step.name === 'waitForAccount'
          ? ` (look ${step.attempts})`
          : step.attempts > 1
            ? ` after ${step.attempts} attempts`
            : '';
      const duration = took(step);
      found.push({
        at: step.endedAt ?? request.updatedAt,
        text: `${step.name} ${step.status}${duration ? ` in ${duration}` : ''}${tries}${step.detail ? `: ${step.detail}` : ''}`,
      });
    }
    seen.set(step.name, { status: step.status, attempts: step.attempts });
  }
  return found
    .map((event, index) => ({ ...event, index }))
    .sort((a, b) => a.at.localeCompare(b.at) || a.index - b.index)
    .map((event) => `${clock(event.at)}  ${event.text}`);
}

/** Prints a finished or current request and returns the exit code its status means. */
export function finish(context: Context, request: RequestView, watched: boolean): number {
  const { out } = context;
  out.data(request);
  // Watching has shown the steps already, as lines or redrawn.
  if (!watched) for (const line of describeRequest(request)) out.line(line);
  out.line();
  for (const line of outcome(request, followHint(context, request.requestId), context.apiUrlFlag))
    out.line(line);
  return UNSUCCESSFUL.has(request.status) ? EXIT.requestFailed : EXIT.ok;
}

/** `vend status <requestId> [--watch]`. */
export async function statusCommand(context: Context, parsed: Parsed): Promise<number> {
  const requestId = parsed.positionals[0]!;
  if (parsed.values['watch']) {
    const request = await watch(context, requestId);
    return finish(context, request, true);
  }
  return finish(context, await getRequest(context, requestId), false);
}
