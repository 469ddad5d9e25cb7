/**
 * Telling the requester: Block Kit messages for "your account is ready" and "your request failed", and their
 * delivery to a Slack incoming webhook through the registry's outbox (sent once, retried until delivered).
 *
 * Every value that a requester (or anyone else outside Vend) could have typed goes through `escapeSlack` before it
 * goes into a message: it can then neither ping, link, format, nor hide or reorder text. Only Vend's own text holds
 * links (`link`) and the one mention Vend makes, of the requester by a validated Slack member id. Reasons and advice
 * are Vend's own words: raw AWS error text stays in the logs and the registry's internal fields.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxKind } from '../store/outbox.ts';
import type { Deps } from './deps.ts';
import { SlackRejectedError, SlackUnavailableError } from './errors.ts';
import { METRIC } from './metrics-names.ts';
import type { RequestRecord, StepName, VendRequest } from './model.ts';
import { backoffDelayMs } from './retry.ts';
import { errorText } from './text.ts';

export type SlackText =
  | { type: 'mrkdwn'; text: string; verbatim?: boolean }
  | { type: 'plain_text'; text: string; emoji?: boolean };

export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji?: boolean } }
  | { type: 'section'; text?: SlackText; fields?: SlackText[] }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' }
  | { type: 'actions'; block_id?: string; elements: SlackButton[] };

/**
 * A Block Kit button (Block Kit reference, "Button element"): pressing it sends `action_id` and `value` to the
 * app's interactivity URL. `text` at most 75 characters, `value` at most 2000, `action_id` at most 255.
 */
export interface SlackButton {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string; emoji?: boolean };
  value: string;
  style?: 'primary' | 'danger';
}

/** An incoming-webhook payload: blocks for the message, `text` for notifications and clients without blocks. */
export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
  /**
   * The channel to post in, such as `#vend-prod` (a profile's `slackChannel`). Only webhooks allowed to post to
   * other channels than their own honour it (legacy incoming webhooks of a custom integration); a Slack app's
   * incoming webhook posts to the channel it was installed for and ignores it (Slack API docs, "Sending messages
   * using incoming webhooks").
   */
  channel?: string;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
}

// Slack's limits on Block Kit (beyond them the webhook answers 400 invalid_blocks).
const SECTION_TEXT_MAX = 3000;
const FIELD_TEXT_MAX = 2000;
const MAX_FIELDS = 10;
/** Most characters of one user-supplied value that a message shows. */
const VALUE_MAX = 300;
/** Most characters of a reason or advice. */
export const PROSE_MAX = 1200;

/**
 * Characters removed from every value: C0 and C1 controls and DEL, the line and paragraph separators (all become
 * one space, so that a value cannot start a line, a quote or a fake line of the message), and the bidi controls and
 * zero-width characters (removed: they could reorder or hide what a reader sees, as in "Trojan Source").
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
const LINE_BREAKING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
const INVISIBLE = /[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
/** A surrogate without its pair (from the input, or from clipping one in half): not text Slack can take. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Slack's mrkdwn has no escape for its formatting characters (only `&`, `<` and `>` have entities: "Formatting
 * text for app surfaces", "Escaping text"; other entities such as `&#42;` are shown as typed). So in a value each
 * formatting character becomes its fullwidth form, which Slack does not parse and which a reader still sees as
 * that character, a little wider: `*` `_` `~` and the backtick (bold, italic, strike, code), and a `>` that would
 * begin the value (a quote when the value starts a line, as a field's value does). No zero-width character is used.
 */
const FORMATTING: Record<string, string> = { '*': '\uff0a', _: '\uff3f', '~': '\uff5e', '`': '\uff40' };

/**
 * Makes any text safe to put in a Slack `mrkdwn` text (and in a message's `text`), for a value that someone outside
 * Vend could have typed: removes invisible and control characters (a lone surrogate becomes U+FFFD), clips it to `max` characters (before escaping,
 * so that an entity is never cut in half), escapes `&`, `<` and `>` as Slack documents (so `<!channel>`, `<@U1>`
 * or `<https://evil|click>` shows as text), neutralizes the formatting characters (see FORMATTING), defuses bare
 * `@channel`, `@here` and `@everyone` (the `@` becomes a fullwidth `＠`, which Slack does not read as a mention),
 * and defangs what Slack would turn into a link: `scheme://` becomes `scheme[:]//`, and a dot between a name and a
 * letter (and any `www.`) becomes `[.]` (Slack links bare host names and email addresses), the usual defanging
 * convention.
 */
