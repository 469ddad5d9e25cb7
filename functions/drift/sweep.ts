import { randomUUID } from 'node:crypto';
import { convergeBaseline, rollOutRoles } from '../domain/baseline.ts';
import { convergeBudget } from '../domain/budget.ts';
import { associationText, connectVpcToSharedZone } from '../domain/dns.ts';
import { convergeAccess } from '../domain/identity-center.ts';
import { type ProfileRollout, profileOfAccount, profileRollout } from '../domain/profile.ts';
import { securityDefaultsOf } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { AccountNotReadyError } from '../shared/errors.ts';
import { METRIC } from '../shared/metrics-names.ts';
import type { AccountDesiredState, DriftAspect, DriftRecord, SweepFinding } from '../shared/model.ts';
import {
  type AspectCheck,
  announce,
  checkGuardrails,
  checkOrganizationalUnit,
  checkTags,
  departedStatus,
  errorText,
  failureWords,
  type Incident,
  incidentOf,
  organizationState,
  withAccountLock,
} from './checks.ts';
import { sweepMessage } from './messages.ts';

/** Overrides of `config.drift.sweep` for one run (the local pipeline's `sweep()`, tests). */
export interface SweepInput {
  concurrency?: number;
  delayBetweenAccountsMs?: number;
  /** Accounts read from the registry per page (1-100). @default SWEEP_PAGE_SIZE */
  pageSize?: number;
}

/** How an invocation of the sweep is told to stop: the local pipeline shutting down, the Lambda's time running out. */
export interface SweepControl {
  signal?: AbortSignal;
  /** The invocation's time left in ms (the Lambda context's `getRemainingTimeInMillis`); no deadline without it. */
  remainingTimeMs?: () => number;
}

/**
 * The time an invocation keeps when it stops taking accounts: checking one account (its lock wait included) and
 * saving the checkpoint fit in it, so the run stops cleanly before Lambda ends the invocation.
 */
export const SWEEP_STOP_MARGIN_MS = 3 * 60_000;
/** How long an invocation without a deadline (the local pipeline) holds the run before another may take it over. */
export const SWEEP_LEASE_MS = 15 * 60_000;
/** Accounts read from the registry per page: the checkpoint's cursor moves a page at a time. */
export const SWEEP_PAGE_SIZE = 50;

export interface SweepResult {
  /**
   * `swept`: the run ended, every account checked; `stopped`: the invocation stopped before the end, and the next
   * one resumes the run from its checkpoint; `busy`: another invocation is working on the run.
   */
  outcome: 'swept' | 'stopped' | 'busy';
  mode: 'fix' | 'report';
  runId: string;
  /** Active vended accounts checked (or attempted) in the run so far. */
  checked: number;
  inSync: number;
  /** The accounts that differed or could not be checked, with what was done. */
  findings: SweepFinding[];
  /** Findings beyond the ones a run keeps (`SWEEP_FINDINGS_KEPT`), by outcome. */
  omitted?: Record<SweepFinding['outcome'], number>;
  announcement?: DriftRecord['announcement'];
}

/**
 * The periodic drift sweep: for every active vended account, checks whether it is still an open member of the
 * organization (DescribeAccount), what no Organizations event tells of (the IAM baseline, the budget, the DNS
 * association) and what an event may have been missed for (its OU, tags and service control policies), with the same idempotent code the
 * workflow converges with, under the same per-account lock as the drift events. Each account is kept at the
 * profile recorded with it (its baseline roles, its alerts); when the configuration's profile for its OU has changed
 * since, the sweep rolls the change out and records the new profile (`rollOut`). In fix mode it puts back what
 * differs; in report mode it changes nothing, not even the registry (the converging functions run as dry runs), and
 * reports what it would change. What it found is recorded in each account's drift history and told on Slack in one message per run
 * (none when everything is in sync). Paced: `concurrency` accounts at a time, each worker pausing
 * `delayBetweenAccountsMs` between accounts; one account failing does not stop the others.
 *
 * A run spans invocations: its checkpoint in the registry (`deps.sweep`) holds the page of the accounts list it
 * is on and the accounts of that page already checked. An invocation stops taking accounts when it is told to stop
 * or when less than `SWEEP_STOP_MARGIN_MS` of its time is left, lets the accounts in hand finish, and gives the
 * run back; the next invocation resumes it where it stopped, and no account is checked twice in one run.
 */
