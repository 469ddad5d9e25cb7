import {
  CreateAccountAliasCommand,
  EntityAlreadyExistsException,
  IAMClient,
  ListAccountAliasesCommand,
} from '@aws-sdk/client-iam';
import { fillTemplate } from '../shared/config.ts';
import { aws, VendFailureError } from '../shared/errors.ts';
import { type AccountContext, applyChanges, type Change, type Converger } from './converger.ts';

/** IAM's rule for an account alias. */
const ACCOUNT_ALIAS = /^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$/;

/**
 * The account's alias from the template: lower case, every character IAM does not allow replaced by a dash,
 * runs of dashes made one (IAM refuses `--`), at most 63 characters, and no dash at either end.
 */
export function accountAlias(template: string, accountName: string): string {
  return fillTemplate(template, { accountName })
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}

/** The alias the account must have (`accountAlias(baseline.accountAliasTemplate, accountName)`). */
export interface AliasTarget {
  alias: string;
}

/**
 * The account's IAM alias, acting through the organization's access role. An account has at most one alias:
 * CreateAccountAlias replaces another. Aliases are unique across all of AWS: one held by another account fails
 * the change with a reason.
 */
export const aliasConverger: Converger<AliasTarget> = {
  aspect: 'alias',
  async plan({ alias }, account) {
    if (!ACCOUNT_ALIAS.test(alias)) {
      throw new VendFailureError(
        `the account alias "${alias}" made from baseline.accountAliasTemplate is not one IAM accepts (3-63 of a-z, 0-9 and single dashes)`,
        'Ask the platform team to fix baseline.accountAliasTemplate in the Vend configuration, then retry the request.',
      );
    }
    if (account.expectNew) return [setFirst(alias)];
    return planFrom(alias, await aliases(account));
  },
  apply: applyChanges,
};

async function iamOf(account: AccountContext): Promise<IAMClient> {
  return (await account.session()).client(IAMClient);
}

async function aliases(account: AccountContext): Promise<string[]> {
  return (await aws((await iamOf(account)).send(new ListAccountAliasesCommand({})))).AccountAliases ?? [];
}

/** Setting the alias without reading first: already there (this account's, or another's), read and converge. */
function setFirst(alias: string): Change {
  return {
    aspect: 'alias',
    summary: `set the account alias ${alias}`,
    async run(account) {
      try {
        await aws((await iamOf(account)).send(new CreateAccountAliasCommand({ AccountAlias: alias })));
        return { done: [`set the account alias ${alias}`], created: false };
      } catch (error) {
        if (!(error instanceof EntityAlreadyExistsException)) throw error;
      }
      return applyChanges(planFrom(alias, await aliases(account)), account);
    },
  };
}

function planFrom(alias: string, current: string[]): Change[] {
  if (current.includes(alias)) return [];
  const what = current.length
    ? `the account alias ${current.join(', ')} with ${alias}`
    : `the account alias ${alias}`;
  const [done, todo] = current.length ? ['replaced', 'replace'] : ['set', 'set'];
  return [
    {
      aspect: 'alias',
      summary: `${todo} ${what}`,
      async run(account) {
        try {
          await aws((await iamOf(account)).send(new CreateAccountAliasCommand({ AccountAlias: alias })));
        } catch (error) {
          if (error instanceof EntityAlreadyExistsException) {
            throw new VendFailureError(
              `the account alias "${alias}" is already taken by another AWS account (aliases are unique across all of AWS)`,
              `Account ${account.accountId} exists and the rest of its baseline is in place. If an account of your organization holds "${alias}", delete that alias there; otherwise ask the platform team to change baseline.accountAliasTemplate in the Vend configuration. Then retry the request.`,
              { cause: error },
            );
          }
          throw error;
        }
        return { done: [`${done} ${what}`], created: false };
      },
    },
  ];
}
