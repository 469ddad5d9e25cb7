import { AwsError } from '../errors.ts';
import { jsonDates, jsonProtocol } from '../protocols/json.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { AccountRecord, BudgetRecord } from '../state.ts';
import { decodeToken, type Params, paginate } from '../validate.ts';

const TIME_UNITS = ['DAILY', 'MONTHLY', 'QUARTERLY', 'ANNUALLY', 'CUSTOM'] as const;
const BUDGET_TYPES = [
  'COST',
  'USAGE',
  'RI_UTILIZATION',
  'RI_COVERAGE',
  'SAVINGS_PLANS_UTILIZATION',
  'SAVINGS_PLANS_COVERAGE',
] as const;
const NOTIFICATION_TYPES = ['ACTUAL', 'FORECASTED'] as const;
const COMPARISON_OPERATORS = ['GREATER_THAN', 'LESS_THAN', 'EQUAL_TO'] as const;
const THRESHOLD_TYPES = ['PERCENTAGE', 'ABSOLUTE_VALUE'] as const;
const NOTIFICATION_STATES = ['OK', 'ALARM'] as const;
const SUBSCRIPTION_TYPES = ['EMAIL', 'SNS'] as const;
const AUTO_ADJUST_TYPES = ['HISTORICAL', 'FORECAST'] as const;
const METRICS = [
  'BlendedCost',
  'UnblendedCost',
  'AmortizedCost',
  'NetUnblendedCost',
  'NetAmortizedCost',
  'UsageQuantity',
  'NormalizedUsageAmount',
  'Hours',
] as const;
const COST_TYPE_NAMES = [
  'IncludeTax',
  'IncludeSubscription',
  'UseBlended',
  'IncludeRefund',
  'IncludeCredit',
  'IncludeUpfront',
  'IncludeRecurring',
  'IncludeOtherSubscription',
  'IncludeSupport',
  'IncludeDiscount',
  'UseAmortized',
] as const;

/** The cost types a COST budget gets for those the caller leaves out (Budgets API reference, `CostTypes`). */
const COST_TYPE_DEFAULTS: Record<(typeof COST_TYPE_NAMES)[number], boolean> = {
  IncludeTax: true,
  IncludeSubscription: true,
  UseBlended: false,
  IncludeRefund: true,
  IncludeCredit: true,
  IncludeUpfront: true,
  IncludeRecurring: true,
  IncludeOtherSubscription: true,
  IncludeSupport: true,
  IncludeDiscount: true,
  UseAmortized: false,
};

/** Budget types whose limit is a utilisation or coverage percentage, fixed at 100. */
const PERCENTAGE_BUDGET_TYPES: readonly string[] = [
  'RI_UTILIZATION',
  'RI_COVERAGE',
  'SAVINGS_PLANS_UTILIZATION',
  'SAVINGS_PLANS_COVERAGE',
];

/** Where AWS ends a budget that was given no end date: 2087-06-15T00:00:00Z. */
const DEFAULT_END_MS = Date.UTC(2087, 5, 15);
/** Budgets per account (Service Quotas, AWS Budgets). */
export const MAX_BUDGETS_PER_ACCOUNT = 20_000;
const MAX_NOTIFICATIONS_PER_BUDGET = 10;
const MAX_SUBSCRIBERS_PER_NOTIFICATION = 11;
/**
 * "A notification can have one SNS subscriber and up to 10 email subscribers, for a total of 11 subscribers"
 * (SDK model, NotificationWithSubscribers and CreateNotificationRequest.Subscribers; Budgets API reference).
 */
const MAX_SUBSCRIBERS_BY_TYPE: Record<string, number> = { SNS: 1, EMAIL: 10 };

/** CreationLimitExceededException ("You've exceeded the notification or subscriber limit") when a kind is over. */
function checkSubscriberLimits(subscribers: readonly Record<string, unknown>[], verb: string): void {
  for (const [type, max] of Object.entries(MAX_SUBSCRIBERS_BY_TYPE)) {
    const count = subscribers.filter((subscriber) => subscriber.SubscriptionType === type).length;
    if (count > max) {
      throw new AwsError(
        'CreationLimitExceededException',
        `Error ${verb}: a notification can have at most ${max} ${type} subscriber${max === 1 ? '' : 's'}, not ${count}.`,
      );
    }
  }
}
const MAX_THRESHOLD = 40_000_000_000;
const AMOUNT = /^([0-9]*\.)?[0-9]+$/;
const BUDGET_NAME = /^[^:\\]+$/;
const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/;
const EMAIL_ADDRESS = /^[^\s@]+@[^\s@]+$/;

