import type { ZodType } from 'zod';
import * as z from 'zod';
import { accountRequestSchema } from '../shared/request-schema.ts';
import {
  accountIdSchema,
  accountListSchema,
  accountSchema,
  approvalDecisionSchema,
  dryRunPlanSchema,
  errorResponseSchema,
  gatewayErrorSchema,
  holdRequestSchema,
  idempotencyKeySchema,
  listQuerySchema,
  requestAcceptedSchema,
  requestIdSchema,
  requestViewSchema,
} from './schemas.ts';

/**
 * The OpenAPI 3.1 document of the request API, generated from the zod schemas the handler answers with
 * (schemas.ts) and the request schema submission checks (request-schema.ts): one source for both.
 */

/** The request body schemas, by component name (JSON Schema of what a client may send). */
export const REQUEST_SCHEMAS = {
  AccountRequest: accountRequestSchema,
  ApprovalDecision: approvalDecisionSchema,
  HoldRequest: holdRequestSchema,
} as const;

/** The response schemas, by component name (JSON Schema of what the API answers). */
export const RESPONSE_SCHEMAS = {
  RequestAccepted: requestAcceptedSchema,
  Request: requestViewSchema,
  Account: accountSchema,
  AccountList: accountListSchema,
  DryRunPlan: dryRunPlanSchema,
  Error: errorResponseSchema,
  GatewayError: gatewayErrorSchema,
} as const;

type JsonSchema = Record<string, unknown>;
const ref = (name: keyof typeof REQUEST_SCHEMAS | keyof typeof RESPONSE_SCHEMAS) => ({
  $ref: `#/components/schemas/${name}`,
});

function components(schemas: Record<string, ZodType>, io: 'input' | 'output'): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: generated } = z.toJSONSchema(registry, {
    io,
    uri: (id) => `#/components/schemas/${id}`,
    unrepresentable: 'any',
  });
  return Object.fromEntries(
    Object.entries(generated).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function parameterSchema(schema: ZodType): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

const jsonContent = (schema: JsonSchema) => ({ 'application/json': { schema } });
const errorResponse = (description: string) => ({ description, content: jsonContent(ref('Error')) });
const internalError = errorResponse(
  'Something failed on our side; nothing about it is in the answer. Retry later.',
);
const unavailable = {
  ...errorResponse(
    'AWS throttled a call or failed briefly. Retry after the `Retry-After` seconds (with the same ' +
      'Idempotency-Key, for a POST).',
  ),
  headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'string' } } },
};

/** Every route is behind IAM authorization: API Gateway refuses a bad signature before the handler runs. */
const signatureRefused = {
  description:
    'API Gateway refused the signature: an unknown access key, a wrong or missing session token, expired ' +
    'credentials, a signature that does not match, or an X-Amz-Date more than 5 minutes off.',
  content: jsonContent(ref('GatewayError')),
};

/**
 * 403 from either place that refuses: API Gateway (the signature, as `{message}`), or Vend (the caller's grants, as
 * the error JSON).
 */
const refusedOrNotGranted = (what: string) => ({
  description: `${signatureRefused.description} Or ${what}.`,
  content: jsonContent({ oneOf: [ref('GatewayError'), ref('Error')] }),
});

/** The `{accountId}` path parameter. */
const accountIdParameter = () => ({
  name: 'accountId',
  in: 'path',
  required: true,
  description: accountIdSchema.description,
  schema: parameterSchema(accountIdSchema),
});

let cached: JsonSchema | undefined;

/** The document; built once. */
export function openApiDocument(): JsonSchema {
  cached ??= build();
  return cached;
}