export function escapeSlack(value: unknown, max = VALUE_MAX): string {
  let text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  text = text.replace(INVISIBLE, '').replace(LINE_BREAKING, ' ');
  if (text.length > max) text = `${text.slice(0, Math.max(0, max - 1))}…`;
  return text
    .replace(LONE_SURROGATE, '\ufffd')
    .replace(/^(\s*)>/, '$1\uff1e')
    .replace(/[*_~`]/g, (char) => FORMATTING[char]!)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(?=channel|here|everyone)/gi, '\uff20')
    .replace(/:\/\//g, '[:]//')
    .replace(/([\p{L}\p{N}])\.(?=\p{L})/gu, '$1[.]')
    .replace(/(www)\.(?!\[)/gi, '$1[.]');
}

/** Inline code, for ids and names: escaped (a backtick in the value cannot end the span early). */
export function code(value: unknown, max = VALUE_MAX): string {
  const text = escapeSlack(value, max);
  return text ? `\`${text}\`` : '';
}

/**
 * A link Vend built (never one from a value someone typed): the URL escaped as Slack documents, with a label.
 * Messages set `verbatim` on their text, so Slack links only what is written this way.
 */
export function link(url: string, label: string): string {
  return `<${url.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '%7C')}|${label}>`;
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

/**
 * Who to address: a mention of the requester's Slack user when the request carries a valid Slack user id
 * (anything else is not trusted to be one), or else the requester's principal, escaped.
 */
export function addressRequester(requester: VendRequest['requester'] | undefined): {
  mention: boolean;
  text: string;
} {
  const id = requester?.slackUserId?.trim();
  if (id && SLACK_USER_ID.test(id)) return { mention: true, text: `<@${id}>` };
  return { mention: false, text: code(requester?.principal || 'unknown requester') };
}

const STEP_DESCRIPTIONS: Record<StepName, string> = {
  createAccount: 'asking AWS to create the account',
  waitForAccount: 'waiting for AWS to create the account',
  moveAccount: 'moving the account into its organizational unit',
  applyBaseline: 'applying the baseline (IAM roles, password policy, account alias)',
  applyBudget: 'setting up the budget',
  connectDns: 'connecting the account to the private DNS',
  grantAccess: 'giving access through IAM Identity Center',
  notify: 'announcing the account',
};

/** A step of the workflow in words, for the requester. */
export function describeStep(step: string): string {
  return Object.hasOwn(STEP_DESCRIPTIONS, step) ? STEP_DESCRIPTIONS[step as StepName] : `the step ${step}`;
}

/** The console's switch-role link for a role in an account. */
export function switchRoleUrl(roleName: string, accountId: string): string {
  return `https://signin.aws.amazon.com/switchrole?roleName=${encodeURIComponent(roleName)}&account=${encodeURIComponent(accountId)}`;
}

/** How someone gets into the account through one baseline role. */
export interface RoleAccess {
  name: string;
  arn?: string;
  /** The account whose principals may assume the role: one signs in there first. */
  trustedAccountId?: string;
  requireMfa?: boolean;
  /** The role wants an external id: the console cannot pass one, so it is for tools. */
  externalIdRequired?: boolean;
}

/** What was set up, for the "ready" message. */
export interface SuccessDetails {
  request: VendRequest;
  accountId: string;
  roles: RoleAccess[];
  alias?: string;
  passwordPolicy?: boolean;
  baselineVersion?: string;
  budget?: {
    name?: string;
    monthlyLimitUsd: number;
    thresholds: { percent: number; type: 'ACTUAL' | 'FORECASTED' }[];
    /** Who hears of alerts besides the owner. */
    subscribers?: string[];
  };
  dns?: { hostedZoneId: string; vpcId: string; region: string };
  /** Why there is no DNS association, when there is none. */
  dnsNote?: string;
  /** The service control policies attached to the account (besides FullAWSAccess). */
  guardrails?: string[];
  /** The account security defaults in place, in words ("EBS encryption by default in us-east-1, us-west-2"). */
  securityDefaults?: string[];
  /** IAM Identity Center access, when the account's profile assigns any. */
  identityCenter?: IdentityCenterAccess;
}

/** The Identity Center part of the ready message: where to sign in, what was assigned, and who could not be. */
export interface IdentityCenterAccess {
  portalUrl: string;
  permissionSets: string[];
  /** In words per permission set: "VendDeveloper for group developers". */
  granted: { permissionSet: string; principal: string }[];
  unassigned: { role: 'owner' | 'requester'; who: string; permissionSet: string; reason: string }[];
}

/** What went wrong, for the "failed" message. */
export interface FailureDetails {
  request: VendRequest;
  step: string;
  reason: string;
  advice: string;
  /** The account, when one was created before the failure. */
  accountId?: string;
  /** `vend-quarantine` stays attached to the account. */
  quarantined?: boolean;
}

/**
 * A mrkdwn text object with `verbatim`: Slack then neither turns URLs into links nor parses names and mentions on
 * its own (Block Kit reference, text object, `verbatim`); only the `<...>` sequences Vend writes are links.
 */
export const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text, verbatim: true });

/** Joins parts while the result stays within `max` characters (never cutting a part, so never an entity). */
function joinWithin(parts: string[], max: number, separator: string): string {
  let joined = '';
  for (const [i, part] of parts.entries()) {
    const next = joined ? `${joined}${separator}${part}` : part;
    const rest = parts.length - i;
    if (next.length > max - 20) return `${joined}${separator}…and ${rest} more`;
    joined = next;
  }
  return joined;
}

/** A section of lines, cut at a line boundary to fit Slack's limit. */
export function section(lines: string[]): SlackBlock {
  return { type: 'section', text: mrkdwn(joinWithin(lines, SECTION_TEXT_MAX, '\n')) };
}

/** A two-column section of labelled values; empty values are left out. */
export function fields(pairs: [label: string, value: string][]): SlackBlock {
  return {
    type: 'section',
    fields: pairs
      .filter(([, value]) => value !== '')
      .slice(0, MAX_FIELDS)
      .map(([label, value]) => mrkdwn(`*${label}*\n${value}`)),
  };
}

/** Tags as `key=value, …`, escaped, within a field's limit. */
export function formatTags(tags: Record<string, string> | undefined): string {
  const parts = Object.entries(tags ?? {}).map(
    ([key, value]) => `${escapeSlack(key, 128)}=${escapeSlack(value, 256)}`,
  );
  return joinWithin(parts, FIELD_TEXT_MAX - 20, ', ');
}

/** Budget alerts in words: `80% of actual spend, 100% of forecasted spend`. */
export function formatThresholds(thresholds: { percent: number; type: string }[]): string {
  return thresholds
    .map(
      (t) => `${escapeSlack(t.percent, 10)}% of ${t.type === 'FORECASTED' ? 'forecasted' : 'actual'} spend`,
    )
    .join(', ');
}

function roleLine(role: RoleAccess, accountId: string): string {
  const conditions: string[] = [];
  if (role.trustedAccountId)
    conditions.push(`from a principal in account ${code(role.trustedAccountId, 20)}`);
  if (role.requireMfa) conditions.push('with MFA');
  const from = conditions.length ? ` (${conditions.join(', ')})` : '';
  if (role.externalIdRequired) {
    const arn = role.arn || `arn:aws:iam::${accountId}:role/${role.name}`;
    return (
      `• *${escapeSlack(role.name, 64)}*${from}: for tools, assume ${code(arn)} with its external id ` +
      '(the platform team has it; the console cannot pass one)'
    );
  }
  return `• *${escapeSlack(role.name, 64)}*${from}: ${link(switchRoleUrl(role.name, accountId), 'switch role')}`;
}

/** Where to sign in through Identity Center, each permission set and its holders, and who could not be assigned. */
function identityCenterLines(access: IdentityCenterAccess): string[] {
  const lines = [`• *IAM Identity Center*: sign in at the ${link(access.portalUrl, 'access portal')}`];
  for (const permissionSet of access.permissionSets) {
    const holders = access.granted
      .filter((grant) => grant.permissionSet === permissionSet)
      .map((grant) => escapeSlack(grant.principal, 256));
    lines.push(
      `    ◦ permission set *${escapeSlack(permissionSet, 32)}*${holders.length > 0 ? `: ${joinWithin(holders, FIELD_TEXT_MAX, ', ')}` : ''}`,
    );
  }
  for (const person of access.unassigned) {
    lines.push(
      `    ◦ not assigned: the ${person.role} ${escapeSlack(person.who, 256)} (${escapeSlack(person.permissionSet, 32)}): ${escapeSlack(person.reason, 512)}`,
    );
  }
  return lines;
}

/**
 * "Your account is ready": the account, where it sits, how to sign in through each baseline role, the budget and
 * the DNS association, addressed to the requester.
 */
export function successMessage(details: SuccessDetails): SlackMessage {
  const { request, accountId } = details;
  const who = addressRequester(request.requester);
  const name = escapeSlack(request.accountName || request.name);
  const opening = who.mention
    ? `${who.text}, your AWS account *${name}* is ready.`
    : `The AWS account *${name}* requested by ${who.text} is ready.`;

  const signIn = ['*Sign in*'];
  if (details.identityCenter) signIn.push(...identityCenterLines(details.identityCenter));
  if (details.roles.length === 0 && !details.identityCenter)
    signIn.push('No sign-in roles were set up: ask the platform team how to get in.');
  for (const role of details.roles) signIn.push(roleLine(role, accountId));
  if (details.alias) signIn.push(`Account alias: ${code(details.alias, 63)}`);

  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: ':white_check_mark: AWS account ready', emoji: true },
    },
    section([opening]),
    fields([
      ['Account id', code(accountId, 20)],
      ['Account name', code(request.accountName)],
      ['Organizational unit', code(request.organizationalUnit?.path)],
      ['Email', escapeSlack(request.email)],
      ['Owner', escapeSlack(request.owner)],
      ['Tags', formatTags(request.tags)],
    ]),
    section(signIn),
  ];

  if (details.budget) {
    const { budget } = details;
    const to = [escapeSlack(request.owner), ...(budget.subscribers ?? []).map((s) => escapeSlack(s))].join(
      ', ',
    );
    const thresholds = formatThresholds(budget.thresholds);
    blocks.push(
      section([
        `*Budget*: ${escapeSlack(budget.monthlyLimitUsd, 20)} USD a month${budget.name ? ` (${code(budget.name)})` : ''}` +
          (thresholds ? `; alerts at ${thresholds}, to ${to}` : ''),
      ]),
    );
  }
  if (details.dns) {
    const { dns } = details;
    blocks.push(
      section([
        `*DNS*: VPC ${code(dns.vpcId, 64)} (${escapeSlack(dns.region, 32)}) is associated with the private hosted zone ` +
          `${code(dns.hostedZoneId, 64)}.`,
      ]),
    );
  } else if (details.dnsNote) {
    blocks.push(section([`*DNS*: ${escapeSlack(details.dnsNote, PROSE_MAX)}`]));
  }
  if (details.guardrails && details.guardrails.length > 0) {
    blocks.push(
      section([
        `*Guardrails*: service control policies ${details.guardrails.map((name) => code(name, 128)).join(', ')}`,
      ]),
    );
  }
  if (details.securityDefaults && details.securityDefaults.length > 0) {
    blocks.push(
      section([`*Security defaults*: ${escapeSlack(details.securityDefaults.join('; '), PROSE_MAX)}`]),
    );
  }

  const context = [`Request ${code(request.requestId, 100)}`];
  if (details.baselineVersion) context.push(`baseline version ${code(details.baselineVersion, 40)}`);
  if (details.passwordPolicy) context.push('password policy applied');
  blocks.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] });

  const firstConsoleRole = details.roles.find((role) => !role.externalIdRequired);
  const text =
    `${who.mention ? `${who.text} ` : ''}AWS account ${name} (${escapeSlack(accountId, 20)}) is ready in ` +
    `${escapeSlack(request.organizationalUnit?.path)}.` +
    (firstConsoleRole ? ` ${link(switchRoleUrl(firstConsoleRole.name, accountId), 'Switch role')}` : '');

  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