type Notification = BudgetRecord['notifications'][number];
type Subscriber = { SubscriptionType: string; Address: string };

/**
 * AWS Budgets (JSON 1.1): cost and usage budgets with their notifications, kept per account. Spend is always
 * zero here: the local cloud has no billing data.
 */
/** The notification and the subscriber a subscriber operation names; the budget and the notification must exist. */
function subscriberOperand(context: CallContext, input: Input, verb: 'create' | 'delete') {
  const { params } = context;
  const account = callerAccount(context, input);
  const name = budgetName(params, input);
  const notification = readNotification(params, params.object(input, 'Notification', { required: true }));
  const subscriber = readSubscriber(params, params.object(input, 'Subscriber', { required: true }));
  const record = findBudget(
    account,
    name,
    `Unable to ${verb} subscriber: ${name} - the budget doesn't exist.`,
  );
  return { record, entry: requireNotification(record, notification, `${verb} subscriber`), subscriber };
}

export const budgets: ServiceDefinition = {
  signingName: 'budgets',
  eventSource: 'budgets.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: jsonProtocol('AWSBudgetServiceGateway'),
  errorStatus: {
    AccessDeniedException: 403,
    CreationLimitExceededException: 405,
    DuplicateRecordException: 409,
    NotFoundException: 404,
    InternalErrorException: 500,
  },
  invalid: (message, reason) =>
    new AwsError(
      reason === 'INVALID_NEXT_TOKEN' ? 'InvalidNextTokenException' : 'InvalidParameterException',
      message,
    ),
  unknownCredentialCode: 'UnrecognizedClientException',
  accessDeniedCode: 'AccessDeniedException',
  unknownOperationCode: 'UnknownOperationException',
  operations: {
    CreateBudget: {
      mutating: true,
      run(context, input) {
        const { cloud, params } = context;
        const account = callerAccount(context, input);
        const now = cloud.clock.now();
        const budget = readBudget(params, params.object(input, 'Budget', { required: true }), 'Budget', now);
        const notifications = readNotifications(params, input);
        params.tags(input, 'ResourceTags', 200);
        const name = budget.BudgetName as string;
        if (Object.hasOwn(account.budgets, name)) {
          throw new AwsError(
            'DuplicateRecordException',
            `Error creating budget: ${name} - the budget already exists.`,
          );
        }
        if (Object.keys(account.budgets).length >= MAX_BUDGETS_PER_ACCOUNT) {
          throw new AwsError(
            'CreationLimitExceededException',
            `Error creating budget: ${name} - account ${account.id} already has the maximum of ${MAX_BUDGETS_PER_ACCOUNT} budgets.`,
          );
        }
        account.budgets[name] = { budget, notifications };
        return {};
      },
    },

    DescribeBudget: {
      mutating: false,
      run(context, input) {
        const account = callerAccount(context, input);
        const name = budgetName(context.params, input);
        const showFilterExpression = context.params.boolean(input, 'ShowFilterExpression') ?? false;
        const record = findBudget(account, name, `Unable to get budget: ${name} - the budget doesn't exist.`);
        return jsonDates({ Budget: present(record, showFilterExpression) });
      },
    },

    DescribeBudgets: {
      mutating: false,
      run(context, input) {
        const { params } = context;
        const account = callerAccount(context, input);
        const pageSize = params.number(input, 'MaxResults', { integer: true, min: 1, max: 100 }) ?? 100;
        const token = params.string(input, 'NextToken', { max: 2_147_483_647 });
        const showFilterExpression = params.boolean(input, 'ShowFilterExpression') ?? false;
        const scope = `${account.id}/budgets`;
        const offset = decodeToken(token, scope, params);
        const all = Object.keys(account.budgets)
          .sort()
          .map((name) => account.budgets[name] as BudgetRecord);
        const { page, next } = paginate(all, offset, pageSize, scope);
        return jsonDates({
          Budgets: page.map((record) => present(record, showFilterExpression)),
          ...(next ? { NextToken: next } : {}),
        });
      },
    },

    UpdateBudget: {
      mutating: true,
      run(context, input) {
        const { cloud, params } = context;
        const account = callerAccount(context, input);
        const newBudget = params.object(input, 'NewBudget', { required: true });
        const name = params.string(newBudget, 'BudgetName', { required: true, min: 1, max: 100 });
        const existing = Object.hasOwn(account.budgets, name) ? account.budgets[name] : undefined;
        const budget = readBudget(
          params,
          newBudget,
          'NewBudget',
          cloud.clock.now(),
          existing?.budget.TimePeriod as Period | undefined,
        );
        if (!existing) {
          throw new AwsError(
            'NotFoundException',
            `Unable to update budget: ${name} - the budget doesn't exist. Try creating it first.`,
          );
        }
        existing.budget = budget;
        return {};
      },
    },

    DeleteBudget: {
      mutating: true,
      run(context, input) {
        const account = callerAccount(context, input);
        const name = budgetName(context.params, input);
        findBudget(
          account,
          name,
          `Unable to delete budget: ${name} - the budget doesn't exist. Try creating it first.`,
        );
        // The budget's notifications and subscribers go with it.
        delete account.budgets[name];
        return {};
      },
    },

    DescribeNotificationsForBudget: {
      mutating: false,
      run(context, input) {
        const { params } = context;
        const account = callerAccount(context, input);
        const name = budgetName(params, input);
        const pageSize = params.number(input, 'MaxResults', { integer: true, min: 1, max: 100 }) ?? 100;
        const token = params.string(input, 'NextToken', { max: 2_147_483_647 });
        const record = findBudget(
          account,
          name,
          `Unable to get notifications: ${name} - the budget doesn't exist.`,
        );
        const scope = `${account.id}/budgets/${name}/notifications`;
        const { page, next } = paginate(
          record.notifications,
          decodeToken(token, scope, params),
          pageSize,
          scope,
        );
        return {
          Notifications: page.map(({ notification }) => ({
            ...notification,
            NotificationState: notificationState(notification),
          })),
          ...(next ? { NextToken: next } : {}),
        };
      },
    },

    CreateNotification: {
      mutating: true,
      run(context, input) {
        const { params } = context;
        const account = callerAccount(context, input);
        const name = budgetName(params, input);
        const notification = readNotification(
          params,
          params.object(input, 'Notification', { required: true }),
        );
        const subscribers = readSubscribers(params, input);
        const record = findBudget(
          account,
          name,
          `Unable to create notification: ${name} - the budget doesn't exist.`,
        );
        if (findNotification(record, notification)) {
          throw new AwsError(
            'DuplicateRecordException',
            `Error creating notification: ${describeNotification(notification)} - the notification already exists.`,
          );
        }
        if (record.notifications.length >= MAX_NOTIFICATIONS_PER_BUDGET) {
          throw new AwsError(
            'CreationLimitExceededException',
            `Error creating notification: the budget ${name} already has the maximum of ${MAX_NOTIFICATIONS_PER_BUDGET} notifications.`,
          );
        }
        record.notifications.push({ notification, subscribers });
        return {};
      },
    },

    DeleteNotification: {
      mutating: true,
      run(context, input) {
        const { params } = context;
        const account = callerAccount(context, input);
        const name = budgetName(params, input);
        const notification = readNotification(
          params,
          params.object(input, 'Notification', { required: true }),
        );
        const record = findBudget(
          account,
          name,
          `Unable to delete notification: ${name} - the budget doesn't exist.`,
        );
        const entry = requireNotification(record, notification, 'delete notification');
        // Its subscribers go with it.
        record.notifications.splice(record.notifications.indexOf(entry), 1);
        return {};
      },
    },

    DescribeSubscribersForNotification: {
      mutating: false,
      run(context, input) {
        const { params } = context;
        const account = callerAccount(context, input);
        const name = budgetName(params, input);
        const notification = readNotification(
          params,
          params.object(input, 'Notification', { required: true }),
        );
        const pageSize = params.number(input, 'MaxResults', { integer: true, min: 1, max: 100 }) ?? 100;
        const token = params.string(input, 'NextToken', { max: 2_147_483_647 });
        const record = findBudget(
          account,
          name,
          `Unable to get subscribers: ${name} - the budget doesn't exist.`,
        );
        const entry = requireNotification(record, notification, 'get subscribers');
        const scope = `${account.id}/budgets/${name}/subscribers/${notificationKey(notification)}`;
        const { page, next } = paginate(
          entry.subscribers,
          decodeToken(token, scope, params),
          pageSize,
          scope,
        );
        return {
          Subscribers: page.map((subscriber) => ({ ...subscriber })),
          ...(next ? { NextToken: next } : {}),
        };
      },
    },

    CreateSubscriber: {
      mutating: true,
      run(context, input) {
        const { entry, subscriber } = subscriberOperand(context, input, 'create');
        if (entry.subscribers.some((existing) => sameSubscriber(existing, subscriber))) {
          throw new AwsError(
            'DuplicateRecordException',
            `Error creating subscriber: ${subscriber.SubscriptionType} ${subscriber.Address} - the subscriber already exists.`,
          );
        }
        checkSubscriberLimits([...entry.subscribers, subscriber], 'creating subscriber');
        entry.subscribers.push(subscriber);
        return {};
      },
    },

    DeleteSubscriber: {
      mutating: true,
      run(context, input) {
        const { record, entry, subscriber } = subscriberOperand(context, input, 'delete');
        const index = entry.subscribers.findIndex((existing) => sameSubscriber(existing, subscriber));
        if (index < 0) {
          throw new AwsError(
            'NotFoundException',
            `Unable to delete subscriber: ${subscriber.SubscriptionType} ${subscriber.Address} - the subscriber doesn't exist.`,
          );
        }
        entry.subscribers.splice(index, 1);
        // Deleting the last subscriber of a notification deletes the notification (DeleteSubscriber, API reference).
        if (entry.subscribers.length === 0)
          record.notifications.splice(record.notifications.indexOf(entry), 1);
        return {};
      },
    },
  },
};

