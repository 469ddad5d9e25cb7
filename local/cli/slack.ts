import { parseArgs } from 'node:util';
import { renderSlackMessage } from '../slack-sink.ts';
import { DEFAULT_SLACK_PORT } from './local-cloud.ts';

const USAGE = `Usage: npm run slack -- <command> [options]

Drives the Slack sink of a running \`npm start\`: it plays Slack, so pressing a button here sends the local API
what Slack would send, signed as Slack signs it, with the signing secret made at start.

Commands:
  messages                                    list the messages received and their buttons
  press <message> approve|deny --as <member>  press a button of message <message> as a Slack member
                                              (U0PLATFORM1 is the platform team's in vend.config.json)

Options:
  --sink <url>   the Slack sink (default http://127.0.0.1:${DEFAULT_SLACK_PORT}, or the port in VEND_SLACK_PORT)
  -h, --help     show this help`;

/** What the command reads and writes: injected by tests. */
export interface SlackCliIo {
  env: NodeJS.ProcessEnv;
  fetch: typeof fetch;
  out(text: string): void;
  err(text: string): void;
}

/** The buttons' short names: `approve` is the approval message's `vend.approve`. */
const SHORT_ACTIONS: Record<string, string> = { approve: 'vend.approve', deny: 'vend.deny' };

interface ListedMessage {
  number: number;
  receivedAt: string;
  replyTo?: number;
  rendered: string;
  buttons: { actionId: string; text: string; value?: string }[];
}

/** `npm run slack`: returns the exit code (0 done, 1 the endpoint refused the press, 2 a usage or sink error). */
export async function runSlackCli(argv: string[], io: SlackCliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv, io.env);
  } catch (error) {
    io.err(`vend slack: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    io.out(USAGE);
    return 0;
  }
  try {
    if (parsed.command === 'messages') return await listMessages(parsed.sink, io);
    return await press(parsed.sink, parsed.message, parsed.action, parsed.as, io);
  } catch (error) {
    io.err(
      `vend slack: the Slack sink at ${parsed.sink} did not answer (${(error as Error).message}): is npm start running? (--sink <url> or VEND_SLACK_PORT if it listens elsewhere)`,
    );
    return 2;
  }
}

type Parsed =
  | 'help'
  | { command: 'messages'; sink: string }
  | { command: 'press'; sink: string; message: number; action: string; as: string };

function parse(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      as: { type: 'string' },
      sink: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help || positionals.length === 0) return 'help';
  const sink = (values.sink ?? `http://127.0.0.1:${env.VEND_SLACK_PORT ?? DEFAULT_SLACK_PORT}`).replace(
    /\/+$/,
    '',
  );
  const [command, ...rest] = positionals;
  if (command === 'messages') {
    if (rest.length > 0) throw new Error(`messages takes no arguments, got '${rest.join(' ')}'`);
    return { command, sink };
  }
  if (command !== 'press') throw new Error(`unknown command '${command}': use messages or press`);
  const [messageText, actionText, ...extra] = rest;
  if (messageText === undefined || actionText === undefined || extra.length > 0) {
    throw new Error(
      'press takes a message number and a button: press <message> approve|deny --as <member id>',
    );
  }
  const message = Number(messageText);
  if (!Number.isInteger(message) || message < 1) {
    throw new Error(`<message> must be a message number (1, 2, ...), got '${messageText}'`);
  }
  if (!values.as) throw new Error('--as is required: the Slack member id who presses, such as U0PLATFORM1');
  return { command, sink, message, action: SHORT_ACTIONS[actionText] ?? actionText, as: values.as };
}

async function listMessages(sink: string, io: SlackCliIo): Promise<number> {
  const response = await io.fetch(`${sink}/messages`);
  const { messages } = (await response.json()) as { messages: ListedMessage[] };
  if (messages.length === 0) io.out('No Slack messages yet.');
  for (const message of messages) {
    const about = message.replyTo !== undefined ? ` (reply to message ${message.replyTo})` : '';
    io.out(`${message.number}  ${message.receivedAt}${about}\n${indent(message.rendered)}`);
    if (message.buttons.length > 0) {
      io.out(
        `   buttons: ${message.buttons.map((button) => `${button.text} (${button.actionId})`).join(', ')}`,
      );
    }
  }
  return 0;
}

async function press(sink: string, message: number, action: string, as: string, io: SlackCliIo) {
  const response = await io.fetch(
    `${sink}/messages/${message}/actions/${encodeURIComponent(action)}?user=${encodeURIComponent(as)}`,
    { method: 'POST' },
  );
  const answer = (await response.json()) as { status?: number; reply?: unknown; error?: string };
  if (!response.ok) {
    io.err(`vend slack: ${answer.error ?? `the sink answered HTTP ${response.status}`}`);
    return 2;
  }
  const reply = answer.reply as { text?: unknown; error?: { message?: unknown } } | undefined;
  io.out(`Pressed ${action} on message ${message} as ${as}: /slack/interactions answered ${answer.status}.`);
  if (typeof reply?.text === 'string') io.out(renderSlackMessage({ text: reply.text }));
  else if (reply?.error) io.out(String(reply.error.message));
  return answer.status === 200 ? 0 : 1;
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSlackCli(process.argv.slice(2), {
    env: process.env,
    fetch,
    out: (text) => console.log(text),
    err: (text) => console.error(text),
  }).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`vend slack: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