export async function sweepDrift(
  deps: Deps,
  input: unknown = {},
  control: SweepControl = {},
): Promise<SweepResult> {
  const settings = { ...deps.config.drift.sweep, ...overrides(input) };
  const mode = deps.config.drift.mode;
  const owner = randomUUID();
  const { remainingTimeMs } = control;
  const leaseUntil = Date.now() + (remainingTimeMs ? remainingTimeMs() : SWEEP_LEASE_MS);
  const claim = await deps.sweep.claim(randomUUID(), owner, leaseUntil);
  if (claim.kind === 'busy') {
    deps.log.info('drift sweep already running elsewhere', { runId: claim.runId });
    return { outcome: 'busy', mode, runId: claim.runId, checked: 0, inSync: 0, findings: [] };
  }
  const { runId } = claim.checkpoint;
  deps.log.info(`drift sweep ${claim.kind}`, { runId, mode, ...settings });

  const mustStop = () =>
    control.signal?.aborted === true ||
    (remainingTimeMs !== undefined && remainingTimeMs() < SWEEP_STOP_MARGIN_MS);
  let stopped = false;
  let lost = false;
  let cursor = claim.checkpoint.cursor;
  let done = new Set(claim.checkpoint.done);
  for (;;) {
    const page = await deps.accounts.list(settings.pageSize ?? SWEEP_PAGE_SIZE, cursor);
    const queue = page.items.filter((account) => account.status === 'active' && !done.has(account.accountId));
    const worker = async () => {
      for (let first = true; ; first = false) {
        if (stopped || lost) return;
        if (mustStop()) {
          stopped = true;
          return;
        }
        const account = queue.shift();
        if (!account) return;
        if (!first && settings.delayBetweenAccountsMs > 0) await deps.sleep(settings.delayBetweenAccountsMs);
        const finding = await sweepAccount(deps, account, runId, mode);
        if (finding) countDrift(deps, finding);
        if (!(await deps.sweep.markChecked(runId, owner, account.accountId, finding))) lost = true;
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(settings.concurrency, queue.length)) }, worker),
    );
    if (stopped || lost || !page.cursor) break;
    if (!(await deps.sweep.nextPage(runId, owner, page.cursor))) {
      lost = true;
      break;
    }
    cursor = page.cursor;
    done = new Set();
  }

  if (stopped || lost) {
    if (stopped) await deps.sweep.release(runId, owner);
    const checkpoint = await deps.sweep.get();
    const progress = checkpoint?.runId === runId ? checkpoint : undefined;
    deps.log.info(stopped ? 'drift sweep stopped: the next run resumes it' : 'drift sweep taken over', {
      runId,
      checked: progress?.checked ?? 0,
    });
    return {
      outcome: stopped ? 'stopped' : 'busy',
      mode,
      runId,
      checked: progress?.checked ?? 0,
      inSync: progress?.inSync ?? 0,
      findings: progress?.findings ?? [],
    };
  }

  const final = await deps.sweep.finish(runId, owner);
  const findings = final?.findings ?? [];
  const checked = final?.checked ?? 0;
  const inSync = final?.inSync ?? 0;
  const omitted = final?.omitted ?? { fixed: 0, reported: 0, failed: 0 };
  const result: SweepResult = { outcome: 'swept', mode, runId, checked, inSync, findings };
  if (omitted.fixed + omitted.reported + omitted.failed > 0) result.omitted = omitted;
  if (checked > inSync) {
    result.announcement = await announce(
      deps,
      { id: `sweep#${runId}`, kind: 'sweep' },
      sweepMessage({ mode, checked, findings, omitted }),
      findings.map((finding) => ({
        accountId: finding.accountId,
        recordId: sweepRecordId(runId, finding.accountId),
      })),
    );
  }
  deps.log.info('drift sweep ended', {
    runId,
    checked,
    inSync,
    fixed: findings.filter((f) => f.outcome === 'fixed').length,
    reported: findings.filter((f) => f.outcome === 'reported').length,
    failed: findings.filter((f) => f.outcome === 'failed').length,
  });
  return result;
}