interface Period {
  Start: number;
  End: number;
}

/** Budgets act in the caller's own account: the AccountId member must name it. */
function callerAccount({ cloud, caller, params }: CallContext, input: Input): AccountRecord {
  const accountId = params.string(input, 'AccountId', {
    required: true,
    min: 12,
    max: 12,
    pattern: /^\d{12}$/,
  });
  const account = cloud.state.accounts[accountId];
  if (accountId !== caller.accountId || !account) {
    throw new AwsError(
      'AccessDeniedException',
      `AccountId : ${accountId} does not match the credentials provided.`,
    );
  }
  return account;
}

function budgetName(params: Params, input: Input): string {
  return params.string(input, 'BudgetName', { required: true, min: 1, max: 100, pattern: BUDGET_NAME });
}

function findBudget(account: AccountRecord, name: string, message: string): BudgetRecord {
  const record = Object.hasOwn(account.budgets, name) ? account.budgets[name] : undefined;
  if (!record) throw new AwsError('NotFoundException', message);
  return record;
}

/**
 * Checks a `Budget` structure and returns it as stored: timestamps in epoch milliseconds, defaults filled in as
 * AWS fills them. `previousPeriod` is the period an updated budget keeps when the update names none.
 */
function readBudget(
  params: Params,
  budget: Input,
  member: string,
  now: number,
  previousPeriod?: Period,
): Record<string, unknown> {
  const name = params.string(budget, 'BudgetName', {
    required: true,
    min: 1,
    max: 100,
    pattern: BUDGET_NAME,
  });
  const timeUnit = params.string(budget, 'TimeUnit', { required: true, values: TIME_UNITS });
  const budgetType = params.string(budget, 'BudgetType', { required: true, values: BUDGET_TYPES });
  let limit = readSpend(params, budget, 'BudgetLimit');
  const planned = readPlannedLimits(params, budget);
  const autoAdjust = readAutoAdjust(params, budget);
  const costFilters = readCostFilters(params, budget);
  const costTypes = readCostTypes(params, budget);
  const metrics = params.list(budget, 'Metrics').map((entry) => {
    if (typeof entry !== 'string' || !(METRICS as readonly string[]).includes(entry))
      return params.fail(`${member}.Metrics: '${String(entry)}' is not one of ${METRICS.join(', ')}.`);
    return entry;
  });
  const filterExpression = params.object(budget, 'FilterExpression');
  const billingViewArn = params.string(budget, 'BillingViewArn', { min: 20, max: 2048 });

  if (limit && planned)
    params.fail('Only one of BudgetLimit or PlannedBudgetLimits can be present in a budget.');
  if (PERCENTAGE_BUDGET_TYPES.includes(budgetType)) {
    // Utilisation and coverage budgets are measured against 100%, the only limit they accept.
    if (limit && Number(limit.Amount) !== 100)
      params.fail(`The budget limit of a ${budgetType} budget must be 100 PERCENTAGE.`);
    limit ??= { Amount: '100', Unit: 'PERCENTAGE' };
  } else if (!limit && !planned && !autoAdjust) {
    params.fail(
      'Unable to create/update budget - please provide one of the followings: Budget Limit/ Planned Budget Limit/ Auto Adjust Data',
    );
  }

  const period = readTimePeriod(params, budget, timeUnit, now, previousPeriod);
  return {
    BudgetName: name,
    TimeUnit: timeUnit,
    BudgetType: budgetType,
    ...(limit ? { BudgetLimit: limit } : {}),
    ...(planned ? { PlannedBudgetLimits: planned } : {}),
    ...(autoAdjust ? { AutoAdjustData: autoAdjust } : {}),
    ...(costFilters ? { CostFilters: costFilters } : {}),
    ...(budgetType === 'COST'
      ? { CostTypes: { ...COST_TYPE_DEFAULTS, ...costTypes } }
      : costTypes
        ? { CostTypes: costTypes }
        : {}),
    ...(metrics.length > 0 ? { Metrics: metrics } : {}),
    ...(filterExpression ? { FilterExpression: filterExpression } : {}),
    ...(billingViewArn ? { BillingViewArn: billingViewArn } : {}),
    TimePeriod: period,
    LastUpdatedTime: now,
  };
}

