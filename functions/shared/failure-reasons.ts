/**
 * What each Organizations CreateAccount `FailureReason` means for the person who asked for the account, and
 * what they (or the platform team) can do about it. The requester reads these in Slack, so they say plainly who
 * has to act: many reasons are about the organization's management account, not about the request.
 */

export interface CreationFailureExplanation {
  /** What went wrong, for the requester. */
  reason: string;
  /** What to do about it. */
  advice: string;
}

const PLATFORM_TEAM_FIXES_BUSINESS_VALIDATION =
  'Nothing in your request needs changing. Ask the platform team to settle the business validation of the ' +
  "organization's management account with AWS Support; once AWS confirms it, submit the request again.";

const EXPLANATIONS: Record<string, CreationFailureExplanation> = {
  ACCOUNT_LIMIT_EXCEEDED: {
    reason: 'The organization is at its quota of AWS accounts, so AWS refused to create another one.',
    advice:
      'Ask the platform team to ask for an increase of the AWS Organizations quota "Default maximum number of ' +
      'accounts" (Service Quotas console in the management account, or a case with AWS Support), or to close ' +
      'accounts nobody uses; then submit the request again.',
  },
  CONCURRENT_ACCOUNT_MODIFICATION: {
    reason: 'AWS was already handling a request to create an account with the same details.',
    advice:
      'Wait a few minutes, then ask the platform team whether the account was created after all; if it was ' +
      'not, submit the request again.',
  },
  EMAIL_ALREADY_EXISTS: {
    reason:
      'That email address already belongs to an AWS account, and every account needs an address of its own.',
    advice:
      'Use another address: submit the request again with a different email (or a different account name, ' +
      'when the address is made from it). If you meant that existing account, ask the platform team to invite ' +
      'it into the organization instead.',
  },
  FAILED_BUSINESS_VALIDATION: {
    reason:
      "AWS refused to create accounts because the organization's management account failed AWS's business " +
      'validation.',
    advice: PLATFORM_TEAM_FIXES_BUSINESS_VALIDATION,
  },
  GOVCLOUD_ACCOUNT_ALREADY_EXISTS: {
    reason: 'An AWS GovCloud (US) account with that email address already exists.',
    advice: 'Use another address: submit the request again with a different email.',
  },
  INTERNAL_FAILURE: {
    reason: 'AWS Organizations failed internally while creating the account.',
    advice:
      'Submit the request again in a little while. If it fails the same way again, tell the platform team, ' +
      'who can open a case with AWS Support.',
  },
  INVALID_ADDRESS: {
    reason: "AWS did not accept the postal address of the organization's management account.",
    advice:
      "Nothing in your request needs changing. Ask the platform team to correct the management account's " +
      'contact address (Billing and Cost Management, Account settings); then submit the request again.',
  },
  INVALID_EMAIL: {
    reason: "AWS did not accept the new account's email address as valid.",
    advice:
      'Submit the request again with a valid, deliverable address of 6 to 64 characters (or ask the platform ' +
      "team to check the email template, if Vend made the address from the account's name).",
  },
  INVALID_IDENTITY_FOR_BUSINESS_VALIDATION: {
    reason:
      "AWS could not finish the business validation of the organization's management account: its identity " +
      'details are not valid.',
    advice: PLATFORM_TEAM_FIXES_BUSINESS_VALIDATION,
  },
  INVALID_PAYMENT_INSTRUMENT: {
    reason: "The organization's management account has no payment method that AWS supports.",
    advice:
      'Nothing in your request needs changing. Ask the platform team to add a supported payment method to the ' +
      'management account (Billing and Cost Management, Payment preferences); then submit the request again.',
  },
  MISSING_BUSINESS_VALIDATION: {
    reason: "The organization's management account has not been through AWS's business validation.",
    advice: PLATFORM_TEAM_FIXES_BUSINESS_VALIDATION,
  },
  MISSING_PAYMENT_INSTRUMENT: {
    reason: "The organization's management account has no payment method.",
    advice:
      'Nothing in your request needs changing. Ask the platform team to add a payment method, such as a credit ' +
      'card, to the management account (Billing and Cost Management, Payment preferences); then submit the ' +
      'request again.',
  },
  PENDING_BUSINESS_VALIDATION: {
    reason:
      "AWS is still validating the organization's management account, and creates no accounts until it is done.",
    advice:
      'Nothing in your request needs changing. Submit it again once the platform team tells you AWS has ' +
      'finished the validation.',
  },
  UNKNOWN_BUSINESS_VALIDATION: {
    reason:
      "The business validation of the organization's management account has a problem AWS does not name.",
    advice: PLATFORM_TEAM_FIXES_BUSINESS_VALIDATION,
  },
  UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED: {
    reason:
      'AWS refused to create the account because tags can only be given when a resource policy is first ' +
      'created, not when an existing one is updated (UPDATE_EXISTING_RESOURCE_POLICY_WITH_TAGS_NOT_SUPPORTED).',
    advice:
      'This is about how the organization is set up, not about your request. Tell the platform team (with the ' +
      'request id); submit the request again when they say it is fixed.',
  },
};

/**
 * Explains a CreateAccount failure reason to the requester. An unknown reason (AWS adds some now and then) gets
 * a generic explanation that still names it, so nobody is left with nothing.
 */
export function explainCreationFailure(reason: string | undefined): CreationFailureExplanation {
  const known = reason && Object.hasOwn(EXPLANATIONS, reason) ? EXPLANATIONS[reason] : undefined;
  if (known) return known;
  const raw = reason?.trim() ? reason.trim() : 'no reason given';
  return {
    reason: `AWS Organizations could not create the account (reason: ${raw}).`,
    advice:
      'Tell the platform team the request id and that reason: they can find out from AWS what it means. ' +
      'Submit the request again when they say so.',
  };
}

/** The reasons this module has text for, so a test can compare them with the SDK's enum. */
export const EXPLAINED_CREATION_FAILURE_REASONS: readonly string[] = Object.keys(EXPLANATIONS);
