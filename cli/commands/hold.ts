import { type Parsed, str } from '../args.ts';
import type { AccountAnswer } from '../contract.ts';
import { usage } from '../errors.ts';
import { EXIT } from '../io.ts';
import { dateTime } from '../render.ts';
import type { Context } from './context.ts';

/** Throws a usage error of `command` unless `accountId` is 12 digits. */
function checkAccountId(command: 'hold' | 'release', accountId: string): void {
  if (!/^\d{12}$/.test(accountId)) {
    throw usage(
      command,
      `<accountId> ${accountId} is not an account id`,
      `Give the 12-digit account id, e.g. vend ${command} 123456789012${command === 'hold' ? ' --reason "INC-1234"' : ''} (vend list shows them).`,
    );
  }
}

/**
 * `vend hold <accountId> --reason <text>`: puts the account on hold (administrators only). While it is on hold,
 * drift is reported and nothing is put back.
 */
export async function holdCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0]!;
  checkAccountId('hold', accountId);
  const reason = str(parsed.values, 'reason');
  if (reason === undefined || reason.trim() === '') {
    throw usage(
      'hold',
      '--reason is required: it is recorded and announced',
      `Write: vend hold ${accountId} --reason "INC-1234: suspected credential leak".`,
    );
  }
  const account = await context.api.call<AccountAnswer>('POST', `/accounts/${accountId}/hold`, {
    body: { reason },
  });
  out.data(account);
  const hold = account.hold;
  out.line(`Account ${account.accountId}  ${account.accountName} is on hold`);
  if (hold) out.line(`  since ${dateTime(hold.at)} by ${hold.by}: ${hold.reason}`);
  out.line();
  out.line('Drift is reported and nothing is put back until it is released:');
  out.line(`  npm run vend -- release ${account.accountId}${context.apiUrlFlag}`);
  return EXIT.ok;
}

/**
 * `vend release <accountId>`: ends the account's hold (administrators only); the next drift sweep puts back what
 * differs.
 */
export async function releaseCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out } = context;
  const accountId = parsed.positionals[0]!;
  checkAccountId('release', accountId);
  const account = await context.api.call<AccountAnswer>('DELETE', `/accounts/${accountId}/hold`);
  out.data(account);
  const released = account.holdHistory?.[0];
  out.line(
    `Account ${account.accountId}  ${account.accountName} is released from hold` +
      (released?.action === 'release' ? ` (${dateTime(released.at)} by ${released.by})` : ''),
  );
  out.line('The next drift sweep puts back whatever differs from what Vend vended.');
  return EXIT.ok;
}