function build(): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Vend request API',
      version: '1.0.0',
      description:
        'Ask for an AWS account and follow the request. Requests are signed with AWS credentials (SigV4, ' +
        'service execute-api); a signature API Gateway refuses answers 403 `{ "message" }` in its own words. Every ' +
        'other error answers `{ "error": { "status", "field"?, "message", "fix"? } }`; a ' +
        'method a path does not support answers 405 with an `Allow` header, an unknown path 404.',
    },
    security: [{ sigv4: [] }],
    paths: {
      '/accounts': {
        post: {
          operationId: 'requestAccount',
          summary: 'Ask for an account',
          description:
            'Checks the request at once (the naming rule, the OU, the email, the budget, names and emails already ' +
            'taken, the organization account quota) and refuses it with the field at fault and the fix, starting ' +
            'nothing. An accepted request is vended in the background: follow it at the `Location` answered.',
          parameters: [
            {
              name: 'dryRun',
              in: 'query',
              required: false,
              description:
                '`true`: run every check and answer 200 with the plan (account, OU and profile, approval, ' +
                'baseline, budget, tags, DNS, guardrails); nothing is written or started.',
              schema: { type: 'string', enum: ['true', 'false'] },
            },
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: idempotencyKeySchema.description,
              schema: parameterSchema(idempotencyKeySchema),
            },
          ],
          requestBody: { required: true, content: jsonContent(ref('AccountRequest')) },
          responses: {
            '200': {
              description:
                'A dry run (`?dryRun=true`): the request passed every check; this is what it would do.',
              content: jsonContent(ref('DryRunPlan')),
            },
            '202': {
              description:
                "Accepted: the workflow is started; or, when the OU's profile requires approval, the request is " +
                '`awaiting-approval` (its name and email reserved, nothing started, the approvers told on Slack). ' +
                'A retry with the same Idempotency-Key and body answers the same.',
              headers: {
                Location: {
                  description: 'The request: GET it to follow the progress.',
                  schema: { type: 'string' },
                },
                'Idempotent-Replayed': {
                  description: '`true` when this answers an earlier request with the same Idempotency-Key.',
                  schema: { type: 'string', enum: ['true'] },
                },
              },
              content: jsonContent(ref('RequestAccepted')),
            },
            '400': errorResponse(
              'The body is not valid JSON, breaks the schema, the naming rule or the email rules, names an OU by ' +
                "a bare name, breaks the OU profile's rules (root email, owner's domain, required tags, budget " +
                'maximum and alert floor), or the Idempotency-Key header is malformed.',
            ),
            '403': refusedOrNotGranted(
              'the caller is not granted requests in this OU (the answer names who is, field `organizationalUnit`)',
            ),
            '409': errorResponse(
              'The name or email is already used by another request or account, the Idempotency-Key was used ' +
                'with another body, or the organization has reached its account quota.',
            ),
            '413': errorResponse('The body is larger than the API accepts (32 KiB).'),
            '415': errorResponse('The body is not sent as application/json (UTF-8).'),
            '422': errorResponse('The OU is not one accounts may be vended into, or does not exist.'),
            '500': internalError,
            '503': unavailable,
          },
        },
        get: {
          operationId: 'listAccounts',
          summary: 'List vended accounts',
          description: 'The desired state of every account Vend vended, newest first, a page at a time.',
          parameters: [
            {
              name: 'limit',
              in: 'query',
              required: false,
              description: listQuerySchema.shape.limit.description,
              schema: parameterSchema(listQuerySchema.shape.limit),
            },
            {
              name: 'cursor',
              in: 'query',
              required: false,
              description: listQuerySchema.shape.cursor.description,
              schema: parameterSchema(listQuerySchema.shape.cursor.unwrap()),
            },
          ],
          responses: {
            '200': { description: 'A page of accounts.', content: jsonContent(ref('AccountList')) },
            '400': errorResponse('`limit` is not 1-100, or `cursor` is not one this API gave.'),
            '403': signatureRefused,
            '500': internalError,
            '503': unavailable,
          },
        },
      },
      '/accounts/{accountId}': {
        get: {
          operationId: 'getAccount',
          summary: 'A vended account',
          description:
            'The desired state of an account Vend vended: what it promised and will keep in place.',
          parameters: [
            {
              name: 'accountId',
              in: 'path',
              required: true,
              description: accountIdSchema.description,
              schema: parameterSchema(accountIdSchema),
            },
          ],
          responses: {
            '200': { description: 'The account.', content: jsonContent(ref('Account')) },
            '400': errorResponse('The account id is not 12 digits.'),
            '403': signatureRefused,
            '404': errorResponse('Vend has not vended this account.'),
            '500': internalError,
            '503': unavailable,
          },
        },
      },
      '/accounts/{accountId}/hold': {
        post: {
          operationId: 'holdAccount',
          summary: 'Put a vended account on hold (incident response)',
          description:
            'Administrators only (an `access` entry with `administer: true`). While the account is on hold, drift ' +
            'is reported (outcome `held`) and nothing is put back; the hold (who, from the signature; when; why) is ' +
            "recorded on the account and announced in its profile's Slack channel. Holding an account already on " +
            'hold with the same reason answers the account as it is, changing nothing; with another reason it is 409.',
          parameters: [accountIdParameter()],
          requestBody: { required: true, content: jsonContent(ref('HoldRequest')) },
          responses: {
            '200': {
              description: 'On hold: the account, with its `hold` and `holdHistory`.',
              content: jsonContent(ref('Account')),
            },
            '400': errorResponse(
              'The account id is not 12 digits, or the body is not valid JSON, has a field other than reason, or ' +
                'its reason is missing, empty or longer than 500 characters.',
            ),
            '403': refusedOrNotGranted(
              'the caller does not have the administer grant (the answer names who has it)',
            ),
            '404': errorResponse('Vend has not vended this account.'),
            '409': errorResponse(
              'The account is already on hold for another reason (release it first), or it is closed or removed.',
            ),
            '413': errorResponse('The body is larger than the API accepts (32 KiB).'),
            '415': errorResponse('The body is not sent as application/json (UTF-8).'),
            '500': internalError,
            '503': unavailable,
          },
        },
        delete: {
          operationId: 'releaseAccount',
          summary: 'Release a held account',
          description:
            'Administrators only. Ends the hold: the release (who, when) is recorded in `holdHistory` and announced; ' +
            'the next drift sweep puts back whatever differs from what Vend vended. An account not on hold is 409.',
          parameters: [accountIdParameter()],
          responses: {
            '200': {
              description: 'Released: the account, without `hold`.',
              content: jsonContent(ref('Account')),
            },
            '400': errorResponse('The account id is not 12 digits.'),
            '403': refusedOrNotGranted(
              'the caller does not have the administer grant (the answer names who has it)',
            ),
            '404': errorResponse('Vend has not vended this account.'),
            '409': errorResponse('The account is not on hold, or it is closed or removed.'),
            '500': internalError,
            '503': unavailable,
          },
        },
      },
      '/accounts/requests/{requestId}': {
        get: {
          operationId: 'getRequest',
          summary: 'Follow a request',
          description:
            'Where the request is: its status, each step (in workflow order) with its attempts, and on failure ' +
            'the step, the reason and what to do.',
          parameters: [
            {
              name: 'requestId',
              in: 'path',
              required: true,
              description: requestIdSchema.description,
              schema: parameterSchema(requestIdSchema),
            },
          ],
          responses: {
            '200': { description: 'The request.', content: jsonContent(ref('Request')) },
            '403': signatureRefused,
            '404': errorResponse('There is no such request.'),
            '500': internalError,
            '503': unavailable,
          },
        },
      },
      '/accounts/requests/{requestId}/approval': {
        post: {
          operationId: 'decideApproval',
          summary: 'Approve or deny a request awaiting approval',
          description:
            "Only a principal granted `approve` for the request's OU (and one of the approvers its profile names) " +
            'may decide, and never the requester. Approve starts the vending; deny ends the request as `denied` ' +
            'and frees its name and email. The requester is told on Slack either way. A request is decided once: ' +
            'of two decisions at the same time, one wins and the other is refused (409).',
          parameters: [
            {
              name: 'requestId',
              in: 'path',
              required: true,
              description: requestIdSchema.description,
              schema: parameterSchema(requestIdSchema),
            },
          ],
          requestBody: { required: true, content: jsonContent(ref('ApprovalDecision')) },
          responses: {
            '200': {
              description: 'Decided: the request as it now stands.',
              content: jsonContent(ref('Request')),
            },
            '400': errorResponse(
              'The body is not valid JSON, has a field other than decision and reason, a decision other than ' +
                'approve or deny, or denies without a reason.',
            ),
            '403': refusedOrNotGranted(
              'the caller may not decide requests in this OU, or asked for this request: the answer names who may',
            ),
            '404': errorResponse('There is no such request.'),
            '409': errorResponse(
              'The request is not awaiting approval: decided already (by whom and when), expired, or it needed none.',
            ),
            '413': errorResponse('The body is larger than the API accepts (32 KiB).'),
            '415': errorResponse('The body is not sent as application/json (UTF-8).'),
            '500': internalError,
            '503': unavailable,
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          responses: {
            '200': {
              description: 'The OpenAPI 3.1 document.',
              content: jsonContent({ type: 'object' }),
            },
            '403': signatureRefused,
          },
        },
      },
    },
    components: {
      schemas: { ...components(REQUEST_SCHEMAS, 'input'), ...components(RESPONSE_SCHEMAS, 'output') },
      securitySchemes: {
        sigv4: {
          type: 'apiKey',
          name: 'Authorization',
          in: 'header',
          description: 'AWS Signature Version 4 (API Gateway IAM authorization).',
          'x-amazon-apigateway-authtype': 'awsSigv4',
        },
      },
    },
  };
}
