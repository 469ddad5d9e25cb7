/**
 * What the soak sends: a seeded, shuffled burst of new requests, repeats of earlier idempotency keys (same body:
 * each must be answered with the original request) and requests that reuse an earlier request's email under
 * another name and key (of each pair exactly one may be accepted).
 */
import type { VendConfig } from '../functions/shared/config.ts';
import { fillTemplate } from '../functions/shared/config.ts';

/** A small seeded generator (mulberry32): the same seed gives the same plan. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface PlannedRequest {
  /** Position in the plan (before shuffling). */
  index: number;
  kind: 'original' | 'duplicate' | 'email-reuse';
  key: string;
  body: {
    name: string;
    organizationalUnit: string;
    owner: string;
    email?: string;
    tags: Record<string, string>;
  };
  accountName: string;
  /** The account's root email, lower case. */
  email: string;
  /** For a duplicate or an email reuse: the original's index. */
  of?: number;
}

export interface SoakPlan {
  requests: PlannedRequest[];
  /** In the order they are sent. */
  order: PlannedRequest[];
  originals: number;
  duplicates: number;
  emailReuses: number;
}

export function planSoak(
  config: VendConfig,
  options: { total: number; duplicates: number; emailReuses: number; seed: number },
): SoakPlan {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  const originals = options.total - options.duplicates - options.emailReuses;
  if (originals < options.duplicates + options.emailReuses)
    throw new RangeError('too few originals for the duplicates and email reuses asked for');
  const ous = config.organization.allowedOrganizationalUnits;
  const accountNameOf = (name: string, ou: string) => `${config.naming.prefixes[ou] ?? ''}${name}`;
  const requests: PlannedRequest[] = [];
  for (let i = 0; i < originals; i++) {
    const name = `soak-${i + 1}`;
    const organizationalUnit = pick(ous);
    const accountName = accountNameOf(name, organizationalUnit);
    requests.push({
      index: i,
      kind: 'original',
      key: `soak-key-${i + 1}`,
      body: { name, organizationalUnit, owner: `owner-${i % 7}@example.com`, tags: { soak: 'true' } },
      accountName,
      email: fillTemplate(config.email.template ?? '', { accountName, name }).toLowerCase(),
    });
  }
  // Distinct originals for the repeats and for the email reuses, so that each check has one expected outcome.
  const shuffledOriginals = shuffle([...requests], random);
  const repeated = shuffledOriginals.slice(0, options.duplicates);
  const reused = shuffledOriginals.slice(options.duplicates, options.duplicates + options.emailReuses);
  for (const original of repeated) {
    requests.push({ ...original, index: requests.length, kind: 'duplicate', of: original.index });
  }
  for (const [j, original] of reused.entries()) {
    const name = `soak-reuse-${j + 1}`;
    const organizationalUnit = pick(ous);
    // Half shout the address: emails are reserved whatever their case.
    const email =
      j % 2 === 0 ? original.email : original.email.toUpperCase().replace('@EXAMPLE.COM', '@example.com');
    requests.push({
      index: requests.length,
      kind: 'email-reuse',
      key: `soak-reuse-key-${j + 1}`,
      body: { name, organizationalUnit, owner: 'mallory@example.com', email, tags: { soak: 'true' } },
      accountName: accountNameOf(name, organizationalUnit),
      email: original.email,
      of: original.index,
    });
  }
  return {
    requests,
    order: shuffle([...requests], random),
    originals,
    duplicates: options.duplicates,
    emailReuses: options.emailReuses,
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
