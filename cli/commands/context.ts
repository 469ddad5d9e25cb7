import type { Parsed } from '../args.ts';
import type { ApiClient } from '../client.ts';
import type { VendIo } from '../io.ts';
import type { Output } from '../render.ts';

/** What a command works with: the process's outside world, the output, the API client. */
export interface Context {
  io: VendIo;
  out: Output;
  api: ApiClient;
  /** `--api-url <url>` when given as a flag, to repeat in the hints printed. */
  apiUrlFlag: string;
}

/** A command: runs with the parsed command line and returns the exit code (see EXIT). */
export type CommandRun = (context: Context, parsed: Parsed) => Promise<number>;

/** The command that follows a request, as printed in hints. */
export function followHint(context: Context, requestId: string): string {
  return `npm run vend -- status ${requestId} --watch${context.apiUrlFlag}`;
}
