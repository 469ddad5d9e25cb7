/**
 * The Slack messages of approval: the request for a decision to the approvers (with Approve and Deny buttons), and
 * its outcome to the requester. Values anyone outside Vend typed go through `escapeSlack`, as in every message
 * (see slack.ts); the only mentions are of validated Slack member ids from the configuration or the request.
 */
import type { ApprovalDecision, RequestRecord } from './model.ts';
import {
  addressRequester,
  code,
  escapeSlack,
  fields,
  formatTags,
  formatThresholds,
  mrkdwn,
  PROSE_MAX,
  type SlackBlock,
  type SlackMessage,
  section,
} from './slack.ts';

/** The `action_id`s of the approval message's buttons; their `value` is the request id. */
export const APPROVE_ACTION = 'vend.approve';
export const DENY_ACTION = 'vend.deny';
/** The `block_id` of the buttons' block. */
export const APPROVAL_BLOCK = 'vend.approval';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/** An `access` entry that may decide, with the Slack members behind it. */
export interface ApproverEntry {
  name: string;
  slackUserIds: string[];
}

/** `2026-11-29T03:14:44.873Z` -> `2026-11-29 03:14 UTC`. */
export function utc(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** `7 days`, `1 day`, `5 hours`, `1 hour`: a whole number of hours in words. */
export function hoursInWords(hours: number): string {
  const whole = Math.max(1, Math.round(hours));
  if (whole % 24 === 0) return whole === 24 ? '1 day' : `${whole / 24} days`;
  return whole === 1 ? '1 hour' : `${whole} hours`;
}

/** The decider as the requester sees them: a mention for a Slack member, else the principal's ARN as code. */
function deciderText(decision: ApprovalDecision): string {
  const member = decision.by?.startsWith('slack:') ? decision.by.slice('slack:'.length) : undefined;
  if (member && SLACK_USER_ID.test(member)) return `<@${member}>`;
  return code(decision.by ?? 'an approver');
}

/** The requester, for the approvers: the principal, and a mention when the request names a Slack member. */
function requesterText(record: RequestRecord): string {
  const { requester } = record.request;
  const who = addressRequester(requester);
  const principal = code(requester.principal || 'unknown requester');
  return who.mention ? `${principal} (${who.text})` : principal;
}

function approverMentions(approvers: ApproverEntry[]): { mentions: string[]; text: string } {
  const mentions = [
    ...new Set(approvers.flatMap((entry) => entry.slackUserIds).filter((id) => SLACK_USER_ID.test(id))),
  ].map((id) => `<@${id}>`);
  const names = approvers.map((entry) => code(entry.name, 64)).join(', ');
  return { mentions, text: mentions.length > 0 ? `${mentions.join(' ')} (${names})` : names };
}

/**
 * "Approval needed", to the approvers: who asks for what (account, OU, owner, root email, budget, tags), who may
 * decide and until when, with Approve and Deny buttons (`value`: the request id) and the CLI's commands.
 */
export function approvalRequestMessage(
  record: RequestRecord,
  approvers: ApproverEntry[],
  channel?: string,
): SlackMessage {
  const { request, approval } = record;
  const name = escapeSlack(request.accountName || request.name);
  const ou = code(request.organizationalUnit?.path);
  const who = requesterText(record);
  const deciders = approverMentions(approvers);
  const until = approval ? utc(approval.expiresAt) : 'its expiry';
  const hours = approval
    ? (Date.parse(approval.expiresAt) - Date.parse(approval.requestedAt)) / 3_600_000
    : 0;
  const within = Number.isFinite(hours) && hours > 0 ? ` (${hoursInWords(hours)})` : '';
  const thresholds = formatThresholds(request.budget?.thresholds ?? []);
  const requestId = escapeSlack(request.requestId, 100);
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: ':raised_hand: Approval needed', emoji: true } },
    section([
      `${who} asks for the AWS account *${name}* in ${ou}. Nothing is created until someone decides.`,
    ]),
    fields([
      ['Account name', code(request.accountName)],
      ['Organizational unit', ou],
      ['Owner', escapeSlack(request.owner)],
      ['Root email', escapeSlack(request.email)],
      [
        'Budget',
        request.budget
          ? `${escapeSlack(request.budget.monthlyLimitUsd, 20)} USD a month${thresholds ? `; alerts at ${thresholds}` : ''}`
          : '',
      ],
      ['Tags', formatTags(request.tags)],
    ]),
    section([
      `*Who decides*: ${deciders.text}, never the requester.`,
      `*Until*: ${until}${within}. Undecided by then, the request expires and its name and email are freed.`,
    ]),
    {
      type: 'actions',
      block_id: APPROVAL_BLOCK,
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          text: { type: 'plain_text', text: 'Approve' },
          style: 'primary',
          value: request.requestId,
        },
        {
          type: 'button',
          action_id: DENY_ACTION,
          text: { type: 'plain_text', text: 'Deny' },
          style: 'danger',
          value: request.requestId,
        },
      ],
    },
    {
      type: 'context',
      elements: [
        mrkdwn(
          `Request ${code(request.requestId, 100)} · from a terminal: ${code(`vend approve ${request.requestId}`, 140)} or ${code(`vend deny ${request.requestId} --reason "…"`, 160)}`,
        ),
      ],
    },
  ];
  const text =
    `${deciders.mentions.length > 0 ? `${deciders.mentions.join(' ')} ` : ''}Approval needed: ${who} asks for ` +
    `AWS account ${name} in ${escapeSlack(request.organizationalUnit?.path)} (request ${requestId}), until ${until}.`;
  return { text, blocks, unfurl_links: false, unfurl_media: false, ...(channel ? { channel } : {}) };
}