function overrides(input: unknown): SweepInput {
  if (typeof input !== 'object' || input === null) return {};
  const { concurrency, delayBetweenAccountsMs, pageSize } = input as Record<string, unknown>;
  const result: SweepInput = {};
  if (typeof concurrency === 'number' && Number.isInteger(concurrency) && concurrency >= 1)
    result.concurrency = Math.min(concurrency, 20);
  if (typeof delayBetweenAccountsMs === 'number' && delayBetweenAccountsMs >= 0)
    result.delayBetweenAccountsMs = delayBetweenAccountsMs;
  if (typeof pageSize === 'number' && Number.isInteger(pageSize) && pageSize >= 1)
    result.pageSize = Math.min(pageSize, 100);
  return result;
}

/** What a finding adds to the drift metrics: detected when the account differed, fixed when it was put back. */
function countDrift(deps: Deps, finding: SweepFinding): void {
  if (finding.outcome === 'failed' && finding.changes.length === 0) return;
  deps.metrics.count(METRIC.driftDetected);
  if (finding.outcome === 'fixed') deps.metrics.count(METRIC.driftFixed);
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
  const { accountId } = desired;
  const departed = await checkMembership(deps, desired, runId);
  if (departed) return departed;
  // On hold or quarantined (incident response): checked as in report mode, and told once.
  const incident = await incidentOf(deps, desired);
  const dryRun = mode === 'report' || incident !== undefined;
  const checks: AspectCheck[] = [];
  const failures: string[] = [];
  const aspects: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>> = {};
  const run = async (aspect: DriftAspect, check: () => Promise<AspectCheck | undefined>) => {
    try {
      const result = await check();
      if (!result) return true;
      checks.push(result);
      // Fixed (or put back meanwhile), the aspect is as it should be now; in a dry run it stays drifted. An aspect
      // checked twice (its drift, then a profile's rollout) is drifted when either check left it so.
      if (aspects[aspect] !== 'drifted') aspects[aspect] = result.drifted && dryRun ? 'drifted' : 'in-sync';
      return true;
    } catch (error) {
      deps.log.warn('drift sweep could not check an aspect', { accountId, aspect, error: errorText(error) });
      aspects[aspect] = 'drifted';
      failures.push(`${aspect}: ${describeFailure(deps, error)}`);
      return false;
    }
  };

  await run('organizationalUnit', () => checkOrganizationalUnit(deps, desired, dryRun));
  await run('tags', () => checkTags(deps, desired, dryRun));
  // The account is kept at the profile recorded with it; a change of the OU's profile since is rolled out below.
  const rollout = profileRollout(deps, desired);
  const guardrailsChecked = await run('guardrails', () => checkGuardrails(deps, desired, dryRun, rollout));
  // A quarantined account is not entered: incident response may have locked it down, and Vend must not touch it.
  if (incident?.outcome === 'quarantined')
    return finishCheck(deps, desired, runId, mode, { checks, failures, aspects }, incident);
  const kept = profileOfAccount(deps, desired).baselineRoles.filter(
    (name) => !rollout?.retireRoles.includes(name),
  );
  await run('baseline', async () => {
    const { output, changeLog } = await convergeBaseline(deps, accountId, desired.accountName, {
      dryRun,
      roles: kept,
      securityDefaults: securityDefaultsOf(deps.config, rollout?.to ?? profileOfAccount(deps, desired)),
    });
    if (!dryRun && output.version !== desired.baselineVersion)
      await deps.accounts.setBaselineVersion(accountId, output.version);
    return {
      aspect: 'baseline',
      drifted: changeLog.length > 0,
      found: changeLog.length > 0 ? `the baseline differs (${changeLog.length} difference(s))` : '',
      changes: changeLog,
    };
  });
  let budgetChanges: string[] = [];
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
    budgetChanges = changeLog;
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

  if (deps.config.identityCenter) {
    // The assignments of the profile the account is kept at, or is being rolled out to.
    const profile = rollout?.to ?? profileOfAccount(deps, desired);
    await run('identityCenter', async () => {
      const { changeLog } = await convergeAccess(
        deps,
        accountId,
        {
          assignments: profile.identityCenter?.assignments ?? [],
          owner: desired.owner,
          ...(desired.requester ? { requester: desired.requester } : {}),
        },
        { dryRun },
      );
      return {
        aspect: 'identityCenter',
        drifted: changeLog.length > 0,
        found:
          changeLog.length > 0
            ? `the Identity Center access differs (${changeLog.length} difference(s))`
            : '',
        changes: changeLog,
      };
    });
  }

  if (rollout) await rollOut(deps, desired, rollout, { dryRun, run, budgetChanges, guardrailsChecked });
  else if (!dryRun && !desired.profile && failures.length === 0) {
    // Recorded before profiles were: from now on it is kept at the profile it was just converged to.
    await deps.accounts.setProfile(accountId, profileOfAccount(deps, desired));
  }

  return finishCheck(deps, desired, runId, mode, { checks, failures, aspects }, incident);
}

