import {
  type Budget,
  BudgetsClient,
  CreateBudgetCommand,
  CreateNotificationCommand,
  CreateSubscriberCommand,
  DeleteNotificationCommand,
  DeleteSubscriberCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  DuplicateRecordException,
  NotFoundException,
  type Notification,
  type Subscriber,
  UpdateBudgetCommand,
} from '@aws-sdk/client-budgets';
import { MAX_BUDGET_EMAIL_SUBSCRIBERS } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { aws, ConcurrentModificationError } from '../shared/errors.ts';
import type { VendRequest } from '../shared/model.ts';
import {
  type AccountContext,
  accountContext,
  applyChanges,
  type Change,
  type Converger,
  change,
  converge,
} from './converger.ts';

/** The budget Vend gives an account, by the account's name. */
export function budgetName(accountName: string): string {
  return `vend-${accountName}`;
}

/** What the account's budget must be: from the request, or from the account's desired state for the drift sweep. */
export interface BudgetTarget {
  accountName: string;
  owner: string;
  budget: VendRequest['budget'];
}

/**
 * The account's monthly cost budget, in the account itself (Budgets' AccountId is the account acting), with an
 * alert per threshold to the owner and `config.budget.subscribers`. A missing budget is created with its
 * notifications; an existing one is updated in place and its notifications and subscribers reconciled one by
 * one, never by deleting the budget, so its history survives.
 */
export const budgetConverger: Converger<BudgetTarget> = {
  aspect: 'budget',
  async plan(target, account) {
    const name = budgetName(target.accountName);
    if (account.expectNew) return [createBudget(target)];
    const budgets = await budgetsOf(account);
    const existing = await describeBudget(budgets, account.accountId, name);
    if (!existing) return [createBudget(target)];
    return planExisting(budgets, account, target, existing);
  },
  apply: applyChanges,
};

async function budgetsOf(account: AccountContext): Promise<BudgetsClient> {
  return (await account.session()).client(BudgetsClient);
}

function wantedOf(target: BudgetTarget, account: AccountContext): WantedNotification[] {
  return wantedNotifications(target, account.deps.config.budget.subscribers);
}

function createBudget(target: BudgetTarget): Change {
  const name = budgetName(target.accountName);
  const limit = target.budget.monthlyLimitUsd;
  return {
    aspect: 'budget',
    // The count of notifications depends only on the thresholds.
    summary: `create budget ${name} of ${limit} USD a month with ${wantedNotifications(target, []).length} notification(s)`,
    creates: true,
    async run(account) {
      const budgets = await budgetsOf(account);
      const wanted = wantedOf(target, account);
      try {
        await aws(
          budgets.send(
            new CreateBudgetCommand({
              AccountId: account.accountId,
              Budget: budgetShape(name, limit),
              NotificationsWithSubscribers: wanted.map(({ notification, subscribers }) => ({
                Notification: notification,
                Subscribers: subscribers,
              })),
            }),
          ),
        );
        return {
          done: [`created budget ${name} of ${limit} USD a month with ${wanted.length} notification(s)`],
          created: true,
        };
      } catch (error) {
        // Already there (an earlier attempt, a concurrent run, or planned without reading): converge that one.
        if (!(error instanceof DuplicateRecordException)) throw error;
        const existing = await describeBudget(budgets, account.accountId, name);
        if (!existing)
          throw new ConcurrentModificationError(`budget ${name} was created and deleted meanwhile`, {
            cause: error,
          });
        return applyChanges(await planExisting(budgets, account, target, existing), account);
      }
    },
  };
}

async function planExisting(
  budgets: BudgetsClient,
  account: AccountContext,
  target: BudgetTarget,
  existing: Budget,
): Promise<Change[]> {
  const { accountId } = account;
  const name = budgetName(target.accountName);
  const limit = target.budget.monthlyLimitUsd;
  const changes: Change[] = [];
  if (!budgetMatches(existing, limit)) {
    const was = describeLimit(existing);
    changes.push(
      change(
        'budget',
        `restore the budget to ${limit} USD a month (it is ${was})`,
        `restored the budget to ${limit} USD a month (was ${was})`,
        async () =>
          aws(
            (await budgetsOf(account)).send(
              new UpdateBudgetCommand({ AccountId: accountId, NewBudget: budgetShape(name, limit) }),
            ),
          ),
      ),
    );
  }
  changes.push(...(await planNotifications(budgets, accountId, name, wantedOf(target, account))));
  return changes;
}

/** A monthly cost budget. No TimePeriod: a new budget starts this month, an updated one keeps its own. */
function budgetShape(name: string, limitUsd: number): Budget {
  return {
    BudgetName: name,
    BudgetLimit: { Amount: String(limitUsd), Unit: 'USD' },
    TimeUnit: 'MONTHLY',
    BudgetType: 'COST',
  };
}

function budgetMatches(budget: Budget, limitUsd: number): boolean {
  // AWS gives amounts back as decimals ("200.0").
  return (
    budget.BudgetType === 'COST' &&
    budget.TimeUnit === 'MONTHLY' &&
    budget.BudgetLimit?.Unit === 'USD' &&
    Number(budget.BudgetLimit.Amount) === limitUsd
  );
}

