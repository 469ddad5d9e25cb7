import type { HoldOutcome } from '../store/accounts.ts';
import { resolveProfile } from './config.ts';
import type { Deps } from './deps.ts';
import { RequestRejectedError } from './errors.ts';
import type { AccountDesiredState, AccountHold } from './model.ts';
import {
  API_POST,
  code,
  escapeSlack,
  mrkdwn,
  PROSE_MAX,
  type SlackBlock,
  type SlackMessage,
  sendThroughOutbox,
} from './slack.ts';
import { errorText } from './text.ts';

/**
 * Holding a vended account for incident response: while it is on hold, drift is reported (outcome `held`) and
 * nothing is put back; releasing it lets the next drift sweep put back whatever differs. Each hold and release is
 * recorded on the account (`hold`, `holdHistory`) and announced in its profile's Slack channel through the outbox.
 * Who may hold is the caller's business (the API asks for the `administer` grant); this module trusts `by`.
 */

/** What holding or releasing did: the account as it now is, and whether anything changed. */
export interface HoldResult {
  account: AccountDesiredState;
  changed: boolean;
}

/**
 * Puts a vended, active account on hold. Holding an account already on hold with the same reason is a repeat
 * (`changed: false`, nothing recorded or announced again); with another reason it is refused (409), so a second
 * incident does not silently take over the first one's hold.
 */
export async function holdAccount(
  deps: Deps,
  input: { accountId: string; reason: string; by: string },
): Promise<HoldResult> {
  const hold: AccountHold = { by: input.by, at: new Date(deps.now()).toISOString(), reason: input.reason };
  const outcome = await deps.accounts.putOnHold(input.accountId, hold);
  const account = existing(input.accountId, outcome, 'hold');
  if (outcome.kind === 'unchanged') {
    const standing = account.hold!;
    if (standing.reason === input.reason) return { account, changed: false };
    throw new RequestRejectedError(
      409,
      'reason',
      `account ${input.accountId} is already on hold, since ${standing.at} by ${standing.by}: ${standing.reason}`,
      `Release it first (DELETE /accounts/${input.accountId}/hold, or vend release ${input.accountId}) to hold it for another reason, or send the same reason again.`,
    );
  }
  await announce(deps, account, 'hold', hold.at);
  deps.log.info('account put on hold', { accountId: input.accountId, by: input.by });
  return { account, changed: true };
}

/**
 * Ends an account's hold. An account that is not on hold is refused (409): there is nothing to release. The
 * account is not converged here (the API has no rights in accounts): the next drift sweep puts it back.
 */
export async function releaseAccount(
  deps: Deps,
  input: { accountId: string; by: string },
): Promise<HoldResult> {
  const at = new Date(deps.now()).toISOString();
  const outcome = await deps.accounts.release(input.accountId, { by: input.by, at });
  const account = existing(input.accountId, outcome, 'release');
  if (outcome.kind === 'unchanged') {
    const last = account.holdHistory?.find((entry) => entry.action === 'release');
    throw new RequestRejectedError(
      409,
      'accountId',
      `account ${input.accountId} is not on hold${last ? ` (last released ${last.at} by ${last.by})` : ''}`,
      `Nothing to release. GET /accounts/${input.accountId} shows its holds.`,
    );
  }
  await announce(deps, account, 'release', at);
  deps.log.info('account released from hold', { accountId: input.accountId, by: input.by });
  return { account, changed: true };
}

/** The account a hold or release found, or the refusal for a missing (404) or closed or removed (409) one. */
function existing(accountId: string, outcome: HoldOutcome, action: 'hold' | 'release'): AccountDesiredState {
  if (outcome.kind === 'missing') {
    throw new RequestRejectedError(
      404,
      'accountId',
      `Vend has not vended account ${accountId}`,
      'Only accounts Vend vended can be held: GET /accounts lists them.',
    );
  }
  if (outcome.kind === 'inactive') {
    throw new RequestRejectedError(
      409,
      'accountId',
      `account ${accountId} is ${outcome.account.status}: there is nothing to ${action}`,
      'Only active accounts can be held or released; Vend no longer checks or fixes this one.',
    );
  }
  return outcome.account;
}

/**
 * Tells the account's channel (its profile's `slackChannel`), once per hold or release: the outbox id carries the
 * account and the time. Trouble is logged, never thrown: the hold stands and the deliverer retries the message.
 */
async function announce(
  deps: Deps,
  account: AccountDesiredState,
  action: 'hold' | 'release',
  at: string,
): Promise<void> {
  const channel = (account.profile ?? resolveProfile(deps.config, account.organizationalUnit.path))
    .slackChannel;
  try {
    await sendThroughOutbox(
      deps,
      {
        id: `${action}#${account.accountId}#${at}`,
        kind: 'hold',
        message: holdMessage(account, action, channel),
        context: { accountId: account.accountId, action },
      },
      API_POST,
    );
  } catch (error) {
    deps.log.error('the hold could not be announced', {
      accountId: account.accountId,
      action,
      error: errorText(error),
    });
  }
}

/**
 * "Account put on hold" or "released from hold": who, when, why (the reason is the administrator's text, escaped),
 * and what it means for drift. `account` is the account after the change; a release names the hold it ended.
 */
export function holdMessage(
  account: AccountDesiredState,
  action: 'hold' | 'release',
  channel?: string,
): SlackMessage {
  const [latest, previous] = account.holdHistory ?? [];
  const name = `*${escapeSlack(account.accountName)}* (${code(account.accountId, 20)})`;
  const who = code(latest?.by ?? 'an administrator');
  const when = escapeSlack(latest?.at ?? '', 40);
  let header: string;
  let lines: string[];
  let summary: string;
  if (action === 'hold') {
    const reason = escapeSlack(latest?.reason ?? '', PROSE_MAX);
    header = ':octagonal_sign: Vended account put on hold';
    lines = [
      `The account ${name} was put on hold by ${who} at ${when}.`,
      `*Why*: ${reason}`,
      'While it is on hold, Vend reports changes made to it and puts nothing back. Once it is released, the next drift sweep puts back whatever differs.',
    ];
    summary = `put on hold by ${escapeSlack(latest?.by)}: ${reason}`;
  } else {
    const held = previous?.action === 'hold' ? previous : undefined;
    header = ':arrow_forward: Vended account released from hold';
    lines = [
      `The account ${name} was released from hold by ${who} at ${when}` +
        (held
          ? ` (on hold since ${escapeSlack(held.at, 40)}: ${escapeSlack(held.reason, PROSE_MAX)}).`
          : '.'),
      'Vend checks it again: the next drift sweep puts back whatever differs from what Vend vended.',
    ];
    summary = `released from hold by ${escapeSlack(latest?.by)}`;
  }
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', text: mrkdwn(lines.join('\n')) },
    {
      type: 'context',
      elements: [mrkdwn(`OU ${code(account.organizationalUnit.path)} · owner ${escapeSlack(account.owner)}`)],
    },
  ];
  const text = `${header.replace(/^:[a-z_]+: /, '')}: account ${escapeSlack(account.accountName)} (${escapeSlack(account.accountId, 20)}) ${summary}`;
  return { text, blocks, unfurl_links: false, unfurl_media: false, ...(channel ? { channel } : {}) };
}
