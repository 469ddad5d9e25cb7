/**
 * A stand-in for a Slack incoming webhook, for running Vend on one machine and for tests: it accepts webhook
 * posts as Slack does (200 `ok`; 400 `invalid_payload` for a body that is not a message), keeps them in order,
 * can fail the next posts on purpose (429 with Retry-After, 5xx, 404 ...), and can print each message readably.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signSlackRequest } from '../functions/shared/slack-signature.ts';
import { nonLocalCallerReason } from './loopback.ts';

/** A message as posted: Slack's webhook payload (only `text` and `blocks` are looked at). */
export interface SlackPayload {
  text?: string;
  blocks?: unknown[];
  [key: string]: unknown;
}

export interface ReceivedSlackMessage {
  payload: SlackPayload;
  /** The message as plain lines, as `print` shows it. */
  rendered: string;
  receivedAt: string;
  path: string;
  /** Its number, from 1 in the order received: what `press` takes. */
  number: number;
  /** A reply to a button press (posted to the `response_url` the sink gave): the number of the pressed message. */
  replyTo?: number;
}

/** A button of a message (a `button` element of an `actions` block). */
export interface SlackButton {
  actionId: string;
  text: string;
  value?: string;
  blockId?: string;
}

/** What pressing a button got from the interactions endpoint: its HTTP status and body. */
export interface PressResult {
  status: number;
  body: string;
}

/** Where button presses go: the local API's `/slack/interactions`, and the secret they are signed with. */
export interface SlackInteractionsTarget {
  url: string;
  signingSecret: string;
}

/** A press the sink cannot make (no such message or button, a bad member id, no interactions endpoint). */
export class SlackPressError extends Error {
  override readonly name = 'SlackPressError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface SlackSink {
  /** The webhook URL to configure. */
  url: string;
  /** Accepted messages, oldest first. */
  messages(): ReceivedSlackMessage[];
  /** Every post received, accepted or not (to count retries). */
  requests(): number;
  /**
   * Answers the next `times` posts with `status` (and these headers, e.g. `{ 'Retry-After': '2' }`), after any
   * failures already queued. `times` 0 cancels every queued failure.
   */
  failNext(status: number, times?: number, headers?: Record<string, string>): void;
  /** Where presses go; set once the local API listens. */
  connectInteractions(target: SlackInteractionsTarget): void;
  /**
   * Presses a button of message `number` as Slack member `userId`: builds the block_actions payload Slack would
   * send, signs it as Slack does and posts it to the interactions endpoint. Its reply arrives as a new message.
   */
  press(number: number, actionId: string, userId: string): Promise<PressResult>;
  close(): Promise<void>;
}

export interface SlackSinkOptions {
  /** 0 (the default) takes any free port. */
  port?: number;
  /** Show each message in the terminal; a function receives the text instead of stdout. */
  print?: boolean | ((text: string) => void);
}

const MAX_BODY = 1024 * 1024;

