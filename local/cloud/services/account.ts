import { AwsError } from '../errors.ts';
import { type RestJsonRoute, restJsonProtocol } from '../protocols/rest-json.ts';
import type { CallContext, Input, ServiceDefinition } from '../service.ts';
import type { AccountRecord, AlternateContactRecord, AlternateContactType } from '../state.ts';

/** The alternate contact operations, as client-account's schema places them (`POST /getAlternateContact` ...). */
const ROUTES: readonly RestJsonRoute[] = [
  { operation: 'GetAlternateContact', method: 'POST', path: '/getAlternateContact' },
  { operation: 'PutAlternateContact', method: 'POST', path: '/putAlternateContact' },
  { operation: 'DeleteAlternateContact', method: 'POST', path: '/deleteAlternateContact' },
];

const CONTACT_TYPES: readonly AlternateContactType[] = ['BILLING', 'OPERATIONS', 'SECURITY'];

/** A member's constraints (Account Management API Reference, AlternateContact and the request shapes). */
interface Constraint {
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: RegExp;
  readonly values?: readonly string[];
}

const ACCOUNT_ID: Constraint = { pattern: /^\d{12}$/ };
const CONTACT_TYPE: Constraint = { values: CONTACT_TYPES };
const NAME: Constraint = { min: 1, max: 64 };
const TITLE: Constraint = { min: 1, max: 50 };
const EMAIL: Constraint = { min: 1, max: 254, pattern: /^[\s]*[\w+=.#|!&-]+@[\w.-]+\.[\w]+[\s]*$/ };
const PHONE: Constraint = { min: 1, max: 25, pattern: /^[\s0-9()+-]+$/ };

/**
 * The Account API's ValidationException (HTTP 400): `reason` fieldValidationFailed and the failing member in
 * `fieldList` (SDK model, ValidationException and ValidationExceptionField).
 */
function validationError(field: string, message: string): AwsError {
  return new AwsError('ValidationException', `Invalid request: ${field} ${message}`, {
    fields: { reason: 'fieldValidationFailed', fieldList: [{ name: field, message }] },
  });
}

function readString(input: Input, field: string, constraint: Constraint, required: true): string;
function readString(input: Input, field: string, constraint: Constraint, required: false): string | undefined;
function readString(
  input: Input,
  field: string,
  constraint: Constraint,
  required: boolean,
): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) throw validationError(field, 'must not be null.');
    return undefined;
  }
  if (typeof value !== 'string') throw validationError(field, 'must be a string.');
  if (constraint.min !== undefined && value.length < constraint.min)
    throw validationError(field, `must have length greater than or equal to ${constraint.min}.`);
  if (constraint.max !== undefined && value.length > constraint.max)
    throw validationError(field, `must have length less than or equal to ${constraint.max}.`);
  if (constraint.pattern && !constraint.pattern.test(value))
    throw validationError(field, `must satisfy regular expression pattern: ${constraint.pattern.source}.`);
  if (constraint.values && !constraint.values.includes(value))
    throw validationError(field, `must be one of: ${constraint.values.join(', ')}.`);
  return value;
}

function accessDenied(message: string): AwsError {
  return new AwsError('AccessDeniedException', message);
}

/**
 * The account an operation acts on (Account Management API Reference, the AccountId parameter): without
 * AccountId, the caller's own. With it, the caller must be in the organization's management account (or a
 * delegated administrator, which the local cloud does not model) and the id a member account of the same
 * organization; the management account cannot name itself and must leave AccountId out. Each refusal is
 * AccessDeniedException. AWS also requires trusted access for Account Management to be enabled; the local cloud
 * has no EnableAWSServiceAccess, so it counts trusted access as enabled.
 */
function targetAccount(context: CallContext, input: Input): AccountRecord {
  const { cloud, caller } = context;
  const accountId = readString(input, 'AccountId', ACCOUNT_ID, false);
  const own = cloud.state.accounts[caller.accountId];
  if (accountId === undefined) {
    if (!own) throw accessDenied('The caller has no account.');
    return own;
  }
  const managementAccountId = cloud.state.organization.managementAccountId;
  if (caller.accountId !== managementAccountId) {
    throw accessDenied(
      'Only the management account or a delegated administrator of the organization may specify AccountId.',
    );
  }
  if (accountId === managementAccountId) {
    throw accessDenied(
      'The management account cannot specify its own AccountId; call the operation without AccountId.',
    );
  }
  const target = cloud.state.accounts[accountId];
  if (!target || target.departed) {
    throw accessDenied(`Account ${accountId} is not a member account of this organization.`);
  }
  return target;
}

function contactType(input: Input): AlternateContactType {
  return readString(input, 'AlternateContactType', CONTACT_TYPE, true) as AlternateContactType;
}

/** ResourceNotFoundException (HTTP 404) for a contact type the account has not set. */
function noContact(): AwsError {
  return new AwsError(
    'ResourceNotFoundException',
    'No contact of the inputted alternate contact type found.',
  );
}

/**
 * The Account API's alternate contacts (REST-JSON, signing name `account`, global): GetAlternateContact,
 * PutAlternateContact, DeleteAlternateContact (Account Management API Reference; shapes from client-account's
 * model). One contact per type per account; none is set on a new account. The IAM actions are
 * `account:<Operation>`, which SCPs match.
 */
export const account: ServiceDefinition = {
  signingName: 'account',
  eventSource: 'account.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: restJsonProtocol(ROUTES),
  errorStatus: {
    ResourceNotFoundException: 404,
    UnknownOperationException: 404,
    InternalServerException: 500,
    TooManyRequestsException: 429,
  },
  invalid: (message) =>
    new AwsError('ValidationException', message, { fields: { reason: 'fieldValidationFailed' } }),
  unknownCredentialCode: 'UnrecognizedClientException',
  unknownOperationCode: 'UnknownOperationException',
  accessDeniedCode: 'AccessDeniedException',
  operations: {
    GetAlternateContact: {
      mutating: false,
      run(context, input) {
        const type = contactType(input);
        const target = targetAccount(context, input);
        const contact = target.alternateContacts?.[type];
        if (!contact) throw noContact();
        return { AlternateContact: { ...contact, AlternateContactType: type } };
      },
    },
    PutAlternateContact: {
      mutating: true,
      run(context, input) {
        const contact: AlternateContactRecord = {
          Name: readString(input, 'Name', NAME, true),
          Title: readString(input, 'Title', TITLE, true),
          EmailAddress: readString(input, 'EmailAddress', EMAIL, true),
          PhoneNumber: readString(input, 'PhoneNumber', PHONE, true),
        };
        const type = contactType(input);
        const target = targetAccount(context, input);
        target.alternateContacts = { ...target.alternateContacts, [type]: contact };
        return undefined;
      },
    },
    DeleteAlternateContact: {
      mutating: true,
      run(context, input) {
        const type = contactType(input);
        const target = targetAccount(context, input);
        if (!target.alternateContacts?.[type]) throw noContact();
        delete target.alternateContacts[type];
        return undefined;
      },
    },
  },
};
