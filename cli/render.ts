import type { DriftRecordView, DriftView, DryRunPlan, RequestView, StepView } from './contract.ts';
import type { VendIo } from './io.ts';

/** Where output goes: human lines, or with `--json` only the API's JSON on stdout. Errors go to stderr. */
export class Output {
  constructor(
    private readonly io: VendIo,
    readonly json: boolean,
  ) {}
  /** Human output: nothing on stdout in --json mode. */
  line(text = ''): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }
  raw(text: string): void {
    if (!this.json) this.io.stdout.write(text);
  }
  /** The API's JSON: on stdout in --json mode only. */
  data(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
  error(text: string): void {
    this.io.stderr.write(`${text}\n`);
  }
}

/** Each step's place in the workflow, to print them in that order; a step the API adds fails to compile here. */
const STEP_RANK: Record<StepView['name'], number> = {
  createAccount: 0,
  waitForAccount: 1,
  applyBaseline: 2,
  applyBudget: 3,
  connectDns: 4,
  grantAccess: 5,
  moveAccount: 6,
  notify: 7,
};

type DriftAspect = DriftRecordView['aspects'][number];

const ASPECT_NAMES: Record<DriftAspect, string> = {
  organizationalUnit: 'OU',
  tags: 'tags',
  membership: 'membership',
  baseline: 'baseline',
  budget: 'budget',
  dns: 'DNS',
  identityCenter: 'Identity Center',
  guardrails: 'guardrails',
};

/** `2026-11-22T03:14:44.873Z` -> `03:14:44`, in UTC. */
export function clock(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().slice(11, 19);
}