/**
 * The decision, to the requester: approved (being vended now), denied (by whom and why, what to do) or expired
 * (what to do). The record carries `approval.decision`.
 */
export function decisionMessage(record: RequestRecord, channel?: string): SlackMessage {
  const { request, approval } = record;
  const decision: ApprovalDecision = approval?.decision ?? { outcome: 'expired', via: 'expiry', at: '' };
  const who = addressRequester(request.requester);
  const name = escapeSlack(request.accountName || request.name);
  const ou = code(request.organizationalUnit?.path);
  const yours = who.mention
    ? `${who.text}, your request for the AWS account *${name}* in ${ou}`
    : `The request by ${who.text} for the AWS account *${name}* in ${ou}`;
  const reason = decision.reason ? escapeSlack(decision.reason, PROSE_MAX) : undefined;
  const decider = deciderText(decision);
  let header: string;
  let lines: string[];
  let summary: string;
  switch (decision.outcome) {
    case 'approved':
      header = ':white_check_mark: AWS account request approved';
      lines = [
        `${yours} was approved by ${decider}. It is being vended now: you will hear when it is ready.`,
        ...(reason ? [`*Note*: ${reason}`] : []),
      ];
      summary = `was approved by ${decider}; it is being vended now`;
      break;
    case 'denied':
      header = ':no_entry: AWS account request denied';
      lines = [
        `${yours} was denied by ${decider}. Nothing was created.`,
        `*Why*: ${reason ?? 'no reason was given'}`,
        `*What to do*: talk to ${decider} if it is unclear. The name and email are free again, so you can ask again with a changed request.`,
      ];
      summary = `was denied by ${decider}: ${reason ?? 'no reason was given'}`;
      break;
    default: {
      const until = approval ? utc(approval.expiresAt) : 'its expiry';
      header = ':hourglass: AWS account request expired';
      lines = [
        `${yours} expired: nobody decided by ${until}. Nothing was created.`,
        '*What to do*: ask again if you still need the account (its name and email are free again), and let an approver know.',
      ];
      summary = `expired: nobody decided by ${until}`;
    }
  }
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    section(lines),
    { type: 'context', elements: [mrkdwn(`Request ${code(request.requestId, 100)}`)] },
  ];
  const text =
    `${who.mention ? `${who.text} ` : ''}Your request for AWS account ${name} ${summary} ` +
    `(request ${escapeSlack(request.requestId, 100)})`;
  return { text, blocks, unfurl_links: false, unfurl_media: false, ...(channel ? { channel } : {}) };
}