function describeLimit(budget: Budget): string {
  const limit = budget.BudgetLimit
    ? `${budget.BudgetLimit.Amount} ${budget.BudgetLimit.Unit}`
    : 'no fixed limit';
  return `${budget.BudgetType ?? '?'} ${budget.TimeUnit ?? '?'} ${limit}`;
}

async function describeBudget(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
): Promise<Budget | undefined> {
  try {
    return (await aws(budgets.send(new DescribeBudgetCommand({ AccountId: accountId, BudgetName: name }))))
      .Budget;
  } catch (error) {
    if (error instanceof NotFoundException) return undefined;
    throw error;
  }
}

interface WantedNotification {
  notification: Notification;
  subscribers: Subscriber[];
}

/** One alert per threshold, each to the owner and the organization's subscribers (once each, whatever the case). */
function wantedNotifications(
  target: BudgetTarget,
  organizationSubscribers: readonly string[],
): WantedNotification[] {
  const addresses = new Map<string, string>();
  for (const address of [target.owner, ...organizationSubscribers]) {
    if (!addresses.has(address.toLowerCase())) addresses.set(address.toLowerCase(), address);
  }
  const subscribers: Subscriber[] = [...addresses.values()].map((address) => ({
    SubscriptionType: 'EMAIL',
    Address: address,
  }));
  const seen = new Set<string>();
  const wanted: WantedNotification[] = [];
  for (const threshold of target.budget.thresholds) {
    const notification: Notification = {
      NotificationType: threshold.type,
      ComparisonOperator: 'GREATER_THAN',
      Threshold: threshold.percent,
      ThresholdType: 'PERCENTAGE',
    };
    const key = notificationKey(notification);
    if (seen.has(key)) continue;
    seen.add(key);
    wanted.push({ notification, subscribers });
  }
  return wanted;
}

/** What identifies a notification of a budget (PERCENTAGE is the threshold type AWS assumes when none is given). */
function notificationKey(notification: Notification): string {
  return [
    notification.NotificationType,
    notification.ComparisonOperator,
    notification.Threshold,
    notification.ThresholdType ?? 'PERCENTAGE',
  ].join('|');
}

function describeNotification(notification: Notification): string {
  const unit = (notification.ThresholdType ?? 'PERCENTAGE') === 'PERCENTAGE' ? '%' : ' USD';
  const operator =
    { GREATER_THAN: '>', LESS_THAN: '<', EQUAL_TO: '=' }[notification.ComparisonOperator ?? 'GREATER_THAN'] ??
    '?';
  return `${notification.NotificationType} ${operator} ${notification.Threshold}${unit}`;
}

/** Only what identifies a notification: AWS refuses nothing else, but NotificationState is its to compute. */
function identity(notification: Notification): Notification {
  return {
    NotificationType: notification.NotificationType,
    ComparisonOperator: notification.ComparisonOperator,
    Threshold: notification.Threshold,
    ThresholdType: notification.ThresholdType ?? 'PERCENTAGE',
  };
}

