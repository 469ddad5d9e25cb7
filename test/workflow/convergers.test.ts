import { GetRoleCommand, IAMClient, UntagRoleCommand, UpdateRoleCommand } from '@aws-sdk/client-iam';
import {
  CreateOrganizationalUnitCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasConverger } from '../../functions/domain/alias.ts';
import { budgetConverger } from '../../functions/domain/budget.ts';
import { type AccountContext, accountContext, converge, wouldDo } from '../../functions/domain/converger.ts';
import { dnsConverger, findVpc } from '../../functions/domain/dns.ts';
import { ouConverger } from '../../functions/domain/ou.ts';
import { passwordPolicyConverger } from '../../functions/domain/password-policy.ts';
import { retiredRoleConverger, roleConverger } from '../../functions/domain/role.ts';
import { tagsConverger } from '../../functions/domain/tags.ts';
import { createMemberAccount, startWorkflowEnv, type WorkflowEnv } from './harness.ts';

/**
 * Each converger against the local cloud: `plan` only reads and lists what differs ([] when in sync), `apply`
 * makes the planned changes, and planning again finds nothing left.
 */
describe('convergers: plan reads, apply converges, and the next plan is empty', () => {
  let env: WorkflowEnv;
  let account: AccountContext;
  beforeAll(async () => {
    env = await startWorkflowEnv();
    account = accountContext(env.deps, await createMemberAccount(env, 'converger-target'));
  });
  afterAll(() => env.close());

  /** Mutating calls Vend's sessions made since audit position `since` (AssumeRole aside). */
  const writesSince = (since: number) =>
    env.cloud.cloud
      .auditSince(since)
      .filter(
        (event) =>
          event.eventSource !== 'sts.amazonaws.com' &&
          !/^(Get|List|Describe)/.test(event.eventName) &&
          (event.userIdentity as { arn?: string }).arn?.endsWith('/vend') === true,
      )
      .map((event) => event.eventName);
  const mark = () => env.cloud.cloud.state.auditSequence - 1;

  it('ou: plans the move from where the account is, makes it, and then finds it in place', async () => {
    const organizations = env.deps.client(OrganizationsClient);
    const { Roots } = await organizations.send(new ListRootsCommand({}));
    const rootId = Roots![0]!.Id!;
    const { OrganizationalUnit } = await organizations.send(
      new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: 'converger-ou' }),
    );
    const desired = { organizationalUnitId: OrganizationalUnit!.Id! };

    const since = mark();
    const plan = await ouConverger.plan(desired, account);
    expect(writesSince(since)).toEqual([]);
    expect(plan).toMatchObject([{ aspect: 'ou', from: rootId, to: desired.organizationalUnitId }]);

    const applied = await ouConverger.apply(plan, account);
    expect(applied.done).toEqual([`moved the account from ${rootId} to ${desired.organizationalUnitId}`]);
    expect(await ouConverger.plan(desired, account)).toEqual([]);
    // Applying the same plan again is success: MoveAccount answers DuplicateAccountException, nothing is done.
    expect(await ouConverger.apply(plan, account)).toEqual({ done: [], created: false });
  });

  it('tags: restores the owned tags that differ, and leaves tags Vend does not own alone', async () => {
    const organizations = env.deps.client(OrganizationsClient);
    await organizations.send(
      new TagResourceCommand({
        ResourceId: account.accountId,
        Tags: [
          { Key: 'team', Value: 'someone-else' },
          { Key: 'mine', Value: 'keep' },
        ],
      }),
    );
    const desired = { tags: { team: 'payments', 'cost-center': 'cc-1' } };

    const since = mark();
    const plan = await tagsConverger.plan(desired, account);
    expect(writesSince(since)).toEqual([]);
    expect(wouldDo(plan)).toEqual(['would restore the tag(s) team, cost-center']);
    expect(plan[0]!.found).toBe('tag team is "someone-else", not "payments"; tag cost-center is missing');

    await tagsConverger.apply(plan, account);
    const { Tags } = await organizations.send(
      new ListTagsForResourceCommand({ ResourceId: account.accountId }),
    );
    expect(Object.fromEntries(Tags!.map((tag) => [tag.Key, tag.Value]))).toMatchObject({
      team: 'payments',
      'cost-center': 'cc-1',
      mine: 'keep',
    });
    expect(await tagsConverger.plan(desired, account)).toEqual([]);
  });

  it('role: one converger per role, aspect role:<name>; it creates the role, then mends its settings and tag', async () => {
    const role = env.deps.config.baseline.roles[0]!;
    const converger = roleConverger(role.name);
    expect(converger.aspect).toBe(`role:${role.name}`);

    const since = mark();
    const plan = await converger.plan(role, account);
    expect(writesSince(since)).toEqual([]);
    expect(plan).toMatchObject([{ aspect: `role:${role.name}`, creates: true }]);
    const created = await converger.apply(plan, account);
    expect(created.created).toBe(true);
    expect(created.done[0]).toBe(`created role ${role.name}`);
    expect(await converger.plan(role, account)).toEqual([]);

    const iam = (await account.session()).client(IAMClient);
    await iam.send(
      new UpdateRoleCommand({
        RoleName: role.name,
        Description: 'changed by hand',
        MaxSessionDuration: 7200,
      }),
    );
    await iam.send(new UntagRoleCommand({ RoleName: role.name, TagKeys: ['vend:managed'] }));
    const mend = await converger.plan(role, account);
    expect(wouldDo(mend)).toEqual([
      `would restore the description and maximum session (7200 s, not ${role.maxSessionDurationSeconds} s) of role ${role.name}`,
      `would tag role ${role.name} vend:managed=true`,
    ]);
    await converger.apply(mend, account);
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: role.name }));
    expect(Role).toMatchObject({
      Description: role.description,
      MaxSessionDuration: role.maxSessionDurationSeconds,
    });
    expect(await converger.plan(role, account)).toEqual([]);
  });

  it('role, planned for a new account: writes first, and on finding the role converges the one there', async () => {
    const role = env.deps.config.baseline.roles[0]!;
    const fresh = accountContext(env.deps, account.accountId, { expectNew: true });
    const plan = await roleConverger(role.name).plan(role, fresh);
    expect(wouldDo(plan)).toEqual([`would create role ${role.name} with its policies`]);
    expect(await roleConverger(role.name).apply(plan, fresh)).toEqual({ done: [], created: false });
  });

  it('retired role: deletes a role Vend created, policies first; leaves one without Vend’s tag alone', async () => {
    const role = env.deps.config.baseline.roles[1]!;
    expect(Object.keys(role.inlinePolicies)).not.toEqual([]);
    await converge(roleConverger(role.name), role, account);
    const converger = retiredRoleConverger(role.name);
    expect(converger.aspect).toBe(`role:${role.name}`);

    const since = mark();
    const plan = await converger.plan({ name: role.name }, account);
    expect(writesSince(since)).toEqual([]);
    expect(wouldDo(plan)).toEqual([`would delete role ${role.name}, which the profile no longer lists`]);
    const applied = await converger.apply(plan, account);
    expect(applied).toEqual({
      done: [`deleted role ${role.name}, which the profile no longer lists`],
      created: false,
    });
    expect(writesSince(since)).toEqual(['DetachRolePolicy', 'DeleteRolePolicy', 'DeleteRole']);
    expect(await converger.plan({ name: role.name }, account)).toEqual([]);
    // Applying again finds it gone: nothing done.
    expect(await converger.apply(plan, account)).toEqual({ done: [], created: false });

    await converge(roleConverger(role.name), role, account);
    const iam = (await account.session()).client(IAMClient);
    await iam.send(new UntagRoleCommand({ RoleName: role.name, TagKeys: ['vend:managed'] }));
    expect(await converger.plan({ name: role.name }, account)).toEqual([]);
    await expect(iam.send(new GetRoleCommand({ RoleName: role.name }))).resolves.toBeDefined();
  });

  it('password policy and alias: set, then in sync', async () => {
    const policy = env.deps.config.baseline.passwordPolicy!;
    const alias = { alias: 'acme-converger-target' };
    const since = mark();
    const policyPlan = await passwordPolicyConverger.plan(policy, account);
    const aliasPlan = await aliasConverger.plan(alias, account);
    expect(writesSince(since)).toEqual([]);
    expect(wouldDo([...policyPlan, ...aliasPlan])).toEqual([
      'would set the password policy',
      'would set the account alias acme-converger-target',
    ]);
    await passwordPolicyConverger.apply(policyPlan, account);
    await aliasConverger.apply(aliasPlan, account);
    expect(await passwordPolicyConverger.plan(policy, account)).toEqual([]);
    expect(await aliasConverger.plan(alias, account)).toEqual([]);
    await expect(aliasConverger.plan({ alias: 'Not--valid' }, account)).rejects.toMatchObject({
      name: 'Vend.Failed',
    });
  });

  it('budget: converge() in a dry run lists the creation, and for real creates it; then in sync', async () => {
    const target = {
      accountName: 'converger-target',
      owner: 'alice@example.com',
      budget: { monthlyLimitUsd: 50, thresholds: [{ percent: 90, type: 'ACTUAL' as const }] },
    };
    const since = mark();
    const dry = await converge(budgetConverger, target, account, { dryRun: true });
    expect(writesSince(since)).toEqual([]);
    expect(dry).toMatchObject({
      changeLog: ['would create budget vend-converger-target of 50 USD a month with 1 notification(s)'],
      created: true,
    });
    const real = await converge(budgetConverger, target, account);
    expect(real.created).toBe(true);
    expect(await budgetConverger.plan(target, account)).toEqual([]);
  });

  it('dns: plans the association of the VPC found, makes it, and then finds it associated', async () => {
    const target = await findVpc(account, 'us-east-1', undefined);
    const since = mark();
    const plan = await dnsConverger.plan(target, account);
    expect(writesSince(since)).toEqual([]);
    expect(wouldDo(plan)).toEqual([
      `would associate the VPC ${target.vpcId} (us-east-1) with the private hosted zone Z0VENDTESTINTERNAL01`,
    ]);
    await dnsConverger.apply(plan, account);
    expect(await dnsConverger.plan(target, account)).toEqual([]);
    // The plan made before: applying it again finds the association there and does nothing.
    expect((await dnsConverger.apply(plan, account)).done).toEqual([]);
  });
});
