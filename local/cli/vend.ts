import { setTimeout as sleep } from 'node:timers/promises';
import { runVend } from './vend-core.ts';

/** `npm run vend -- <command>`: the request API's command line; `npm run vend -- --help` says how. */
const code = await runVend(process.argv.slice(2), {
  fetch: globalThis.fetch,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  sleep: (ms) => sleep(ms),
  isTTY: Boolean(process.stdout.isTTY),
  ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
});
process.exitCode = code;