async function planNotifications(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
  wanted: WantedNotification[],
): Promise<Change[]> {
  const present: Notification[] = [];
  let token: string | undefined;
  do {
    const page = await aws(
      budgets.send(
        new DescribeNotificationsForBudgetCommand({
          AccountId: accountId,
          BudgetName: name,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    present.push(...(page.Notifications ?? []));
    token = page.NextToken;
  } while (token);

  const wantedKeys = new Set(wanted.map(({ notification }) => notificationKey(notification)));
  const presentKeys = new Set(present.map(notificationKey));
  const changes: Change[] = [];
  // Remove first: a budget holds at most 10 notifications.
  for (const notification of present) {
    if (wantedKeys.has(notificationKey(notification))) continue;
    const what = describeNotification(notification);
    changes.push(
      change('budget', `delete notification ${what}`, `deleted notification ${what}`, async () => {
        try {
          await aws(
            budgets.send(
              new DeleteNotificationCommand({
                AccountId: accountId,
                BudgetName: name,
                Notification: identity(notification),
              }),
            ),
          );
        } catch (error) {
          if (!(error instanceof NotFoundException)) throw error;
          return 'not-needed';
        }
      }),
    );
  }
  for (const { notification, subscribers } of wanted) {
    if (presentKeys.has(notificationKey(notification))) {
      changes.push(...(await planSubscribers(budgets, accountId, name, notification, subscribers)));
      continue;
    }
    const what = describeNotification(notification);
    changes.push({
      aspect: 'budget',
      summary: `add notification ${what}`,
      async run(account) {
        try {
          await aws(
            budgets.send(
              new CreateNotificationCommand({
                AccountId: accountId,
                BudgetName: name,
                Notification: notification,
                Subscribers: subscribers,
              }),
            ),
          );
          return { done: [`added notification ${what}`], created: false };
        } catch (error) {
          // Added meanwhile: reconcile its subscribers.
          if (!(error instanceof DuplicateRecordException)) throw error;
        }
        return applyChanges(
          await planSubscribers(budgets, accountId, name, notification, subscribers),
          account,
        );
      },
    });
  }
  return changes;
}

async function planSubscribers(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
  notification: Notification,
  wanted: Subscriber[],
): Promise<Change[]> {
  const present: Subscriber[] = [];
  let token: string | undefined;
  do {
    const page = await aws(
      budgets.send(
        new DescribeSubscribersForNotificationCommand({
          AccountId: accountId,
          BudgetName: name,
          Notification: notification,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    present.push(...(page.Subscribers ?? []));
    token = page.NextToken;
  } while (token);

  const key = (subscriber: Subscriber) => `${subscriber.SubscriptionType}|${subscriber.Address}`;
  const presentKeys = new Set(present.map(key));
  const wantedKeys = new Set(wanted.map(key));
  const what = describeNotification(notification);
  const subscribe = (subscriber: Subscriber) =>
    change(
      'budget',
      `subscribe ${subscriber.Address} to ${what}`,
      `subscribed ${subscriber.Address} to ${what}`,
      async () => {
        try {
          await aws(
            budgets.send(
              new CreateSubscriberCommand({
                AccountId: accountId,
                BudgetName: name,
                Notification: notification,
                Subscriber: subscriber,
              }),
            ),
          );
        } catch (error) {
          if (error instanceof DuplicateRecordException) return 'not-needed';
          // The notification went away meanwhile: the next attempt adds it again.
          if (error instanceof NotFoundException)
            throw new ConcurrentModificationError(`notification ${what} of ${name} changed meanwhile`, {
              cause: error,
            });
          throw error;
        }
      },
    );
  const unsubscribe = (subscriber: Subscriber) =>
    change(
      'budget',
      `unsubscribe ${subscriber.Address} from ${what}`,
      `unsubscribed ${subscriber.Address} from ${what}`,
      async () => {
        try {
          await aws(
            budgets.send(
              new DeleteSubscriberCommand({
                AccountId: accountId,
                BudgetName: name,
                Notification: notification,
                Subscriber: subscriber,
              }),
            ),
          );
        } catch (error) {
          if (!(error instanceof NotFoundException)) throw error;
          return 'not-needed';
        }
      },
    );

  const changes: Change[] = [];
  const unwanted = present.filter((subscriber) => !wantedKeys.has(key(subscriber)));
  let emails = present.filter((subscriber) => subscriber.SubscriptionType === 'EMAIL').length;
  // Add before removing: deleting a notification's last subscriber deletes the notification. But Budgets refuses
  // an eleventh email subscriber (SDK model, CreateNotificationRequest.Subscribers: one SNS and up to 10 email),
  // so when the notification is full, one unwanted email subscriber makes room first; another stays, so the
  // notification does too.
  for (const subscriber of wanted) {
    if (presentKeys.has(key(subscriber))) continue;
    if (subscriber.SubscriptionType === 'EMAIL' && emails >= MAX_BUDGET_EMAIL_SUBSCRIBERS) {
      const index = unwanted.findIndex((other) => other.SubscriptionType === 'EMAIL');
      const [room] = index >= 0 ? unwanted.splice(index, 1) : [];
      if (room) {
        changes.push(unsubscribe(room));
        emails--;
      }
    }
    changes.push(subscribe(subscriber));
    if (subscriber.SubscriptionType === 'EMAIL') emails++;
  }
  for (const subscriber of unwanted) changes.push(unsubscribe(subscriber));
  return changes;
}

/** What the account's budget is after converging (the apply-budget step's output). */
export interface ApplyBudgetOutput {
  step: 'applyBudget';
  budgetName: string;
  monthlyLimitUsd: number;
  action: 'created' | 'updated' | 'unchanged';
}

/** What converging did: the output and, in words, each change made (what the step and the drift sweep report). */
export interface BudgetConvergence {
  output: ApplyBudgetOutput;
  changeLog: string[];
}

/**
 * Converges the account's budget (`budgetConverger`) and says what it did. With `dryRun` it only looks, and
 * lists what it would change (the drift sweep in report mode); with `writeFirst` (the account is expected to be
 * new) it creates first, and describes only when the budget is already there.
 */
export async function convergeBudget(
  deps: Deps,
  accountId: string,
  target: BudgetTarget,
  options: { dryRun?: boolean; writeFirst?: boolean } = {},
): Promise<BudgetConvergence> {
  const account = accountContext(deps, accountId, {
    expectNew: options.writeFirst === true && !options.dryRun,
  });
  const { changeLog, created } = await converge(budgetConverger, target, account, {
    dryRun: options.dryRun === true,
  });
  return {
    output: {
      step: 'applyBudget',
      budgetName: budgetName(target.accountName),
      monthlyLimitUsd: target.budget.monthlyLimitUsd,
      action: created ? 'created' : changeLog.length > 0 ? 'updated' : 'unchanged',
    },
    changeLog,
  };
}
