import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { grantsForSlackUser } from '../shared/access.ts';
import type { DecideApproval } from '../shared/approval.ts';
import { APPROVE_ACTION, DENY_ACTION } from '../shared/approval-messages.ts';
import type { Deps } from '../shared/deps.ts';
import { HttpError } from '../shared/errors.ts';
import type { RequestRecord } from '../shared/model.ts';
import { code, escapeSlack } from '../shared/slack.ts';
import { isSlackResponseUrl, type SigningSecretSource } from '../shared/slack-secret.ts';
import { verifySlackRequest } from '../shared/slack-signature.ts';
import type { WorkflowStarter } from '../shared/submit.ts';
import { errorText } from '../shared/text.ts';

/** The buttons of the approval message: their `action_id`s, each with the request id as its `value`. */
export const APPROVAL_ACTIONS = { [APPROVE_ACTION]: 'approve', [DENY_ACTION]: 'deny' } as const;

/** Largest body taken: a block_actions payload carries the whole message, a few kilobytes. */
export const MAX_INTERACTION_BYTES = 256 * 1024;

/** How long the reply to Slack's `response_url` may take: Slack wants the callback answered within 3 seconds. */
export const RESPONSE_URL_TIMEOUT_MS = 1500;

/** A Slack member id (`U...`, or `W...` in Enterprise Grid). */
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;
/** A request id as the API makes them; anything else is no request of Vend's. */
const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A message for Slack: the acknowledgement's body, and what is posted to the `response_url`. */
export interface SlackReply {
  text: string;
  /** `ephemeral`: only the member who pressed sees it. */
  response_type?: 'ephemeral' | 'in_channel';
  /** Replace the message whose button was pressed (a decision: the buttons go, the outcome shows). */
  replace_original?: boolean;
  blocks?: unknown[];
}

/** Posts a reply to an interaction's `response_url`. */
export type ResponsePoster = (url: string, reply: SlackReply) => Promise<void>;

export interface SlackInteractionsOptions {
  /** What the decision needs: the registry, the configuration, and the workflow's starter. */
  deps: Deps & { starter: WorkflowStarter };
  /** The Slack app's signing secret (Secrets Manager on AWS; generated at start locally). */
  signingSecret: SigningSecretSource;
  /** Decides a request awaiting approval (`decideApproval`), with the same rules as the API. */
  decide: DecideApproval;
  /** Posts the outcome to the `response_url`. @default an HTTPS POST with a 1.5 s timeout */
  respond?: ResponsePoster;
  /**
   * Accept a `response_url` on a loopback address (the local Slack sink). Only the local pipeline and tests set it,
   * in code: a deployed function never does. @default false
   */
  allowLoopbackResponseUrl?: boolean;
  /** The wall clock the signature's timestamp is checked against, as Slack's own. @default Date.now */
  wallClock?: () => number;
}

/** What a block_actions payload holds that Vend reads (Slack API docs, "block_actions payloads"). */
interface BlockActionsPayload {
  type?: unknown;
  user?: { id?: unknown };
  actions?: { action_id?: unknown; value?: unknown }[];
  response_url?: unknown;
  message?: { blocks?: unknown };
}

/**
 * `POST /slack/interactions`: Slack's interactivity callbacks, for the Approve and Deny buttons of the approval
 * message. The request must carry Slack's v0 signature (see `verifySlackRequest`) with a fresh timestamp, never seen
 * before; anything else is answered 401, and nothing is read or changed. A valid press maps the Slack member to its
 * grants (`grantsForSlackUser`) and decides with the same rules as the API (`decide`). Slack is answered 200 with a
 * reply for the member, which is also posted to the payload's `response_url`: Slack shows nothing of the
 * acknowledgement's body for block_actions (the reply to a button goes through the response_url), so the body is
 * for tools and tests. A decision replaces the message's buttons with its outcome; a refusal (the API's 403, 404
 * or 409) is shown only to the member who pressed, in words, never with internal details.
 */
export function createSlackInteractionsHandler(options: SlackInteractionsOptions) {
  const { deps } = options;
  const wallClock = options.wallClock ?? Date.now;
  const respond = options.respond ?? postToResponseUrl;
  const handle = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const rawBody = event.body
      ? Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8')
      : Buffer.alloc(0);
    if (rawBody.length > MAX_INTERACTION_BYTES) {
      return errorAnswer(413, 'the body is larger than a Slack interaction', 'Send Slack interactions only.');
    }
    const verification = await verifySlackRequest({
      headers: event.headers,
      rawBody,
      secret: await options.signingSecret(),
      nowMs: wallClock(),
      remember: (timestamp, signature) => deps.slackCallbacks.remember(timestamp, signature, wallClock()),
    });
    if (!verification.ok) {
      deps.log.warn('a Slack interaction was refused', { reason: verification.reason });
      return errorAnswer(
        401,
        'the request does not carry a valid Slack signature',
        "Only Slack calls this endpoint, signed with the app's signing secret, within five minutes, once.",
      );
    }
    const payload = parsePayload(rawBody.toString('utf8'));
    if (!payload) {
      return errorAnswer(
        400,
        'payload: not a Slack interaction payload',
        'Send the form field payload as JSON.',
      );
    }
    const reply = await answerPayload(options, payload);
    if (
      reply.post &&
      isSlackResponseUrl(payload.response_url, { allowLoopback: options.allowLoopbackResponseUrl })
    ) {
      await respond(payload.response_url as string, reply.message).catch((error: unknown) =>
        deps.log.warn('the reply to Slack’s response_url failed', { error: errorText(error) }),
      );
    }
    return slackAnswer(reply.message);
  };
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    try {
      return await handle(event);
    } catch (error) {
      // The signing secret or the registry could not be read: nothing was decided, and nothing internal is said.
      deps.log.error('a Slack interaction failed', { error: errorText(error) });
      return errorAnswer(500, 'Internal server error', 'Press the button again in a minute.');
    }
  };
}