/** "Your request failed": at which step, why, what to do, and the request id to quote. */
export function failureMessage(details: FailureDetails): SlackMessage {
  const { request } = details;
  const who = addressRequester(request.requester);
  const name = escapeSlack(request.accountName || request.name);
  const step = describeStep(details.step);
  const opening = who.mention
    ? `${who.text}, your request for the AWS account *${name}* failed while ${step}.`
    : `The request by ${who.text} for the AWS account *${name}* failed while ${step}.`;
  const reason = escapeSlack(details.reason, PROSE_MAX);
  const advice = escapeSlack(details.advice, PROSE_MAX);

  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: ':x: AWS account request failed', emoji: true } },
    section([opening]),
    section([`*Why*: ${reason}`]),
    section([`*What to do*: ${advice}`]),
  ];
  if (details.accountId) {
    blocks.push(
      section([
        `The account ${code(details.accountId, 20)} was created before the failure.` +
          (details.quarantined
            ? ` It stays under the quarantine policy ${code('vend-quarantine')}: nobody but Vend can act in it until the platform team finishes or closes it.`
            : ''),
      ]),
    );
  }
  blocks.push({
    type: 'context',
    elements: [
      mrkdwn(`Request ${code(request.requestId, 100)}: quote it when you ask the platform team for help.`),
    ],
  });

  const text =
    `${who.mention ? `${who.text} ` : ''}Your request for AWS account ${name} failed while ${step}: ${reason} ` +
    `What to do: ${advice} (request ${escapeSlack(request.requestId, 100)})`;
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

