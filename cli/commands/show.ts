import type { Parsed } from '../args.ts';
import type { AccountAnswer } from '../contract.ts';
import { usage } from '../errors.ts';
import { EXIT } from '../io.ts';
import { dateTime, driftSummary, driftTable, table } from '../render.ts';
import type { Context } from './context.ts';

/** How many drift entries `vend show` prints; `vend drift <accountId>` prints them all. */
const SHOW_DRIFT_ENTRIES = 5;

/** Throws a usage error of `command` unless `accountId` is 12 digits. */
export function checkAccountId(command: 'show' | 'drift', accountId: string, fix: string): void {
  if (!/^\d{12}$/.test(accountId)) {
    throw usage(
      command,
      `${command === 'show' ? '<accountId>' : '[accountId]'} ${accountId} is not an account id`,
      fix,
    );
  }
}

/** `vend show <accountId>`: the account's desired state as Vend recorded it, and its latest drift. */
export async function showCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0]!;
  checkAccountId(
    'show',
    accountId,
    'Give the 12-digit account id, e.g. vend show 123456789012 (vend list shows them).',
  );
  const account = await context.api.call<AccountAnswer>('GET', `/accounts/${accountId}`);
  out.data(account);
  const ou = account.organizationalUnit;
  const budget = account.budget;
  const tags = Object.entries(account.tags ?? {});
  const rows: [string, string | undefined][] = [
    ['email', account.email],
    ['OU', ou ? `${ou.path}${ou.id && ou.id !== ou.path ? ` (${ou.id})` : ''}` : undefined],
    ['owner', account.owner],
    ['baseline', account.baselineVersion === undefined ? undefined : `version ${account.baselineVersion}`],
    [
      'budget',
      budget
        ? `${budget.monthlyLimitUsd} USD a month${budget.name ? ` (${budget.name})` : ''}${
            budget.thresholds?.length
              ? `; alerts at ${budget.thresholds.map((t) => `${t.percent}% ${t.type.toLowerCase()}`).join(', ')}`
              : ''
          }`
        : undefined,
    ],
    ['tags', tags.length ? tags.map(([k, v]) => `${k}=${v}`).join(', ') : undefined],
    [
      'DNS',
      account.dns
        ? `${account.dns.vpcId} (${account.dns.region}) in zone ${account.dns.hostedZoneId}`
        : undefined,
    ],
    ['alias', account.alias],
    ['request', account.requestId],
    ['created', dateTime(account.createdAt)],
    ['updated', dateTime(account.updatedAt)],
  ];
  if (account.hold)
    rows.push([
      'hold',
      `on hold since ${dateTime(account.hold.at)} by ${account.hold.by}: ${account.hold.reason}`,
    ]);
  if (account.drift) rows.push(['drift', driftSummary(account.drift)]);
  out.line(`Account ${account.accountId}  ${account.accountName}  ${account.status}`);
  for (const line of table(rows.filter(([, v]) => v).map(([k, v]) => [`  ${k}`, v!]))) out.line(line);
  const recent = account.drift?.history.slice(0, SHOW_DRIFT_ENTRIES) ?? [];
  if (recent.length > 0) {
    out.line();
    out.line('Drift (latest first):');
    for (const line of driftTable(recent)) out.line(`  ${line}`);
    if ((account.drift?.history.length ?? 0) > recent.length)
      out.line(`  …the rest: npm run vend -- drift ${account.accountId}${context.apiUrlFlag}`);
  }
  return EXIT.ok;
}
