import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import type { BurstResult } from './burst.ts';
import type { ColdStartResult } from './cold-start.ts';
import type { LatencyResult } from './latency.ts';
import type { OverheadResult } from './overhead.ts';
import type { TransitionsRow } from './transitions.ts';

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverageAtStart: number[];
  commit: string;
  date: string;
}

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout.
  }
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAverageAtStart: loadavg().map((value) => Number(value.toFixed(2))),
    commit,
    date: new Date().toISOString(),
  };
}

export interface BenchResults {
  overheadRatio?: number;
  transitionsPerVend?: number;
  invocationsPerVend?: number;
  pollingLogarithmic?: boolean;
  apiCallsRatio?: number;
  pipelineCallsPerVend?: number;
  minimalCallsPerVend?: number;
  burstMakespanRatio?: number;
  burstAllSucceeded?: boolean;
  apiRps?: number;
  apiP50Ms?: number;
  apiP99Ms?: number;
  maxBundleKb?: number;
  maxBundleKbWithoutSdk?: number;
  maxInitMs?: number;
  machine: Machine;
  details: {
    overhead?: OverheadResult;
    transitions?: TransitionsRow[];
    burst?: BurstResult;
    latency?: LatencyResult;
    coldStart?: ColdStartResult;
  };
  /** Measurements that threw, by name. */
  errors?: Record<string, string>;
  totalSeconds?: number;
}

export const TARGETS = {
  overheadRatio: 1.5,
  transitionsPerVend: 20,
  apiCallsRatio: 1.25,
  burstMakespanRatio: 1.2,
  apiP99Ms: 50,
  maxBundleKb: 300,
  maxInitMs: 150,
} as const;

const verdict = (value: number | undefined, target: number) =>
  value === undefined ? 'not measured' : value <= target ? 'met' : `missed (x${(value / target).toFixed(1)})`;