export interface PostOptions {
  /** Waits between attempts (the simulated clock in tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Attempts in all, at most 3: the state machine retries for longer. */
  maxAttempts?: number;
  /** How long one attempt may take. */
  timeoutMs?: number;
}

/** The longest Retry-After we wait for inside the function; longer, the state machine waits instead. */
export const MAX_RETRY_AFTER_SECONDS = 30;
const BACKOFF_MS = 500;

/**
 * Posts a message to an incoming webhook. 2xx is done. 429 waits as long as Slack's Retry-After says (up to
 * 30 s) and tries again; 5xx and network errors back off briefly and try again; either way, after
 * `maxAttempts` attempts (or a longer Retry-After) it throws SlackUnavailableError, which the state machine
 * retries over minutes. Any other status is a SlackRejectedError. Errors never contain the URL: it is a secret.
 */
export async function postToSlack(
  url: string,
  message: SlackMessage,
  options: PostOptions = {},
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxAttempts = Math.min(3, Math.max(1, Math.floor(options.maxAttempts ?? 3)));
  const body = JSON.stringify(message);
  let problem = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      problem = `network error: ${networkErrorText(error)}`;
      if (attempt < maxAttempts) await sleep(BACKOFF_MS * 2 ** (attempt - 1));
      continue;
    }
    const text = (await response.text().catch(() => '')).slice(0, 200).trim();
    if (response.ok) return;
    if (response.status === 429) {
      const wait = retryAfterSeconds(response.headers.get('retry-after'));
      problem = `rate limited (HTTP 429, Retry-After ${wait} s)`;
      if (wait > MAX_RETRY_AFTER_SECONDS) throw new SlackUnavailableError(`Slack ${problem}`);
      if (attempt < maxAttempts) await sleep(wait * 1000);
      continue;
    }
    if (response.status >= 500 || response.status === 408) {
      problem = `HTTP ${response.status}${text ? ` ${text}` : ''}`;
      if (attempt < maxAttempts) await sleep(BACKOFF_MS * 2 ** (attempt - 1));
      continue;
    }
    throw new SlackRejectedError(response.status, text);
  }
  throw new SlackUnavailableError(`Slack did not take the message after ${maxAttempts} attempts: ${problem}`);
}

