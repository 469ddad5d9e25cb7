import {
  type AccountDesiredState,
  DRIFT_ASPECTS,
  type DriftRecord,
  type SweepFinding,
} from '../shared/model.ts';
import { code, escapeSlack, mrkdwn, type SlackBlock, type SlackMessage } from '../shared/slack.ts';

/**
 * Slack messages for drift: one per drift event Vend acted on, and one per sweep that found something. Everything
 * that someone outside Vend could have written (tag keys and values, ARNs, account names) goes through
 * `escapeSlack`, so a tag value such as `<!channel>` shows as text. Why a fix failed is not told: the recorded
 * reason is the error AWS gave, which stays in the logs and the registry; the message says where to look.
 */

const PROSE_MAX = 1200;

/** What the channel is told when a fix failed, in Vend's words. */
export const FIX_FAILED =
  "an AWS call failed; the platform team finds the error in the drift function's log under this event id";

const HEADERS: Record<DriftRecord['outcome'], string> = {
  fixed: ':wrench: Drift fixed',
  reported: ':warning: Drift found',
  failed: ':x: Drift not fixed',
  'in-sync': ':white_check_mark: Drift already resolved',
  held: ':octagonal_sign: Drift on an account on hold',
  quarantined: ':rotating_light: Drift on a quarantined account',
};

/** "Someone changed a policy Vend keeps": what, who, when, and what Vend did about it (UpdatePolicy). */
export function policyDriftMessage(drift: {
  eventId: string;
  what: string;
  by: string | undefined;
  at: string;
  outcome: DriftRecord['outcome'];
  action?: string;
}): SlackMessage {
  const who = drift.by ? code(drift.by) : 'someone';
  const opening = `A guardrail was changed by hand: ${escapeSlack(drift.what, PROSE_MAX)}, by ${who} at ${escapeSlack(drift.at, 40)}.`;
  const action = escapeSlack(drift.action ?? '', PROSE_MAX);
  const outcome =
    drift.outcome === 'fixed'
      ? `*Vend put it back*: ${action}.`
      : drift.outcome === 'failed'
        ? `*Vend could not put it back*: ${FIX_FAILED}.`
        : `*Reported only*: Vend is in report mode (drift.mode), so nothing was changed. To put it back: ${action}.`;
  return {
    text: `${escapeSlack(drift.what, PROSE_MAX)}.${drift.outcome === 'fixed' ? ' Vend put it back.' : ''}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: HEADERS[drift.outcome], emoji: true } },
      { type: 'section', text: mrkdwn(opening) },
      { type: 'section', text: mrkdwn(outcome) },
      { type: 'context', elements: [mrkdwn(`Event ${code(drift.eventId, 100)} (UpdatePolicy)`)] },
    ],
    unfurl_links: false,
    unfurl_media: false,
  };
}

/** "Someone changed a vended account by hand": what, who, when, and what Vend did about it. */
export function driftEventMessage(record: DriftRecord, account: AccountDesiredState): SlackMessage {
  const membership = record.aspects.includes('membership');
  const header = membership ? ':no_entry: Vended account left the organization' : HEADERS[record.outcome];
  const who = record.by ? code(record.by) : 'someone';
  const opening =
    `The account *${escapeSlack(account.accountName)}* (${code(account.accountId, 20)}) was changed by hand: ` +
    `${escapeSlack(record.what, PROSE_MAX)}, by ${who} at ${escapeSlack(record.at, 40)}.`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: mrkdwn(opening) },
  ];
  const action = escapeSlack(record.action ?? '', PROSE_MAX);
  let outcome: string;
  if (record.outcome === 'fixed') outcome = `*Vend put it back*: ${action}.`;
  else if (record.outcome === 'failed')
    outcome = `*Vend could not put it back*: ${FIX_FAILED}${action ? ` (done so far: ${action})` : ''}.`;
  else if (record.outcome === 'held')
    outcome = `*Reported only*: the account is on hold, so Vend puts nothing back until it is released. Once it is, the next drift sweep will: ${action}.`;
  else if (record.outcome === 'quarantined')
    outcome = `*Reported only*: the account is in a quarantine OU, so Vend leaves it as it is until it is moved out. Then Vend will: ${action}.`;
  else if (membership)
    outcome = `*Reported only*: ${action}. Vend does not reopen accounts or bring them back into the organization.`;
  else
    outcome = `*Reported only*: Vend is in report mode (drift.mode), so nothing was changed. To put it back: ${action}.`;
  blocks.push({ type: 'section', text: mrkdwn(outcome) });
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(
        `Event ${code(record.id, 100)}${record.eventName ? ` (${escapeSlack(record.eventName, 60)})` : ''} · ` +
          `OU ${code(account.organizationalUnit.path)} · owner ${escapeSlack(account.owner)}`,
      ),
    ],
  });
  const text =
    `${header.replace(/^:[a-z_]+: /, '')}: account ${escapeSlack(account.accountName)} (${escapeSlack(account.accountId, 20)}): ` +
    `${escapeSlack(record.what, PROSE_MAX)} by ${escapeSlack(record.by ?? 'someone')}. ` +
    (record.outcome === 'failed'
      ? `Not fixed: ${FIX_FAILED}.`
      : record.outcome === 'fixed'
        ? `Put back: ${action}`
        : `Reported only: ${action}`);
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

export type { SweepFinding } from '../shared/model.ts';

/** The aspect a sweep failure names (`tags: ...`), or that the account as a whole could not be checked. */
function failedPart(failure: string): string {
  const aspect = DRIFT_ASPECTS.find((name) => failure.startsWith(`${name}: `));
  return aspect ? `could not check or fix ${aspect}` : 'could not check the account';
}

/** "The sweep found drift": how many accounts it checked, and per account what it changed, would change, or could not check. */
export function sweepMessage(summary: {
  mode: 'fix' | 'report';
  checked: number;
  findings: SweepFinding[];
  /** Findings the run counted without keeping them (a very large run), by outcome. */
  omitted?: Record<SweepFinding['outcome'], number>;
}): SlackMessage {
  const { findings } = summary;
  const omitted = summary.omitted ?? { fixed: 0, reported: 0, failed: 0 };
  const count = (outcome: SweepFinding['outcome']) =>
    findings.filter((f) => f.outcome === outcome).length + omitted[outcome];
  const more = findings.length - 20 + omitted.fixed + omitted.reported + omitted.failed;
  const totals =
    `Checked ${summary.checked} vended account(s): ${count('fixed')} put back, ${count('reported')} drifted ` +
    `and left as they are${summary.mode === 'report' ? ' (report mode)' : ''}, ${count('failed')} not fully checked or fixed.`;
  const lines = findings.slice(0, 20).map((finding) => {
    const parts = [
      ...finding.changes.map((change) => escapeSlack(change, 200)),
      ...finding.failures.map(failedPart),
    ];
    return `• *${escapeSlack(finding.accountName)}* (${code(finding.accountId, 20)}), ${finding.outcome}: ${parts.join('; ')}`;
  });
  if (more > 0) lines.push(`…and ${more} more: see each account's drift history.`);
  let body = '';
  for (const line of lines) {
    if (body.length + line.length > 2900) {
      body += '\n…see each account’s drift history for the rest.';
      break;
    }
    body += `${body ? '\n' : ''}${line}`;
  }
  return {
    text: `Drift sweep: ${totals}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: ':mag: Drift sweep', emoji: true } },
      { type: 'section', text: mrkdwn(totals) },
      ...(body ? [{ type: 'section' as const, text: mrkdwn(body) }] : []),
    ],
    unfurl_links: false,
    unfurl_media: false,
  };
}
