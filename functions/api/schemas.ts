import * as z from 'zod';
import { DRIFT_ASPECTS, STEP_NAMES } from '../shared/model.ts';

/**
 * What the request API answers, as zod schemas. The OpenAPI document is generated from these same schemas
 * (openapi.ts), and the tests check every answer against them, so the document cannot drift from the code.
 * Objects are strict: a field the document does not list is a bug, not a surprise for clients.
 */

const timestamp = z.iso.datetime().meta({ description: 'ISO 8601, UTC.' });

export const accountIdSchema = z
  .string()
  .regex(/^\d{12}$/, 'an account id is 12 digits')
  .meta({ description: 'AWS account id: 12 digits.', examples: ['123456789012'] });

export const requestIdSchema = z
  .string()
  .min(1)
  .max(128)
  .meta({
    description: 'The request id POST /accounts answered with.',
    examples: ['req-5f0c2a1e-8d3b-4c7a-9e21-0b6d4f3a8c11'],
  });

export const requestStatusSchema = z
  .enum([
    'awaiting-approval',
    'pending',
    'creating',
    'configuring',
    'succeeded',
    'failed',
    'denied',
    'expired',
  ])
  .meta({
    description:
      'awaiting-approval: its name and email are reserved, nothing starts until an approver decides; ' +
      'pending: accepted, not started; creating: AWS is creating the account; configuring: moving it to its OU, ' +
      'applying the baseline, budget and DNS; succeeded: ready; failed: see `failure`; denied: an approver said no ' +
      '(see `approval`); expired: nobody decided in time. Denied and expired requests free their name and email.',
  });

export const organizationalUnitSchema = z
  .strictObject({
    id: z.string().meta({ description: 'OU id, `ou-…`.' }),
    path: z.string().meta({ description: 'OU path from the root, such as `Workloads/Dev`.' }),
  })
  .meta({ description: 'The OU the account goes to.' });

/** Every error: the status again, the field at fault when one is, what is wrong, and what to do. */
export const errorResponseSchema = z.strictObject({
  error: z.strictObject({
    status: z.number().int().min(400).max(599),
    field: z
      .string()
      .optional()
      .meta({ description: 'The body field (dotted path), header or parameter at fault.' }),
    message: z.string().meta({ description: 'What is wrong.' }),
    fix: z.string().optional().meta({ description: 'What to do about it.' }),
  }),
});

/**
 * API Gateway's own answer when IAM authorization refuses a request's signature (403), before the handler runs:
 * `{"message": "The security token included in the request is invalid."}` and the like. The local API answers
 * the same way.
 */
export const gatewayErrorSchema = z.strictObject({
  message: z.string().meta({ description: "API Gateway's reason, in AWS's words." }),
});
/** How a request's approval was decided. */
export const approvalDecisionViewSchema = z
  .strictObject({
    outcome: z.enum(['approved', 'denied', 'expired']),
    by: z.string().optional().meta({
      description: "Who decided: the principal's ARN, or `slack:<member id>`; absent for an expiry.",
    }),
    as: z
      .array(z.string())
      .optional()
      .meta({ description: 'The `access` entries through which the decider decided.' }),
    via: z.enum(['api', 'slack', 'expiry']),
    at: timestamp,
    reason: z.string().optional().meta({ description: 'Why: always given for a denial.' }),
  })
  .meta({ description: 'The decision: who decided, when, through what and why.' });

/** A request's approval, when its profile requires one. */
export const approvalViewSchema = z
  .strictObject({
    approvers: z
      .array(z.string())
      .meta({ description: 'The `access` entries whose principals may decide (never the requester).' }),
    requestedAt: timestamp,
    expiresAt: timestamp.meta({ description: 'Undecided by then, the request expires and frees its name.' }),
    decision: approvalDecisionViewSchema.optional(),
  })
  .meta({ description: "Present when the OU's profile requires approval before anything starts." });

/** 202 to POST /accounts. */
export const requestAcceptedSchema = z.strictObject({
  requestId: requestIdSchema,
  status: requestStatusSchema,
  accountName: z.string().meta({ description: 'The account name: the requested name with its OU prefix.' }),
  email: z.string().meta({ description: "The account's root email." }),
  organizationalUnit: organizationalUnitSchema,
  approval: approvalViewSchema
    .optional()
    .meta({ description: 'When the request waits for approval: who may decide, and until when.' }),
  links: z.strictObject({
    self: z.string().meta({ description: 'Where to follow the request: GET this path.' }),
  }),
});

