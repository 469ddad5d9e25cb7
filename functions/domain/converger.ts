import type { AccountSession } from '../shared/aws-clients.ts';
import type { Deps } from '../shared/deps.ts';

/**
 * The domain layer: every change Vend makes to an account is a converger. The workflow steps, the drift
 * handler and the sweep all call the same ones; a dry run is `plan` without `apply`.
 */

/** The account a converger works on, and how to act in it. */
export interface AccountContext {
  readonly accountId: string;
  readonly deps: Deps;
  /**
   * The account is expected to be new (a workflow step's first attempt): `plan` reads nothing and plans the
   * writes straight away; a write that finds the thing already there reads and converges what it found. The
   * state reached is the same either way. Never set for a dry run.
   */
  readonly expectNew: boolean;
  /**
   * A session acting in the account through the organization's access role (`region`: where its clients act;
   * the session's default when absent). Asked for at each use: a call that the SDK retried for long may have
   * outlived earlier credentials.
   */
  session(region?: string): Promise<AccountSession>;
}

/** What applying changes did. */
export interface Applied {
  /** Each change made, in words ("restored the trust policy of role VendAdmin"); a change found already made is left out. */
  done: string[];
  /** Whether a change created the thing the aspect is about (a role, a budget ...) rather than mending it. */
  created: boolean;
}

/** One change a converger plans: what it does, in words, and how to make it. */
export interface Change {
  readonly aspect: string;
  /** The change as a plan lists it, without "would": "restore the trust policy of role VendAdmin". */
  readonly summary: string;
  /** The change creates the thing its aspect is about (a role, a budget ...) rather than mending it. */
  readonly creates?: boolean;
  /** Makes the change; safe to run again (what is already so is success, and left out of `done`). */
  run(account: AccountContext): Promise<Applied>;
}

/** One aspect of an account that Vend owns: reads it against the desired state, and puts it back. */
export interface Converger<Desired, C extends Change = Change> {
  /** What it owns: 'ou', 'tags', 'role:VendAdmin', 'password-policy', 'alias', 'budget', 'dns'. */
  readonly aspect: string;
  /** Reads only; [] means in sync. */
  plan(desired: Desired, account: AccountContext): Promise<C[]>;
  /** Makes the planned changes in order, each idempotent. */
  apply(changes: readonly C[], account: AccountContext): Promise<Applied>;
}

/** The account `accountId`, acted in through `config.organization.accessRoleName`. */
export function accountContext(
  deps: Deps,
  accountId: string,
  options: { expectNew?: boolean } = {},
): AccountContext {
  return {
    accountId,
    deps,
    expectNew: options.expectNew === true,
    session: (region) =>
      deps.clientsFor(
        accountId,
        deps.config.organization.accessRoleName,
        ...(region !== undefined ? [{ region }] : []),
      ),
  };
}

/** Runs changes in order and gathers what they did: every converger's `apply`. */
export async function applyChanges(changes: readonly Change[], account: AccountContext): Promise<Applied> {
  const applied: Applied = { done: [], created: false };
  for (const change of changes) {
    const result = await change.run(account);
    applied.done.push(...result.done);
    applied.created ||= result.created;
  }
  return applied;
}

/** A change whose `run` makes one write, listed as `done` unless the write answers 'not-needed'. */
export function change(
  aspect: string,
  summary: string,
  done: string,
  write: () => Promise<unknown>,
  created = false,
): Change {
  return {
    aspect,
    summary,
    ...(created ? { creates: true } : {}),
    async run() {
      if ((await write()) === 'not-needed') return { done: [], created: false };
      return { done: [done], created };
    },
  };
}

/** A plan in words, as a dry run reports it: "would ..." per change. */
export const wouldDo = (changes: readonly Change[]): string[] =>
  changes.map((planned) => `would ${planned.summary}`);

/** What converging (or, with `dryRun`, only planning) one aspect came to. */
export interface Convergence<C extends Change = Change> {
  changes: C[];
  /** In words: what was done, or in a dry run what would be done. */
  changeLog: string[];
  created: boolean;
}

/** Plans, and unless `dryRun` applies the plan: what the steps, the drift handler and the sweep all run. */
export async function converge<Desired, C extends Change>(
  converger: Converger<Desired, C>,
  desired: Desired,
  account: AccountContext,
  options: { dryRun?: boolean } = {},
): Promise<Convergence<C>> {
  const changes = await converger.plan(desired, account);
  if (options.dryRun) {
    return {
      changes,
      changeLog: wouldDo(changes),
      created: changes.some((planned) => planned.creates === true),
    };
  }
  const applied = await converger.apply(changes, account);
  return { changes, changeLog: applied.done, created: applied.created };
}
