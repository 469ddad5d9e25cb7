import * as z from 'zod';
import { EMAIL_PATTERN } from './text.ts';

const tagKey = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, 'letters, digits, spaces and _.:/=+-@')
  .refine((key) => !/^(aws|vend):/i.test(key), 'the prefixes aws: and vend: are reserved');

/** The body of an account request, as the requester writes it. */
export const accountRequestSchema = z.strictObject({
  /** Short name; the account is named with its OU's prefix (see the naming rule). */
  name: z.string().min(1).max(64),
  /** The account's root email; the configured template makes one when absent. */
  email: z.string().min(6).max(64).optional(),
  /** OU path such as `Workloads/Dev`, or an OU id. */
  organizationalUnit: z.string().min(1).max(512),
  /** Email of the person or team that owns the account; budget alerts go there. */
  owner: z.string().regex(EMAIL_PATTERN, 'an email address such as alice@example.com').max(254),
  requester: z
    .strictObject({
      /** Slack member id, to mention the requester: `U0123ABCD`. */
      slackUserId: z
        .string()
        .regex(/^[UW][A-Z0-9]{2,20}$/, 'a Slack member id such as U0123ABCD')
        .optional(),
    })
    .optional(),
  budget: z
    .strictObject({
      monthlyLimitUsd: z.number().positive().max(10_000_000),
      thresholds: z
        .array(
          z.strictObject({
            percent: z.number().positive().max(1000),
            type: z.enum(['ACTUAL', 'FORECASTED']),
          }),
        )
        .min(1)
        .max(10)
        .optional(),
    })
    .optional(),
  tags: z
    .record(tagKey, z.string().max(256))
    .refine((tags) => Object.keys(tags).length <= 40, 'at most 40 tags')
    .optional(),
  vpc: z
    .strictObject({
      id: z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id such as vpc-0abc1234def567890'),
      region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'a region such as us-east-1'),
    })
    .optional(),
});

export type AccountRequestInput = z.input<typeof accountRequestSchema>;

/** The fields that name an account or a person: they are reserved or mailed, so they must read as they are. */
export const IDENTITY_FIELDS = ['name', 'email', 'owner'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];

/**
 * The body with its identity fields in Unicode normalization form NFKC, so that compatibility forms (fullwidth
 * `ｐａｙｍｅｎｔｓ`, ligatures such as `ﬀ`) become the letters they stand for before anything is checked or
 * reserved. Anything else in the body is left as it is.
 */
export function normalizeIdentityFields(body: unknown): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const normalized: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const field of IDENTITY_FIELDS) {
    const value = normalized[field];
    if (typeof value === 'string') normalized[field] = value.normalize('NFKC');
  }
  return normalized;
}

/**
 * The first character of an identity field outside printable ASCII, after NFKC: what is left is not a compatibility
 * form but another script's letter (Cyrillic `а` in `pаyments`), which would look like an ASCII name or address
 * to a reader and a different one to AWS and the registry. Undefined when the value is all printable ASCII.
 */
export function nonAsciiCharacter(value: string): string | undefined {
  return /[^\x20-\x7e]/u.exec(value)?.[0];
}

/** `U+0430`: how a refusal names a character, since it may look like another. */
export function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
