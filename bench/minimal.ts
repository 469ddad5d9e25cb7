/**
 * The baseline the pipeline is measured against: the same vend (account, OU, baseline, budget, DNS, one Slack
 * message) done by the SDK calls a careful engineer would make by hand, straight to the local cloud. No registry,
 * no state machine, no convergence reads: each call is the one that changes something, or the one a write needs
 * (ListParents for MoveAccount's source, DescribeVpcs for the VPC id). Waits run on the same clock and cadence as
 * the workflow's: the first look after `creation.firstWaitSeconds`, then each wait `backoffRate` times the last.
 */
import { BudgetsClient, CreateBudgetCommand } from '@aws-sdk/client-budgets';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  AttachRolePolicyCommand,
  CreateAccountAliasCommand,
  CreateRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  UpdateAccountPasswordPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  ConstraintViolationException,
  CreateAccountCommand,
  DescribeCreateAccountStatusCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import {
  AssociateVPCWithHostedZoneCommand,
  CreateVPCAssociationAuthorizationCommand,
  DeleteVPCAssociationAuthorizationCommand,
  Route53Client,
  type VPCRegion,
} from '@aws-sdk/client-route-53';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { accountAlias } from '../functions/domain/alias.ts';
import { budgetName } from '../functions/domain/budget.ts';
import { trustPolicy } from '../functions/domain/role.ts';
import { fillTemplate, type VendConfig } from '../functions/shared/config.ts';

export interface MinimalContext {
  endpoint: string;
  config: VendConfig;
  /** The caller's key in the management account. */
  accessKeyId: string;
  /** Waits on the simulated clock. */
  sleep(ms: number): Promise<void>;
  /** The simulated clock's time, for credential expiry. */
  now(): number;
  slackUrl: string;
}

export interface MinimalVendInput {
  name: string;
  organizationalUnit: string;
  owner: string;
}

/** Seconds between attempts when CreateAccount finds every creation slot taken, or AssumeRole is refused: the ASL's IntervalSeconds. */
const SLOT_RETRY_SECONDS = 10;
const ASSUME_RETRY_SECONDS = 10;
const CREDENTIAL_MARGIN_MS = 5 * 60 * 1000;

/**
 * A careful engineer's session: management clients made once, the OU ids looked up once, the DNS hub's role
 * assumed once (its credentials last an hour), then `vend` for each account.
 */
export class MinimalVendor {
  private readonly organizations: OrganizationsClient;
  private readonly sts: STSClient;
  private readonly ouIds = new Map<string, Promise<{ id: string; rootId: string }>>();
  private hub: { client: Promise<Route53Client>; expiresAt: number } | undefined;

  constructor(private readonly context: MinimalContext) {
    const credentials = { accessKeyId: context.accessKeyId, secretAccessKey: 'local' };
    const base = { region: 'us-east-1', endpoint: context.endpoint, credentials, maxAttempts: 1 };
    this.organizations = new OrganizationsClient(base);
    this.sts = new STSClient({ ...base, region: context.config.organization.homeRegion });
  }

  /** The OU's id, found once per path: ListRoots, then ListOrganizationalUnitsForParent per level. */
  private ou(path: string): Promise<{ id: string; rootId: string }> {
    let found = this.ouIds.get(path);
    if (!found) {
      found = (async () => {
        const { Roots } = await this.organizations.send(new ListRootsCommand({}));
        const rootId = Roots![0]!.Id!;
        let parent = rootId;
        for (const segment of path.split('/')) {
          const { OrganizationalUnits } = await this.organizations.send(
            new ListOrganizationalUnitsForParentCommand({ ParentId: parent }),
          );
          parent = OrganizationalUnits!.find((ou) => ou.Name === segment)!.Id!;
        }
        return { id: parent, rootId };
      })();
      this.ouIds.set(path, found);
    }
    return found;
  }