/** What Slack answers with for each status. */
const ERROR_BODIES: Record<number, string> = {
  400: 'invalid_payload',
  403: 'invalid_token',
  404: 'no_service',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

/** Starts the sink on 127.0.0.1; it answers only callers on this machine (see `nonLocalCallerReason`). */
export async function startSlackSink(options: SlackSinkOptions = {}): Promise<SlackSink> {
  const received: ReceivedSlackMessage[] = [];
  const failures: { status: number; remaining: number; headers: Record<string, string> }[] = [];
  let requests = 0;
  let interactions: SlackInteractionsTarget | undefined;
  const print =
    typeof options.print === 'function'
      ? options.print
      : options.print
        ? (text: string) => process.stdout.write(`${text}\n`)
        : undefined;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) answer(res, 500, 'internal_error');
      else res.destroy(error instanceof Error ? error : undefined);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = nonLocalCallerReason(req.headers);
    if (refusal !== undefined) {
      answer(res, 403, `local_callers_only: ${refusal}`);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/messages' && req.method === 'GET') {
      answerJson(res, 200, { messages: received.map(listed) });
      return;
    }
    const pressing = /^\/messages\/(\d{1,9})\/actions\/([^/]{1,255})$/.exec(path);
    if (pressing && req.method === 'POST') {
      await pressFromHttp(req, res, Number(pressing[1]), decodeURIComponent(pressing[2]!));
      return;
    }
    if (req.method !== 'POST') {
      answer(res, 405, 'invalid_method', { allow: 'POST' });
      return;
    }
    requests++;
    const body = await readBody(req);
    if (body === undefined) {
      answer(res, 413, 'request_too_large');
      return;
    }
    const failure = failures[0];
    if (failure) {
      failure.remaining--;
      if (failure.remaining <= 0) failures.shift();
      answer(res, failure.status, ERROR_BODIES[failure.status] ?? 'error', failure.headers);
      return;
    }
    const payload = parsePayload(body, req.headers['content-type']);
    if (!payload) {
      answer(res, 400, 'invalid_payload');
      return;
    }
    const replyTo = /^\/actions\/(\d+)\//.exec(path)?.[1];
    const message: ReceivedSlackMessage = {
      payload,
      rendered: renderSlackMessage(payload),
      receivedAt: new Date().toISOString(),
      path: req.url ?? '/',
      number: received.length + 1,
      ...(replyTo !== undefined ? { replyTo: Number(replyTo) } : {}),
    };
    received.push(message);
    print?.(frame(message));
    answer(res, 200, 'ok');
  }

  /** `POST /messages/<n>/actions/<action id>?user=<member id>`: a press, answered with the endpoint's answer. */
  async function pressFromHttp(req: IncomingMessage, res: ServerResponse, number: number, actionId: string) {
    for await (const _chunk of req) {
      // The press is in the URL; a body is read and ignored.
    }
    const user = new URL(req.url ?? '/', 'http://local').searchParams.get('user') ?? '';
    try {
      const result = await press(number, actionId, user);
      let reply: unknown;
      try {
        reply = JSON.parse(result.body);
      } catch {
        reply = result.body;
      }
      answerJson(res, 200, { status: result.status, reply });
    } catch (error) {
      if (!(error instanceof SlackPressError)) throw error;
      answerJson(res, error.status, { error: error.message });
    }
  }

  async function press(number: number, actionId: string, userId: string): Promise<PressResult> {
    const message = received[number - 1];
    if (!message) {
      throw new SlackPressError(
        404,
        `there is no message ${number}: the sink has ${received.length} (GET /messages lists them)`,
      );
    }
    const buttons = buttonsOf(message.payload);
    const button = buttons.find((candidate) => candidate.actionId === actionId);
    if (!button) {
      throw new SlackPressError(
        404,
        buttons.length === 0
          ? `message ${number} has no buttons`
          : `message ${number} has no button ${actionId}; its buttons: ${buttons.map((b) => b.actionId).join(', ')}`,
      );
    }
    if (!/^[UW][A-Z0-9]{2,20}$/.test(userId)) {
      throw new SlackPressError(
        400,
        `user: '${userId.slice(0, 40)}' is not a Slack member id: give one such as U0PLATFORM1 (?user=...)`,
      );
    }
    if (!interactions) {
      throw new SlackPressError(503, 'the sink is not connected to a local API: start it with npm start');
    }
    const body = new URLSearchParams({
      payload: JSON.stringify(
        blockActionsPayload(message, button, userId, `${baseUrl}/actions/${number}/${token()}`),
      ),
    }).toString();
    try {
      const response = await fetch(interactions.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...signSlackRequest(interactions.signingSecret, body),
        },
        body,
      });
      return { status: response.status, body: await response.text() };
    } catch (error) {
      throw new SlackPressError(
        502,
        `the interactions endpoint ${interactions.url} did not answer: ${String(error)}`,
      );
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: `http://127.0.0.1:${port}/services/TLOCAL000/BLOCAL000/vend-local-sink`,
    messages: () => [...received],
    requests: () => requests,
    failNext(status, times = 1, headers = {}) {
      if (!Number.isInteger(status) || status < 100 || status > 599)
        throw new Error(`not an HTTP status: ${status}`);
      if (times > 0) failures.push({ status, remaining: times, headers });
      else failures.length = 0;
    },
    connectInteractions(target) {
      interactions = target;
    },
    press,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An unguessable part of each `response_url`, as Slack's have. */
function token(): string {
  return randomBytes(12).toString('hex');
}

/** The team, app and channel the sink plays. */
const LOCAL_TEAM = { id: 'TLOCAL000', domain: 'vend-local' };
const LOCAL_CHANNEL = { id: 'CLOCAL000', name: 'vend' };

/**
 * What Slack posts to the Interactivity Request URL when a member presses a message's button (Slack API docs,
 * "Reference: block_actions payloads"): `type`, `user`, `team`, `channel`, `container`, `message`, `response_url`,
 * `trigger_id` and the one action pressed, with the button's `action_id`, `block_id`, `text` and `value`.
 */
export function blockActionsPayload(
  message: ReceivedSlackMessage,
  button: SlackButton,
  userId: string,
  responseUrl: string,
): Record<string, unknown> {
  const ts = messageTs(message.receivedAt);
  const actionTs = messageTs(new Date().toISOString());
  return {
    type: 'block_actions',
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: LOCAL_TEAM.id },
    api_app_id: 'ALOCAL000',
    container: { type: 'message', message_ts: ts, channel_id: LOCAL_CHANNEL.id, is_ephemeral: false },
    trigger_id: `${Date.now()}.${token()}`,
    team: LOCAL_TEAM,
    enterprise: null,
    is_enterprise_install: false,
    channel: LOCAL_CHANNEL,
    message: { type: 'message', ts, ...message.payload },
    state: { values: {} },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: button.actionId,
        ...(button.blockId !== undefined ? { block_id: button.blockId } : {}),
        text: { type: 'plain_text', text: button.text, emoji: true },
        ...(button.value !== undefined ? { value: button.value } : {}),
        action_ts: actionTs,
      },
    ],
  };
}

