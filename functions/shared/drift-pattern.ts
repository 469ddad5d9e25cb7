/**
 * Organizations changes that can make a vended account drift from its desired state: CloudTrail records them and
 * EventBridge delivers them to the default bus of us-east-1 only (Organizations is a global service homed there).
 *
 * API calls (someone moved, tagged, untagged, closed or removed an account) arrive as `AWS API Call via
 * CloudTrail`; the end of an asynchronous CreateAccount arrives as `AWS Service Event via CloudTrail`, with
 * `eventName` `CreateAccountResult`. One pattern matches both: EventBridge ORs the values of each field, and no
 * API call is named `CreateAccountResult`, so nothing beyond these six events matches.
 *
 * The only copy of the pattern: the CDK stack's rule uses it, and the local event bus can match with it too.
 */
export const DRIFT_EVENT_PATTERN = {
  source: ['aws.organizations'],
  'detail-type': ['AWS API Call via CloudTrail', 'AWS Service Event via CloudTrail'],
  detail: {
    eventSource: ['organizations.amazonaws.com'],
    eventName: [
      'MoveAccount',
      'TagResource',
      'UntagResource',
      'CloseAccount',
      'RemoveAccountFromOrganization',
      'CreateAccountResult',
    ],
  },
} as const;

/** The only region whose default event bus receives Organizations' CloudTrail events. */
export const ORGANIZATIONS_EVENTS_REGION = 'us-east-1';
