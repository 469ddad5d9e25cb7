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
import { Changes } from '../shared/changes.ts';
import { MAX_BUDGET_EMAIL_SUBSCRIBERS } from '../shared/config.ts';
import type { Deps } from '../shared/deps.ts';
import { aws, ConcurrentModificationError } from '../shared/errors.ts';
import type { VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface ApplyBudgetInput {
  request: VendRequest;
  accountId: string;
}

export interface ApplyBudgetOutput {
  step: 'applyBudget';
  budgetName: string;
  monthlyLimitUsd: number;
  action: 'created' | 'updated' | 'unchanged';
}

/** What converging did: the step's output and, in words, each change made (what the drift sweep reports). */
export interface BudgetConvergence {
  output: ApplyBudgetOutput;
  changeLog: string[];
}

/** The budget Vend gives an account, by the account's name. */
export function budgetName(accountName: string): string {
  return `vend-${accountName}`;
}

/**
 * Gives the new account its monthly cost budget, with an alert per threshold to the owner and the
 * organization's subscribers. Safe to run again: it converges, changing only what differs.
 */
export async function applyBudget(
  deps: Deps,
  { request, accountId }: ApplyBudgetInput,
): Promise<ApplyBudgetOutput> {
  return runStep(deps, request.requestId, 'applyBudget', async (_record, attempt) => {
    const { output, changeLog } = await convergeBudget(
      deps,
      accountId,
      { accountName: request.accountName, owner: request.owner, budget: request.budget },
      { writeFirst: attempt === 1 },
    );
    const detail =
      output.action === 'unchanged'
        ? `budget ${output.budgetName} already in place`
        : `budget ${output.budgetName} ${output.action}: ${changeLog.join('; ')}`;
    return { result: output, detail: detail.length > 1000 ? `${detail.slice(0, 997)}...` : detail };
  });
}

/** What the account's budget must be: from the request, or from the account's desired state for the drift sweep. */
export interface BudgetTarget {
  accountName: string;
  owner: string;
  budget: VendRequest['budget'];
}

/**
 * Makes the account's budget match the target, in the account itself (Budgets' AccountId is the account acting).
 * A missing budget is created with its notifications; an existing one is updated in place and its
 * notifications and subscribers reconciled one by one, never by deleting the budget, so its history survives.
 * With `dryRun` it only looks, and lists what it would change (the drift sweep in report mode).
 */
export async function convergeBudget(
  deps: Deps,
  accountId: string,
  target: BudgetTarget,
  options: {
    dryRun?: boolean;
    /** The account is expected to be new: create first, and describe only when the budget is already there. */
    writeFirst?: boolean;
  } = {},
): Promise<BudgetConvergence> {
  const budgets = (await deps.clientsFor(accountId, deps.config.organization.accessRoleName)).client(
    BudgetsClient,
  );
  const name = budgetName(target.accountName);
  const limit = target.budget.monthlyLimitUsd;
  const wanted = wantedNotifications(target, deps.config.budget.subscribers);
  const changeLog = new Changes(options.dryRun);
  const output = (action: ApplyBudgetOutput['action']): BudgetConvergence => ({
    output: { step: 'applyBudget', budgetName: name, monthlyLimitUsd: limit, action },
    changeLog: changeLog.entries,
  });

  let existing =
    options.writeFirst && !changeLog.dryRun ? undefined : await describeBudget(budgets, accountId, name);
  if (!existing && changeLog.dryRun) {
    changeLog.entries.push(
      `would create budget ${name} of ${limit} USD a month with ${wanted.length} notification(s)`,
    );
    return output('created');
  }
  if (!existing) {
    try {
      await aws(
        budgets.send(
          new CreateBudgetCommand({
            AccountId: accountId,
            Budget: budgetShape(name, limit),
            NotificationsWithSubscribers: wanted.map(({ notification, subscribers }) => ({
              Notification: notification,
              Subscribers: subscribers,
            })),
          }),
        ),
      );
      changeLog.entries.push(
        `created budget ${name} of ${limit} USD a month with ${wanted.length} notification(s)`,
      );
      return output('created');
    } catch (error) {
      // Already there (an earlier attempt, a concurrent run, or written first): converge the one that is there.
      if (!(error instanceof DuplicateRecordException)) throw error;
      existing = await describeBudget(budgets, accountId, name);
      if (!existing)
        throw new ConcurrentModificationError(`budget ${name} was created and deleted meanwhile`, {
          cause: error,
        });
    }
  }
  if (!budgetMatches(existing, limit)) {
    const was = describeLimit(existing);
    await changeLog.make(
      `restored the budget to ${limit} USD a month (was ${was})`,
      `restore the budget to ${limit} USD a month (it is ${was})`,
      () =>
        aws(
          budgets.send(
            new UpdateBudgetCommand({ AccountId: accountId, NewBudget: budgetShape(name, limit) }),
          ),
        ),
    );
  }
  await convergeNotifications(budgets, accountId, name, wanted, changeLog);
  return output(changeLog.count > 0 ? 'updated' : 'unchanged');
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

async function convergeNotifications(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
  wanted: WantedNotification[],
  changeLog: Changes,
): Promise<void> {
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
  // Remove first: a budget holds at most 10 notifications.
  for (const notification of present) {
    if (wantedKeys.has(notificationKey(notification))) continue;
    await changeLog.make(
      `deleted notification ${describeNotification(notification)}`,
      `delete notification ${describeNotification(notification)}`,
      async () => {
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
      },
    );
  }
  for (const { notification, subscribers } of wanted) {
    if (!presentKeys.has(notificationKey(notification)) && changeLog.dryRun) {
      changeLog.entries.push(`would add notification ${describeNotification(notification)}`);
      continue;
    }
    if (!presentKeys.has(notificationKey(notification))) {
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
        changeLog.entries.push(`added notification ${describeNotification(notification)}`);
        continue;
      } catch (error) {
        // Added meanwhile: reconcile its subscribers below.
        if (!(error instanceof DuplicateRecordException)) throw error;
      }
    }
    await convergeSubscribers(budgets, accountId, name, notification, subscribers, changeLog);
  }
}

async function convergeSubscribers(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
  notification: Notification,
  wanted: Subscriber[],
  changeLog: Changes,
): Promise<void> {
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
  const unwanted = present.filter((subscriber) => !wantedKeys.has(key(subscriber)));
  let emails = present.filter((subscriber) => subscriber.SubscriptionType === 'EMAIL').length;
  // Add before removing: deleting a notification's last subscriber deletes the notification. But Budgets refuses
  // an eleventh email subscriber (SDK model, CreateNotificationRequest.Subscribers), so when the notification is
  // full, one unwanted email subscriber makes room first; at least one other stays, so the notification does too.
  for (const subscriber of wanted) {
    if (presentKeys.has(key(subscriber))) continue;
    if (subscriber.SubscriptionType === 'EMAIL' && emails >= MAX_BUDGET_EMAIL_SUBSCRIBERS) {
      const index = unwanted.findIndex((other) => other.SubscriptionType === 'EMAIL');
      const [room] = index >= 0 ? unwanted.splice(index, 1) : [];
      if (room) {
        await unsubscribe(budgets, accountId, name, notification, room, changeLog);
        emails--;
      }
    }
    await changeLog.make(
      `subscribed ${subscriber.Address} to ${describeNotification(notification)}`,
      `subscribe ${subscriber.Address} to ${describeNotification(notification)}`,
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
            throw new ConcurrentModificationError(
              `notification ${describeNotification(notification)} of ${name} changed meanwhile`,
              { cause: error },
            );
          throw error;
        }
      },
    );
    if (subscriber.SubscriptionType === 'EMAIL') emails++;
  }
  for (const subscriber of unwanted) {
    await unsubscribe(budgets, accountId, name, notification, subscriber, changeLog);
  }
}

async function unsubscribe(
  budgets: BudgetsClient,
  accountId: string,
  name: string,
  notification: Notification,
  subscriber: Subscriber,
  changeLog: Changes,
): Promise<void> {
  await changeLog.make(
    `unsubscribed ${subscriber.Address} from ${describeNotification(notification)}`,
    `unsubscribe ${subscriber.Address} from ${describeNotification(notification)}`,
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
}