/** Slack's message timestamp (`1717171717.123456`) for an ISO time. */
function messageTs(iso: string): string {
  const ms = Date.parse(iso);
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

/** The buttons of a message: the `button` elements of its `actions` blocks. */
export function buttonsOf(payload: SlackPayload): SlackButton[] {
  const buttons: SlackButton[] = [];
  for (const block of Array.isArray(payload.blocks) ? payload.blocks : []) {
    const b = block as { type?: unknown; block_id?: unknown; elements?: unknown };
    if (b?.type !== 'actions' || !Array.isArray(b.elements)) continue;
    for (const element of b.elements) {
      const e = element as { type?: unknown; action_id?: unknown; text?: unknown; value?: unknown };
      if (e?.type !== 'button' || typeof e.action_id !== 'string') continue;
      buttons.push({
        actionId: e.action_id,
        text: textOf(e.text),
        ...(typeof e.value === 'string' ? { value: e.value } : {}),
        ...(typeof b.block_id === 'string' ? { blockId: b.block_id } : {}),
      });
    }
  }
  return buttons;
}

/** A message as `GET /messages` lists it. */
function listed(message: ReceivedSlackMessage) {
  return {
    number: message.number,
    receivedAt: message.receivedAt,
    ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
    rendered: message.rendered,
    buttons: buttonsOf(message.payload),
  };
}

function answerJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function answer(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A webhook body as Slack reads it: JSON, or a form with a `payload` field; a message needs text or blocks. */
export function parsePayload(body: string, contentType: string | undefined): SlackPayload | undefined {
  let json = body;
  if (contentType?.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(body).get('payload');
    if (payload === null) return undefined;
    json = payload;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const payload = parsed as SlackPayload;
  const hasText = typeof payload.text === 'string' && payload.text.trim() !== '';
  const hasBlocks = Array.isArray(payload.blocks) && payload.blocks.length > 0;
  if (payload.text !== undefined && typeof payload.text !== 'string') return undefined;
  if (payload.blocks !== undefined && !Array.isArray(payload.blocks)) return undefined;
  return hasText || hasBlocks ? payload : undefined;
}

/**
 * A message as plain lines: headers, sections (their text and `label: value` fields), context, dividers, buttons
 * (`[Approve] [Deny]`); or the `text` when there are no blocks. Mentions show as `@U123`, links as `label (url)`,
 * entities decoded.
 */
export function renderSlackMessage(payload: SlackPayload): string {
  const blocks = Array.isArray(payload.blocks) ? payload.blocks : [];
  if (blocks.length === 0) return plain(typeof payload.text === 'string' ? payload.text : '');
  const lines: string[] = [];
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as { type?: string; text?: unknown; fields?: unknown[]; elements?: unknown[] };
    switch (b.type) {
      case 'header':
        lines.push(
          textOf(b.text).replace(/(:[a-z0-9_+-]+:)|[^:]+|:/g, (part, emoji) =>
            emoji ? part : part.toUpperCase(),
          ),
        );
        break;
      case 'section': {
        if (b.text !== undefined) lines.push(textOf(b.text));
        for (const field of b.fields ?? []) {
          const [label, ...rest] = textOf(field).split('\n');
          lines.push(rest.length ? `${label}: ${rest.join(' ')}` : (label ?? ''));
        }
        break;
      }
      case 'context':
        lines.push((b.elements ?? []).map(textOf).filter(Boolean).join(' · '));
        break;
      case 'divider':
        lines.push('---');
        break;
      case 'actions':
        lines.push(
          (b.elements ?? []).map((element) => `[${textOf((element as { text?: unknown }).text)}]`).join(' '),
        );
        break;
      default:
        if (b.text !== undefined) lines.push(textOf(b.text));
    }
  }
  return lines.filter((line) => line !== '').join('\n');
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return plain(value);
  if (typeof value !== 'object' || value === null) return '';
  const text = (value as { type?: string; text?: unknown }).text;
  if (typeof text !== 'string') return '';
  return (value as { type?: string }).type === 'plain_text' ? emoji(text) : plain(text);
}

/** Slack mrkdwn to plain text: control sequences first (only real ones: escaped ones are entities), then entities. */
function plain(mrkdwn: string): string {
  const withoutControls = mrkdwn.replace(/<([^<>]*)>/g, (_match, inner: string) => {
    const [target = '', label] = inner.split('|', 2);
    if (target.startsWith('@')) return `@${label ?? target.slice(1)}`;
    if (target.startsWith('#')) return `#${label ?? target.slice(1)}`;
    if (target.startsWith('!')) return `@${(label ?? target.slice(1)).replace(/^subteam\^/, '')}`;
    return label ? `${label} (${target})` : target;
  });
  return emoji(
    withoutControls
      .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1$2')
      .replace(/`([^`\n]+)`/g, '$1')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&'),
  );
}

const EMOJI: Record<string, string> = {
  ':white_check_mark:': '✅',
  ':x:': '❌',
  ':warning:': '⚠️',
  ':raised_hand:': '✋',
  ':no_entry:': '⛔',
  ':hourglass:': '⌛',
};

function emoji(text: string): string {
  return text.replace(/:[a-z_]+:/g, (name) => EMOJI[name] ?? name);
}

/**
 * A message framed for the terminal. A message with buttons shows its number and how to press them; a reply to a
 * press, which message it answers and whether only the member who pressed sees it.
 */
function frame(message: ReceivedSlackMessage): string {
  const lines = message.rendered.split('\n');
  const buttons = buttonsOf(message.payload);
  const ephemeral = message.payload.response_type === 'ephemeral';
  const title =
    message.replyTo !== undefined
      ? ` · reply to message ${message.replyTo}${message.payload.replace_original === true ? ', replacing it' : ''}${ephemeral ? ', only the member who pressed sees it' : ''}`
      : buttons.length > 0
        ? ` · message ${message.number}`
        : '';
  const hint =
    buttons.length > 0
      ? [
          `│ (press: npm run slack -- press ${message.number} ${buttons
            .map((button) => button.actionId.replace(/^vend\./, ''))
            .join('|')} --as <Slack member id>)`,
        ]
      : [];
  return [`┌─ Slack ${message.receivedAt}${title}`, ...lines.map((line) => `│ ${line}`), ...hint, '└─'].join(
    '\n',
  );
}