/** Retry-After in seconds (Slack sends seconds); 1 s when it is absent or unreadable. */
function retryAfterSeconds(header: string | null): number {
  const seconds = header === null ? Number.NaN : Number(header.trim());
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds) : 1;
}

function networkErrorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? (error.cause as Error & { code?: string }) : undefined;
  return cause ? `${error.name}: ${cause.code ?? cause.message}` : `${error.name}: ${error.message}`;
}

/** How long one attempt holds a message: longer than a post with its own retries can take (3 x 10 s, 2 x 30 s). */
export const OUTBOX_LEASE_MS = 3 * 60_000;
/** How long a message may stay undelivered before the metric SlackUndelivered reports it (and infra alarms). */
export const UNDELIVERED_REPORT_MS = 60 * 60_000;
/**
 * The deliverer's back-off between attempts at one message: full jitter up to 1 minute, doubling to 15 minutes
 * (the deliverer runs every minute, so a message is tried again at its first run after its next attempt is due).
 */
export const OUTBOX_BACKOFF = { baseDelayMs: 60_000, maxDelayMs: 15 * 60_000 } as const;

/**
 * Statuses by which Slack says the webhook itself is gone rather than the message being wrong (Slack API docs,
 * "Sending messages using incoming webhooks", "Handling errors": 403 `invalid_token`, 404 `no_service` or
 * `channel_not_found`, 410 `channel_is_archived`): the URL was revoked or rotated, so the secret is read again.
 */