export const stepSchema = z.strictObject({
  name: z.enum(STEP_NAMES),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: timestamp,
  endedAt: timestamp.optional(),
  attempts: z.number().int().min(1).meta({ description: 'Attempts so far, retries included.' }),
  detail: z.string().optional().meta({ description: 'What the step did or found.' }),
  lastError: z
    .string()
    .optional()
    .meta({
      description:
        'While a running step is retried: the name of the error its last attempt failed with (such as ' +
        'Vend.Throttled). What the error said stays in the logs.',
    }),
});

/** 200 to GET /accounts/requests/{requestId}. */
export const requestViewSchema = z.strictObject({
  requestId: requestIdSchema,
  status: requestStatusSchema,
  accountId: accountIdSchema.optional().meta({ description: 'Known once AWS has created the account.' }),
  accountName: z.string(),
  email: z.string(),
  organizationalUnit: organizationalUnitSchema,
  requester: z.strictObject({
    principal: z.string().meta({ description: 'The IAM principal that sent the request.' }),
    slackUserId: z.string().optional(),
  }),
  owner: z.string(),
  steps: z.array(stepSchema).meta({ description: 'The steps started so far, in workflow order.' }),
  failure: z
    .strictObject({
      step: z.enum(STEP_NAMES),
      reason: z.string().meta({ description: 'What went wrong.' }),
      advice: z.string().meta({ description: 'What to do about it.' }),
      quarantined: z.boolean().optional().meta({
        description:
          'The account exists and stays under the quarantine policy vend-quarantine (nobody but Vend can act in it) until the platform team finishes or closes it.',
      }),
    })
    .optional(),
  guardrails: z.array(z.string()).optional().meta({
    description:
      "The service control policies of the request's profile, attached once the account is configured.",
  }),
  approval: approvalViewSchema.optional(),
  notification: z
    .strictObject({
      kind: z.enum(['success', 'failure', 'decision']),
      status: z.enum(['sent', 'pending', 'failed', 'skipped']),
      at: timestamp,
    })
    .optional()
    .meta({
      description:
        'The last Slack message to the requester (`decision`: that it was denied or expired); `pending` while it waits in the outbox to be retried, `skipped` when Slack is not configured.',
    }),
  createdAt: timestamp,
  updatedAt: timestamp,
});

const thresholdSchema = z.strictObject({
  percent: z.number(),
  type: z.enum(['ACTUAL', 'FORECASTED']),
});

const driftAspectSchema = z.enum(DRIFT_ASPECTS).meta({
  description:
    'organizationalUnit and tags (Organizations events tell of them), membership (closed or removed), and what only ' +
    'the periodic sweep sees: baseline (IAM roles, password policy, alias), budget, dns.',
});

/** One entry of an account's drift history. */
export const driftRecordSchema = z.strictObject({
  id: z.string().meta({ description: 'The CloudTrail event id, or `sweep-…` for what a sweep found.' }),
  source: z.enum(['event', 'sweep']),
  eventName: z.string().optional().meta({ description: 'The API call, such as MoveAccount.' }),
  aspects: z.array(driftAspectSchema),
  what: z.string().meta({ description: 'What drifted, in words.' }),
  by: z
    .string()
    .optional()
    .meta({ description: 'Who did it (the principal ARN); unknown for sweep findings.' }),
  at: timestamp.meta({ description: 'When it happened, or when the sweep found it.' }),
  outcome: z.enum(['fixed', 'reported', 'failed', 'in-sync', 'held', 'quarantined']).meta({
    description:
      'fixed: Vend put it back; reported: told, not changed (report mode, or an account closed or removed); ' +
      'failed: putting it back failed (see reason); in-sync: already put back when Vend looked; held: told, not ' +
      'changed, because the account is on hold; quarantined: told, not changed, because the account is in a ' +
      'quarantine OU (drift.quarantineOrganizationalUnits).',
  }),
  action: z.string().optional().meta({ description: 'What Vend did, or would do in report mode.' }),
  reason: z
    .string()
    .optional()
    .meta({ description: "Why the fix failed, in general terms: AWS's error stays in the logs." }),
  announcement: z
    .enum(['sent', 'pending', 'skipped', 'failed'])
    .optional()
    .meta({ description: 'Whether Slack was told.' }),
  recordedAt: timestamp,
});