  private async assume(
    accountId: string,
    roleName: string,
    retry: boolean,
  ): Promise<AwsCredentialIdentity & { expiresAt: number }> {
    for (;;) {
      try {
        const { Credentials } = await this.sts.send(
          new AssumeRoleCommand({
            RoleArn: `arn:aws:iam::${accountId}:role/${roleName}`,
            RoleSessionName: 'vend',
          }),
        );
        return {
          accessKeyId: Credentials!.AccessKeyId!,
          secretAccessKey: Credentials!.SecretAccessKey!,
          sessionToken: Credentials!.SessionToken!,
          expiresAt: Credentials!.Expiration!.getTime(),
        };
      } catch (error) {
        // A new account's IAM is not consistent at once: AWS documents retrying.
        if (!retry || (error as Error).name !== 'AccessDenied') throw error;
        await this.context.sleep(ASSUME_RETRY_SECONDS * 1000);
      }
    }
  }

  /** Route 53 in the DNS hub, its role assumed again only when its credentials near their end (as the pipeline does). */
  private hubRoute53(): Promise<Route53Client> {
    const dns = this.context.config.dns!;
    if (!this.hub || this.hub.expiresAt - CREDENTIAL_MARGIN_MS <= this.context.now()) {
      const assumed = this.assume(dns.hubAccountId, dns.roleName, false);
      const hub = {
        expiresAt: Number.POSITIVE_INFINITY,
        client: assumed.then(
          ({ expiresAt: _expiresAt, ...credentials }) =>
            new Route53Client({
              region: 'us-east-1',
              endpoint: this.context.endpoint,
              credentials,
              maxAttempts: 1,
            }),
        ),
      };
      void assumed.then(
        (credentials) => {
          hub.expiresAt = credentials.expiresAt;
        },
        () => {
          if (this.hub === hub) this.hub = undefined;
        },
      );
      this.hub = hub;
    }
    return this.hub.client;
  }

