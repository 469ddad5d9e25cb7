import {
  type Budget,
  CreateBudgetCommand,
  type CreateBudgetCommandInput,
  CreateNotificationCommand,
  CreateSubscriberCommand,
  DeleteBudgetCommand,
  DeleteNotificationCommand,
  DeleteSubscriberCommand,
  DescribeBudgetCommand,
  DescribeBudgetsCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  type Notification,
  type NotificationWithSubscribers,
  type Subscriber,
  UpdateBudgetCommand,
} from '@aws-sdk/client-budgets';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BUDGETS_PER_ACCOUNT } from '../../local/cloud/services/budgets.ts';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const MANAGEMENT = '000000000000';
const SECURITY = '111111111111';
const SECURITY_ADMIN: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'x' };

function monthlyCost(name: string, amount = '100'): Budget {
  return {
    BudgetName: name,
    BudgetLimit: { Amount: amount, Unit: 'USD' },
    TimeUnit: 'MONTHLY',
    BudgetType: 'COST',
  };
}

function alert(threshold: number, email = 'finance@example.com'): NotificationWithSubscribers {
  return {
    Notification: { NotificationType: 'ACTUAL', ComparisonOperator: 'GREATER_THAN', Threshold: threshold },
    Subscribers: [{ SubscriptionType: 'EMAIL', Address: email }],
  };
}

