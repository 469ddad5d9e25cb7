import type { Parsed } from '../args.ts';
import type { AccountAnswer } from '../contract.ts';
import { EXIT } from '../io.ts';
import { dateTime, driftSummary, driftTable, table } from '../render.ts';
import type { Context } from './context.ts';
import { accountPages } from './list.ts';
import { checkAccountId } from './show.ts';

/** One account's whole drift history. */
async function oneAccount(context: Context, accountId: string): Promise<number> {
  const { out } = context;
  const account = await context.api.call<AccountAnswer>('GET', `/accounts/${accountId}`);
  out.data(account.drift ?? null);
  out.line(`Account ${account.accountId}  ${account.accountName}  ${account.status}`);
  if (!account.drift) {
    out.line('The API reports no drift for accounts: it predates drift detection.');
    return EXIT.ok;
  }
  out.line(`  drift  ${driftSummary(account.drift)}`);
  out.line();
  if (account.drift.history.length === 0)
    out.line('No drift recorded: nobody has changed it by hand since Vend vended it.');
  else for (const line of driftTable(account.drift.history)) out.line(line);
  return EXIT.ok;
}

/**
 * `vend drift [accountId]`: every account with its drift status and latest drift, over every page; or the whole
 * history of one account.
 */
export async function driftCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0];
  if (accountId !== undefined) {
    checkAccountId(
      'drift',
      accountId,
      'Give the 12-digit account id, e.g. vend drift 123456789012, or none for every account.',
    );
    return oneAccount(context, accountId);
  }
  const accounts: AccountAnswer[] = [];
  for await (const page of accountPages(context, { limit: '100' })) accounts.push(...(page.accounts ?? []));
  out.data({
    accounts: accounts.map((account) => ({
      accountId: account.accountId,
      accountName: account.accountName,
      drift: account.drift ?? null,
    })),
  });
  if (accounts.length === 0) {
    out.line('No account has been vended yet.');
    return EXIT.ok;
  }
  for (const line of table([
    ['ACCOUNT ID', 'NAME', 'STATUS', 'DRIFT', 'LATEST'],
    ...accounts.map((account) => {
      const latest = account.drift?.history[0];
      return [
        account.accountId,
        account.accountName,
        account.status,
        account.drift ? driftSummary(account.drift) : 'not reported by the API',
        latest
          ? `${dateTime(latest.at)} ${latest.outcome}: ${latest.eventName ? `${latest.eventName} ` : ''}${latest.what}`
          : '',
      ];
    }),
  ]))
    out.line(line);
  const drifted = accounts.filter((account) => account.drift?.status === 'drifted').length;
  out.line();
  out.line(
    `${drifted} of ${accounts.length} account(s) drifted. The whole history of one: npm run vend -- drift <accountId>${context.apiUrlFlag}`,
  );
  return EXIT.ok;
}
