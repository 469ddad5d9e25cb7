/**
 * `npm run bench`: every benchmark of the pipeline, in one process and one run, on the local cloud with a
 * simulated clock. Writes bench/results.json (flat figures, then the details) and bench/RESULTS.md (the table).
 * Measures only: it exits 0 whatever the figures, and 1 only when a measurement could not be made.
 *
 * Options: --only <name,...> (coldStart, transitions, overhead, latency, burst), --burst-speed <n> (simulated
 * seconds per real second for the burst, default 50), --no-write (print, do not write the files; implied by
 * --only).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { errorText } from '../functions/shared/text.ts';
import { measureBurst } from './burst.ts';
import { measureColdStart } from './cold-start.ts';
import { note, round } from './common.ts';
import { measureLatency } from './latency.ts';
import { measureOverhead } from './overhead.ts';
import { type BenchResults, machine, markdown } from './report.ts';
import { measureTransitions } from './transitions.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    'burst-speed': { type: 'string', default: '50' },
    'no-write': { type: 'boolean', default: false },
  },
});
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wanted = (name: string) => !only || only.has(name);

async function main(): Promise<number> {
  const started = performance.now();
  const results: BenchResults = { machine: machine(), details: {} };
  const errors: Record<string, string> = {};
  const attempt = async (name: string, work: () => Promise<void>) => {
    if (!wanted(name)) return;
    const t = performance.now();
    try {
      await work();
      note(`${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    } catch (error) {
      errors[name] = errorText(error);
      note(`${name}: FAILED: ${errors[name]}`);
    }
  };

  await attempt('coldStart', async () => {
    const cold = await measureColdStart();
    results.details.coldStart = cold;
    results.maxBundleKb = cold.maxBundleKb;
    results.maxBundleKbWithoutSdk = cold.maxBundleKbWithoutSdk;
    results.maxInitMs = cold.maxInitMs;
  });
  await attempt('transitions', async () => {
    const rows = await measureTransitions();
    results.details.transitions = rows;
    const three = rows.find((row) => row.creationMinutes === 3);
    if (three) {
      results.transitionsPerVend = three.transitions;
      results.invocationsPerVend = three.invocations;
    }
    results.pollingLogarithmic = rows.every((row) => row.polls <= row.logBoundPolls + 1);
  });
  await attempt('overhead', async () => {
    const overhead = await measureOverhead();
    results.details.overhead = overhead;
    results.overheadRatio = overhead.overheadRatio;
    results.apiCallsRatio = overhead.apiCallsRatio;
    results.pipelineCallsPerVend = overhead.pipelineCallsPerVend;
    results.minimalCallsPerVend = overhead.minimalCallsPerVend;
  });
  await attempt('latency', async () => {
    const latency = await measureLatency();
    results.details.latency = latency;
    results.apiRps = latency.apiRps;
    results.apiP50Ms = latency.apiP50Ms;
    results.apiP99Ms = latency.apiP99Ms;
  });
  await attempt('burst', async () => {
    const burst = await measureBurst({ speed: Number(values['burst-speed']) });
    results.details.burst = burst;
    results.burstMakespanRatio = burst.burstMakespanRatio;
    results.burstAllSucceeded =
      burst.succeeded === burst.requests && burst.failedOnLimits === 0 && burst.duplicateAccounts === 0;
  });

  if (Object.keys(errors).length > 0) results.errors = errors;
  results.totalSeconds = round((performance.now() - started) / 1000, 1);
  // Flat figures first, then the machine and the details.
  const ordered = Object.fromEntries(
    Object.entries(results).sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : 1)),
  );
  const json = `${JSON.stringify(ordered, null, 2)}\n`;
  const md = markdown(results);
  // A partial run (--only) never replaces the committed figures.
  if (values['no-write'] || only) {
    process.stdout.write(`${md}\n`);
  } else {
    writeFileSync(resolve(import.meta.dirname, 'results.json'), json);
    writeFileSync(resolve(import.meta.dirname, 'RESULTS.md'), md);
    formatMarkdown(resolve(import.meta.dirname, 'RESULTS.md'));
    process.stdout.write(`${md}\nWrote bench/results.json and bench/RESULTS.md.\n`);
  }
  return Object.keys(errors).length > 0 ? 1 : 0;
}

/** Aligns the tables as the repository's formatter does, so that `npm run lint` accepts the committed file. */
function formatMarkdown(file: string): void {
  const biome = resolve(import.meta.dirname, '..', 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const run = spawnSync(process.execPath, [biome, 'format', '--write', file], { encoding: 'utf8' });
  if (run.status !== 0) note(`could not format ${file}: ${run.stderr || run.stdout}`);
}

function rank(key: string): number {
  if (key === 'details') return 3;
  if (key === 'machine') return 2;
  if (key === 'errors' || key === 'totalSeconds') return 1;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
