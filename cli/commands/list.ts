import { type Parsed, str } from '../args.ts';
import type { AccountAnswer, AccountPage } from '../contract.ts';
import { usage } from '../errors.ts';
import { EXIT } from '../io.ts';
import { table } from '../render.ts';
import type { Context } from './context.ts';

/**
 * Pages of GET /accounts from `cursor` on, following nextCursor while `more` says so; stops at a cursor seen
 * before, so an API that loops cannot keep the CLI going.
 */
export async function* accountPages(
  context: Context,
  query: { limit?: string; cursor?: string },
  more = true,
): AsyncGenerator<AccountPage> {
  const cursors = new Set<string>();
  let cursor = query.cursor;
  for (;;) {
    const page = await context.api.call<AccountPage>('GET', '/accounts', {
      query: { ...(query.limit ? { limit: query.limit } : {}), ...(cursor ? { cursor } : {}) },
    });
    yield page;
    if (!more || !page.nextCursor || cursors.has(page.nextCursor)) return;
    cursors.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}

/** `vend list [--limit <n>] [--cursor <cursor>] [--all]`: the vended accounts, as a table. */
export async function listCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const limit = str(parsed.values, 'limit');
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) {
    throw usage(
      'list',
      `--limit ${limit} is not a positive whole number`,
      'Give how many accounts a page holds, e.g. --limit 50.',
    );
  }
  const all = parsed.values['all'] === true;
  const cursor = str(parsed.values, 'cursor');
  const accounts: AccountAnswer[] = [];
  let page: AccountPage | undefined;
  for await (page of accountPages(
    context,
    { ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) },
    all,
  ))
    accounts.push(...(page.accounts ?? []));
  out.data(all ? { accounts } : page);
  if (accounts.length === 0) {
    out.line(cursor ? 'No more accounts.' : 'No account has been vended yet.');
  } else {
    for (const line of table([
      ['ACCOUNT ID', 'NAME', 'OU', 'OWNER', 'STATUS'],
      ...accounts.map((account) => [
        account.accountId,
        account.accountName,
        account.organizationalUnit?.path ?? '',
        account.owner,
        account.status,
      ]),
    ]))
      out.line(line);
  }
  if (!all && page?.nextCursor) {
    out.line();
    out.line(
      `More: npm run vend -- list --cursor ${page.nextCursor}${limit ? ` --limit ${limit}` : ''}${context.apiUrlFlag}, or --all for every page.`,
    );
  }
  return EXIT.ok;
}
