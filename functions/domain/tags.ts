import {
  ListTagsForResourceCommand,
  OrganizationsClient,
  TagResourceCommand,
} from '@aws-sdk/client-organizations';
import { aws } from '../shared/errors.ts';
import { type AccountContext, applyChanges, type Change, type Converger } from './converger.ts';

/** The account tags Vend owns (the desired state's `tags`, `vendTags(request)`), by key. */
export interface OwnedTags {
  tags: Record<string, string>;
}

/** Putting back the owned tags that are missing or changed, with one TagResource. */
export interface TagsChange extends Change {
  /** What differs, in words: `tag team is "x", not "y"; tag cost-center is missing`. */
  readonly found: string;
  readonly keys: string[];
}

/**
 * The account's tags, acting as the management account: missing or changed owned tags are put back; tags Vend
 * does not own are left alone.
 */
export const tagsConverger: Converger<OwnedTags, TagsChange> = {
  aspect: 'tags',
  async plan({ tags: desired }, account) {
    const actual = await accountTags(account);
    const wrong = Object.entries(desired).filter(([key, value]) => actual.get(key) !== value);
    if (wrong.length === 0) return [];
    const found = wrong
      .map(([key, value]) =>
        actual.has(key) ? `tag ${key} is "${actual.get(key)}", not "${value}"` : `tag ${key} is missing`,
      )
      .join('; ');
    const keys = wrong.map(([key]) => key);
    return [
      {
        aspect: 'tags',
        summary: `restore the tag(s) ${keys.join(', ')}`,
        found,
        keys,
        async run(target) {
          await aws(
            target.deps.client(OrganizationsClient).send(
              new TagResourceCommand({
                ResourceId: target.accountId,
                Tags: wrong.map(([Key, Value]) => ({ Key, Value })),
              }),
            ),
          );
          return { done: [`restored the tag(s) ${keys.join(', ')}`], created: false };
        },
      },
    ];
  },
  apply: applyChanges,
};

async function accountTags(account: AccountContext): Promise<Map<string, string>> {
  const tags = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await aws(
      account.deps.client(OrganizationsClient).send(
        new ListTagsForResourceCommand({
          ResourceId: account.accountId,
          ...(token ? { NextToken: token } : {}),
        }),
      ),
    );
    for (const tag of page.Tags ?? []) if (tag.Key !== undefined) tags.set(tag.Key, tag.Value ?? '');
    token = page.NextToken;
  } while (token);
  return tags;
}
