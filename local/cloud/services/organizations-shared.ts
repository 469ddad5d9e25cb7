import { AwsError } from '../errors.ts';
import type { CallContext, Input } from '../service.ts';
import type { AccountRecord, CloudState } from '../state.ts';
import { decodeToken, paginate } from '../validate.ts';

/** Helpers that the Organizations operations (organizations.ts, organizations-policies.ts) share. */

const PAGE = { integer: true, min: 1, max: 20 } as const;

/** The ARN of an Organizations resource of `kind` (account, ou, root) in this organization. */
export function organizationArn(state: CloudState, kind: string, id: string): string {
  const { organization } = state;
  return `arn:aws:organizations::${organization.managementAccountId}:${kind}/${organization.id}/${id}`;
}

/** Organizations answers only the management account, except DescribeOrganization, which members may call. */
export function requireManagement({ cloud, caller }: CallContext): void {
  if (caller.accountId !== cloud.state.organization.managementAccountId) {
    throw new AwsError('AccessDeniedException', "You don't have permissions to access this resource.");
  }
}

/** Whether `id` is the root or an OU of the organization. */
export function parentExists(state: CloudState, id: string): boolean {
  return id === state.organization.rootId || Object.hasOwn(state.organizationalUnits, id);
}

/** Paginates a listing as Organizations does: MaxResults 1-20, an opaque NextToken bound to the query. */
export function page<T>(context: CallContext, input: Input, items: readonly T[], scope: string) {
  const maxResults = context.params.number(input, 'MaxResults', PAGE) ?? 20;
  const token = context.params.string(input, 'NextToken', { max: 100_000 });
  const offset = decodeToken(token, scope, context.params);
  const { page: entries, next } = paginate(items, offset, maxResults, scope);
  return { entries, ...(next ? { NextToken: next } : {}) };
}

/** Checks Organizations tags: 1-128 character keys, up to 256 character values, at most 50. */
export function readTags(context: CallContext, input: Input): { Key: string; Value: string }[] {
  return context.params.tags(input, 'Tags', 50);
}

/** The accounts in the organization: those that left it or were removed live on, outside it. */
export function members(state: CloudState): AccountRecord[] {
  return Object.values(state.accounts).filter((account) => !account.departed);
}

/** An account of the organization; undefined when there is none with that id or it is no longer a member. */
export function member(state: CloudState, id: string): AccountRecord | undefined {
  const account = Object.hasOwn(state.accounts, id) ? state.accounts[id] : undefined;
  return account && !account.departed ? account : undefined;
}