/** What to tell the member, and whether to post it to the response_url as well. */
interface Outcome {
  message: SlackReply;
  post: boolean;
}

async function answerPayload(
  options: SlackInteractionsOptions,
  payload: BlockActionsPayload,
): Promise<Outcome> {
  const { deps } = options;
  const action = payload.type === 'block_actions' ? payload.actions?.[0] : undefined;
  const decision =
    typeof action?.action_id === 'string' && Object.hasOwn(APPROVAL_ACTIONS, action.action_id)
      ? APPROVAL_ACTIONS[action.action_id as keyof typeof APPROVAL_ACTIONS]
      : undefined;
  if (!decision) {
    deps.log.info('a Slack interaction Vend does not handle', {
      type: String(payload.type).slice(0, 40),
      actionId: typeof action?.action_id === 'string' ? action.action_id.slice(0, 80) : undefined,
    });
    return {
      message: ephemeral(
        'Vend only handles the Approve and Deny buttons of its approval messages: nothing was done.',
      ),
      post: false,
    };
  }
  const userId = payload.user?.id;
  const requestId = action?.value;
  if (typeof userId !== 'string' || !SLACK_USER_ID.test(userId)) {
    return {
      message: ephemeral('Vend could not tell who pressed the button: nothing was decided.'),
      post: true,
    };
  }
  if (typeof requestId !== 'string' || !REQUEST_ID.test(requestId)) {
    return {
      message: ephemeral('This button names no request of Vend’s: nothing was decided.'),
      post: true,
    };
  }
  const decider = {
    by: `slack:${userId}`,
    via: 'slack' as const,
    grants: grantsForSlackUser(deps.config, userId),
    slackUserId: userId,
  };
  try {
    const record = await options.decide(deps, {
      requestId,
      decision,
      // A button has no reason box, and a denial needs a reason: it says who denied, and where.
      ...(decision === 'deny' ? { reason: `denied in Slack by ${userId}` } : {}),
      decider,
    });
    deps.log.info('a request was decided in Slack', {
      requestId,
      decision,
      by: decider.by,
      status: record.status,
    });
    return { message: decidedReply(payload, decision, userId, record), post: true };
  } catch (error) {
    if (error instanceof HttpError && error.expose) {
      deps.log.info('a decision in Slack was refused', {
        requestId,
        decision,
        by: decider.by,
        status: error.statusCode,
      });
      const fix = error.details.fix ? ` ${escapeSlack(error.details.fix, 600)}` : '';
      return {
        message: ephemeral(
          `:no_entry: Vend did not ${decision} request ${code(requestId)}: ${escapeSlack(error.message.replace(/[.\s]+$/, ''), 600)}.${fix}`,
        ),
        post: true,
      };
    }
    deps.log.error('a decision in Slack failed', {
      requestId,
      decision,
      by: decider.by,
      error: errorText(error),
    });
    return {
      message: ephemeral(
        `:warning: Vend could not take your decision on request ${code(requestId)} just now. Press the button again in a minute; if it keeps failing, tell the platform team.`,
      ),
      post: true,
    };
  }
}

/**
 * The approval message with its outcome instead of its buttons: every block of the original but the `actions`
 * ones, then who decided and what follows. Without the original (it is not in every payload), the outcome alone.
 */
function decidedReply(
  payload: BlockActionsPayload,
  decision: 'approve' | 'deny',
  userId: string,
  record: RequestRecord,
): SlackReply {
  const what = `${code(record.request.accountName)} in ${code(record.request.organizationalUnit.path)}`;
  const text =
    decision === 'approve'
      ? `:white_check_mark: <@${userId}> approved request ${code(record.requestId)} (${what}): the account is being created.`
      : `:x: <@${userId}> denied request ${code(record.requestId)} (${what}): its name and email are free again.`;
  const original = Array.isArray(payload.message?.blocks) ? (payload.message.blocks as unknown[]) : [];
  const kept = original.filter(
    (block) =>
      typeof block === 'object' && block !== null && (block as { type?: unknown }).type !== 'actions',
  );
  return {
    replace_original: true,
    text,
    blocks: [...kept, { type: 'section', text: { type: 'mrkdwn', text, verbatim: true } }],
  };
}

function ephemeral(text: string): SlackReply {
  return { response_type: 'ephemeral', replace_original: false, text };
}

/**
 * The interaction payload: Slack posts `application/x-www-form-urlencoded` with one field, `payload`, holding JSON
 * (Slack API docs, "Handling user interaction", "Handling interaction payloads"). Undefined when it is not that.
 */
function parsePayload(body: string): BlockActionsPayload | undefined {
  const field = new URLSearchParams(body).get('payload');
  if (field === null) return undefined;
  try {
    const parsed: unknown = JSON.parse(field);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as BlockActionsPayload)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Posts a reply to Slack's `response_url` (a JSON POST), giving up after `RESPONSE_URL_TIMEOUT_MS`. */
async function postToResponseUrl(url: string, reply: SlackReply): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(reply),
    signal: AbortSignal.timeout(RESPONSE_URL_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`the response_url answered HTTP ${response.status}`);
}

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
} as const;

function slackAnswer(reply: SlackReply): APIGatewayProxyResult {
  return { statusCode: 200, headers: { ...HEADERS }, body: JSON.stringify(reply) };
}

/** An error answer in the API's shape (`{"error":{status, message, fix}}`), for callers that are not Slack. */
function errorAnswer(status: number, message: string, fix: string): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { ...HEADERS },
    body: JSON.stringify({ error: { status, message, fix } }),
  };
}
