/** AWS managed policies the local cloud knows, by ARN. Attaching any other policy ARN is NoSuchEntity. */
export const AWS_MANAGED_POLICIES: ReadonlyMap<string, { policyName: string; path: string }> = new Map(
  [
    ['AdministratorAccess', '/'],
    ['PowerUserAccess', '/'],
    ['ReadOnlyAccess', '/'],
    ['ViewOnlyAccess', '/job-function/'],
    ['SecurityAudit', '/'],
    ['Billing', '/job-function/'],
    ['SupportUser', '/job-function/'],
    ['NetworkAdministrator', '/job-function/'],
    ['SystemAdministrator', '/job-function/'],
    ['DatabaseAdministrator', '/job-function/'],
    ['IAMFullAccess', '/'],
    ['IAMReadOnlyAccess', '/'],
    ['AWSSupportAccess', '/'],
    ['AmazonRoute53FullAccess', '/'],
    ['AWSBudgetsReadOnlyAccess', '/'],
  ].map(([policyName, path]) => [
    `arn:aws:iam::aws:policy${path}${policyName}`,
    { policyName: policyName!, path: path! },
  ]),
);