const WEBHOOK_GONE = new Set([403, 404, 410]);

/**
 * What became of a message: `delivered` (now or earlier), `pending` (in the outbox: the deliverer retries it, or a
 * live attempt holds it), `refused` (Slack refused the message itself), `skipped` (no webhook configured).
 */
export type Delivery = 'delivered' | 'pending' | 'refused' | 'skipped';

/** A message for the outbox: its deterministic id (request id and kind, or drift event id), kind and context. */
export interface OutgoingMessage {
  id: string;
  kind: OutboxKind;
  message: SlackMessage;
  /** Ids for the logs and for recording the outcome (requestId, accountId, records): never a secret. */
  context: Record<string, unknown>;
}

/**
 * Sends a message once: writes it to the outbox under its id (a retried step finds the one already there, never
 * making a second), then tries to deliver it now (`deliverMessage`). When Slack does not take it within the post's
 * own short retries it stays pending for the deliverer (functions/deliver-messages), and this returns `pending`
 * rather than failing the step. Without a webhook configured nothing is written: `skipped`, logged. `post` limits
 * the attempt now (an API answering its caller tries once, briefly: `API_POST`).
 */
export async function sendThroughOutbox(
  deps: Deps,
  outgoing: OutgoingMessage,
  post?: PostOptions,
): Promise<Delivery> {
  const configured = await deps.slackWebhookUrl().then(
    (url) => url !== undefined,
    // A webhook that is refused (not Slack's) is configured, wrongly: the message waits in the outbox with the
    // reason until the operator fixes the secret, and the metric SlackUndelivered reports it after an hour.
    () => true,
  );
  if (!configured) {
    deps.log.warn('no Slack webhook configured: the message is not sent', {
      outboxId: outgoing.id,
      ...outgoing.context,
    });
    return 'skipped';
  }
  await deps.outbox.enqueue(outgoing, deps.now());
  return deliverMessage(deps, outgoing.id, post);
}

/**
 * One attempt at an outbox message: claims it (a conditional write, so one attempt at a time), posts it and marks
 * it delivered. Already delivered or refused: nothing is sent. Held by a live attempt: `pending` (that attempt, or
 * the deliverer once its lease runs out, finishes it). Slack unavailable, rate limited, the webhook gone even after
 * reading the secret again, or refused by `checkWebhookUrl`: the message goes back to pending with a back-off
 * delay (`OUTBOX_BACKOFF`, jittered by `deps.random`). Slack refusing the message itself (400 ...): `refused`,
 * reported at once by the metric SlackUndelivered.
 */
