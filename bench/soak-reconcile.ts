/**
 * The soak's reconciliation: what each requester was told, the registry, the Slack messages and the organization
 * itself must all agree, and nothing may be lost or done twice.
 */

import { accountAlias } from '../functions/domain/alias.ts';
import { budgetName } from '../functions/domain/budget.ts';
import type { VendConfig } from '../functions/shared/config.ts';
import type { RequestRecord } from '../functions/shared/model.ts';
import type { LocalPipeline } from '../local/pipeline.ts';
import type { ReceivedSlackMessage } from '../local/slack-sink.ts';
import type { SoakPlan } from './soak-plan.ts';

/** The final answer a client got for one planned request. */
export interface Answer {
  status: number;
  requestId?: string | undefined;
  replayed?: boolean;
  field?: string | undefined;
  message?: string | undefined;
  attempts: number;
}

interface Check {
  name: string;
  expected: number | string;
  actual: number | string;
  /** A few offenders, to start looking from. */
  examples: string[];
}

export interface Reconciliation {
  lines: string[];
  passed: number;
  failed: number;
}

const REQUEST_ID = /req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

export async function reconcile(input: {
  plan: SoakPlan;
  answers: Map<number, Answer>;
  slack: ReceivedSlackMessage[];
  pipeline: LocalPipeline;
  config: VendConfig;
}): Promise<Reconciliation> {
  const { plan, answers, slack, pipeline, config } = input;
  const checks: Check[] = [];
  const check = (name: string, expected: number | string, actual: number | string, examples: string[] = []) =>
    checks.push({ name, expected, actual, examples: examples.slice(0, 3) });
  const byIndex = (index: number) => answers.get(index);

  // What the requesters were told.
  const unanswered = plan.requests.filter((r) => !byIndex(r.index) || byIndex(r.index)!.status === 0);
  check(
    'every request answered (2xx or 4xx)',
    plan.requests.length,
    plan.requests.length - unanswered.length,
    unanswered.map((r) => r.key),
  );
  const originals = plan.requests.filter((r) => r.kind === 'original');
  const reusedOriginals = new Set(plan.requests.filter((r) => r.kind === 'email-reuse').map((r) => r.of!));
  const plainOriginals = originals.filter((r) => !reusedOriginals.has(r.index));
  const notAccepted = plainOriginals.filter((r) => byIndex(r.index)?.status !== 202);
  check(
    'new requests (no email reuse) accepted',
    plainOriginals.length,
    plainOriginals.length - notAccepted.length,
    notAccepted.map((r) => `${r.key}: ${byIndex(r.index)?.status} ${byIndex(r.index)?.message ?? ''}`),
  );
  const duplicates = plan.requests.filter((r) => r.kind === 'duplicate');
  const wrongDuplicates = duplicates.filter((r) => {
    const answer = byIndex(r.index);
    const original = byIndex(r.of!);
    return answer?.status !== 202 || !answer.requestId || answer.requestId !== original?.requestId;
  });
  check(
    'repeated keys answered with the original request',
    duplicates.length,
    duplicates.length - wrongDuplicates.length,
    wrongDuplicates.map((r) => `${r.key}: ${byIndex(r.index)?.requestId} vs ${byIndex(r.of!)?.requestId}`),
  );
  const reuses = plan.requests.filter((r) => r.kind === 'email-reuse');
  const badPairs = reuses.filter((r) => {
    const pair = [byIndex(r.index), byIndex(r.of!)];
    const accepted = pair.filter((a) => a?.status === 202).length;
    const refused = pair.filter((a) => a?.status === 409 && a.field === 'email').length;
    return accepted !== 1 || refused !== 1;
  });
  check(
    'reused emails: one of each pair accepted, the other refused (409 email)',
    reuses.length,
    reuses.length - badPairs.length,
    badPairs.map((r) => `${r.email}: ${byIndex(r.index)?.status}/${byIndex(r.of!)?.status}`),
  );
  const fiveHundreds = [...answers.values()].filter((a) => a.status >= 500).length;
  check('final answers that are 5xx', 0, fiveHundreds);

  // The registry.
  const accepted = new Set(
    [...answers.values()].flatMap((a) => (a.status === 202 && a.requestId ? [a.requestId] : [])),
  );
  const expectedAccounts = plan.originals;
  check('distinct requests accepted', expectedAccounts, accepted.size);
  const records = new Map<string, RequestRecord>();
  for (const id of accepted) {
    const record = await pipeline.deps.requests.get(id);
    if (record) records.set(id, record);
  }
  const missing = [...accepted].filter((id) => !records.has(id));
  check('accepted requests in the registry', accepted.size, accepted.size - missing.length, missing);
  const notSucceeded = [...records.values()].filter((r) => r.status !== 'succeeded');
  check(
    'accepted requests succeeded',
    records.size,
    records.size - notSucceeded.length,
    notSucceeded.map(
      (r) => `${r.requestId}: ${r.status} ${r.failure?.step ?? ''} ${r.failure?.reason ?? ''}`,
    ),
  );
  const running = pipeline.runner.list().filter((e) => e.status === 'RUNNING');
  check(
    'executions still running',
    0,
    running.length,
    running.map((e) => e.name),
  );

  // Slack: one message per accepted request, none for refused ones.
  const messagesPer = new Map<string, number>();
  for (const message of slack) {
    for (const id of new Set(JSON.stringify(message.payload).match(REQUEST_ID) ?? []))
      messagesPer.set(id, (messagesPer.get(id) ?? 0) + 1);
  }
  const notOne = [...accepted].filter((id) => messagesPer.get(id) !== 1);
  check(
    'accepted requests with exactly one Slack message',
    accepted.size,
    accepted.size - notOne.length,
    notOne.map((id) => `${id}: ${messagesPer.get(id) ?? 0}`),
  );
  const stray = [...messagesPer.keys()].filter((id) => !accepted.has(id));
  check('Slack messages about requests not accepted', 0, stray.length, stray);
  const notified = [...records.values()].filter((r) => r.notification?.status !== 'sent');
  check(
    'registry says the requester was told',
    records.size,
    records.size - notified.length,
    notified.map((r) => r.requestId),
  );

  // The organization.
  const state = pipeline.cloud.cloud.state;
  const soakAccounts = Object.values(state.accounts).filter((a) => /(^|-)soak-/.test(a.name));
  const names = new Map<string, number>();
  for (const account of soakAccounts) names.set(account.name, (names.get(account.name) ?? 0) + 1);
  check('accounts in the organization', expectedAccounts, soakAccounts.length);
  const twice = [...names].filter(([, count]) => count > 1).map(([name]) => name);
  check('account names created twice', 0, twice.length, twice);
  const creations = new Map<string, number>();
  for (const creation of Object.values(state.createAccountRequests)) {
    if (/(^|-)soak-/.test(creation.accountName))
      creations.set(creation.accountName, (creations.get(creation.accountName) ?? 0) + 1);
  }
  const createdTwice = [...creations].filter(([, count]) => count > 1).map(([name]) => name);
  check('CreateAccount requests per account (more than one)', 0, createdTwice.length, createdTwice);

  const zone = config.dns ? state.hostedZones[config.dns.hostedZoneId] : undefined;
  const wrong: Record<string, string[]> = { ou: [], baseline: [], budget: [], dns: [], registry: [] };
  for (const record of records.values()) {
    const account = record.accountId ? state.accounts[record.accountId] : undefined;
    if (!account || account.name !== record.request.accountName) {
      wrong.registry!.push(`${record.requestId}: ${record.accountId}`);
      continue;
    }
    if (account.parentId !== record.request.organizationalUnit.id)
      wrong.ou!.push(`${account.name} in ${account.parentId}, not ${record.request.organizationalUnit.id}`);
    const rolesOk = config.baseline.roles.every((role) => {
      const held = account.iam.roles[role.name];
      return held && role.managedPolicyArns.every((arn) => held.attachedPolicies.includes(arn));
    });
    const aliasOk =
      !config.baseline.accountAliasTemplate ||
      state.accountAliases[accountAlias(config.baseline.accountAliasTemplate, account.name)] === account.id;
    const passwordOk = !config.baseline.passwordPolicy || account.iam.passwordPolicy !== undefined;
    if (!rolesOk || !aliasOk || !passwordOk)
      wrong.baseline!.push(`${account.name}: roles ${rolesOk}, alias ${aliasOk}, password ${passwordOk}`);
    const budget = account.budgets[budgetName(account.name)];
    if (!budget || budget.notifications.length !== record.request.budget.thresholds.length)
      wrong.budget!.push(
        `${account.name}: ${budget ? `${budget.notifications.length} notifications` : 'none'}`,
      );
    const vpc = Object.values(account.vpcs).find(
      (v) => v.isDefault && v.region === config.organization.homeRegion,
    );
    const associated = zone && vpc && zone.vpcs.some((v) => v.VPCId === vpc.vpcId);
    if (config.dns && !associated) wrong.dns!.push(`${account.name}: ${vpc?.vpcId ?? 'no default VPC'}`);
  }
  const found = records.size - wrong.registry!.length;
  check('accounts that match their request (registry -> organization)', records.size, found, wrong.registry);
  check('accounts in their OU', records.size, found - wrong.ou!.length, wrong.ou);
  check(
    'accounts with their baseline (roles, password policy, alias)',
    records.size,
    found - wrong.baseline!.length,
    wrong.baseline,
  );
  check(
    'accounts with their budget and its notifications',
    records.size,
    found - wrong.budget!.length,
    wrong.budget,
  );
  check(
    'accounts whose default VPC uses the shared zone',
    records.size,
    found - wrong.dns!.length,
    wrong.dns,
  );
  if (zone) check('VPC association authorizations left in the hub', 0, zone.authorizations.length);

  const width = Math.max(...checks.map((c) => c.name.length));
  const lines = ['| check | expected | actual | |', `|${'-'.repeat(width + 2)}|---:|---:|---|`];
  let failed = 0;
  for (const c of checks) {
    const ok = c.expected === c.actual;
    if (!ok) failed++;
    lines.push(`| ${c.name.padEnd(width)} | ${c.expected} | ${c.actual} | ${ok ? 'ok' : 'MISMATCH'} |`);
    if (!ok && c.examples.length > 0) lines.push(`|   e.g. ${c.examples.join('; ')} | | | |`);
  }
  return { lines, passed: checks.length - failed, failed };
}
