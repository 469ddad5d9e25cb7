import { COMMANDS, type Command, checkPositionals, type Parsed, parseCommandLine, str } from './args.ts';
import { ApiClient, resolveApiBase } from './client.ts';
import { approveCommand, denyCommand } from './commands/approval.ts';
import type { CommandRun, Context } from './commands/context.ts';
import { driftCommand } from './commands/drift.ts';
import { holdCommand, releaseCommand } from './commands/hold.ts';
import { listCommand } from './commands/list.ts';
import { requestCommand } from './commands/request.ts';
import { showCommand } from './commands/show.ts';
import { statusCommand } from './commands/status.ts';
import { RefusedError, UnavailableError, UsageError } from './errors.ts';
import { commandHelp, mainHelp } from './help.ts';
import { EXIT, type VendIo } from './io.ts';
import { Output } from './render.ts';

const COMMAND_RUNS: Record<Command, CommandRun> = {
  request: requestCommand,
  status: statusCommand,
  approve: approveCommand,
  deny: denyCommand,
  list: listCommand,
  show: showCommand,
  drift: driftCommand,
  hold: holdCommand,
  release: releaseCommand,
};

/**
 * The `vend` command: parses `argv` (the arguments after `vend`), talks to the request API and returns the exit
 * code (see EXIT). Never throws for what a user or the API can cause.
 */
export async function runVend(argv: string[], io: VendIo): Promise<number> {
  const out = new Output(io, argv.includes('--json'));
  try {
    const parsed: Parsed = parseCommandLine(argv);
    const { command } = parsed;
    if (parsed.values['help'] || command === undefined) {
      if (command === undefined && !parsed.values['help']) {
        throw new UsageError(
          'no command given',
          `Give one of ${COMMANDS.join(', ')}; see npm run vend -- --help.`,
        );
      }
      io.stdout.write(command ? commandHelp(command) : mainHelp());
      return EXIT.ok;
    }
    checkPositionals(command, parsed.positionals);
    const base = resolveApiBase(str(parsed.values, 'api-url'), io.env, command);
    const context: Context = { io, out, api: new ApiClient(base.url, io), apiUrlFlag: base.flag };
    return await COMMAND_RUNS[command](context, parsed);
  } catch (error) {
    return report(out, error);
  }
}

/** Prints what went wrong, with the fix, and returns its exit code. */
function report(out: Output, error: unknown): number {
  if (error instanceof UsageError) {
    out.error(`vend: ${error.message}\n  fix: ${error.fix}`);
    return EXIT.usage;
  }
  if (error instanceof RefusedError) {
    if (error.body !== undefined) out.data(error.body);
    // The API's message may already start with the field.
    const message =
      error.field && error.message.startsWith(`${error.field}: `)
        ? error.message.slice(error.field.length + 2)
        : error.message;
    out.error(
      `vend: the API refused (${error.status})${error.field ? `: ${error.field}` : ''}: ${message}${error.fix ? `\n  fix: ${error.fix}` : ''}`,
    );
    return EXIT.refused;
  }
  if (error instanceof UnavailableError) {
    if (error.body !== undefined) out.data(error.body);
    out.error(`vend: ${error.message}\n  fix: ${error.fix}`);
    return EXIT.unavailable;
  }
  out.error(
    `vend: unexpected error: ${(error as Error).stack ?? error}\n  fix: the API may have answered something this CLI does not understand; check --api-url, or report it.`,
  );
  return EXIT.unavailable;
}
