import { UsageError, usage } from './errors.ts';

/** Where the CLI talks to without --api-url or VEND_API_URL: the local pipeline of `npm start`. */
export const DEFAULT_API_URL = 'http://127.0.0.1:3000';

/** One flag: whether it takes a value, whether it repeats, and its help line. */
export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** How its value is written in the help, e.g. `<email>`. */
  value?: string;
  help: string;
}

/** The commands, in the order the help lists them. */
export type Command =
  | 'request'
  | 'status'
  | 'approve'
  | 'deny'
  | 'list'
  | 'show'
  | 'drift'
  | 'hold'
  | 'release';

/** Flags every command takes. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  'api-url': {
    type: 'string',
    value: '<url>',
    help: `the request API (default: VEND_API_URL, else ${DEFAULT_API_URL})`,
  },
  json: { type: 'boolean', help: "print only the API's JSON on stdout" },
  help: { type: 'boolean', help: 'show help' },
};

/** Each command's own flags. */
export const COMMAND_FLAGS: Record<Command, Record<string, FlagSpec>> = {
  request: {
    name: { type: 'string', value: '<name>', help: "the account's short name, e.g. payments" },
    ou: { type: 'string', value: '<path>', help: 'the OU to vend into, e.g. Workloads/Dev' },
    owner: { type: 'string', value: '<email>', help: "the account owner's email (budget alerts go there)" },
    email: {
      type: 'string',
      value: '<email>',
      help: "the account's root email (default: the org's template)",
    },
    'slack-user': {
      type: 'string',
      value: '<id>',
      help: 'your Slack member id, to be mentioned, e.g. U0123ABCD',
    },
    budget: { type: 'string', value: '<usd>', help: 'the monthly budget in USD (default: the org default)' },
    tag: { type: 'string', multiple: true, value: '<key=value>', help: 'a tag for the account; repeatable' },
    vpc: { type: 'string', value: '<vpc-id:region>', help: 'a VPC to join to the shared private DNS' },
    'idempotency-key': {
      type: 'string',
      value: '<key>',
      help: 'repeat a request safely (default: a new key per run)',
    },
    file: { type: 'string', value: '<file>', help: "the request's JSON body; flags override its fields" },
    watch: { type: 'boolean', help: 'follow the request until it succeeds or fails' },
    'dry-run': {
      type: 'boolean',
      help: 'check the request and show what it would do; nothing is asked for',
    },
  },
  status: {
    watch: { type: 'boolean', help: 'follow the request until it succeeds or fails' },
  },
  approve: {
    reason: { type: 'string', value: '<text>', help: 'why (optional): recorded, and told to the requester' },
  },
  deny: {
    reason: { type: 'string', value: '<text>', help: 'why (required): recorded, and told to the requester' },
  },
  list: {
    limit: { type: 'string', value: '<n>', help: 'accounts per page' },
    cursor: { type: 'string', value: '<cursor>', help: 'the page after a previous one (its nextCursor)' },
    all: { type: 'boolean', help: 'every page' },
  },
  show: {},
  drift: {},
  hold: {
    reason: { type: 'string', value: '<text>', help: 'why (required): recorded, and announced on Slack' },
  },
  release: {},
};

export const COMMANDS = Object.keys(COMMAND_FLAGS) as Command[];

/** Each command's positional arguments; `[name]` is optional. */
const POSITIONALS: Record<Command, string[]> = {
  request: [],
  status: ['<requestId>'],
  approve: ['<requestId>'],
  deny: ['<requestId>'],
  list: [],
  show: ['<accountId>'],
  drift: ['[accountId]'],
  hold: ['<accountId>'],
  release: ['<accountId>'],
};

/** How each command is written. */
export const SYNOPSIS: Record<Command, string> = {
  request:
    'vend request --name <name> --ou <path> --owner <email> [--email <email>] [--slack-user <id>] [--budget <usd>]\n' +
    '             [--tag <key=value> ...] [--vpc <vpc-id:region>] [--idempotency-key <key>] [--watch | --dry-run]\n' +
    '       vend request --file <request.json> [flags overriding its fields] [--watch]',
  status: 'vend status <requestId> [--watch]',
  approve: 'vend approve <requestId> [--reason <text>]',
  deny: 'vend deny <requestId> --reason <text>',
  list: 'vend list [--limit <n>] [--cursor <cursor>] [--all]',
  show: 'vend show <accountId>',
  drift: 'vend drift [accountId]',
  hold: 'vend hold <accountId> --reason <text>',
  release: 'vend release <accountId>',
};