function readSpend(
  params: Params,
  parent: Input,
  member: string,
): { Amount: string; Unit: string } | undefined {
  const spend = params.object(parent, member);
  if (!spend) return undefined;
  const amount = params.string(spend, 'Amount', {
    required: true,
    min: 1,
    max: 2_147_483_647,
    pattern: AMOUNT,
  });
  const unit = params.string(spend, 'Unit', { required: true, min: 1, max: 2_147_483_647 });
  return { Amount: amount, Unit: unit };
}

function readPlannedLimits(
  params: Params,
  budget: Input,
): Record<string, { Amount: string; Unit: string }> | undefined {
  const planned = params.object(budget, 'PlannedBudgetLimits');
  if (!planned) return undefined;
  return Object.fromEntries(
    Object.keys(planned).map((period) => {
      if (!/^\d+$/.test(period))
        params.fail(`PlannedBudgetLimits key '${period}' is not the epoch second a period starts at.`);
      return [period, readSpend(params, planned, period) as { Amount: string; Unit: string }];
    }),
  );
}

function readAutoAdjust(params: Params, budget: Input): Record<string, unknown> | undefined {
  const data = params.object(budget, 'AutoAdjustData');
  if (!data) return undefined;
  const type = params.string(data, 'AutoAdjustType', { required: true, values: AUTO_ADJUST_TYPES });
  const options = params.object(data, 'HistoricalOptions');
  if (type === 'HISTORICAL' && !options)
    params.fail('AutoAdjustData.HistoricalOptions is required when AutoAdjustType is HISTORICAL.');
  const historical = options
    ? {
        BudgetAdjustmentPeriod: params.number(options, 'BudgetAdjustmentPeriod', {
          required: true,
          integer: true,
          min: 1,
          max: 60,
        }),
      }
    : undefined;
  return { AutoAdjustType: type, ...(historical ? { HistoricalOptions: historical } : {}) };
}

