/**
 * A stand-in for a Slack incoming webhook, for running Vend on one machine and for tests: it accepts webhook
 * posts as Slack does (200 `ok`; 400 `invalid_payload` for a body that is not a message), keeps them in order,
 * can fail the next posts on purpose (429 with Retry-After, 5xx, 404 ...), and can print each message readably.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
    const message: ReceivedSlackMessage = {
      payload,
      rendered: renderSlackMessage(payload),
      receivedAt: new Date().toISOString(),
      path: req.url ?? '/',
    };
    received.push(message);
    print?.(frame(message));
    answer(res, 200, 'ok');
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
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

function frame(message: ReceivedSlackMessage): string {
  const lines = message.rendered.split('\n');
  return [`┌─ Slack ${message.receivedAt}`, ...lines.map((line) => `│ ${line}`), '└─'].join('\n');
}