/** Whether the account still is as Vend vended it. */
export const driftSchema = z
  .strictObject({
    status: z.enum(['in-sync', 'drifted', 'unknown']).meta({
      description:
        'drifted: an aspect was last seen differing from what Vend vended (and not put back); unknown: never checked.',
    }),
    aspects: z
      .partialRecord(
        driftAspectSchema,
        z.strictObject({ status: z.enum(['in-sync', 'drifted']), checkedAt: timestamp }),
      )
      .meta({ description: 'Each aspect as last checked.' }),
    history: z.array(driftRecordSchema).meta({
      description: 'Newest first: up to 50 entries for one account, the 5 latest in the account list.',
    }),
  })
  .meta({ description: 'Drift: changes made by hand to the account, and what Vend did about them.' });

/** The most characters of a hold's reason. */
export const HOLD_REASON_MAX = 500;

/** An account on hold. */
export const holdSchema = z
  .strictObject({
    by: z.string().meta({ description: 'Who put it on hold: the signed caller (principal ARN).' }),
    at: timestamp,
    reason: z.string().meta({ description: 'Why, as the administrator gave it.' }),
  })
  .meta({
    description:
      'Present while the account is on hold: drift is reported (outcome `held`) and nothing is put back until it is released.',
  });

/** One hold or release of an account. */
export const holdEventSchema = z.strictObject({
  action: z.enum(['hold', 'release']),
  by: z.string().meta({ description: 'Who held or released it: the signed caller (principal ARN).' }),
  at: timestamp,
  reason: z.string().optional().meta({ description: 'Why it was held (holds only).' }),
});

/** A vended account as Vend promised it (its desired state). */
export const accountSchema = z.strictObject({
  accountId: accountIdSchema,
  accountName: z.string(),
  email: z.string(),
  organizationalUnit: organizationalUnitSchema,
  tags: z.record(z.string(), z.string()),
  baselineVersion: z.string(),
  budget: z.strictObject({
    name: z.string(),
    monthlyLimitUsd: z.number(),
    thresholds: z.array(thresholdSchema),
  }),
  dns: z
    .strictObject({ hostedZoneId: z.string(), vpcId: z.string(), region: z.string() })
    .optional()
    .meta({ description: "The account's VPC associated with the shared private hosted zone." }),
  alias: z.string().optional(),
  guardrails: z.array(z.string()).optional().meta({
    description: "The service control policies of the account's profile, attached to it and kept attached.",
  }),
  owner: z.string(),
  requestId: requestIdSchema,
  status: z.enum(['active', 'closed', 'removed']),
  hold: holdSchema.optional(),
  holdHistory: z
    .array(holdEventSchema)
    .meta({ description: 'Every hold and release of the account, newest first (the 50 latest).' }),
  drift: driftSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
});

/** 200 to GET /accounts. */
export const accountListSchema = z.strictObject({
  accounts: z.array(accountSchema).meta({ description: 'Newest first.' }),
  nextCursor: z
    .string()
    .optional()
    .meta({ description: 'Pass as `cursor` for the next page; absent on the last page.' }),
});