export async function deliverMessage(deps: Deps, id: string, post?: PostOptions): Promise<Delivery> {
  const token = randomUUID();
  const claim = await deps.outbox.claim(id, token, deps.now(), OUTBOX_LEASE_MS);
  if (!claim.claimed) {
    if (claim.state === 'delivered' || claim.state === 'refused') return claim.state;
    return 'pending';
  }
  const { message } = claim;
  const context = { outboxId: id, kind: message.kind, attempts: message.attempts, ...message.context };
  try {
    await postWithCurrentWebhook(deps, message.message as SlackMessage, post);
  } catch (error) {
    if (error instanceof SlackRejectedError && !WEBHOOK_GONE.has(error.status)) {
      await deps.outbox.markRefused(id, deps.now(), errorText(error));
      deps.log.error('Slack refused the message: it will not be sent', {
        ...context,
        error: errorText(error),
      });
      deps.metrics.count(METRIC.slackUndelivered);
      return 'refused';
    }
    const policy = { ...OUTBOX_BACKOFF, retryable: () => true, random: deps.random };
    const next = deps.now() + backoffDelayMs(policy, Math.max(1, message.attempts));
    await deps.outbox.release(id, token, next, errorText(error));
    deps.log.warn('Slack did not take the message yet: it stays in the outbox', {
      ...context,
      error: errorText(error),
      nextAttemptAt: new Date(next).toISOString(),
    });
    return 'pending';
  }
  // Slack's incoming webhooks take no idempotency key: a crash (or a lost write) between Slack's 200 and this mark
  // leaves the message claimed, and the attempt after its lease posts it a second time. That is the one window
  // left, and nothing but this write runs inside it.
  await deps.outbox.markDelivered(id, deps.now());
  return 'delivered';
}

/**
 * Posts with the configured webhook. When Slack says the webhook is gone (see WEBHOOK_GONE), reads the secret
 * again (cached for the function's life otherwise) and, if the URL changed, posts once more with the new one.
 */
async function postWithCurrentWebhook(
  deps: Deps,
  message: SlackMessage,
  post: PostOptions = {},
): Promise<void> {
  const url = await deps.slackWebhookUrl();
  if (!url) throw new SlackUnavailableError(NO_WEBHOOK);
  try {
    await postToSlack(url, message, { sleep: deps.sleep, ...post });
  } catch (error) {
    if (!(error instanceof SlackRejectedError) || !WEBHOOK_GONE.has(error.status)) throw error;
    const fresh = await deps.slackWebhookUrl({ refresh: true });
    if (!fresh || fresh === url) throw error;
    deps.log.info('the Slack webhook was replaced: posting with the new one');
    await postToSlack(fresh, message, { sleep: deps.sleep, ...post });
  }
}

/**
 * How the request API posts while its caller waits: one attempt of at most 5 seconds, well inside API Gateway's
 * 29-second integration timeout; a message Slack does not take then stays in the outbox for the deliverer.
 */
export const API_POST: PostOptions = { maxAttempts: 1, timeoutMs: 5_000 };

/** The text recorded for a missing webhook. */
export const NO_WEBHOOK = 'no Slack webhook configured';

/**
 * Tells the requester their request failed (`failureMessage`), through the outbox under the request id and
 * `failure` (a retried step never sends it twice), and records the outcome on the request as its notification
 * (`pending`: the deliverer retries it). Trouble is logged and recorded, never thrown: the failure itself is
 * already recorded.
 */
export async function tellRequesterOfFailure(deps: Deps, details: FailureDetails): Promise<void> {
  const { requestId } = details.request;
  let notification: NonNullable<RequestRecord['notification']>;
  try {
    const outcome = await sendThroughOutbox(deps, {
      id: `${requestId}#failure`,
      kind: 'failure',
      message: failureMessage(details),
      context: { requestId, step: details.step },
    });
    notification = {
      kind: 'failure',
      status: outcome === 'delivered' ? 'sent' : outcome === 'refused' ? 'failed' : outcome,
      at: new Date().toISOString(),
      ...(outcome === 'skipped' ? { error: NO_WEBHOOK } : {}),
    };
  } catch (error) {
    deps.log.error('the requester could not be told the request failed', { requestId, error: String(error) });
    notification = {
      kind: 'failure',
      status: 'failed',
      at: new Date().toISOString(),
      error: errorText(error),
    };
  }
  await deps.requests.update(requestId, { notification });
}
