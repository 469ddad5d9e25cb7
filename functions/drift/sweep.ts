import { randomUUID } from 'node:crypto';
import { convergeBaseline } from '../domain/baseline.ts';
import { convergeBudget } from '../domain/budget.ts';
import { associationText, connectVpcToSharedZone } from '../domain/dns.ts';
import type { Deps } from '../shared/deps.ts';
import { AccountNotReadyError } from '../shared/errors.ts';
import type { AccountDesiredState, DriftAspect, DriftRecord } from '../shared/model.ts';
import {
  type AspectCheck,
  announce,
  checkOrganizationalUnit,
  checkTags,
  errorText,
  failureWords,
  withAccountLock,
} from './checks.ts';
import { type SweepFinding, sweepMessage } from './messages.ts';

/** Overrides of `config.drift.sweep` for one run (the local pipeline's `sweep()`, tests). */
export interface SweepInput {
  concurrency?: number;
  delayBetweenAccountsMs?: number;
}

export interface SweepResult {
  outcome: 'swept';
  mode: 'fix' | 'report';
  runId: string;
  /** Active vended accounts checked (or attempted). */
  checked: number;
  inSync: number;
  /** The accounts that differed or could not be checked, with what was done. */
  findings: SweepFinding[];
  announcement?: DriftRecord['announcement'];
}

/**
 * The periodic drift sweep: for every active vended account, checks what no Organizations event tells of (the
 * IAM baseline, the budget, the DNS association) and what an event may have been missed for (its OU and tags),
 * with the same idempotent code the workflow converges with, under the same per-account lock as the drift
 * events. In fix mode it puts back what differs; in report mode it changes nothing (the converging functions run
 * as dry runs) and reports what it would change. What it found is recorded in each account's drift history and
 * told on Slack in one message per run (none when everything is in sync). Paced: `concurrency` accounts at a
 * time, each worker pausing `delayBetweenAccountsMs` between accounts; one account failing does not stop the
 * others (its failure is recorded and reported).
 */
export async function sweepDrift(
  deps: Deps,
  input: unknown = {},
  control: { signal?: AbortSignal } = {},
): Promise<SweepResult> {
  const settings = { ...deps.config.drift.sweep, ...overrides(input) };
  const mode = deps.config.drift.mode;
  const runId = randomUUID();
  const accounts = await activeAccounts(deps);
  deps.log.info('drift sweep started', { runId, mode, accounts: accounts.length, ...settings });

  const findings: SweepFinding[] = [];
  let inSync = 0;
  const queue = [...accounts];
  const worker = async () => {
    for (let first = true; ; first = false) {
      // Stopping (the local pipeline shuts down): the accounts not started yet wait for the next sweep.
      const account = control.signal?.aborted ? undefined : queue.shift();
      if (!account) return;
      if (!first && settings.delayBetweenAccountsMs > 0) await deps.sleep(settings.delayBetweenAccountsMs);
      const finding = await sweepAccount(deps, account, runId, mode);
      if (finding) findings.push(finding);
      else inSync++;
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(settings.concurrency, queue.length)) }, worker),
  );

  const checked = inSync + findings.length;
  const result: SweepResult = { outcome: 'swept', mode, runId, checked, inSync, findings };
  if (findings.length > 0) {
    result.announcement = await announce(
      deps,
      { id: `sweep#${runId}`, kind: 'sweep' },
      sweepMessage({ mode, checked, findings }),
      findings.map((finding) => ({
        accountId: finding.accountId,
        recordId: sweepRecordId(runId, finding.accountId),
      })),
    );
  }
  deps.log.info('drift sweep ended', {
    runId,
    checked: result.checked,
    inSync,
    fixed: findings.filter((f) => f.outcome === 'fixed').length,
    reported: findings.filter((f) => f.outcome === 'reported').length,
    failed: findings.filter((f) => f.outcome === 'failed').length,
  });
  return result;
}

function overrides(input: unknown): SweepInput {
  if (typeof input !== 'object' || input === null) return {};
  const { concurrency, delayBetweenAccountsMs } = input as Record<string, unknown>;
  const result: SweepInput = {};
  if (typeof concurrency === 'number' && Number.isInteger(concurrency) && concurrency >= 1)
    result.concurrency = Math.min(concurrency, 20);
  if (typeof delayBetweenAccountsMs === 'number' && delayBetweenAccountsMs >= 0)
    result.delayBetweenAccountsMs = delayBetweenAccountsMs;
  return result;
}

async function activeAccounts(deps: Deps): Promise<AccountDesiredState[]> {
  const accounts: AccountDesiredState[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.accounts.list(100, cursor);
    accounts.push(...page.items.filter((account) => account.status === 'active'));
    cursor = page.cursor;
  } while (cursor);
  return accounts;
}

const sweepRecordId = (runId: string, accountId: string) => `sweep-${runId}-${accountId}`;