/** The markdown summary: the figures against their targets, then the detail tables. */
export function markdown(results: BenchResults): string {
  const { machine: m, details } = results;
  const lines: string[] = [];
  lines.push('# Vend benchmarks: latest figures', '');
  lines.push(
    `Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; load average at start ${m.loadAverageAtStart.join(' / ')} (the machine is shared with other work). Commit ${m.commit}, ${m.date}. Produced by \`npm run bench\`.`,
    '',
  );
  const o = details.overhead;
  const b = details.burst;
  const l = details.latency;
  const t3 = details.transitions?.find((row) => row.creationMinutes === 3);
  lines.push('| # | figure | measured | target | verdict |', '|---|---|---:|---:|---|');
  lines.push(
    `| 1 | overhead: ${o?.vends ?? 50} vends, pipeline wall time / minimal SDK calls | ${results.overheadRatio ?? '-'} (${o ? `${o.pipelineMs.join(', ')} ms vs ${o.minimalMs.join(', ')} ms` : '-'}) | <= ${TARGETS.overheadRatio} | ${verdict(results.overheadRatio, TARGETS.overheadRatio)} |`,
  );
  lines.push(
    `| 2 | state transitions per vend, 3-minute creation | ${results.transitionsPerVend ?? '-'} (${t3?.invocations ?? '-'} invocations) | <= ${TARGETS.transitionsPerVend} | ${verdict(results.transitionsPerVend, TARGETS.transitionsPerVend)} |`,
  );
  lines.push(
    `| 2 | polls grow with log(creation time) | ${results.pollingLogarithmic === undefined ? '-' : results.pollingLogarithmic ? 'yes' : 'no'} (polls ${details.transitions?.map((row) => `${row.creationMinutes} min: ${row.polls}`).join(', ') ?? '-'}) | logarithmic | ${results.pollingLogarithmic === undefined ? 'not measured' : results.pollingLogarithmic ? 'met' : 'missed'} |`,
  );
  lines.push(
    `| 3 | AWS API calls per vend / minimal | ${results.apiCallsRatio ?? '-'} (${results.pipelineCallsPerVend ?? '-'} vs ${results.minimalCallsPerVend ?? '-'}) | <= ${TARGETS.apiCallsRatio} | ${verdict(results.apiCallsRatio, TARGETS.apiCallsRatio)} |`,
  );
  lines.push(
    `| 4 | burst of ${b?.requests ?? 100}, ${b?.slots ?? 5} slots, ${b?.creationMinutes ?? 3}-min creations: makespan / floor | ${results.burstMakespanRatio ?? '-'} (${b ? `${b.makespanMinutes} / ${b.floorMinutes} min; ${b.succeeded} succeeded, ${b.failedOnLimits} failed on limits, ${b.duplicateAccounts} duplicates` : '-'}) | <= ${TARGETS.burstMakespanRatio}, all succeed | ${b && !results.burstAllSucceeded ? 'missed (not all succeeded)' : verdict(results.burstMakespanRatio, TARGETS.burstMakespanRatio)} |`,
  );
  lines.push(
    `| 5 | POST /accounts, ${l?.connections ?? 64} connections: p99 (p50, rps) | ${results.apiP99Ms ?? '-'} ms (${results.apiP50Ms ?? '-'} ms, ${results.apiRps ?? '-'} rps) | <= ${TARGETS.apiP99Ms} ms | ${verdict(results.apiP99Ms, TARGETS.apiP99Ms)} |`,
  );
  lines.push(
    `| 6 | largest bundle (minified, the AWS SDK bundled) | ${results.maxBundleKb ?? '-'} KB (without the SDK: ${results.maxBundleKbWithoutSdk ?? '-'} KB) | <= ${TARGETS.maxBundleKb} KB | ${verdict(results.maxBundleKb, TARGETS.maxBundleKb)} |`,
  );
  lines.push(
    `| 6 | slowest bundle import, fresh Node ${details.coldStart?.node ?? ''} (median of ${details.coldStart?.runs ?? '-'}) | ${results.maxInitMs ?? '-'} ms | <= ${TARGETS.maxInitMs} ms | ${verdict(results.maxInitMs, TARGETS.maxInitMs)} |`,
  );
  lines.push('');

  if (details.transitions) {
    lines.push(
      'Per vend, by account creation time (first look after 45 s, then x1.5 up to 600 s):',
      '',
      '| creation | result | transitions | invocations | polls | log bound | AWS calls | minimal | ratio |',
      '|---:|---|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const row of details.transitions) {
      lines.push(
        `| ${row.creationMinutes} min | ${row.status} | ${row.transitions} | ${row.invocations} | ${row.polls} | ${row.logBoundPolls} | ${row.awsCalls} | ${row.minimalAwsCalls} | ${row.awsCallsRatio} |`,
      );
    }
    lines.push('');
  }
  if (o) {
    const keys = [...new Set([...Object.keys(o.pipelineCalls), ...Object.keys(o.minimalCalls)])].sort();
    const extra = keys
      .map((key) => [key, (o.pipelineCalls[key] ?? 0) - (o.minimalCalls[key] ?? 0)] as const)
      .filter(([, delta]) => Math.abs(delta) >= 0.05)
      .map(([key, delta]) => `${key} ${delta > 0 ? '+' : ''}${Number(delta.toFixed(2))}`);
    lines.push(
      `AWS calls per vend beyond the minimal (overhead run, ${o.vends} vends ${o.concurrency} at a time): ${extra.join(', ') || 'none'}.`,
      '',
    );
  }
  if (b) {
    lines.push(
      `Burst: ${b.realSeconds} s of real time at ${b.speed} simulated s per real s; median request done after ${b.medianCompletionMinutes} min; per vend ${b.transitionsPerVend.mean} transitions on average (max ${b.transitionsPerVend.max}), ${b.invocationsPerVend.mean} invocations; ${b.slotRefusals} CreateAccount calls refused for full slots; ${b.awsCallsPerVend} AWS calls per vend.`,
      '',
    );
  }
  if (l) {
    lines.push(
      `API: ${l.requests} requests in ${l.durationSeconds} s (${Object.entries(l.statuses)
        .map(([status, count]) => `${count} x ${status}`)
        .join(
          ', ',
        )}, ${l.errors} errors); p90 ${l.apiP90Ms} ms, max ${l.apiMaxMs} ms. One connection: ${l.single.rps} rps, p50 ${l.single.p50Ms} ms, p99 ${l.single.p99Ms} ms.`,
      '',
    );
  }
  if (details.coldStart) {
    lines.push('| function | bundle KB | of which AWS SDK | import ms (median) |', '|---|---:|---:|---:|');
    for (const fn of details.coldStart.functions) {
      lines.push(
        `| ${fn.name} | ${fn.bundleKb} | ${fn.sdkKb ?? '-'} | ${fn.error ? `failed: ${fn.error.slice(0, 80)}` : fn.importMs} |`,
      );
    }
    lines.push('');
  }
  if (results.errors && Object.keys(results.errors).length > 0) {
    lines.push('Errors:', '');
    for (const [name, message] of Object.entries(results.errors)) lines.push(`- ${name}: ${message}`);
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