function readCostFilters(params: Params, budget: Input): Record<string, string[]> | undefined {
  const filters = params.object(budget, 'CostFilters');
  if (!filters) return undefined;
  return Object.fromEntries(
    Object.entries(filters).map(([key, values]) => {
      if (!Array.isArray(values) || values.some((value) => typeof value !== 'string'))
        params.fail(`CostFilters.${key} must be a list of strings.`);
      return [key, [...(values as string[])]];
    }),
  );
}

function readCostTypes(params: Params, budget: Input): Record<string, boolean> | undefined {
  const costTypes = params.object(budget, 'CostTypes');
  if (!costTypes) return undefined;
  const chosen: Record<string, boolean> = {};
  for (const name of COST_TYPE_NAMES) {
    const value = params.boolean(costTypes, name);
    if (value !== undefined) chosen[name] = value;
  }
  return chosen;
}

/**
 * A budget's period. AWS starts it at the beginning of the current day, month, quarter or year when no start is
 * given, and ends it on 2087-06-15 when no end is given; a CUSTOM budget must name both.
 */
function readTimePeriod(
  params: Params,
  budget: Input,
  timeUnit: string,
  now: number,
  previous: Period | undefined,
): Period {
  const given = params.object(budget, 'TimePeriod');
  if (!given) {
    if (timeUnit === 'CUSTOM') params.fail('A CUSTOM budget needs a TimePeriod with a Start and an End.');
    return previous ? { ...previous } : { Start: periodStart(timeUnit, now), End: DEFAULT_END_MS };
  }
  const start = params.number(given, 'Start');
  const end = params.number(given, 'End');
  if (timeUnit === 'CUSTOM' && (start === undefined || end === undefined))
    params.fail('A CUSTOM budget needs a TimePeriod with a Start and an End.');
  // JSON 1.1 carries timestamps as epoch seconds.
  const period = {
    Start: start === undefined ? periodStart(timeUnit, now) : Math.round(start * 1000),
    End: end === undefined ? DEFAULT_END_MS : Math.round(end * 1000),
  };
  if (period.Start >= period.End) params.fail('The budget TimePeriod Start must be before its End.');
  return period;
}