describe('Budgets', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
    t.clock.set(Date.UTC(2026, 4, 20, 10, 30));
  });
  afterEach(() => t.close());

  const create = (input: Partial<CreateBudgetCommandInput> & { Budget: Budget }, credentials?: Credentials) =>
    t.budgets(credentials).send(new CreateBudgetCommand({ AccountId: MANAGEMENT, ...input }));
  const list = async (accountId = MANAGEMENT, credentials?: Credentials) =>
    (await t.budgets(credentials).send(new DescribeBudgetsCommand({ AccountId: accountId }))).Budgets ?? [];

  describe('CreateBudget and DescribeBudget', () => {
    it('creates a monthly cost budget from the start of this month to 2087-06-15 with zero spend', async () => {
      await create({ Budget: monthlyCost('vend-monthly', '250') });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'vend-monthly' }));
      expect(budget).toMatchObject({
        BudgetName: 'vend-monthly',
        BudgetLimit: { Amount: '250', Unit: 'USD' },
        TimeUnit: 'MONTHLY',
        BudgetType: 'COST',
        TimePeriod: { Start: new Date('2026-05-01T00:00:00Z'), End: new Date('2087-06-15T00:00:00Z') },
        CalculatedSpend: {
          ActualSpend: { Amount: '0', Unit: 'USD' },
          ForecastedSpend: { Amount: '0', Unit: 'USD' },
        },
        LastUpdatedTime: new Date('2026-05-20T10:30:00Z'),
      });
    });

    it('fills in the documented cost type defaults, keeping the ones given', async () => {
      await create({
        Budget: { ...monthlyCost('typed'), CostTypes: { IncludeCredit: false, UseBlended: true } },
      });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'typed' }));
      expect(budget?.CostTypes).toEqual({
        IncludeTax: true,
        IncludeSubscription: true,
        UseBlended: true,
        IncludeRefund: true,
        IncludeCredit: false,
        IncludeUpfront: true,
        IncludeRecurring: true,
        IncludeOtherSubscription: true,
        IncludeSupport: true,
        IncludeDiscount: true,
        UseAmortized: false,
      });
    });

    it.each([
      ['DAILY', '2026-05-20T00:00:00Z'],
      ['QUARTERLY', '2026-04-01T00:00:00Z'],
      ['ANNUALLY', '2026-01-01T00:00:00Z'],
    ] as const)('starts a %s budget at the beginning of the current period', async (unit, start) => {
      await create({ Budget: { ...monthlyCost(`b-${unit}`), TimeUnit: unit } });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: `b-${unit}` }));
      expect(budget?.TimePeriod?.Start).toEqual(new Date(start));
    });

    it('keeps an explicit time period and cost filters', async () => {
      const period = { Start: new Date('2026-06-01T00:00:00Z'), End: new Date('2027-06-01T00:00:00Z') };
      await create({
        Budget: {
          ...monthlyCost('ec2-only'),
          TimePeriod: period,
          CostFilters: { Service: ['Amazon Elastic Compute Cloud - Compute'] },
        },
      });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'ec2-only' }));
      expect(budget?.TimePeriod).toEqual(period);
      expect(budget?.CostFilters).toEqual({ Service: ['Amazon Elastic Compute Cloud - Compute'] });
    });

    it('gives a utilisation budget its fixed 100 PERCENTAGE limit and no cost types', async () => {
      await create({ Budget: { BudgetName: 'ri', TimeUnit: 'MONTHLY', BudgetType: 'RI_UTILIZATION' } });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'ri' }));
      expect(budget?.BudgetLimit).toEqual({ Amount: '100', Unit: 'PERCENTAGE' });
      expect(budget?.CostTypes).toBeUndefined();
    });

    it('refuses a second budget with the same name with DuplicateRecordException', async () => {
      await create({ Budget: monthlyCost('dup') });
      await expect(create({ Budget: monthlyCost('dup', '5') })).rejects.toMatchObject({
        name: 'DuplicateRecordException',
      });

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'dup' }));
      expect(budget?.BudgetLimit?.Amount).toBe('100');
    });

    it('refuses a budget beyond the per-account limit with CreationLimitExceededException', async () => {
      // Fill the account to the quota directly: 20,000 calls would only slow the suite down.
      const account = t.cloud.state.accounts[MANAGEMENT]!;
      for (let i = 0; i < MAX_BUDGETS_PER_ACCOUNT; i++) {
        account.budgets[`filler-${i}`] = { budget: {}, notifications: [] };
      }
      await expect(create({ Budget: monthlyCost('one-too-many') })).rejects.toMatchObject({
        name: 'CreationLimitExceededException',
      });
      expect(Object.hasOwn(account.budgets, 'one-too-many')).toBe(false);
    });

    it('reports a missing budget with NotFoundException', async () => {
      await expect(
        t.budgets().send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'nope' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
    });

    it.each<[string, Partial<CreateBudgetCommandInput> & { Budget: Budget }]>([
      ['a name with a colon', { Budget: monthlyCost('a:b') }],
      ['a name with a backslash', { Budget: monthlyCost('a\\b') }],
      ['a name over 100 characters', { Budget: monthlyCost('x'.repeat(101)) }],
      ['an unknown time unit', { Budget: { ...monthlyCost('b'), TimeUnit: 'WEEKLY' as never } }],
      ['an unknown budget type', { Budget: { ...monthlyCost('b'), BudgetType: 'SPEND' as never } }],
      [
        'a cost budget without a limit',
        { Budget: { BudgetName: 'b', TimeUnit: 'MONTHLY', BudgetType: 'COST' } },
      ],
      ['a non-numeric amount', { Budget: monthlyCost('b', 'ten') }],
      [
        'a start after the end',
        {
          Budget: {
            ...monthlyCost('b'),
            TimePeriod: { Start: new Date('2027-01-01T00:00:00Z'), End: new Date('2026-01-01T00:00:00Z') },
          },
        },
      ],
      ['a CUSTOM budget without a period', { Budget: { ...monthlyCost('b'), TimeUnit: 'CUSTOM' } }],
      [
        'eleven notifications',
        {
          Budget: monthlyCost('b'),
          NotificationsWithSubscribers: Array.from({ length: 11 }, (_, i) => alert(i + 1)),
        },
      ],
      [
        'a notification without subscribers',
        { Budget: monthlyCost('b'), NotificationsWithSubscribers: [{ ...alert(80), Subscribers: [] }] },
      ],
      [
        'a notification with twelve subscribers',
        {
          Budget: monthlyCost('b'),
          NotificationsWithSubscribers: [
            {
              ...alert(80),
              Subscribers: Array.from({ length: 12 }, (_, i) => ({
                SubscriptionType: 'EMAIL' as const,
                Address: `p${i}@example.com`,
              })),
            },
          ],
        },
      ],
      [
        'a threshold above 40000000000',
        { Budget: monthlyCost('b'), NotificationsWithSubscribers: [alert(40_000_000_001)] },
      ],
      ['a negative threshold', { Budget: monthlyCost('b'), NotificationsWithSubscribers: [alert(-1)] }],
      [
        'the same notification twice',
        {
          Budget: monthlyCost('b'),
          NotificationsWithSubscribers: [alert(80, 'a@example.com'), alert(80, 'b@example.com')],
        },
      ],
      [
        'an SNS subscriber that is not a topic ARN',
        {
          Budget: monthlyCost('b'),
          NotificationsWithSubscribers: [
            { ...alert(80), Subscribers: [{ SubscriptionType: 'SNS', Address: 'topic' }] },
          ],
        },
      ],
      ['an account id that is not 12 digits', { AccountId: '12345', Budget: monthlyCost('b') }],
    ])('refuses %s with InvalidParameterException and creates nothing', async (_case, input) => {
      await expect(create(input)).rejects.toMatchObject({ name: 'InvalidParameterException' });
      expect(await list()).toEqual([]);
    });
  });

  describe('accounts', () => {
    it('refuses every operation on another account id with AccessDeniedException', async () => {
      await create({ Budget: monthlyCost('mine') });
      const budgets = t.budgets();
      const calls = [
        () => budgets.send(new CreateBudgetCommand({ AccountId: SECURITY, Budget: monthlyCost('theirs') })),
        () => budgets.send(new DescribeBudgetCommand({ AccountId: SECURITY, BudgetName: 'mine' })),
        () => budgets.send(new DescribeBudgetsCommand({ AccountId: SECURITY })),
        () => budgets.send(new UpdateBudgetCommand({ AccountId: SECURITY, NewBudget: monthlyCost('mine') })),
        () => budgets.send(new DeleteBudgetCommand({ AccountId: SECURITY, BudgetName: 'mine' })),
        () =>
          budgets.send(
            new DescribeNotificationsForBudgetCommand({ AccountId: SECURITY, BudgetName: 'mine' }),
          ),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(await list(SECURITY, SECURITY_ADMIN)).toEqual([]);
    });

    it('keeps a budget of the management account invisible to a member account acting through its access role', async () => {
      await create({ Budget: monthlyCost('org-wide') });
      const assumed = await t.sts().send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${SECURITY}:role/OrganizationAccountAccessRole`,
          RoleSessionName: 'vend',
        }),
      );
      const member: Credentials = {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      };

      expect(await list(SECURITY, member)).toEqual([]);
      await expect(
        t.budgets(member).send(new DescribeBudgetCommand({ AccountId: SECURITY, BudgetName: 'org-wide' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });

      // The same name is free in the member account, and its budget stays there.
      await create({ AccountId: SECURITY, Budget: monthlyCost('org-wide', '7') }, member);
      const [theirs] = await list(SECURITY, SECURITY_ADMIN);
      expect(theirs?.BudgetLimit?.Amount).toBe('7');
      const [ours, ...others] = await list();
      expect(ours?.BudgetLimit?.Amount).toBe('100');
      expect(others).toEqual([]);
    });
  });

  describe('DescribeBudgets', () => {
    it('lists the budgets by name, a page at a time', async () => {
      for (const name of ['charlie', 'alpha', 'bravo']) await create({ Budget: monthlyCost(name) });

      const first = await t
        .budgets()
        .send(new DescribeBudgetsCommand({ AccountId: MANAGEMENT, MaxResults: 2 }));
      expect(first.Budgets?.map((budget) => budget.BudgetName)).toEqual(['alpha', 'bravo']);
      expect(first.NextToken).toBeTruthy();
      const second = await t
        .budgets()
        .send(
          new DescribeBudgetsCommand({ AccountId: MANAGEMENT, MaxResults: 2, NextToken: first.NextToken }),
        );
      expect(second.Budgets?.map((budget) => budget.BudgetName)).toEqual(['charlie']);
      expect(second.NextToken).toBeUndefined();
      expect(second.Budgets?.[0]?.CalculatedSpend?.ActualSpend).toEqual({ Amount: '0', Unit: 'USD' });
    });

    it('returns an empty list for an account without budgets', async () => {
      expect(await list()).toEqual([]);
    });

    it.each([0, 101])('refuses MaxResults %i with InvalidParameterException', async (maxResults) => {
      await expect(
        t.budgets().send(new DescribeBudgetsCommand({ AccountId: MANAGEMENT, MaxResults: maxResults })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('refuses a token it did not issue with InvalidNextTokenException', async () => {
      await expect(
        t.budgets().send(new DescribeBudgetsCommand({ AccountId: MANAGEMENT, NextToken: 'bogus' })),
      ).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    });
  });

  describe('UpdateBudget', () => {
    it('replaces the budget, keeping its notifications and, when the update names none, its period', async () => {
      await create({
        Budget: monthlyCost('team', '100'),
        NotificationsWithSubscribers: [alert(80), alert(100)],
      });
      // Into the next month: an update that names no period keeps the budget's own.
      t.clock.advance(20 * 24 * 3600 * 1000);

      await t.budgets().send(
        new UpdateBudgetCommand({
          AccountId: MANAGEMENT,
          NewBudget: { ...monthlyCost('team', '300'), CostFilters: { Region: ['us-east-1'] } },
        }),
      );

      const { Budget: budget } = await t
        .budgets()
        .send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'team' }));
      expect(budget).toMatchObject({
        BudgetLimit: { Amount: '300', Unit: 'USD' },
        CostFilters: { Region: ['us-east-1'] },
        TimePeriod: { Start: new Date('2026-05-01T00:00:00Z') },
        LastUpdatedTime: new Date('2026-06-09T10:30:00Z'),
      });
      const { Notifications } = await t
        .budgets()
        .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'team' }));
      expect(Notifications?.map((notification) => notification.Threshold)).toEqual([80, 100]);
    });

    it('reports a missing budget with NotFoundException', async () => {
      await expect(
        t.budgets().send(new UpdateBudgetCommand({ AccountId: MANAGEMENT, NewBudget: monthlyCost('ghost') })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
      expect(await list()).toEqual([]);
    });

    it('refuses an invalid new budget with InvalidParameterException and keeps the old one', async () => {
      await create({ Budget: monthlyCost('team', '100') });
      await expect(
        t
          .budgets()
          .send(new UpdateBudgetCommand({ AccountId: MANAGEMENT, NewBudget: monthlyCost('team', '-3') })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });

      const [budget] = await list();
      expect(budget?.BudgetLimit?.Amount).toBe('100');
    });
  });

  describe('DeleteBudget', () => {
    it('deletes the budget and its notifications', async () => {
      await create({ Budget: monthlyCost('temp'), NotificationsWithSubscribers: [alert(90)] });

      await t.budgets().send(new DeleteBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'temp' }));

      expect(await list()).toEqual([]);
      await expect(
        t
          .budgets()
          .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'temp' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
      // A budget created again under the name starts without the old notifications.
      await create({ Budget: monthlyCost('temp') });
      const { Notifications } = await t
        .budgets()
        .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'temp' }));
      expect(Notifications).toEqual([]);
    });

    it('reports a missing budget with NotFoundException', async () => {
      await expect(
        t.budgets().send(new DeleteBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'ghost' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
    });
  });

  describe('DescribeNotificationsForBudget', () => {
    it('returns the notifications with PERCENTAGE as the default threshold type and their state', async () => {
      await create({
        Budget: monthlyCost('alerts'),
        NotificationsWithSubscribers: [
          alert(80),
          {
            Notification: {
              NotificationType: 'FORECASTED',
              ComparisonOperator: 'LESS_THAN',
              Threshold: 5,
              ThresholdType: 'ABSOLUTE_VALUE',
            },
            Subscribers: [
              { SubscriptionType: 'SNS', Address: `arn:aws:sns:us-east-1:${MANAGEMENT}:budget-alerts` },
            ],
          },
        ],
      });

      const { Notifications, NextToken } = await t
        .budgets()
        .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'alerts' }));
      expect(Notifications).toEqual([
        {
          NotificationType: 'ACTUAL',
          ComparisonOperator: 'GREATER_THAN',
          Threshold: 80,
          ThresholdType: 'PERCENTAGE',
          NotificationState: 'OK',
        },
        // Spend is always zero in the local cloud, so "less than 5" is in alarm.
        {
          NotificationType: 'FORECASTED',
          ComparisonOperator: 'LESS_THAN',
          Threshold: 5,
          ThresholdType: 'ABSOLUTE_VALUE',
          NotificationState: 'ALARM',
        },
      ]);
      expect(NextToken).toBeUndefined();
    });

    it('pages through notifications', async () => {
      await create({
        Budget: monthlyCost('many'),
        NotificationsWithSubscribers: [alert(50), alert(80), alert(100)],
      });

      const first = await t.budgets().send(
        new DescribeNotificationsForBudgetCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'many',
          MaxResults: 2,
        }),
      );
      const second = await t.budgets().send(
        new DescribeNotificationsForBudgetCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'many',
          MaxResults: 2,
          NextToken: first.NextToken,
        }),
      );
      expect(
        [...(first.Notifications ?? []), ...(second.Notifications ?? [])].map((n) => n.Threshold),
      ).toEqual([50, 80, 100]);
      expect(second.NextToken).toBeUndefined();
    });

    it('reports a missing budget with NotFoundException', async () => {
      await expect(
        t
          .budgets()
          .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'ghost' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
    });
  });

  describe('notifications and subscribers of an existing budget', () => {
    const actual80: Notification = {
      NotificationType: 'ACTUAL',
      ComparisonOperator: 'GREATER_THAN',
      Threshold: 80,
    };
    const email = (address: string): Subscriber => ({ SubscriptionType: 'EMAIL', Address: address });
    const notifications = async (name = 'team') =>
      (
        await t
          .budgets()
          .send(new DescribeNotificationsForBudgetCommand({ AccountId: MANAGEMENT, BudgetName: name }))
      ).Notifications ?? [];
    const subscribers = async (notification: Notification, name = 'team') =>
      (
        await t.budgets().send(
          new DescribeSubscribersForNotificationCommand({
            AccountId: MANAGEMENT,
            BudgetName: name,
            Notification: notification,
          }),
        )
      ).Subscribers ?? [];
    const createNotification = (notification: Notification, addresses: string[], name = 'team') =>
      t.budgets().send(
        new CreateNotificationCommand({
          AccountId: MANAGEMENT,
          BudgetName: name,
          Notification: notification,
          Subscribers: addresses.map(email),
        }),
      );
    const createSubscriber = (notification: Notification, address: string) =>
      t.budgets().send(
        new CreateSubscriberCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'team',
          Notification: notification,
          Subscriber: email(address),
        }),
      );
    const deleteSubscriber = (notification: Notification, address: string) =>
      t.budgets().send(
        new DeleteSubscriberCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'team',
          Notification: notification,
          Subscriber: email(address),
        }),
      );

    it('adds a notification with its subscribers and leaves the budget itself as it was', async () => {
      await create({ Budget: monthlyCost('team', '100') });
      const before = (
        await t.budgets().send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'team' }))
      ).Budget;
      t.clock.advance(3600_000);

      await createNotification(actual80, ['owner@example.com', 'finops@example.com']);

      expect(await notifications()).toEqual([
        { ...actual80, ThresholdType: 'PERCENTAGE', NotificationState: 'OK' },
      ]);
      expect(await subscribers(actual80)).toEqual([email('owner@example.com'), email('finops@example.com')]);
      const after = (
        await t.budgets().send(new DescribeBudgetCommand({ AccountId: MANAGEMENT, BudgetName: 'team' }))
      ).Budget;
      expect(after).toEqual(before);
    });

    it('refuses a notification the budget already has (PERCENTAGE being the default threshold type) with DuplicateRecordException', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'a@example.com')],
      });

      await expect(
        createNotification({ ...actual80, ThresholdType: 'PERCENTAGE' }, ['b@example.com']),
      ).rejects.toMatchObject({ name: 'DuplicateRecordException' });
      expect(await subscribers(actual80)).toEqual([email('a@example.com')]);
    });

    it('refuses an eleventh notification with CreationLimitExceededException', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: Array.from({ length: 10 }, (_, i) => alert(10 * (i + 1))),
      });

      await expect(
        createNotification({ ...actual80, Threshold: 5 }, ['a@example.com']),
      ).rejects.toMatchObject({
        name: 'CreationLimitExceededException',
      });
      expect(await notifications()).toHaveLength(10);
    });

    it.each([
      ['no subscribers', actual80, []],
      ['a negative threshold', { ...actual80, Threshold: -1 }, ['a@example.com']],
      [
        'an unknown comparison operator',
        { ...actual80, ComparisonOperator: 'ABOVE' as never },
        ['a@example.com'],
      ],
      ['an address that is not an email address', actual80, ['not-an-address']],
      ['the same subscriber twice', actual80, ['a@example.com', 'a@example.com']],
    ])(
      'refuses a notification with %s with InvalidParameterException',
      async (_case, notification, addresses) => {
        await create({ Budget: monthlyCost('team') });
        await expect(createNotification(notification, addresses)).rejects.toMatchObject({
          name: 'InvalidParameterException',
        });
        expect(await notifications()).toEqual([]);
      },
    );

    it('reports every change to a missing budget with NotFoundException', async () => {
      const budgets = t.budgets();
      const base = { AccountId: MANAGEMENT, BudgetName: 'ghost', Notification: actual80 };
      const calls = [
        () => budgets.send(new CreateNotificationCommand({ ...base, Subscribers: [email('a@example.com')] })),
        () => budgets.send(new DeleteNotificationCommand(base)),
        () => budgets.send(new CreateSubscriberCommand({ ...base, Subscriber: email('a@example.com') })),
        () => budgets.send(new DeleteSubscriberCommand({ ...base, Subscriber: email('a@example.com') })),
        () => budgets.send(new DescribeSubscribersForNotificationCommand(base)),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'NotFoundException' });
    });

    it('reports a missing notification with NotFoundException', async () => {
      await create({ Budget: monthlyCost('team'), NotificationsWithSubscribers: [alert(80)] });
      const other: Notification = { ...actual80, NotificationType: 'FORECASTED' };
      const budgets = t.budgets();
      const base = { AccountId: MANAGEMENT, BudgetName: 'team', Notification: other };
      const calls = [
        () => budgets.send(new DeleteNotificationCommand(base)),
        () => budgets.send(new CreateSubscriberCommand({ ...base, Subscriber: email('a@example.com') })),
        () =>
          budgets.send(new DeleteSubscriberCommand({ ...base, Subscriber: email('finance@example.com') })),
        () => budgets.send(new DescribeSubscribersForNotificationCommand(base)),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'NotFoundException' });
      expect(await notifications()).toHaveLength(1);
    });

    it('deletes a notification with its subscribers; created again, it starts with only the new ones', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'old@example.com'), alert(100)],
      });

      await t.budgets().send(
        new DeleteNotificationCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'team',
          Notification: actual80,
        }),
      );

      expect((await notifications()).map((notification) => notification.Threshold)).toEqual([100]);
      await createNotification(actual80, ['new@example.com']);
      expect(await subscribers(actual80)).toEqual([email('new@example.com')]);
    });

    it('adds and removes subscribers of a notification', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'a@example.com')],
      });

      await createSubscriber(actual80, 'b@example.com');
      await deleteSubscriber(actual80, 'a@example.com');

      expect(await subscribers(actual80)).toEqual([email('b@example.com')]);
    });

    it('refuses a subscriber the notification already has with DuplicateRecordException', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'a@example.com')],
      });
      await expect(createSubscriber(actual80, 'a@example.com')).rejects.toMatchObject({
        name: 'DuplicateRecordException',
      });
      expect(await subscribers(actual80)).toEqual([email('a@example.com')]);
    });

    it('refuses an eleventh email subscriber and a second SNS one with CreationLimitExceededException', async () => {
      await create({ Budget: monthlyCost('team') });
      await createNotification(
        actual80,
        Array.from({ length: 10 }, (_, i) => `p${i}@example.com`),
      );
      await expect(createSubscriber(actual80, 'one-more@example.com')).rejects.toMatchObject({
        name: 'CreationLimitExceededException',
      });
      const sns = (topic: string): Subscriber => ({
        SubscriptionType: 'SNS',
        Address: `arn:aws:sns:us-east-1:${MANAGEMENT}:${topic}`,
      });
      const subscribe = (subscriber: Subscriber) =>
        t.budgets().send(
          new CreateSubscriberCommand({
            AccountId: MANAGEMENT,
            BudgetName: 'team',
            Notification: actual80,
            Subscriber: subscriber,
          }),
        );
      await subscribe(sns('alerts'));
      await expect(subscribe(sns('more-alerts'))).rejects.toMatchObject({
        name: 'CreationLimitExceededException',
      });
      expect(await subscribers(actual80)).toHaveLength(11);
    });

    it('refuses a notification created with eleven email subscribers with CreationLimitExceededException', async () => {
      await create({ Budget: monthlyCost('team') });
      await expect(
        createNotification(
          actual80,
          Array.from({ length: 11 }, (_, i) => `p${i}@example.com`),
        ),
      ).rejects.toMatchObject({ name: 'CreationLimitExceededException' });
      await expect(
        create({
          Budget: monthlyCost('other'),
          NotificationsWithSubscribers: [
            {
              Notification: actual80,
              Subscribers: Array.from({ length: 11 }, (_, i) => email(`p${i}@example.com`)),
            },
          ],
        }),
      ).rejects.toMatchObject({ name: 'CreationLimitExceededException' });
    });

    it('refuses a subscriber whose address does not fit its type with InvalidParameterException', async () => {
      await create({ Budget: monthlyCost('team'), NotificationsWithSubscribers: [alert(80)] });
      await expect(
        t.budgets().send(
          new CreateSubscriberCommand({
            AccountId: MANAGEMENT,
            BudgetName: 'team',
            Notification: actual80,
            Subscriber: { SubscriptionType: 'SNS', Address: 'finance@example.com' },
          }),
        ),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('reports a subscriber the notification does not have with NotFoundException', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'a@example.com')],
      });
      await expect(deleteSubscriber(actual80, 'b@example.com')).rejects.toMatchObject({
        name: 'NotFoundException',
      });
    });

    it('deletes the notification with its last subscriber, as AWS documents', async () => {
      await create({
        Budget: monthlyCost('team'),
        NotificationsWithSubscribers: [alert(80, 'a@example.com')],
      });

      await deleteSubscriber(actual80, 'a@example.com');

      expect(await notifications()).toEqual([]);
    });

    it('pages through the subscribers of a notification', async () => {
      await create({ Budget: monthlyCost('team') });
      await createNotification(actual80, ['a@example.com', 'b@example.com', 'c@example.com']);
      const page = (NextToken?: string) =>
        t.budgets().send(
          new DescribeSubscribersForNotificationCommand({
            AccountId: MANAGEMENT,
            BudgetName: 'team',
            Notification: actual80,
            MaxResults: 2,
            NextToken,
          }),
        );

      const first = await page();
      const second = await page(first.NextToken);

      expect([...(first.Subscribers ?? []), ...(second.Subscribers ?? [])]).toEqual(
        ['a@example.com', 'b@example.com', 'c@example.com'].map(email),
      );
      expect(second.NextToken).toBeUndefined();
      await expect(page('bogus')).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    });

    it("refuses changes to another account's budget with AccessDeniedException", async () => {
      const budgets = t.budgets();
      const base = { AccountId: SECURITY, BudgetName: 'theirs', Notification: actual80 };
      const calls = [
        () => budgets.send(new CreateNotificationCommand({ ...base, Subscribers: [email('a@example.com')] })),
        () => budgets.send(new DeleteNotificationCommand(base)),
        () => budgets.send(new CreateSubscriberCommand({ ...base, Subscriber: email('a@example.com') })),
        () => budgets.send(new DeleteSubscriberCommand({ ...base, Subscriber: email('a@example.com') })),
        () => budgets.send(new DescribeSubscribersForNotificationCommand(base)),
      ];
      for (const call of calls) await expect(call()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    });

    it('records notification and subscriber changes in the audit trail, and their reads not at all', async () => {
      await create({ Budget: monthlyCost('team') });
      const before = t.cloud.auditSince().length;

      await createNotification(actual80, ['a@example.com']);
      await createSubscriber(actual80, 'b@example.com');
      await subscribers(actual80);
      await deleteSubscriber(actual80, 'b@example.com');
      await t.budgets().send(
        new DeleteNotificationCommand({
          AccountId: MANAGEMENT,
          BudgetName: 'team',
          Notification: actual80,
        }),
      );

      const events = t.cloud.auditSince().slice(before);
      expect(events.map((event) => event.eventName)).toEqual([
        'CreateNotification',
        'CreateSubscriber',
        'DeleteSubscriber',
        'DeleteNotification',
      ]);
    });
  });

  it('records budget changes in the audit trail, and reads not at all', async () => {
    const before = t.cloud.auditSince().length;
    await create({ Budget: monthlyCost('audited') });
    await list();
    const events = t.cloud.auditSince().slice(before);
    expect(events.map((event) => [event.eventSource, event.eventName, event.recipientAccountId])).toEqual([
      ['budgets.amazonaws.com', 'CreateBudget', MANAGEMENT],
    ]);
  });
});
