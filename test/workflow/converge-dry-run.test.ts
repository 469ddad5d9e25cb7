import { BudgetsClient, DescribeBudgetCommand, UpdateBudgetCommand } from '@aws-sdk/client-budgets';
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convergeBaseline } from '../../functions/domain/baseline.ts';
import { budgetName, convergeBudget } from '../../functions/domain/budget.ts';
import { connectVpcToSharedZone } from '../../functions/domain/dns.ts';
import { createMemberAccount, startWorkflowEnv, type WorkflowEnv } from './harness.ts';

/**
 * The converging functions' dry run, which the drift sweep uses in report mode: every check is made, each change
 * that would be made is listed ("would ..."), and nothing changes.
 */

/** Changes Vend made (mutating calls by its sessions, AssumeRole aside) since audit position `since`. */
function changesSince(env: WorkflowEnv, since: number) {
  return env.cloud.cloud
    .auditSince(since)
    .filter(
      (event) =>
        event.eventSource !== 'sts.amazonaws.com' &&
        (event.userIdentity as { arn?: string }).arn?.endsWith('/vend') === true,
    );
}

const TARGET = {
  accountName: 'plan-target',
  owner: 'alice@example.com',
  budget: {
    monthlyLimitUsd: 200,
    thresholds: [
      { percent: 80, type: 'ACTUAL' as const },
      { percent: 100, type: 'FORECASTED' as const },
    ],
  },
};

describe('converging as a dry run', () => {
  let env: WorkflowEnv;
  let accountId: string;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    accountId = await createMemberAccount(env, 'plan-target');
  });
  afterAll(() => env.close());

  it('lists the whole baseline of a new account as would-be changes, and applies none of it', async () => {
    const since = env.cloud.cloud.state.auditSequence - 1;
    const { output, changeLog } = await convergeBaseline(env.deps, accountId, 'plan-target', {
      dryRun: true,
    });
    expect(changeLog).toEqual([
      'would create role VendAdmin with its policies',
      'would create role VendReadOnly with its policies',
      'would set the password policy',
      'would set the account alias acme-plan-target',
    ]);
    expect(output.changes).toBe(4);
    expect(changesSince(env, since)).toEqual([]);
    const iam = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(IAMClient);
    await expect(iam.send(new GetRoleCommand({ RoleName: 'VendAdmin' }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
  });

  it('lists what differs from the baseline after changes by hand, changes nothing, and the real run fixes just that', async () => {
    await convergeBaseline(env.deps, accountId, 'plan-target');
    const iam = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(IAMClient);
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'VendAdmin',
        PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'VendAdmin',
        PolicyName: 'Extra',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'VendReadOnly', PolicyName: 'DenyBilling' }));
    await iam.send(
      new DetachRolePolicyCommand({
        RoleName: 'VendReadOnly',
        PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess',
      }),
    );
    await iam.send(new DeleteRoleCommand({ RoleName: 'VendReadOnly' }));
    await iam.send(new UpdateAccountPasswordPolicyCommand({ MinimumPasswordLength: 8 }));

    const since = env.cloud.cloud.state.auditSequence - 1;
    const plan = await convergeBaseline(env.deps, accountId, 'plan-target', { dryRun: true });
    expect(plan.changeLog).toEqual([
      'would attach arn:aws:iam::aws:policy/AdministratorAccess to role VendAdmin',
      'would delete inline policy Extra from role VendAdmin',
      'would create role VendReadOnly with its policies',
      'would restore the password policy',
    ]);
    expect(changesSince(env, since)).toEqual([]);

    const applied = await convergeBaseline(env.deps, accountId, 'plan-target');
    expect(applied.changeLog).toEqual(
      expect.arrayContaining([
        'attached arn:aws:iam::aws:policy/AdministratorAccess to role VendAdmin',
        'deleted inline policy Extra from role VendAdmin',
        'created role VendReadOnly',
        'restored the password policy',
      ]),
    );
    expect((await convergeBaseline(env.deps, accountId, 'plan-target', { dryRun: true })).changeLog).toEqual(
      [],
    );
  });

  it('lists the budget it would create, or restore, and changes nothing', async () => {
    const since = env.cloud.cloud.state.auditSequence - 1;
    const plan = await convergeBudget(env.deps, accountId, TARGET, { dryRun: true });
    expect(plan.output.action).toBe('created');
    expect(plan.changeLog).toEqual([
      'would create budget vend-plan-target of 200 USD a month with 2 notification(s)',
    ]);
    expect(changesSince(env, since)).toEqual([]);
    expect(env.cloud.cloud.state.accounts[accountId]!.budgets).toEqual({});

    await convergeBudget(env.deps, accountId, TARGET);
    const budgets = (await env.deps.clientsFor(accountId, 'OrganizationAccountAccessRole')).client(
      BudgetsClient,
    );
    await budgets.send(
      new UpdateBudgetCommand({
        AccountId: accountId,
        NewBudget: {
          BudgetName: budgetName('plan-target'),
          BudgetLimit: { Amount: '5', Unit: 'USD' },
          TimeUnit: 'MONTHLY',
          BudgetType: 'COST',
        },
      }),
    );
    const since2 = env.cloud.cloud.state.auditSequence - 1;
    const again = await convergeBudget(
      env.deps,
      accountId,
      { ...TARGET, budget: { ...TARGET.budget, thresholds: [{ percent: 50, type: 'ACTUAL' }] } },
      { dryRun: true },
    );
    expect(again.changeLog).toEqual([
      'would restore the budget to 200 USD a month (it is COST MONTHLY 5 USD)',
      'would delete notification ACTUAL > 80%',
      'would delete notification FORECASTED > 100%',
      'would add notification ACTUAL > 50%',
    ]);
    expect(again.output.action).toBe('updated');
    expect(changesSince(env, since2)).toEqual([]);
    const { Budget } = await budgets.send(
      new DescribeBudgetCommand({ AccountId: accountId, BudgetName: budgetName('plan-target') }),
    );
    expect(Number(Budget!.BudgetLimit!.Amount)).toBe(5);
  });

  it('says it would associate the VPC with the shared zone, without authorizing or associating', async () => {
    const since = env.cloud.cloud.state.auditSequence - 1;
    const plan = await connectVpcToSharedZone(env.deps, accountId, undefined, { dryRun: true });
    expect(plan).toMatchObject({ action: 'would-associate', hostedZoneId: 'Z0VENDTESTINTERNAL01' });
    expect(changesSince(env, since)).toEqual([]);
    const zone = env.cloud.cloud.state.hostedZones.Z0VENDTESTINTERNAL01!;
    expect(zone.vpcs.some((vpc) => vpc.VPCId === plan.vpcId)).toBe(false);
    expect(zone.authorizations).toEqual([]);

    expect(await connectVpcToSharedZone(env.deps, accountId)).toMatchObject({ action: 'associated' });
    expect(await connectVpcToSharedZone(env.deps, accountId, undefined, { dryRun: true })).toMatchObject({
      action: 'already-associated',
    });
  });
});