/** Midnight UTC starting the day, month, quarter or year that holds `now`. */
function periodStart(timeUnit: string, now: number): number {
  const date = new Date(now);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  switch (timeUnit) {
    case 'DAILY':
      return Date.UTC(year, month, date.getUTCDate());
    case 'QUARTERLY':
      return Date.UTC(year, month - (month % 3), 1);
    case 'ANNUALLY':
      return Date.UTC(year, 0, 1);
    default:
      return Date.UTC(year, month, 1);
  }
}

/** `NotificationsWithSubscribers`, checked; duplicate notifications are refused as AWS refuses them. */
function readNotifications(params: Params, input: Input): Notification[] {
  const seen = new Set<string>();
  return params
    .list(input, 'NotificationsWithSubscribers', { max: MAX_NOTIFICATIONS_PER_BUDGET })
    .map((entry) => {
      const item = asStructure(params, entry, 'NotificationsWithSubscribers');
      const notification = readNotification(params, params.object(item, 'Notification', { required: true }));
      const key = notificationKey(notification);
      if (seen.has(key)) {
        params.fail(`Duplicate notification: ${describeNotification(notification)} appears more than once.`);
      }
      seen.add(key);
      return { notification, subscribers: readSubscribers(params, item) };
    });
}

function readNotification(params: Params, notification: Input): Record<string, unknown> {
  const type = params.string(notification, 'NotificationType', {
    required: true,
    values: NOTIFICATION_TYPES,
  });
  const operator = params.string(notification, 'ComparisonOperator', {
    required: true,
    values: COMPARISON_OPERATORS,
  });
  const threshold = params.number(notification, 'Threshold', { required: true, min: 0, max: MAX_THRESHOLD });
  const thresholdType =
    params.string(notification, 'ThresholdType', { values: THRESHOLD_TYPES }) ?? 'PERCENTAGE';
  // NotificationState is AWS's to compute; a value given on input is checked and then ignored.
  params.string(notification, 'NotificationState', { values: NOTIFICATION_STATES });
  return {
    NotificationType: type,
    ComparisonOperator: operator,
    Threshold: threshold,
    ThresholdType: thresholdType,
  };
}

