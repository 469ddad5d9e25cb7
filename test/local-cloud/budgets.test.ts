import {
  type Budget,
  CreateBudgetCommand,
  type CreateBudgetCommandInput,
  DeleteBudgetCommand,
  DescribeBudgetCommand,
  DescribeBudgetsCommand,
  DescribeNotificationsForBudgetCommand,
  type NotificationWithSubscribers,
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