/** The command line, read: the command, its positional arguments and its flags' values by name. */
export interface Parsed {
  command: Command | undefined;
  positionals: string[];
  values: Record<string, string | string[] | boolean>;
}

function isCommand(word: string): word is Command {
  return Object.hasOwn(COMMAND_FLAGS, word);
}

/** Edit distance, to suggest the flag a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Reads the command line. A small parser of its own rather than `util.parseArgs`, so that a missing value
 * (`--name --ou x`) and an unknown flag are named exactly, with the fix. Throws UsageError.
 */
export function parseCommandLine(argv: string[]): Parsed {
  const positionals: string[] = [];
  const raw: { name: string; rawName: string; value: string | undefined }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      raw.push({ name: 'help', rawName: arg, value: undefined });
    } else if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      raw.push({ name, rawName: `--${name}`, value: eq === -1 ? undefined : arg.slice(eq + 1) });
      const spec = GLOBAL_FLAGS[name] ?? Object.values(COMMAND_FLAGS).find((flags) => flags[name])?.[name];
      if (eq === -1 && spec?.type === 'string') {
        const next = argv[i + 1];
        if (next !== undefined && !next.startsWith('--')) {
          raw[raw.length - 1]!.value = next;
          i++;
        }
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      throw new UsageError(
        `unknown flag ${arg}`,
        'Flags are spelled out with two dashes, e.g. --name; see npm run vend -- --help.',
      );
    } else {
      positionals.push(arg);
    }
  }
  const word = positionals.shift();
  if (word !== undefined && !isCommand(word)) {
    const guess = closest(word, COMMANDS);
    throw new UsageError(
      `unknown command '${word}'`,
      `${guess ? `Did you mean '${guess}'? ` : ''}The commands are ${COMMANDS.join(', ')}; see npm run vend -- --help.`,
    );
  }
  const command = word;
  const flags: Record<string, FlagSpec> = { ...GLOBAL_FLAGS, ...(command ? COMMAND_FLAGS[command] : {}) };
  const values: Parsed['values'] = {};
  for (const { name, rawName, value } of raw) {
    const spec = flags[name];
    if (!spec) {
      const guess = closest(name, Object.keys(flags));
      const where = command ? `vend ${command}` : 'vend';
      throw new UsageError(
        `unknown flag ${rawName} for ${where}`,
        guess
          ? `Did you mean --${guess}? See npm run vend -- ${command ?? ''} --help.`.replace('  ', ' ')
          : `Its flags are ${Object.keys(flags)
              .map((f) => `--${f}`)
              .join(', ')}.`,
        command,
      );
    }
    if (spec.type === 'boolean') {
      if (value !== undefined)
        throw new UsageError(`${rawName} takes no value`, `Write ${rawName} alone.`, command);
      values[name] = true;
      continue;
    }
    if (value === undefined || value === '') {
      throw new UsageError(
        `${rawName} needs a value`,
        `Write ${rawName} ${spec.value ?? '<value>'}.`,
        command,
      );
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else if (values[name] !== undefined)
      throw new UsageError(`${rawName} is given twice`, `Give ${rawName} once.`, command);
    else values[name] = value;
  }
  return { command, positionals, values };
}

/** Checks that `command` got the positional arguments it takes, no fewer and no more. Throws UsageError. */
export function checkPositionals(command: Command, positionals: string[]): void {
  const wanted = POSITIONALS[command];
  const required = wanted.filter((name) => !name.startsWith('['));
  if (positionals.length < required.length) {
    throw usage(command, `${wanted[positionals.length]} is missing`, `Write: ${SYNOPSIS[command]}.`);
  }
  if (positionals.length > wanted.length) {
    throw usage(
      command,
      `unexpected argument '${positionals[wanted.length]}'`,
      `Write: ${SYNOPSIS[command]} (values go after their flag, e.g. --tag team=payments).`,
    );
  }
}

/** A string flag's value, if given. */
export function str(values: Parsed['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
