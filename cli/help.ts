import {
  COMMAND_FLAGS,
  COMMANDS,
  type Command,
  DEFAULT_API_URL,
  type FlagSpec,
  GLOBAL_FLAGS,
  SYNOPSIS,
} from './args.ts';

const SUMMARY: Record<Command, string> = {
  request: 'ask for an account; prints the request id and how to follow it',
  status: "a request's status, approval and steps; on failure, the step, the reason and what to do",
  approve: 'approve a request awaiting approval (as an approver, never its requester): it is vended now',
  deny: 'deny a request awaiting approval, saying why: it ends, and its name and email are free again',
  list: 'the vended accounts, as a table',
  show: "an account's desired state, as Vend recorded it, and its latest drift",
  drift:
    'changes made by hand to vended accounts and what Vend did: every account, or the whole history of one',
  hold: 'put an account on hold for incident response (administrators): drift is reported, nothing put back',
  release: 'end an account hold (administrators): the next drift sweep puts back what differs',
};

const EXIT_CODES_HELP = `Exit codes:
  0  ok (status, --watch: the request succeeded; status without --watch: also while it is still under way)
  1  the request failed, was denied or expired
  2  usage error: a bad flag or argument (the message names it and the fix), or no AWS credentials for a remote API
  3  the API refused the call (4xx): the field, the message and the fix are printed
  4  the API could not be reached, or answered 5xx or something unreadable`;

function flagLines(flags: Record<string, FlagSpec>): string {
  return Object.entries(flags)
    .map(([name, spec]) => `  ${`--${name}${spec.value ? ` ${spec.value}` : ''}`.padEnd(30)} ${spec.help}`)
    .join('\n');
}

/** `vend --help`: every command, its synopsis, the global flags, where the API is, and the exit codes. */
export function mainHelp(): string {
  const commands = COMMANDS.map((command) => `  ${command.padEnd(8)} ${SUMMARY[command]}`).join('\n');
  return `Usage: npm run vend -- <command> [flags]

Ask for AWS accounts and follow the requests, through Vend's request API.

Commands:
${commands}

${COMMANDS.map((command) => `  ${SYNOPSIS[command].replaceAll('\n', '\n  ')}`).join('\n')}

Flags for every command:
${flagLines(GLOBAL_FLAGS)}

The API: --api-url, else VEND_API_URL, else ${DEFAULT_API_URL} (the local pipeline of npm start).
Calls are signed with SigV4 (service execute-api) using your AWS credentials (AWS_PROFILE, SSO, environment
variables...); a local API is called unsigned when you have none.
With --json, stdout carries only the API's JSON (for an error too, when the API answered one); --watch --json
prints the request once it has finished.

${EXIT_CODES_HELP}
`;
}

/** `vend <command> --help`: its synopsis, its flags and the global ones, and the exit codes. */
export function commandHelp(command: Command): string {
  return `Usage: ${SYNOPSIS[command]}

${SUMMARY[command]}.

Flags:
${flagLines(COMMAND_FLAGS[command])}
${flagLines(GLOBAL_FLAGS)}

${EXIT_CODES_HELP}
`;
}