/**
 * Records what checking an account found and makes its finding. Drifted and put back, or reported; drifted with
 * nothing left to change was put back meanwhile. For an account on hold or quarantined the finding is told once:
 * while the sweep finds the same as it last recorded for the incident, it records the aspects only.
 */
async function finishCheck(
  deps: Deps,
  desired: AccountDesiredState,
  runId: string,
  mode: 'fix' | 'report',
  found: {
    checks: AspectCheck[];
    failures: string[];
    aspects: Partial<Record<DriftAspect, 'in-sync' | 'drifted'>>;
  },
  incident: Incident | undefined,
): Promise<SweepFinding | undefined> {
  const { accountId } = desired;
  const { checks, failures, aspects } = found;
  const dryRun = mode === 'report' || incident !== undefined;
  const drifted = checks.filter((check) => check.drifted && (dryRun || check.changes.length > 0));
  const changes = drifted.flatMap((check) => check.changes);
  let record =
    drifted.length > 0 || failures.length > 0
      ? sweepRecord(runId, desired, drifted, failures, mode, incident)
      : undefined;
  if (record && incident && (await toldAlready(deps, accountId, record))) record = undefined;
  await deps.drift.record(accountId, { aspects, ...(record ? { record } : {}) });
  if (!record) return undefined;
  return {
    accountId,
    accountName: desired.accountName,
    // Held and quarantined accounts count as drifted and left as they are, with the reason first.
    outcome:
      record.outcome === 'held' || record.outcome === 'quarantined'
        ? 'reported'
        : (record.outcome as SweepFinding['outcome']),
    changes: incident ? [`left as it is: ${incident.why}`, ...changes] : changes,
    failures,
  };
}

/** Whether the latest sweep entry of the account's history told this very finding (same outcome, what and action). */
async function toldAlready(deps: Deps, accountId: string, record: DriftRecord): Promise<boolean> {
  const last = (await deps.drift.get(accountId))?.history.find((entry) => entry.source === 'sweep');
  return (
    last !== undefined &&
    last.outcome === record.outcome &&
    last.what === record.what &&
    last.action === record.action
  );
}

/**
 * Rolls a change of the account's profile out (`profileRollout`): creates the roles the new profile lists, deletes
 * the ones it no longer lists that Vend created, raises the budget alerts to its floor; then records the new
 * profile (and alerts) with the account, so that later sweeps keep the account at it. With `dryRun` (report mode)
 * it only reports what it would do, and records nothing: the next sweep in fix mode rolls it out. Changes are told
 * as `profile <name> changed: <changes>`, one line per aspect.
 */
