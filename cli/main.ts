import { setTimeout as sleep } from 'node:timers/promises';
import { runVend } from './run.ts';

/** `npm run vend -- <command>`: the request API's command line; `npm run vend -- --help` says how. */
process.exitCode = await runVend(process.argv.slice(2), {
  fetch: globalThis.fetch,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  sleep: (ms) => sleep(ms),
  random: Math.random,
  isTTY: Boolean(process.stdout.isTTY),
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
});
