/**
 * Organizations changes that can make a vended account drift from its desired state: CloudTrail records them and
 * EventBridge delivers them to the default bus of us-east-1 only (Organizations is a global service homed there).
 *
 * API calls (someone moved, tagged, untagged, closed or removed an account) arrive as `AWS API Call via
 * CloudTrail`; the end of an asynchronous CreateAccount (`CreateAccountResult`) and an account's departure from the
 * organization (`AccountDepartedOrganization`, with `departureMethod` LEFT, REMOVED or CLEANED) arrive as
 * `AWS Service Event via CloudTrail`. EventBridge ORs the values of each field; no API call is named like either
 * service event, so nothing beyond these events matches. Service control policies: AttachPolicy and DetachPolicy
 * (a vended account's guardrails or its quarantine changed, `requestParameters.targetId`/`policyId`) and
 * UpdatePolicy (the content of a policy Vend keeps changed, `requestParameters.policyId`).
 *
 * What the management account's bus can and cannot see (Organizations API Reference, LeaveOrganization,
 * RemoveAccountFromOrganization and CloseAccount; CloudTrail records an API call in the caller's account):
 * - LeaveOrganization is called in the member account, by its root user or one of its principals, so CloudTrail
 *   records that call in the member account and its event reaches the member's bus, not this one. It is in the
 *   pattern for buses that receive member accounts' events too (forwarded by a rule in each account; the local
 *   cloud's bus when told to). What reaches the management account is the `AccountDepartedOrganization` service
 *   event (departureMethod LEFT), recorded only in the management account's event history.
 * - RemoveAccountFromOrganization and CloseAccount are called in the management account: both the call and the
 *   departure event (REMOVED; CLEANED once a closed account is purged, after the 90 days it can be reopened) are
 *   seen here.
 * - An account closed from inside by its root user makes no Organizations API call in the management account and
 *   no departure event until it is purged: only the drift sweep, reading each account's `State`, finds it.
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
      'LeaveOrganization',
      'CreateAccountResult',
      'AccountDepartedOrganization',
      'AttachPolicy',
      'DetachPolicy',
      'UpdatePolicy',
    ],
  },
} as const;

/** The only region whose default event bus receives Organizations' CloudTrail events. */
export const ORGANIZATIONS_EVENTS_REGION = 'us-east-1';