async function rollOut(
  deps: Deps,
  desired: AccountDesiredState,
  rollout: ProfileRollout,
  context: {
    dryRun: boolean;
    run: (aspect: DriftAspect, check: () => Promise<AspectCheck | undefined>) => Promise<boolean>;
    /** What the budget's drift check did or would do: a dry run's rollout plan repeats it, and leaves it out. */
    budgetChanges: readonly string[];
    /** Whether the guardrails check (which rolls out the profile's policies) went through: else not recorded yet. */
    guardrailsChecked: boolean;
  },
): Promise<void> {
  const { accountId } = desired;
  const { dryRun, run } = context;
  const told = (aspect: DriftAspect, changes: string[]): AspectCheck => ({
    aspect,
    drifted: changes.length > 0,
    found: changes.length > 0 ? rollout.what : '',
    changes: changes.length > 0 ? [`profile ${rollout.to.name} changed: ${changes.join(', ')}`] : [],
  });
  let rolledOut = context.guardrailsChecked;
  if (rollout.addRoles.length > 0 || rollout.retireRoles.length > 0) {
    rolledOut &&= await run('baseline', async () =>
      told(
        'baseline',
        await rollOutRoles(
          deps,
          accountId,
          { create: rollout.addRoles, retire: rollout.retireRoles },
          { dryRun },
        ),
      ),
    );
  }
  if (rollout.thresholdsChanged) {
    rolledOut &&= await run('budget', async () => {
      const { changeLog } = await convergeBudget(
        deps,
        accountId,
        {
          accountName: desired.accountName,
          owner: desired.owner,
          budget: { monthlyLimitUsd: desired.budget.monthlyLimitUsd, thresholds: rollout.thresholds },
        },
        { dryRun },
      );
      const repeated = new Set(dryRun ? context.budgetChanges : []);
      return told(
        'budget',
        changeLog.filter((line) => !repeated.has(line)),
      );
    });
  }
  if (dryRun || !rolledOut) return;
  await deps.accounts.setProfile(
    accountId,
    rollout.to,
    rollout.thresholdsChanged ? rollout.thresholds : undefined,
  );
  deps.log.info('profile rolled out', { accountId, profile: rollout.to.name });
}

/**
 * An account closed from inside (by its root user), suspended, closing, or gone from the organization (it left,
 * or was removed) is membership drift Vend cannot undo: reported, and the registry shows the account closed or
 * removed, so that nothing checks or fixes it any more.
 */
async function checkMembership(
  deps: Deps,
  desired: AccountDesiredState,
  runId: string,
): Promise<SweepFinding | undefined> {
  const { accountId } = desired;
  const state = await organizationState(deps, accountId);
  const status = departedStatus(state);
  if (!status) return undefined;
  await deps.accounts.setStatus(accountId, status);
  const what =
    status === 'removed'
      ? 'found by the drift sweep: the account is no longer in the organization'
      : `found by the drift sweep: the account is ${state.toLowerCase().replace('_', ' ')}`;
  const action = `the registry now shows the account ${status}`;
  const now = new Date().toISOString();
  await deps.drift.record(accountId, {
    aspects: { membership: 'drifted' },
    record: {
      id: sweepRecordId(runId, accountId),
      source: 'sweep',
      aspects: ['membership'],
      what,
      at: now,
      outcome: 'reported',
      action,
      recordedAt: now,
    },
  });
  return {
    accountId,
    accountName: desired.accountName,
    outcome: 'reported',
    changes: [`${what.replace('found by the drift sweep: ', '')}: ${action}`],
    failures: [],
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
  incident?: Incident,
): DriftRecord {
  const changes = drifted.flatMap((check) => check.changes);
  const outcome =
    failures.length > 0 ? 'failed' : (incident?.outcome ?? (mode === 'report' ? 'reported' : 'fixed'));
  const found = [...new Set(drifted.map((check) => check.found).filter((text) => text !== ''))];
  if (incident) found.push(incident.why);
  const now = new Date().toISOString();
  return {
    id: sweepRecordId(runId, account.accountId),
    source: 'sweep',
    aspects: [...new Set(drifted.map((check) => check.aspect))],
    what: found.length > 0 ? `found by the drift sweep: ${found.join('; ')}` : 'found by the drift sweep',
    at: now,
    outcome,
    ...(changes.length > 0 ? { action: changes.join('; ') } : {}),
    ...(failures.length > 0 ? { reason: failures.join('; ') } : {}),
    recordedAt: now,
  };
}