function readSubscribers(params: Params, item: Input): Subscriber[] {
  const seen = new Set<string>();
  const subscribers = params
    .list(item, 'Subscribers', { required: true, min: 1, max: MAX_SUBSCRIBERS_PER_NOTIFICATION })
    .map((entry) => {
      const subscriber = readSubscriber(params, asStructure(params, entry, 'Subscribers'));
      const key = `${subscriber.SubscriptionType}|${subscriber.Address}`;
      if (seen.has(key))
        params.fail(
          `Duplicate subscriber: ${subscriber.SubscriptionType} ${subscriber.Address} appears more than once.`,
        );
      seen.add(key);
      return subscriber;
    });
  checkSubscriberLimits(subscribers, 'creating notification');
  return subscribers;
}

function readSubscriber(params: Params, subscriber: Input): Subscriber {
  const type = params.string(subscriber, 'SubscriptionType', {
    required: true,
    values: SUBSCRIPTION_TYPES,
  });
  const address = params.string(subscriber, 'Address', { required: true, min: 1, max: 2_147_483_647 });
  if (type === 'EMAIL' && !EMAIL_ADDRESS.test(address))
    params.fail(`Subscriber address '${address}' is not a valid email address.`);
  if (type === 'SNS' && !SNS_TOPIC_ARN.test(address))
    params.fail(`Subscriber address '${address}' is not a valid SNS topic ARN.`);
  return { SubscriptionType: type, Address: address };
}

function sameSubscriber(a: Record<string, unknown>, b: Subscriber): boolean {
  return a.SubscriptionType === b.SubscriptionType && a.Address === b.Address;
}

/** What identifies a notification of a budget: its type, operator, threshold and threshold type. */
function notificationKey(notification: Record<string, unknown>): string {
  return [
    notification.NotificationType,
    notification.ComparisonOperator,
    notification.Threshold,
    notification.ThresholdType,
  ].join('|');
}

function describeNotification(notification: Record<string, unknown>): string {
  return `${notification.NotificationType} ${notification.ComparisonOperator} ${notification.Threshold} ${notification.ThresholdType}`;
}

function findNotification(
  record: BudgetRecord,
  notification: Record<string, unknown>,
): Notification | undefined {
  const key = notificationKey(notification);
  return record.notifications.find((entry) => notificationKey(entry.notification) === key);
}

function requireNotification(
  record: BudgetRecord,
  notification: Record<string, unknown>,
  action: string,
): Notification {
  const entry = findNotification(record, notification);
  if (!entry) {
    throw new AwsError(
      'NotFoundException',
      `Unable to ${action}: ${describeNotification(notification)} - the notification doesn't exist.`,
    );
  }
  return entry;
}

function asStructure(params: Params, entry: unknown, member: string): Input {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return params.fail(`Each of ${member} must be a structure.`);
  return entry as Input;
}

/** The budget in the API's shape, with dates and the (always zero) calculated spend. */
function present(record: BudgetRecord, showFilterExpression: boolean): Record<string, unknown> {
  const { TimePeriod, LastUpdatedTime, FilterExpression, ...rest } = record.budget as Record<
    string,
    unknown
  > & {
    TimePeriod: Period;
    LastUpdatedTime: number;
  };
  const unit = (record.budget.BudgetLimit as { Unit?: string } | undefined)?.Unit ?? 'USD';
  return {
    ...rest,
    ...(showFilterExpression && FilterExpression ? { FilterExpression } : {}),
    TimePeriod: { Start: new Date(TimePeriod.Start), End: new Date(TimePeriod.End) },
    CalculatedSpend: {
      ActualSpend: { Amount: '0', Unit: unit },
      ForecastedSpend: { Amount: '0', Unit: unit },
    },
    LastUpdatedTime: new Date(LastUpdatedTime),
  };
}

/**
 * Whether a notification's condition holds. Actual and forecasted spend are always zero here, so only
 * "less than a positive threshold" and "equal to zero" are in alarm.
 */
function notificationState(notification: Record<string, unknown>): 'OK' | 'ALARM' {
  const threshold = notification.Threshold as number;
  const operator = notification.ComparisonOperator;
  return (operator === 'LESS_THAN' && threshold > 0) || (operator === 'EQUAL_TO' && threshold === 0)
    ? 'ALARM'
    : 'OK';
}