  /** One vend, start to end; returns the new account's id. */
  async vend(input: MinimalVendInput): Promise<string> {
    const { config, endpoint } = this.context;
    const accountName = `${config.naming.prefixes[input.organizationalUnit] ?? ''}${input.name}`;
    const email = fillTemplate(config.email.template!, { accountName, name: input.name });
    const ou = await this.ou(input.organizationalUnit);

    // Create, waiting for a slot when Organizations has as many creations in progress as it allows.
    let createId: string;
    for (;;) {
      try {
        const { CreateAccountStatus } = await this.organizations.send(
          new CreateAccountCommand({
            AccountName: accountName,
            Email: email,
            RoleName: config.organization.accessRoleName,
            IamUserAccessToBilling: 'ALLOW',
            Tags: [{ Key: 'vend:owner', Value: input.owner }],
          }),
        );
        createId = CreateAccountStatus!.Id!;
        break;
      } catch (error) {
        if (
          !(error instanceof ConstraintViolationException) ||
          error.Reason !== 'ACCOUNT_CREATION_RATE_LIMIT_EXCEEDED'
        )
          throw error;
        await this.context.sleep(SLOT_RETRY_SECONDS * 1000);
      }
    }

    // Poll at the workflow's cadence.
    let wait = config.creation.firstWaitSeconds;
    let accountId: string | undefined;
    for (;;) {
      await this.context.sleep(wait * 1000);
      const { CreateAccountStatus } = await this.organizations.send(
        new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: createId }),
      );
      if (CreateAccountStatus?.State === 'SUCCEEDED') {
        accountId = CreateAccountStatus.AccountId!;
        break;
      }
      if (CreateAccountStatus?.State !== 'IN_PROGRESS')
        throw new Error(
          `creation ${createId}: ${CreateAccountStatus?.State} ${CreateAccountStatus?.FailureReason}`,
        );
      wait = Math.min(Math.ceil(wait * config.creation.backoffRate), config.creation.maxWaitSeconds);
    }

    const { Parents } = await this.organizations.send(new ListParentsCommand({ ChildId: accountId }));
    await this.organizations.send(
      new MoveAccountCommand({
        AccountId: accountId,
        SourceParentId: Parents![0]!.Id!,
        DestinationParentId: ou.id,
      }),
    );

    const { expiresAt: _expiresAt, ...credentials } = await this.assume(
      accountId,
      config.organization.accessRoleName,
      true,
    );
    const client = { region: 'us-east-1', endpoint, credentials, maxAttempts: 1 };
    const iam = new IAMClient(client);
    const budgets = new BudgetsClient(client);
    const route53 = new Route53Client(client);
    const ec2 = new EC2Client({ ...client, region: config.organization.homeRegion });

    const baseline = async () => {
      for (const role of config.baseline.roles) {
        await iam.send(
          new CreateRoleCommand({
            RoleName: role.name,
            AssumeRolePolicyDocument: JSON.stringify(trustPolicy(role)),
            ...(role.description !== undefined ? { Description: role.description } : {}),
            MaxSessionDuration: role.maxSessionDurationSeconds,
            Tags: [{ Key: 'vend:managed', Value: 'true' }],
          }),
        );
        for (const arn of role.managedPolicyArns)
          await iam.send(new AttachRolePolicyCommand({ RoleName: role.name, PolicyArn: arn }));
        for (const [policyName, document] of Object.entries(role.inlinePolicies))
          await iam.send(
            new PutRolePolicyCommand({
              RoleName: role.name,
              PolicyName: policyName,
              PolicyDocument: JSON.stringify(document),
            }),
          );
      }
      const policy = config.baseline.passwordPolicy;
      if (policy) {
        await iam.send(
          new UpdateAccountPasswordPolicyCommand({
            MinimumPasswordLength: policy.minimumPasswordLength,
            RequireSymbols: policy.requireSymbols,
            RequireNumbers: policy.requireNumbers,
            RequireUppercaseCharacters: policy.requireUppercaseCharacters,
            RequireLowercaseCharacters: policy.requireLowercaseCharacters,
            AllowUsersToChangePassword: policy.allowUsersToChangePassword,
            MaxPasswordAge: policy.maxPasswordAgeDays,
            PasswordReusePrevention: policy.passwordReusePrevention,
            HardExpiry: policy.hardExpiry,
          }),
        );
      }
      if (config.baseline.accountAliasTemplate) {
        const alias = accountAlias(config.baseline.accountAliasTemplate, accountName);
        await iam.send(new CreateAccountAliasCommand({ AccountAlias: alias }));
      }
    };

    const budget = async () => {
      const subscribers = [...new Set([input.owner, ...config.budget.subscribers])].map((Address) => ({
        SubscriptionType: 'EMAIL' as const,
        Address,
      }));
      await budgets.send(
        new CreateBudgetCommand({
          AccountId: accountId,
          Budget: {
            BudgetName: budgetName(accountName),
            BudgetLimit: { Amount: String(config.budget.defaultMonthlyLimitUsd), Unit: 'USD' },
            TimeUnit: 'MONTHLY',
            BudgetType: 'COST',
          },
          NotificationsWithSubscribers: config.budget.thresholds.map((threshold) => ({
            Notification: {
              NotificationType: threshold.type,
              ComparisonOperator: 'GREATER_THAN',
              Threshold: threshold.percent,
              ThresholdType: 'PERCENTAGE',
            },
            Subscribers: subscribers,
          })),
        }),
      );
    };

    const dns = async () => {
      const zone = config.dns;
      if (!zone) return;
      const { Vpcs } = await ec2.send(
        new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
      );
      const vpc = { VPCId: Vpcs![0]!.VpcId!, VPCRegion: config.organization.homeRegion as VPCRegion };
      const hub = await this.hubRoute53();
      await hub.send(
        new CreateVPCAssociationAuthorizationCommand({ HostedZoneId: zone.hostedZoneId, VPC: vpc }),
      );
      await route53.send(
        new AssociateVPCWithHostedZoneCommand({ HostedZoneId: zone.hostedZoneId, VPC: vpc }),
      );
      await hub.send(
        new DeleteVPCAssociationAuthorizationCommand({ HostedZoneId: zone.hostedZoneId, VPC: vpc }),
      );
    };

    await Promise.all([baseline(), budget(), dns()]);

    const response = await fetch(this.context.slackUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `Your AWS account ${accountName} (${accountId}) is ready.` }),
    });
    await response.arrayBuffer();
    return accountId;
  }
}
