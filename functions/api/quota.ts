import {
  ListAccountsCommand,
  ListCreateAccountStatusCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Deps } from '../shared/deps.ts';
import { aws, HttpError } from '../shared/errors.ts';

/** How long one count of the organization's accounts serves, per handler instance. */
export const ACCOUNT_COUNT_TTL_MS = 60_000;

/**
 * How many accounts count against the organization's quota: every account (all statuses count, as in AWS) plus
 * the creations in progress. One count serves for a minute per handler instance, so a burst of requests asks
 * Organizations once; requests accepted since are added, since they will soon be creations in progress.
 */
export class AccountCount {
  private cached: { at: number; count: Promise<number>; acceptedSince: number } | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly now: () => number,
  ) {}

  /** Refuses (409) when the organization has as many accounts as its configured quota. */
  async requireRoom(): Promise<void> {
    const quota = this.deps.config.organization.accountQuota;
    const count = await this.current();
    if (count >= quota) {
      throw new HttpError(
        409,
        `the organization has reached its account quota: ${count} accounts (created or being created) of ${quota}`,
        {
          fix:
            'Ask your platform team to raise the AWS Organizations account quota (Service Quotas, "Default ' +
            'maximum number of accounts"), then organization.accountQuota in vend.config.json; or close unused accounts.',
        },
      );
    }
  }

  async current(): Promise<number> {
    const now = this.now();
    if (!this.cached || now - this.cached.at >= ACCOUNT_COUNT_TTL_MS) {
      const count = this.fetch();
      const entry = { at: now, count, acceptedSince: 0 };
      this.cached = entry;
      count.catch(() => {
        if (this.cached === entry) this.cached = undefined;
      });
    }
    const entry = this.cached;
    return (await entry.count) + entry.acceptedSince;
  }

  /** Counts a request just accepted until the next fetch. */
  accepted(): void {
    if (this.cached) this.cached.acceptedSince++;
  }

  private async fetch(): Promise<number> {
    const organizations = this.deps.client(OrganizationsClient);
    const accounts = async () => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await aws(
          organizations.send(new ListAccountsCommand({ MaxResults: 20, NextToken: token })),
        );
        total += page.Accounts?.length ?? 0;
        token = page.NextToken;
      } while (token);
      return total;
    };
    const creating = async () => {
      let total = 0;
      let token: string | undefined;
      do {
        const page = await aws(
          organizations.send(
            new ListCreateAccountStatusCommand({ States: ['IN_PROGRESS'], MaxResults: 20, NextToken: token }),
          ),
        );
        total += page.CreateAccountStatuses?.length ?? 0;
        token = page.NextToken;
      } while (token);
      return total;
    };
    const [existing, inProgress] = await Promise.all([accounts(), creating()]);
    return existing + inProgress;
  }
}
