/**
 * Environment variable names shared by the functions and the CDK stack (infra/ imports this module), so that
 * the two cannot drift apart.
 */
export const ENV = {
  /** The pipeline configuration as JSON text (see config.ts). */
  config: 'VEND_CONFIG',
  /** Or the path of the configuration file. */
  configFile: 'VEND_CONFIG_FILE',
  /** The registry table. */
  tableName: 'VEND_TABLE_NAME',
  /** The Slack incoming-webhook URL (locally: the Slack sink). On AWS the URL comes from a secret instead. */
  slackWebhookUrl: 'VEND_SLACK_WEBHOOK_URL',
  /** ARN of the Secrets Manager secret holding the Slack webhook URL (AWS only). */
  slackWebhookSecretArn: 'VEND_SLACK_WEBHOOK_SECRET_ARN',
  /**
   * ARN of the Secrets Manager secret holding the Slack app's signing secret, which Slack's interactivity callbacks
   * (the approval buttons) are verified with (AWS only: locally the pipeline generates one at start).
   */
  slackSigningSecretArn: 'VEND_SLACK_SIGNING_SECRET_ARN',
  /**
   * The pipeline's own principals (comma-separated exact IAM role ARNs: on AWS the roles of the functions that
   * change accounts through Organizations): the drift function does not treat their changes as drift. Adds to the
   * configuration's `drift.ownPrincipalArns`.
   */
  ownPrincipalArns: 'VEND_OWN_PRINCIPAL_ARNS',
  /** The state machine that runs a request (AWS only). */
  stateMachineArn: 'VEND_STATE_MACHINE_ARN',
} as const;