/** `2026-11-22T03:14:44.873Z` -> `2026-11-22 03:14:44 UTC`. */
export function dateTime(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** How long a step took: `<1s`, `6s`, `2m05s`, `1h02m`; empty while it runs. */
export function took(step: StepView): string {
  if (!step.endedAt) return '';
  const ms = new Date(step.endedAt).getTime() - new Date(step.startedAt).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '';
  const seconds = Math.round(ms / 1000);
  if (seconds === 0) return '<1s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** Rows as lines of columns two spaces apart, the last column unpadded. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The steps in workflow order, those of one place by start time. */
export function orderedSteps(steps: StepView[]): StepView[] {
  const rank = (name: StepView['name']) => STEP_RANK[name] ?? Object.keys(STEP_RANK).length;
  return [...(steps ?? [])].sort(
    (a, b) => rank(a.name) - rank(b.name) || a.startedAt.localeCompare(b.startedAt),
  );
}

function requesterText(requester: RequestView['requester'] | undefined): string | undefined {
  if (!requester) return undefined;
  const { principal, slackUserId } = requester;
  return (
    [principal, slackUserId ? `Slack ${slackUserId}` : undefined].filter(Boolean).join(', ') || undefined
  );
}

/** Who decided, in words: the principal's ARN, or the Slack member. */
function decider(by: string | undefined): string {
  if (!by) return 'an approver';
  return by.startsWith('slack:') ? `Slack user ${by.slice('slack:'.length)}` : by;
}

/**
 * A request's approval in words: awaiting whom until when, or who decided, when, through what and why; undefined
 * for a request that needed none.
 */
export function approvalText(request: RequestView): string | undefined {
  const approval = request.approval;
  if (!approval) return undefined;
  const decision = approval.decision;
  if (!decision) {
    return `awaiting a decision by ${approval.approvers.join(', ') || 'an approver'} until ${dateTime(approval.expiresAt)}`;
  }
  if (decision.outcome === 'expired') {
    return `expired at ${dateTime(decision.at)}: nobody decided by ${dateTime(approval.expiresAt)}`;
  }
  const via = decision.via === 'slack' ? ' in Slack' : '';
  return `${decision.outcome} by ${decider(decision.by)}${via} at ${dateTime(decision.at)}${decision.reason ? `: ${decision.reason}` : ''}`;
}

/** `approval: …` (see `approvalText`), or undefined. */
export function approvalLine(request: RequestView): string | undefined {
  const text = approvalText(request);
  return text === undefined ? undefined : `approval: ${text}`;
}

/** The request and each of its steps, as `vend status` prints it. */
export function describeRequest(request: RequestView): string[] {
  const ou = request.organizationalUnit;
  const head = table(
    [
      ['account', `${request.accountName}${request.accountId ? ` (${request.accountId})` : ''}`],
      ['email', request.email],
      ['OU', ou ? `${ou.path}${ou.id && ou.id !== ou.path ? ` (${ou.id})` : ''}` : ''],
      ['owner', request.owner],
      ['requester', requesterText(request.requester) ?? ''],
      ['approval', approvalText(request) ?? ''],
      ['created', dateTime(request.createdAt)],
      ['updated', dateTime(request.updatedAt)],
    ]
      .filter(([, value]) => value)
      .map(([key, value]) => [`  ${key}`, value!]),
  );
  const lines = [`Request ${request.requestId}: ${request.status}`, ...head];
  const steps = orderedSteps(request.steps);
  if (steps.length > 0) {
    lines.push('');
    lines.push(
      ...table([
        ['step', 'status', 'started', 'ended', 'took', 'tries', 'detail'],
        ...steps.map((step) => [
          step.name,
          step.status,
          clock(step.startedAt),
          clock(step.endedAt),
          took(step),
          String(step.attempts),
          step.detail ?? '',
        ]),
      ]),
    );
    lines.push('(times in UTC)');
  } else {
    lines.push('', 'No step has started yet.');
  }
  const notification = request.notification;
  if (notification?.status) {
    lines.push(
      '',
      `Slack: ${notification.kind ? `${notification.kind} message ` : ''}${notification.status}${notification.at ? ` at ${dateTime(notification.at)}` : ''}`,
    );
  }
  return lines;
}

/**
 * What to do next, under the request: the account, the failure and its advice, the decision awaited (and how an
 * approver makes it) or made, or how to follow it. `apiUrlFlag` is repeated in the commands it shows.
 */
export function outcome(request: RequestView, followHint: string, apiUrlFlag = ''): string[] {
  const approval = request.approval;
  if (request.status === 'awaiting-approval') {
    const id = request.requestId;
    return [
      `Waiting for approval by ${approval?.approvers.join(', ') || 'an approver'}${approval ? ` until ${dateTime(approval.expiresAt)}` : ''}; nothing is created until then.`,
      `An approver decides with:  npm run vend -- approve ${id}${apiUrlFlag}   or   npm run vend -- deny ${id} --reason <why>${apiUrlFlag}`,
      `Follow it: ${followHint}`,
    ];
  }
  if (request.status === 'denied') {
    const decision = approval?.decision;
    return [
      `Denied by ${decider(decision?.by)}${decision?.reason ? `: ${decision.reason}` : '.'}`,
      'What to do: ask again with a changed request if you still need it; its name and email are free again.',
    ];
  }
  if (request.status === 'expired') {
    return [
      `Expired: nobody decided${approval ? ` by ${dateTime(approval.expiresAt)}` : ''}.`,
      `What to do: ask again if you still need it (its name and email are free again), and let an approver${approval?.approvers.length ? ` (${approval.approvers.join(', ')})` : ''} know.`,
    ];
  }
  if (request.status === 'succeeded') {
    return [
      `Account ${request.accountId ?? ''} (${request.accountName}) is ready in ${request.organizationalUnit?.path ?? 'its OU'}.`,
    ];
  }
  if (request.status === 'failed') {
    const failure = request.failure;
    if (!failure) return ['The request failed.'];
    return [`Failed at ${failure.step}: ${failure.reason}`, `What to do: ${failure.advice}`];
  }
  return [`Still ${request.status}. Follow it: ${followHint}`];
}

/** `drifted: OU, tags (last checked …)`, `in sync (last checked …)`, `never checked`. */
export function driftSummary(drift: DriftView): string {
  const aspects = Object.entries(drift.aspects ?? {}) as [DriftAspect, DriftView['aspects'][DriftAspect]][];
  if (drift.status === 'unknown' || aspects.length === 0) return 'never checked';
  const drifted = aspects
    .filter(([, aspect]) => aspect?.status === 'drifted')
    .map(([name]) => ASPECT_NAMES[name] ?? name);
  const last = aspects
    .map(([, aspect]) => aspect?.checkedAt ?? '')
    .sort()
    .at(-1);
  const checked = last ? ` (last checked ${dateTime(last)})` : '';
  return drift.status === 'drifted' ? `drifted: ${drifted.join(', ')}${checked}` : `in sync${checked}`;
}

/** Drift entries as a table: when, what, who, and what became of it. */
export function driftTable(entries: DriftRecordView[]): string[] {
  return table([
    ['WHEN', 'OUTCOME', 'WHAT', 'BY', 'DONE'],
    ...entries.map((entry) => [
      dateTime(entry.at),
      entry.outcome,
      `${entry.eventName ? `${entry.eventName}: ` : entry.source === 'sweep' ? 'sweep: ' : ''}${entry.what}`,
      entry.by ?? (entry.source === 'sweep' ? '(found by the sweep)' : ''),
      entry.outcome === 'failed'
        ? `failed: ${entry.reason ?? ''}${entry.action ? `; done: ${entry.action}` : ''}`
        : (entry.action ?? ''),
    ]),
  ]);
}

/** A dry run's plan, as `vend request --dry-run` prints it. */
export function renderPlan({ plan }: DryRunPlan): string[] {
  const lines = [
    `Dry run: the request passes every check; nothing was asked for.`,
    '',
    ...table([
      ['Account', `${plan.accountName} (${plan.email})`],
      ['OU', `${plan.organizationalUnit.path} (${plan.organizationalUnit.id})`],
      [
        'Profile',
        plan.profile.description ? `${plan.profile.name}: ${plan.profile.description}` : plan.profile.name,
      ],
      ['Owner', plan.owner],
      [
        'Approval',
        plan.approval.required
          ? `required, by ${plan.approval.approvers.map((a) => a.entry).join(' or ')}${plan.approval.expiresAfterHours ? ` within ${plan.approval.expiresAfterHours} hours` : ''}`
          : 'not required',
      ],
      [
        'Roles',
        plan.baseline.roles.map((role) => `${role.name} (trusted by ${role.trustedAccountId})`).join(', ') ||
          'none',
      ],
      ['Password policy', plan.baseline.passwordPolicy ? 'the organization’s' : 'none'],
      ...(plan.baseline.alias ? [['Alias', plan.baseline.alias]] : []),
      [
        'Budget',
        `${plan.budget.monthlyLimitUsd} USD a month, alerts at ${plan.budget.thresholds.map((t) => `${t.percent}% ${t.type}`).join(', ')} to ${plan.budget.subscribers.join(', ')}`,
      ],
      [
        'Tags',
        Object.entries(plan.tags)
          .map(([key, value]) => `${key}=${value}`)
          .join(', ') || 'none',
      ],
      [
        'DNS',
        plan.dns
          ? `${plan.dns.vpc ? `${plan.dns.vpc.id} (${plan.dns.vpc.region})` : 'its default VPC'} joins zone ${plan.dns.hostedZoneId}`
          : 'none',
      ],
      ['Guardrails', plan.guardrails.join(', ') || 'none'],
    ]),
  ];
  return lines;
}