/** 200 to POST /accounts?dryRun=true: what the request would do; nothing was written or started. */
export const dryRunPlanSchema = z.strictObject({
  dryRun: z.literal(true),
  plan: z.strictObject({
    accountName: z.string(),
    email: z.string(),
    organizationalUnit: organizationalUnitSchema,
    profile: z.strictObject({ name: z.string(), description: z.string().optional() }).meta({
      description: "The OU's profile: `default`, or the OU path when the configuration overrides it.",
    }),
    owner: z.string(),
    approval: z.strictObject({
      required: z.boolean(),
      approvers: z
        .array(z.strictObject({ entry: z.string(), principals: z.array(z.string()) }))
        .meta({ description: 'Who would decide: the access entries and their principals.' }),
      expiresAfterHours: z.number().optional(),
    }),
    baseline: z.strictObject({
      roles: z.array(z.strictObject({ name: z.string(), trustedAccountId: z.string() })),
      passwordPolicy: z.boolean(),
      alias: z.string().optional(),
      securityDefaults: z
        .strictObject({
          ebsEncryptionRegions: z.array(z.string()),
          s3BlockPublicAccess: z.boolean(),
          alternateContacts: z.array(z.enum(['security', 'billing', 'operations'])),
        })
        .meta({
          description:
            "The profile's account security defaults: the regions EBS encryption by default is turned on in, whether S3 Block Public Access is turned on, the alternate contacts set.",
        }),
    }),
    budget: z.strictObject({
      monthlyLimitUsd: z.number(),
      thresholds: z.array(thresholdSchema),
      subscribers: z.array(z.string()).meta({ description: 'Who hears of the alerts: the owner first.' }),
    }),
    tags: z.record(z.string(), z.string()).meta({ description: 'The tags the account would carry.' }),
    dns: z
      .strictObject({
        hostedZoneId: z.string(),
        vpc: z.strictObject({ id: z.string(), region: z.string() }).optional(),
      })
      .optional()
      .meta({ description: "The shared private zone the account's VPC would join." }),
    guardrails: z.array(z.string()).meta({
      description: "The service control policies Vend would attach: the profile's `policies`.",
    }),
  }),
});

/** Query of GET /accounts. */
export const listQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(25)
    .meta({ description: 'Accounts per page, 1-100.' }),
  cursor: z
    .string()
    .min(1)
    .max(4096)
    .optional()
    .meta({ description: 'The `nextCursor` of the previous page.' }),
});

/** The body of POST /accounts/requests/{requestId}/approval. Strict: a field it does not list is refused. */
export const approvalDecisionSchema = z
  .strictObject({
    decision: z.enum(['approve', 'deny']).meta({
      description: 'approve: the account is vended now; deny: the request ends and frees its name and email.',
    }),
    reason: z
      .string()
      .max(1000)
      .optional()
      .meta({
        description: 'Why, for the requester (told on Slack) and the record: required to deny.',
        examples: ['Use Workloads/Dev for load tests'],
      }),
  })
  .meta({ description: 'A decision on a request awaiting approval.' });

/** The body of POST /accounts/{accountId}/hold. Strict: a field it does not list is refused. */
export const holdRequestSchema = z
  .strictObject({
    reason: z
      .string()
      .trim()
      .min(1, 'a reason is required')
      .max(HOLD_REASON_MAX, `at most ${HOLD_REASON_MAX} characters`)
      .meta({
        description:
          'Why the account is held, for the record and the announcement on Slack (1-500 characters).',
        examples: ['INC-1234: suspected credential leak, under investigation'],
      }),
  })
  .meta({ description: 'Puts a vended account on hold.' });

/** The `Idempotency-Key` header: 1-255 printable ASCII characters. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7E]([\x20-\x7E]{0,253}[\x21-\x7E])?$/, '1-255 printable ASCII characters')
  .meta({
    description:
      'Makes POST /accounts safe to retry: the same key (per caller) with the same body answers with the same ' +
      'request and starts nothing new, for 24 hours; the same key with another body is refused (409).',
    examples: ['3f1c9a7e-payments-2026-11-22'],
  });

export type ErrorResponse = z.output<typeof errorResponseSchema>;
export type GatewayError = z.output<typeof gatewayErrorSchema>;
export type ApprovalDecisionInput = z.output<typeof approvalDecisionSchema>;
export type HoldRequestInput = z.output<typeof holdRequestSchema>;
export type ApprovalView = z.output<typeof approvalViewSchema>;
export type RequestAccepted = z.output<typeof requestAcceptedSchema>;
export type StepView = z.output<typeof stepSchema>;
export type RequestView = z.output<typeof requestViewSchema>;
export type AccountView = z.output<typeof accountSchema>;
export type DriftRecordView = z.output<typeof driftRecordSchema>;
export type DriftView = z.output<typeof driftSchema>;
export type AccountList = z.output<typeof accountListSchema>;
export type DryRunPlan = z.output<typeof dryRunPlanSchema>;