/** One account: every aspect checked (a failing one does not stop the rest), then recorded. Undefined: in sync. */
async function sweepAccount(
  deps: Deps,
  account: AccountDesiredState,
  runId: string,
  mode: 'fix' | 'report',
): Promise<SweepFinding | undefined> {
  const { accountId } = account;
  try {
    return await withAccountLock(deps, accountId, async () => {
      // Read again under the lock: an event may have closed it meanwhile.
      const desired = await deps.accounts.get(accountId);
      if (desired?.status !== 'active') return undefined;
      return checkAccount(deps, desired, runId, mode);
    });
  } catch (error) {
    deps.log.warn('drift sweep could not check an account', { runId, accountId, error: errorText(error) });
    const failure = `could not check the account: ${describeFailure(deps, error)}`;
    await deps.drift
      .record(accountId, { record: sweepRecord(runId, account, [], [failure], mode) })
      .catch(() => undefined);
    return {
      accountId,
      accountName: account.accountName,
      outcome: 'failed',
      changes: [],
      failures: [failure],
    };
  }
}

async function checkAccount(
  deps: Deps,
  desired: AccountDesiredState,
  runId: string,
  mode: 'fix' | 'report',
): Promise<SweepFinding | undefined> {
  const dryRun = mode === 'report';
  const { accountId } = desired;
  const checks: AspectCheck[] = [];
  const failures: string[] = [];
  const aspects: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>> = {};
  const run = async (aspect: DriftAspect, check: () => Promise<AspectCheck | undefined>) => {
    try {
      const result = await check();
      if (!result) return;
      checks.push(result);
      // Fixed (or put back meanwhile), the aspect is as it should be now; in a dry run it stays drifted.
      aspects[aspect] = result.drifted && dryRun ? 'drifted' : 'in-sync';
    } catch (error) {
      deps.log.warn('drift sweep could not check an aspect', { accountId, aspect, error: errorText(error) });
      aspects[aspect] = 'drifted';
      failures.push(`${aspect}: ${describeFailure(deps, error)}`);
    }
  };

  await run('organizationalUnit', () => checkOrganizationalUnit(deps, desired, dryRun));
  await run('tags', () => checkTags(deps, desired, dryRun));
  await run('baseline', async () => {
    const { output, changeLog } = await convergeBaseline(deps, accountId, desired.accountName, { dryRun });
    if (!dryRun && output.version !== desired.baselineVersion)
      await deps.accounts.setBaselineVersion(accountId, output.version);
    return {
      aspect: 'baseline',
      drifted: changeLog.length > 0,
      found: changeLog.length > 0 ? `the IAM baseline differs (${changeLog.length} difference(s))` : '',
      changes: changeLog,
    };
  });
  await run('budget', async () => {
    const { changeLog } = await convergeBudget(
      deps,
      accountId,
      {
        accountName: desired.accountName,
        owner: desired.owner,
        budget: { monthlyLimitUsd: desired.budget.monthlyLimitUsd, thresholds: desired.budget.thresholds },
      },
      { dryRun },
    );
    return {
      aspect: 'budget',
      drifted: changeLog.length > 0,
      found: changeLog.length > 0 ? `the budget differs (${changeLog.length} difference(s))` : '',
      changes: changeLog,
    };
  });
  if (desired.dns && deps.config.dns) {
    const dns = desired.dns;
    await run('dns', async () => {
      const result = await connectVpcToSharedZone(
        deps,
        accountId,
        { id: dns.vpcId, region: dns.region },
        { dryRun },
      );
      const missing = result.action === 'associated' || result.action === 'would-associate';
      const association = associationText(
        { vpcId: dns.vpcId, region: dns.region },
        result.hostedZoneId ?? '',
      );
      return {
        aspect: 'dns',
        drifted: missing,
        found: missing ? `the ${association} is not associated` : '',
        changes: !missing
          ? []
          : dryRun
            ? [`would associate the ${association}`]
            : [`associated the ${association}`],
      };
    });
  }

  // Drifted and put back, or reported; drifted with nothing left to change was put back meanwhile.
  const drifted = checks.filter((check) => check.drifted && (dryRun || check.changes.length > 0));
  const changes = drifted.flatMap((check) => check.changes);
  const record =
    drifted.length > 0 || failures.length > 0
      ? sweepRecord(runId, desired, drifted, failures, mode)
      : undefined;
  await deps.drift.record(accountId, { aspects, ...(record ? { record } : {}) });
  if (!record) return undefined;
  return {
    accountId,
    accountName: desired.accountName,
    outcome: record.outcome as SweepFinding['outcome'],
    changes,
    failures,
  };
}

function describeFailure(deps: Deps, error: unknown): string {
  if (error instanceof AccountNotReadyError) {
    return `Vend cannot assume ${deps.config.organization.accessRoleName} in the account`;
  }
  return failureWords(error);
}

function sweepRecord(
  runId: string,
  account: AccountDesiredState,
  drifted: AspectCheck[],
  failures: string[],
  mode: 'fix' | 'report',
): DriftRecord {
  const changes = drifted.flatMap((check) => check.changes);
  const outcome = failures.length > 0 ? 'failed' : mode === 'report' ? 'reported' : 'fixed';
  const found = drifted.map((check) => check.found).filter((text) => text !== '');
  const now = new Date().toISOString();
  return {
    id: sweepRecordId(runId, account.accountId),
    source: 'sweep',
    aspects: drifted.map((check) => check.aspect),
    what: found.length > 0 ? `found by the drift sweep: ${found.join('; ')}` : 'found by the drift sweep',
    at: now,
    outcome,
    ...(changes.length > 0 ? { action: changes.join('; ') } : {}),
    ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
    recordedAt: now,
  };
}
