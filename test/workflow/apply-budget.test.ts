import {
  BudgetsClient,
  CreateNotificationCommand,
  CreateSubscriberCommand,
  DeleteNotificationCommand,
  DeleteSubscriberCommand,
  DescribeBudgetCommand,
  DescribeNotificationsForBudgetCommand,
  DescribeSubscribersForNotificationCommand,
  type Notification,
  type Subscriber,
  UpdateBudgetCommand,
} from '@aws-sdk/client-budgets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyBudget } from '../../functions/apply-budget/core.ts';
import { convergeBudget } from '../../functions/domain/budget.ts';
import type { VendRequest } from '../../functions/shared/model.ts';
import {
  countingCalls,
  createMemberAccount,
  recordAccount,
  startWorkflowEnv,
  stepInput,
  storeRequest,
  testRequest,
  type WorkflowEnv,
  withFault,
} from './harness.ts';

const ACTUAL_80: Notification = {
  NotificationType: 'ACTUAL',
  ComparisonOperator: 'GREATER_THAN',
  Threshold: 80,
  ThresholdType: 'PERCENTAGE',
};
const FORECASTED_100: Notification = {
  NotificationType: 'FORECASTED',
  ComparisonOperator: 'GREATER_THAN',
  Threshold: 100,
  ThresholdType: 'PERCENTAGE',
};
const email = (address: string): Subscriber => ({ SubscriptionType: 'EMAIL', Address: address });
const OWNER_AND_FINOPS = [email('alice@example.com'), email('finops@example.com')];

describe('applyBudget', () => {
  let env: WorkflowEnv;
  let request: VendRequest;
  let accountId: string;
  let name: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    request = testRequest();
    name = `vend-${request.accountName}`;
    await storeRequest(env.deps, request);
    accountId = await createMemberAccount(env, request.accountName);
    await recordAccount(env.deps, request, accountId);
  });
  afterAll(() => env.close());
  /** Budgets as the new account's administrators see them (through the credentials cache: they expire on the simulated clock). */
  const budgetsClient = async (): Promise<BudgetsClient> =>
    (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(BudgetsClient);

  const describeBudget = async () =>
    (
      await (
        await budgetsClient()
      ).send(new DescribeBudgetCommand({ AccountId: accountId, BudgetName: name }))
    ).Budget;
  const notifications = async () =>
    (
      (
        await (
          await budgetsClient()
        ).send(new DescribeNotificationsForBudgetCommand({ AccountId: accountId, BudgetName: name }))
      ).Notifications ?? []
    ).map(({ NotificationState: _state, ...notification }) => notification);
  const subscribers = async (notification: Notification) =>
    (
      await (
        await budgetsClient()
      ).send(
        new DescribeSubscribersForNotificationCommand({
          AccountId: accountId,
          BudgetName: name,
          Notification: notification,
        }),
      )
    ).Subscribers ?? [];
  const budgetChangesSince = (mark: number) =>
    env.cloud.cloud
      .auditSince(mark)
      .filter(
        (event) => event.eventSource === 'budgets.amazonaws.com' && event.recipientAccountId === accountId,
      )
      .map((event) => event.eventName);
  const auditMark = () => env.cloud.cloud.state.audit.at(-1)?.sequence ?? 0;

  it('creates a monthly cost budget in the new account with an alert per threshold to the owner and finops', async () => {
    const { result: output, calls: reads } = await countingCalls(
      env,
      (service, operation) => service === 'budgets' && operation.startsWith('Describe'),
      () => applyBudget(env.deps, stepInput(request)),
    );

    // A new account has no budget to read: the first attempt creates it straight away.
    expect(reads).toBe(0);
    expect(output).toEqual({
      step: 'applyBudget',
      budgetName: name,
      monthlyLimitUsd: 200,
      action: 'created',
    });
    expect(await describeBudget()).toMatchObject({
      BudgetName: name,
      BudgetLimit: { Amount: '200', Unit: 'USD' },
      TimeUnit: 'MONTHLY',
      BudgetType: 'COST',
    });
    expect(await notifications()).toEqual([ACTUAL_80, FORECASTED_100]);
    expect(await subscribers(ACTUAL_80)).toEqual(OWNER_AND_FINOPS);
    expect(await subscribers(FORECASTED_100)).toEqual(OWNER_AND_FINOPS);
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.applyBudget).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('changes nothing when run again', async () => {
    const mark = auditMark();

    const output = await applyBudget(env.deps, stepInput(request));

    expect(output.action).toBe('unchanged');
    expect(budgetChangesSince(mark)).toEqual([]);
    const record = await env.deps.requests.get(request.requestId);
    expect(record?.steps.applyBudget).toMatchObject({
      status: 'succeeded',
      detail: `budget ${name} already in place`,
    });
  });

  it('restores a limit changed by hand, updating the budget in place so that its period survives', async () => {
    const before = await describeBudget();
    await (await budgetsClient()).send(
      new UpdateBudgetCommand({
        AccountId: accountId,
        NewBudget: {
          BudgetName: name,
          BudgetLimit: { Amount: '5000', Unit: 'USD' },
          TimeUnit: 'MONTHLY',
          BudgetType: 'COST',
        },
      }),
    );
    const mark = auditMark();

    const output = await applyBudget(env.deps, stepInput(request));

    expect(output.action).toBe('updated');
    const after = await describeBudget();
    expect(after?.BudgetLimit).toEqual({ Amount: '200', Unit: 'USD' });
    expect(after?.TimePeriod).toEqual(before?.TimePeriod);
    expect(budgetChangesSince(mark)).toEqual(['UpdateBudget']);
    expect(await notifications()).toEqual([ACTUAL_80, FORECASTED_100]);
  });

  it('adds back a notification deleted by hand, with its subscribers, without touching the budget', async () => {
    await (await budgetsClient()).send(
      new DeleteNotificationCommand({ AccountId: accountId, BudgetName: name, Notification: FORECASTED_100 }),
    );
    const mark = auditMark();

    const output = await applyBudget(env.deps, stepInput(request));

    expect(output.action).toBe('updated');
    expect(budgetChangesSince(mark)).toEqual(['CreateNotification']);
    expect(await notifications()).toEqual([ACTUAL_80, FORECASTED_100]);
    expect(await subscribers(FORECASTED_100)).toEqual(OWNER_AND_FINOPS);
  });

  it('removes a notification and a subscriber added by hand, and subscribes again one removed by hand', async () => {
    const extra: Notification = { ...ACTUAL_80, Threshold: 50 };
    await (await budgetsClient()).send(
      new CreateNotificationCommand({
        AccountId: accountId,
        BudgetName: name,
        Notification: extra,
        Subscribers: [email('mallory@example.com')],
      }),
    );
    await (await budgetsClient()).send(
      new CreateSubscriberCommand({
        AccountId: accountId,
        BudgetName: name,
        Notification: ACTUAL_80,
        Subscriber: email('mallory@example.com'),
      }),
    );
    await (await budgetsClient()).send(
      new DeleteSubscriberCommand({
        AccountId: accountId,
        BudgetName: name,
        Notification: ACTUAL_80,
        Subscriber: email('finops@example.com'),
      }),
    );

    const { output, changeLog } = await convergeBudget(env.deps, accountId, request);

    expect(output.action).toBe('updated');
    expect(changeLog).toEqual([
      'deleted notification ACTUAL > 50%',
      'subscribed finops@example.com to ACTUAL > 80%',
      'unsubscribed mallory@example.com from ACTUAL > 80%',
    ]);
    expect(await notifications()).toEqual([ACTUAL_80, FORECASTED_100]);
    expect(await subscribers(ACTUAL_80)).toEqual(OWNER_AND_FINOPS);
  });

  it('makes room before subscribing again when others filled the alert to the ten email subscribers AWS allows', async () => {
    const client = await budgetsClient();
    await client.send(
      new DeleteSubscriberCommand({
        AccountId: accountId,
        BudgetName: name,
        Notification: ACTUAL_80,
        Subscriber: email('finops@example.com'),
      }),
    );
    for (let i = 0; i < 9; i++) {
      await client.send(
        new CreateSubscriberCommand({
          AccountId: accountId,
          BudgetName: name,
          Notification: ACTUAL_80,
          Subscriber: email(`someone${i}@example.com`),
        }),
      );
    }
    expect(await subscribers(ACTUAL_80)).toHaveLength(10);

    const { output } = await convergeBudget(env.deps, accountId, request);

    expect(output.action).toBe('updated');
    expect(await subscribers(ACTUAL_80)).toEqual(OWNER_AND_FINOPS);
  });

  it('moves the budget to a new limit and thresholds when the target changes', async () => {
    const target = {
      ...request,
      budget: { monthlyLimitUsd: 750, thresholds: [{ percent: 90, type: 'ACTUAL' as const }] },
    };

    const { output } = await convergeBudget(env.deps, accountId, target);

    expect(output).toMatchObject({ monthlyLimitUsd: 750, action: 'updated' });
    expect((await describeBudget())?.BudgetLimit).toEqual({ Amount: '750', Unit: 'USD' });
    expect(await notifications()).toEqual([{ ...ACTUAL_80, Threshold: 90 }]);
    // And back.
    await expect(applyBudget(env.deps, stepInput(request))).resolves.toMatchObject({ action: 'updated' });
    expect(await notifications()).toEqual([ACTUAL_80, FORECASTED_100]);
  });

  it('never deletes and re-creates the budget', () => {
    const events = budgetChangesSince(0);
    expect(events.filter((event) => event === 'CreateBudget')).toHaveLength(1);
    expect(events).not.toContain('DeleteBudget');
  });

  it('surfaces Budgets throttling as Vend.Throttled, and a later run succeeds', async () => {
    const fault = { service: 'budgets', operation: 'DescribeBudget', error: { code: 'ThrottlingException' } };
    await expect(
      withFault(env, fault, () => applyBudget(env.deps, stepInput(request))),
    ).rejects.toMatchObject({
      name: 'Vend.Throttled',
    });
    await expect(applyBudget(env.deps, stepInput(request))).resolves.toMatchObject({
      action: 'unchanged',
    });
  });
});
