import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Aws,
  CfnOutput,
  CfnParameter,
  Duration,
  Fn,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { type EventPattern, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { declaredTagKeys, type VendConfig } from '../functions/shared/config.ts';
import { DRIFT_EVENT_PATTERN, ORGANIZATIONS_EVENTS_REGION } from '../functions/shared/drift-pattern.ts';
import { ENV } from '../functions/shared/env.ts';
import { METRIC, METRICS_NAMESPACE } from '../functions/shared/metrics-names.ts';
import {
  SLACK_SECRET_PLACEHOLDER,
  SLACK_SIGNING_SECRET_PLACEHOLDER,
} from '../functions/shared/slack-secret.ts';
import { REGISTRY_TABLE } from '../functions/store/table.ts';
import { ASL_PATH, aslPlaceholders, functionTimeoutSeconds, readAsl, taskTimeouts } from './asl.ts';
import { DriftEvents } from './constructs/drift-events.ts';
import { OperatorAlarms } from './constructs/operator-alarms.ts';
import { PipelineFunction } from './constructs/pipeline-function.ts';
import { type ApiThrottle, RequestApi, SLACK_INTERACTIONS_ROUTE } from './constructs/request-api.ts';
import { VendDashboard, vendMetric } from './constructs/vend-dashboard.ts';
import { dnsConnectorRoleName } from './dns-hub-stack.ts';
import { REPOSITORY_ROOT } from './paths.ts';
import { configDelivery, loadPipelineConfig } from './pipeline-config.ts';
import {
  accessOf,
  FUNCTION_ACCESS,
  type FunctionAccess,
  IDENTITY_CENTER_ACTIONS,
  ORGANIZATIONS_CHANGERS,
  type OrganizationsScope,
  TASK_FUNCTION_FOLDERS,
} from './pipeline-functions.ts';

export interface VendStackProps extends StackProps {
  /**
   * The configuration file, checked at synth with the functions' own parser.
   * @default 'vend.config.json' at the repository root
   */
  readonly configFile?: string;
  /**
   * How long the functions', the workflow's and the API's logs are kept.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Powertools log level of every function.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * Powertools metrics namespace, read by the dashboard and the alarms on Vend's metrics too.
   * @default METRICS_NAMESPACE ('Vend')
   */
  readonly metricsNamespace?: string;
  /**
   * An email address subscribed to the alarm topic.
   * @default - none: subscribe to the topic (output AlarmTopicArn) yourself
   */
  readonly alarmEmail?: string;
  /**
   * The API's stage name, the last part of its URL.
   * @default 'prod'
   */
  readonly apiStageName?: string;
  /**
   * Throttling of every API method.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly apiThrottle?: ApiThrottle;
  /**
   * Throttling of `POST /slack/interactions` (Slack's button callbacks), apart from the rest of the API.
   * @default { rateLimit: 5, burstLimit: 20 }
   */
  readonly slackInteractionsThrottle?: ApiThrottle;
  /**
   * The organization's id (`o-...`): the Organizations ARNs the functions may act on, and the `aws:ResourceOrgID`
   * condition on assuming member accounts' access role.
   * @default - the stack parameter `OrganizationId`, given at deploy
   */
  readonly organizationId?: string;
  /**
   * The id (`ou-...`) of each vendable OU the configuration names by path (`organization.allowedOrganizationalUnits`):
   * the only OUs move-account may move a new account into, and the `aws:ResourceOrgPaths` of the member accounts
   * whose access role the functions may assume. OUs the configuration names by id need no entry.
   * @default - one stack parameter per OU named by path (`OuId` followed by the path's letters and digits), given at deploy
   */
  readonly organizationalUnitIds?: Readonly<Record<string, string>>;
  /**
   * IAM `StringLike` patterns of the tag keys a request may set, beside the `vend:*` keys Vend owns: the
   * `aws:TagKeys` condition of CreateAccount and TagResource. The request API refuses keys starting with `aws:` or
   * `vend:` and, where a profile sets `allowUndeclaredTags: false`, keys the profile does not declare.
   * @default - the keys the profiles declare when every profile limits requests to them, else ['*']
   */
  readonly requestTagKeyPatterns?: readonly string[];
  /**
   * What the workflow logs to CloudWatch: ALL events or only ERROR ones.
   * @default LogLevel.ALL
   */
  readonly workflowLogLevel?: LogLevel.ALL | LogLevel.ERROR;
  /**
   * Whether the workflow's logs include execution data (each state's input and output: requester, email, tags).
   * @default false
   */
  readonly workflowLogsIncludeData?: boolean;
  /**
   * When the drift sweep runs.
   * @default Schedule.rate(Duration.hours(24))
   */
  readonly driftSweepSchedule?: Schedule;
  /**
   * When the reaper of requests left pending runs.
   * @default Schedule.rate(Duration.minutes(5))
   */
  readonly reapSchedule?: Schedule;
  /**
   * The drift function's handler. The drift rules are created only when it exists.
   * @default 'functions/drift/handler.ts' at the repository root
   */
  readonly driftHandlerEntry?: string;
}

/**
 * Vend in the management account: the request API (with Slack's button callbacks), the workflow
 * (statemachine/vend.asl.json) and its functions, the registry table, the Slack webhook and signing secrets, the
 * drift rules when the drift function exists, and alarms.
 * Everything the functions read comes from the same sources as the local pipeline: the configuration file, the
 * `ENV` variable names, `REGISTRY_TABLE`.
 */
export class VendStack extends Stack {
  /** The checked configuration the functions run with. */
  readonly pipelineConfig: VendConfig;
  readonly table: Table;
  readonly slackWebhookSecret: Secret;
  /** The Slack app's signing secret, which Slack's button callbacks are verified with. */
  readonly slackSigningSecret: Secret;
  readonly stateMachine: StateMachine;
  readonly functions: Record<string, PipelineFunction>;
  readonly api: RequestApi;
  readonly alarms: OperatorAlarms;
  readonly drift?: DriftEvents;
  /** The schedule that runs the reaper of requests left pending. */
  readonly reapRule: Rule;
  readonly dashboard: VendDashboard;
  /** The schedule of the Slack outbox's deliverer. */
  readonly messageDelivery: Rule;
  /** What the IAM conditions on member accounts and tags are built from. */
  private readonly memberAccess: {
    organizationId: string;
    vendableOuIds: string[];
    requestTagKeyPatterns: readonly string[];
  };

  constructor(scope: Construct, id: string, props: VendStackProps = {}) {
    super(scope, id, props);
    if (Token.isUnresolved(this.region) || this.region !== ORGANIZATIONS_EVENTS_REGION) {
      throw new Error(
        `${id}: deploy Vend to ${ORGANIZATIONS_EVENTS_REGION} (got ${Token.isUnresolved(this.region) ? 'no region' : this.region}): ` +
          `Organizations delivers its CloudTrail events, which the drift rules match, only to the ${ORGANIZATIONS_EVENTS_REGION} default event bus. ` +
          `Set env.region (cdk: -c region=${ORGANIZATIONS_EVENTS_REGION}).`,
      );
    }
    const pipeline = loadPipelineConfig(
      resolve(props.configFile ?? join(REPOSITORY_ROOT, 'vend.config.json')),
    );
    const { config } = pipeline;
    this.pipelineConfig = config;
    const delivery = configDelivery(pipeline);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;
    const metricsNamespace = props.metricsNamespace ?? METRICS_NAMESPACE;

    this.table = new Table(this, 'Registry', {
      partitionKey: { name: REGISTRY_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: REGISTRY_TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      timeToLiveAttribute: REGISTRY_TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: REGISTRY_TABLE.index.name,
      partitionKey: { name: REGISTRY_TABLE.index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: REGISTRY_TABLE.index.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    // The placeholder is the template's value: CloudFormation writes it only when the secret is created (or this
    // text changes), so the URL the operator puts in survives later deployments.
    this.slackWebhookSecret = new Secret(this, 'SlackWebhook', {
      description:
        'Vend: the Slack incoming-webhook URL the requesters are told through (put it in after deploying)',
      secretStringValue: SecretValue.unsafePlainText(SLACK_SECRET_PLACEHOLDER),
    });
    Validations.of(this.slackWebhookSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'A Slack incoming-webhook URL is issued by Slack; no rotation Lambda can issue a new one.',
    });

    // The same way: the operator puts the Slack app's signing secret in; until then every callback gets 401.
    this.slackSigningSecret = new Secret(this, 'SlackSigningSecret', {
      description:
        "Vend: the Slack app's signing secret, which the approval buttons' callbacks are verified with (put it in after deploying)",
      secretStringValue: SecretValue.unsafePlainText(SLACK_SIGNING_SECRET_PLACEHOLDER),
    });
    Validations.of(this.slackSigningSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        "A Slack app's signing secret is issued by Slack (regenerated in the app's settings); no rotation Lambda can issue a new one.",
    });

    const { text: asl, states } = readAsl(ASL_PATH);
    const timeouts = taskTimeouts(states);
    const organizationId =
      props.organizationId ??
      new CfnParameter(this, 'OrganizationId', {
        type: 'String',
        description: 'The id of the organization this management account manages (o-...)',
        allowedPattern: '^o-[a-z0-9]{10,32}$',
      }).valueAsString;
    const vendableOuIds = this.vendableOrganizationalUnitIds(config, props.organizationalUnitIds ?? {});
    const organizationArns = organizationResourceArns(organizationId, vendableOuIds);
    this.memberAccess = {
      organizationId,
      vendableOuIds,
      requestTagKeyPatterns: props.requestTagKeyPatterns ?? declaredTagKeys(config) ?? ['*'],
    };
    const makeFunction = (folder: string, access: FunctionAccess, timeout: Duration, environment = {}) => {
      const fn = new PipelineFunction(this, pascal(folder), {
        // The hub account's role trusts this one by name.
        ...(access.assumesDnsHubRole ? { roleName: dnsConnectorRoleName(this.stackName, folder) } : {}),
        entry: join(REPOSITORY_ROOT, 'functions', folder, 'handler.ts'),
        name: folder,
        description: access.description,
        timeout,
        logRetention,
        logLevel: props.logLevel ?? 'INFO',
        metricsNamespace,
        environment: {
          ...delivery.environment,
          [ENV.tableName]: this.table.tableName,
          ...(access.notifies ? { [ENV.slackWebhookSecretArn]: this.slackWebhookSecret.secretArn } : {}),
          ...(access.readsSigningSecret
            ? { [ENV.slackSigningSecretArn]: this.slackSigningSecret.secretArn }
            : {}),
          ...environment,
        },
        ...(delivery.kind === 'bundled-file'
          ? { bundledFiles: [{ source: delivery.source, fileName: delivery.fileName }] }
          : {}),
      });
      for (const statement of this.statementsFor(access, config, organizationArns))
        fn.role.addToPolicy(statement);
      return fn;
    };

    this.functions = {};
    for (const [placeholder, folder] of Object.entries(TASK_FUNCTION_FOLDERS)) {
      const seconds = timeouts.get(placeholder);
      if (seconds === undefined) throw new Error(`${ASL_PATH}: no Task runs \${${placeholder}} (${folder})`);
      this.functions[folder] = makeFunction(
        folder,
        FUNCTION_ACCESS[folder],
        Duration.seconds(functionTimeoutSeconds(seconds)),
      );
    }
    const unknown = aslPlaceholders(asl).filter((name) => !(name in TASK_FUNCTION_FOLDERS));
    if (unknown.length > 0) {
      throw new Error(
        `${ASL_PATH}: no function for \${${unknown.join('}, ${')}} (infra/pipeline-functions.ts)`,
      );
    }

    const workflowLogs = new LogGroup(this, 'WorkflowLogs', { retention: logRetention });
    const stepFunctions = Object.values(TASK_FUNCTION_FOLDERS).map(
      (folder) => this.functions[folder]!.function,
    );
    this.stateMachine = new StateMachine(this, 'Workflow', {
      comment: 'Vend: one request becomes a ready account (statemachine/vend.asl.json)',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(asl),
      definitionSubstitutions: Object.fromEntries(
        Object.entries(TASK_FUNCTION_FOLDERS).map(([placeholder, folder]) => [
          placeholder,
          this.functions[folder]!.function.functionArn,
        ]),
      ),
      tracingEnabled: true,
      logs: {
        destination: workflowLogs,
        level: props.workflowLogLevel ?? LogLevel.ALL,
        includeExecutionData: props.workflowLogsIncludeData ?? false,
      },
    });
    // The ASL names the unqualified function ARNs: the role may invoke exactly those.
    this.stateMachine.addToRolePolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: stepFunctions.map((fn) => fn.functionArn),
      }),
    );

    // The API answers within API Gateway's 29 s integration timeout.
    const api = makeFunction('api', FUNCTION_ACCESS.api, Duration.seconds(29), {
      [ENV.stateMachineArn]: this.stateMachine.stateMachineArn,
    });
    this.functions.api = api;
    // Slack's buttons: its own function, so that the only function reachable without SigV4 may read the signing
    // secret and decide, and nothing else the API may. Slack wants an answer within 3 s; 10 s bounds a stuck call.
    const slackInteractions = makeFunction(
      'slack-interactions',
      FUNCTION_ACCESS['slack-interactions'],
      Duration.seconds(10),
      { [ENV.stateMachineArn]: this.stateMachine.stateMachineArn },
    );
    this.functions['slack-interactions'] = slackInteractions;
    this.api = new RequestApi(this, 'RequestApi', {
      handler: api.function,
      logRetention,
      ...(props.apiStageName ? { stageName: props.apiStageName } : {}),
      ...(props.apiThrottle ? { throttle: props.apiThrottle } : {}),
      slackInteractions: {
        handler: slackInteractions.function,
        ...(props.slackInteractionsThrottle ? { throttle: props.slackInteractionsThrottle } : {}),
      },
    });

    // The Slack outbox's deliverer: every minute (the back-off between attempts at one message is in its code). A
    // run missed is made up by the next, so the rule's target needs no retries of its own.
    const deliverer = makeFunction(
      'deliver-messages',
      FUNCTION_ACCESS['deliver-messages'],
      Duration.minutes(5),
    );
    this.functions['deliver-messages'] = deliverer;
    this.messageDelivery = new Rule(this, 'DeliverMessagesSchedule', {
      description: 'Vend: retries the Slack messages not delivered yet (the outbox in the registry)',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(deliverer.function, { retryAttempts: 0 })],
    });

    // The reaper: every five minutes, it starts requests left pending with no execution and fails those that
    // cannot start. A failed run is not retried by Lambda: the next scheduled run is the retry, and the function's
    // error alarm watches runs that keep failing.
    const reaper = makeFunction('reap-requests', FUNCTION_ACCESS['reap-requests'], Duration.minutes(2), {
      [ENV.stateMachineArn]: this.stateMachine.stateMachineArn,
    });
    reaper.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    this.functions['reap-requests'] = reaper;
    this.reapRule = new Rule(this, 'ReapSchedule', {
      description: 'Vend: starts requests left pending with no execution, fails those that cannot start',
      schedule: props.reapSchedule ?? Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(reaper.function, { retryAttempts: 2, maxEventAge: Duration.minutes(5) })],
    });

    const driftEntry = props.driftHandlerEntry ?? join(REPOSITORY_ROOT, 'functions', 'drift', 'handler.ts');
    if (existsSync(driftEntry)) {
      const access = accessOf('drift');
      if (!access) {
        throw new Error(
          `${driftEntry} exists: add what its code calls to FUNCTION_ACCESS in infra/pipeline-functions.ts`,
        );
      }
      // One function takes the events and the scheduled sweep; a sweep of a large organization is paced, so it
      // gets Lambda's longest timeout.
      const drift = makeFunction('drift', access, Duration.minutes(15));
      // Vend's own changes are not drift: the exact roles of the functions that change accounts through
      // Organizations, compared with CloudTrail's userIdentity.sessionContext.sessionIssuer.arn (CloudTrail user
      // guide, "CloudTrail userIdentity element"). Lambda runs a function as its role, so the issuer is that role.
      const changers = ORGANIZATIONS_CHANGERS.map((folder) =>
        folder === 'drift' ? drift : this.functions[folder],
      ).filter((fn): fn is PipelineFunction => fn !== undefined);
      drift.function.addEnvironment(
        ENV.ownPrincipalArns,
        Fn.join(
          ',',
          changers.map((fn) => fn.role.roleArn),
        ),
      );
      this.functions.drift = drift;
      this.drift = new DriftEvents(this, 'DriftEvents', {
        handler: drift.function,
        eventPattern: toEventPattern(DRIFT_EVENT_PATTERN),
        sweepSchedule: props.driftSweepSchedule ?? Schedule.rate(Duration.hours(24)),
      });
      Validations.of(this.drift.deadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is the dead-letter queue of the drift rules’ targets; it needs none of its own.',
      });
      Validations.of(this.drift.failureQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is the drift function’s on-failure destination, where failed events end; it needs no dead-letter queue of its own, and an alarm watches its depth.',
      });
    }

    this.alarms = new OperatorAlarms(this, 'Alarms', props.alarmEmail ? { email: props.alarmEmail } : {});
    const period = OperatorAlarms.PERIOD;
    this.alarms.alarmWhen(
      'WorkflowFailed',
      this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
      'A vending request failed: the registry and the requester’s Slack message say at which step and why.',
    );
    for (const [folder, fn] of Object.entries(this.functions)) {
      // A step fails on purpose to have the state machine retry it (a new account's roles not usable yet, a
      // throttle): single errors are normal there, errors in three periods in a row are not. The API and Slack's
      // callbacks have no such protocol: any error is one.
      const retried = folder !== 'api' && folder !== 'slack-interactions';
      this.alarms.alarmWhen(
        `${pascal(folder)}Errors`,
        fn.function.metricErrors({ period, statistic: 'Sum' }),
        retried
          ? `The ${folder} function had errors in three 5-minute periods in a row: more than the retries the workflow expects. See its log group.`
          : `The ${folder} function failed (an error it threw, or a timeout): see its log group.`,
        { periods: retried ? 3 : 1 },
      );
    }
    this.alarms.alarmWhen(
      'ApiServerErrors',
      this.api.api.metricServerError({ period, statistic: 'Sum' }),
      'The request API answered with a 5XX.',
    );
    this.alarms.alarmWhen(
      'VendsFailed',
      vendMetric(metricsNamespace, METRIC.vendsFailed, { period }),
      'A vend failed (Vend metric VendsFailed, any reason): the dashboard shows the reasons, the registry and the requester’s Slack message say at which step.',
    );
    this.alarms.alarmWhen(
      'SlackUndelivered',
      vendMetric(metricsNamespace, METRIC.slackUndelivered, { period }),
      'A Slack message to a requester or about drift has not been delivered for an hour (Vend metric SlackUndelivered; the deliver-messages log says why, often a revoked webhook: put the new URL in the Slack webhook secret). It is still retried.',
    );
    const operations: Record<string, Metric> = {
      'Executions failed': this.stateMachine.metricFailed({ period, statistic: 'Sum' }),
    };
    if (this.drift) {
      const deadLetters = this.drift.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      });
      const handlerFailures = this.drift.failureQueue.metricApproximateNumberOfMessagesVisible({
        period,
        statistic: 'Maximum',
      });
      this.alarms.alarmWhen(
        'DriftDeadLetters',
        deadLetters,
        'Organizations events or sweeps did not reach the drift function after all retries: see the dead-letter queue.',
      );
      this.alarms.alarmWhen(
        'DriftHandlerFailures',
        handlerFailures,
        'The drift function failed on an event or a sweep after Lambda’s retries: the failure queue holds each event with its error (replay it once the cause is fixed).',
      );
      operations['Drift events undelivered'] = deadLetters;
      operations['Drift events failed'] = handlerFailures;
    }
    this.dashboard = new VendDashboard(this, 'Dashboard', { namespace: metricsNamespace, operations });

    this.acknowledgeFindings(config, organizationArns);

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'The request API (SigV4)' });
    new CfnOutput(this, 'ApiInvokeArn', {
      value: this.api.api.arnForExecuteApi('*', '/*', this.api.api.deploymentStage.stageName),
      description: 'Grant execute-api:Invoke on this to the principals who may vend',
    });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'RegistryTableName', { value: this.table.tableName });
    new CfnOutput(this, 'SlackWebhookSecretArn', {
      value: this.slackWebhookSecret.secretArn,
      description: 'Put the Slack incoming-webhook URL here',
    });
    new CfnOutput(this, 'SlackInteractionsUrl', {
      value: `${this.api.api.url}${SLACK_INTERACTIONS_ROUTE.join('/')}`,
      description: "The Slack app's Interactivity Request URL (Interactivity & Shortcuts)",
    });
    new CfnOutput(this, 'SlackSigningSecretArn', {
      value: this.slackSigningSecret.secretArn,
      description: "Put the Slack app's signing secret here (Basic Information, App Credentials)",
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }

  /** The IAM statements for what a function's code calls (FUNCTION_ACCESS), scoped as narrowly as AWS allows. */
  private statementsFor(
    access: FunctionAccess,
    config: VendConfig,
    organizationArns: Record<Exclude<OrganizationsScope, 'none'>, string[]>,
  ): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    const tagKeys = {
      // aws:TagKeys is multivalued: ForAllValues checks every key the request sets (IAM user guide, "Condition
      // keys for multivalued context keys"); a request without tags sets none and passes.
      'ForAllValues:StringLike': { 'aws:TagKeys': ['vend:*', ...this.memberAccess.requestTagKeyPatterns] },
    };
    for (const grant of access.organizations) {
      statements.push(
        new PolicyStatement({
          actions: [...grant.actions],
          resources: grant.scope === 'none' ? ['*'] : organizationArns[grant.scope],
          ...(grant.limitsTagKeys ? { conditions: tagKeys } : {}),
          ...(grant.scpOnly
            ? { conditions: { StringEquals: { 'organizations:PolicyType': 'SERVICE_CONTROL_POLICY' } } }
            : {}),
        }),
      );
    }
    if (access.registry.length > 0) {
      statements.push(
        new PolicyStatement({
          actions: access.registry.map((action) => `dynamodb:${action}`),
          resources: [this.table.tableArn],
        }),
      );
    }
    if (access.queriesListIndex) {
      statements.push(
        new PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [`${this.table.tableArn}/index/${REGISTRY_TABLE.index.name}`],
        }),
      );
    }
    if (access.assumesAccessRole) statements.push(...this.accessRoleStatements(config));
    if (access.administersIdentityCenter && config.identityCenter)
      statements.push(...this.identityCenterStatements(config));
    if (access.assumesDnsHubRole && config.dns) {
      statements.push(
        new PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [`arn:${Aws.PARTITION}:iam::${config.dns.hubAccountId}:role/${config.dns.roleName}`],
        }),
      );
    }
    if (access.describesExecutions) {
      // DescribeExecution takes the execution resource, `...:execution:<stateMachineName>:<executionName>`
      // (Service Authorization Reference, "Actions, resources, and condition keys for AWS Step Functions").
      statements.push(
        new PolicyStatement({
          actions: ['states:DescribeExecution'],
          resources: [this.executionsArn()],
        }),
      );
    }
    if (access.startsExecutions) {
      statements.push(
        new PolicyStatement({
          actions: ['states:StartExecution'],
          resources: [this.stateMachine.stateMachineArn],
        }),
      );
    }
    if (access.notifies) {
      statements.push(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.slackWebhookSecret.secretArn],
        }),
      );
    }
    if (access.readsSigningSecret) {
      statements.push(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [this.slackSigningSecret.secretArn],
        }),
      );
    }
    return statements;
  }

  /** Every execution of the state machine: they are named after requests, which do not exist at deploy time. */
  private executionsArn(): string {
    return `arn:${Aws.PARTITION}:states:${Aws.REGION}:${Aws.ACCOUNT_ID}:execution:${this.stateMachine.stateMachineName}:*`;
  }

  /**
   * sts:AssumeRole of member accounts' access role (Service Authorization Reference, "Actions, resources, and
   * condition keys for AWS Security Token Service": AssumeRole takes the role resource; `aws:ResourceOrgID` and
   * `aws:ResourceOrgPaths` are global condition keys describing the account that owns the role, IAM user guide,
   * "AWS global condition context keys"). The accounts Vend creates do not exist at deploy time, so the account is
   * a wildcard, narrowed by conditions: the role's account must belong to this organization and sit in (or under)
   * a vendable OU. The DNS hub, the accounts the baseline's roles trust (the security account) and this
   * management account are denied explicitly: they are reached only through their own roles (the hub's
   * `dns.roleName`), never through the generic access role, even when an operator puts one of them in a vendable
   * OU. A Deny naming exact ARNs holds whatever the OUs are, which paths alone could not promise.
   */
  private accessRoleStatements(config: VendConfig): PolicyStatement[] {
    const roleName = config.organization.accessRoleName;
    if (config.dns && config.dns.roleName === roleName) {
      throw new Error(
        `dns.roleName (${roleName}) is organization.accessRoleName: give the DNS hub its own role, the generic access role is denied in the hub account`,
      );
    }
    const { organizationId, vendableOuIds } = this.memberAccess;
    const protectedAccounts = [
      ...new Set([
        ...(config.dns ? [config.dns.hubAccountId] : []),
        ...config.baseline.roles.map((role) => role.trustedAccountId),
        this.account,
      ]),
    ];
    return [
      new PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: [accessRoleArn(roleName)],
        conditions: {
          StringEquals: { 'aws:ResourceOrgID': organizationId },
          // aws:ResourceOrgPaths is multivalued; `*` in StringLike spans path segments, so
          // `o-.../*/ou-.../*` is that OU at any depth and every OU below it.
          'ForAnyValue:StringLike': {
            'aws:ResourceOrgPaths': vendableOuIds.map((ou) => `${organizationId}/*/${ou}/*`),
          },
        },
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['sts:AssumeRole'],
        resources: protectedAccounts.map((id) => `arn:${Aws.PARTITION}:iam::${id}:role/${roleName}`),
      }),
    ];
  }

  /**
   * Identity Center administration, scoped to `identityCenter.instanceArn` (see `IDENTITY_CENTER_ACTIONS`): its
   * permission sets (Vend creates the declared ones, so their ids are unknown at deploy time) and the accounts Vend
   * vends (unknown too). The management account, the DNS hub and the accounts the baseline's roles trust are
   * denied assignments explicitly: Vend never hands out access to them. Users and groups are looked up in the
   * instance's identity store only.
   */
  private identityCenterStatements(config: VendConfig): PolicyStatement[] {
    const identityCenter = config.identityCenter!;
    const { instance, permissionSets, accounts, identityStore, users, groups } =
      identityCenterArns(identityCenter);
    const statements = [
      new PolicyStatement({
        actions: [...IDENTITY_CENTER_ACTIONS.permissionSets],
        resources: [instance, permissionSets],
      }),
      new PolicyStatement({
        actions: [...IDENTITY_CENTER_ACTIONS.assignments],
        resources: [instance, permissionSets, accounts],
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        actions: ['sso:CreateAccountAssignment'],
        resources: this.protectedAccountIds(config).map((id) => `arn:${Aws.PARTITION}:sso:::account/${id}`),
      }),
      new PolicyStatement({
        actions: [...IDENTITY_CENTER_ACTIONS.lookups],
        resources: [identityStore, users, groups],
      }),
    ];
    if (!identityCenter.identityStoreId) {
      statements.push(
        new PolicyStatement({ actions: [...IDENTITY_CENTER_ACTIONS.unscoped], resources: ['*'] }),
      );
    }
    return statements;
  }

  /** Accounts Vend never acts in through generic means: the DNS hub, those the baseline's roles trust, this one. */
  private protectedAccountIds(config: VendConfig): string[] {
    return [
      ...new Set([
        ...(config.dns ? [config.dns.hubAccountId] : []),
        ...config.baseline.roles.map((role) => role.trustedAccountId),
        this.account,
      ]),
    ];
  }

  /** The vendable OUs' ids: the configuration's ids, the prop's ids of its paths, else one parameter per path. */
  private vendableOrganizationalUnitIds(
    config: VendConfig,
    known: Readonly<Record<string, string>>,
  ): string[] {
    return config.organization.allowedOrganizationalUnits.map((entry) => {
      if (/^ou-/.test(entry)) return entry;
      const id = known[entry];
      if (id !== undefined) return id;
      return new CfnParameter(this, `OuId${entry.replace(/[^A-Za-z0-9]/g, '')}`, {
        type: 'String',
        description: `The id (ou-...) of the vendable OU ${entry}`,
        allowedPattern: '^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$',
      }).valueAsString;
    });
  }

  /**
   * cdk-nag findings where AWS allows no narrower scope, or that are deliberate: acknowledged one by one on the
   * construct they concern, each with its reason. Anything else fails synth.
   */
  private acknowledgeFindings(config: VendConfig, organizationArns: Record<string, string[]>): void {
    const ack = (scope: IConstruct, id: string, reason: string) =>
      Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
    const resource = (arn: string) => `IAM5[Resource::${nagArn(this.resolve(arn))}]`;

    for (const [folder, fn] of Object.entries(this.functions)) {
      const access = accessOf(folder)!;
      ack(
        fn.function,
        'L1',
        'Node.js 22 on purpose: the local pipeline and the tests run the same code on Node 22 (see STACK.md).',
      );
      const unscoped = access.organizations.filter((grant) => grant.scope === 'none');
      const listsInstances =
        access.administersIdentityCenter && config.identityCenter?.identityStoreId === undefined;
      ack(
        fn.role,
        'IAM5[Resource::*]',
        [
          'X-Ray PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permissions.',
          ...unscoped.map((grant) => `${grant.actions.join(', ')} on *: ${grant.why}.`),
          ...(listsInstances
            ? [
                'sso:ListInstances on *: no resource type (Service Authorization Reference); finds the identity store of identityCenter.instanceArn.',
              ]
            : []),
        ].join(' '),
      );
      if (access.administersIdentityCenter && config.identityCenter) {
        const arns = identityCenterArns(config.identityCenter);
        const reasons: [string, string][] = [
          [
            arns.permissionSets,
            'The permission sets of the configured Identity Center instance only: Vend creates the declared ones, whose ids do not exist at deploy time.',
          ],
          [
            arns.accounts,
            'Account assignments in the accounts Vend vends (their ids do not exist at deploy time); the management, DNS hub and security accounts are denied explicitly.',
          ],
          [
            arns.users,
            "Identity Store's AllUsers resource (Service Authorization Reference): GetUserId names no user before it finds one; the identity store itself is scoped.",
          ],
          [
            arns.groups,
            "Identity Store's AllGroups resource (Service Authorization Reference): GetGroupId names no group before it finds one; the identity store itself is scoped.",
          ],
        ];
        if (!config.identityCenter.identityStoreId)
          reasons.push([
            arns.identityStore,
            'The identity store of the configured instance, looked up at run time (identityCenter.identityStoreId is not given).',
          ]);
        for (const [arn, reason] of reasons) ack(fn.role, resource(arn), reason);
      }
      const scoped = new Set(
        access.organizations.flatMap((grant) =>
          grant.scope === 'none' ? [] : organizationArns[grant.scope]!,
        ),
      );
      const reasons: Record<string, string> = {
        account:
          'Accounts of this organization only: Vend acts on accounts it creates per request, whose ids do not exist at deploy time (tag keys limited by aws:TagKeys where it tags).',
        ou: 'OUs of this organization only: a drifted account is moved back from wherever someone put it (IAM cannot tell MoveAccount’s source from its destination), and OU paths are resolved under any parent.',
        root: 'The root of this organization (its id is not known at deploy time): new accounts are created in it and moved out of it.',
        policy:
          'Service control policies of this organization only, limited by organizations:PolicyType: Vend creates vend-quarantine and the configured guardrails on first use, so their ids do not exist at deploy time.',
      };
      for (const arn of scoped) {
        const kind = /:(account|ou|root|policy)\//.exec(JSON.stringify(this.resolve(arn)))?.[1];
        if (!kind || !/\*/.test(nagArn(this.resolve(arn)))) continue;
        ack(fn.role, resource(arn), reasons[kind]!);
      }
      if (access.describesExecutions) {
        ack(
          fn.role,
          resource(this.executionsArn()),
          'The executions of this state machine only: each is named after a request, which does not exist at deploy time.',
        );
      }
      if (access.assumesAccessRole) {
        ack(
          fn.role,
          resource(accessRoleArn(config.organization.accessRoleName)),
          'The access role of the member accounts Vend creates (their ids do not exist at deploy time), conditioned on aws:ResourceOrgID and aws:ResourceOrgPaths (the vendable OUs); the DNS hub, security and management accounts are denied explicitly.',
        );
      }
    }
    ack(
      this.stateMachine.role,
      'IAM5[Resource::*]',
      'X-Ray (tracing) and CloudWatch Logs log-delivery actions (execution logging) support no resource-level permissions; CDK adds them for tracingEnabled and logs.',
    );
    const cloudWatchRole = this.api.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      ack(
        cloudWatchRole,
        'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        "API Gateway's account-level logging role: AWS's own policy for exactly this role, needed for access and execution logs.",
      );
    }
    ack(
      this.api.api,
      'COG4',
      "Callers are AWS principals: every method requires IAM authorization (SigV4), so no Cognito user pool is involved; Slack's callbacks (POST /slack/interactions) are verified by Slack's request signature instead.",
    );
    if (this.api.slackInteractionsMethod) {
      ack(
        this.api.slackInteractionsMethod,
        'APIG4',
        "Slack's interactivity callbacks cannot carry SigV4: the function verifies Slack's v0 request signature (HMAC-SHA256 with the app's signing secret, timestamp within five minutes, each signature once) before reading or changing anything, and the method has its own throttling.",
      );
      ack(
        this.api.slackInteractionsMethod,
        'COG4',
        "Slack's interactivity callbacks are verified by Slack's request signature in the function; no Cognito user pool is involved.",
      );
    }
    ack(
      this.api.api.deploymentStage,
      'APIG3',
      "No WAF web ACL: every method requires SigV4 from a principal allowed by IAM, but Slack's callbacks, which need Slack's request signature (checked before anything is read), and the stage is throttled per method.",
    );
  }
}

/**
 * The Organizations ARNs (Service Authorization Reference formats: `account/o-.../111111111111`,
 * `ou/o-.../ou-...`, `root/o-.../r-...`) of this management account's organization.
 */
function organizationResourceArns(
  org: string,
  vendableOuIds: readonly string[],
): Record<Exclude<OrganizationsScope, 'none'>, string[]> {
  const base = `arn:${Aws.PARTITION}:organizations::${Aws.ACCOUNT_ID}`;
  const account = `${base}:account/${org}/*`;
  const ou = `${base}:ou/${org}/ou-*`;
  const root = `${base}:root/${org}/r-*`;
  // Service Authorization Reference, AWS Organizations, resource type policy:
  // arn:${Partition}:organizations::${Account}:policy/o-${OrganizationId}/${PolicyType}/p-${PolicyId}
  const scp = `${base}:policy/${org}/service_control_policy/p-*`;
  return {
    scps: [scp],
    'accounts-scps': [account, scp],
    accounts: [account],
    'ous-roots': [ou, root],
    'accounts-ous': [account, ou],
    'move-from-root-to-vendable-ous': [
      account,
      root,
      ...vendableOuIds.map((id) => `${base}:ou/${org}/${id}`),
    ],
    'move-back-from-anywhere': [account, ou, root],
  };
}

/** The Identity Center ARNs Vend's statements name (formats: see `IDENTITY_CENTER_ACTIONS`). */
function identityCenterArns(identityCenter: NonNullable<VendConfig['identityCenter']>) {
  const instanceId = identityCenter.instanceArn.slice(identityCenter.instanceArn.lastIndexOf('/') + 1);
  const storeId = identityCenter.identityStoreId ?? '*';
  return {
    instance: `arn:${Aws.PARTITION}:sso:::instance/${instanceId}`,
    permissionSets: `arn:${Aws.PARTITION}:sso:::permissionSet/${instanceId}/*`,
    accounts: `arn:${Aws.PARTITION}:sso:::account/*`,
    identityStore: `arn:${Aws.PARTITION}:identitystore::${Aws.ACCOUNT_ID}:identitystore/${storeId}`,
    users: `arn:${Aws.PARTITION}:identitystore:::user/*`,
    groups: `arn:${Aws.PARTITION}:identitystore:::group/*`,
  };
}

/** A member account's access role, in any account: the accounts Vend creates do not exist at deploy time. */
function accessRoleArn(roleName: string): string {
  return `arn:${Aws.PARTITION}:iam::*:role/${roleName}`;
}

/** `DRIFT_EVENT_PATTERN` in CDK's shape (`detailType` renders as `detail-type`). */
export function toEventPattern(pattern: typeof DRIFT_EVENT_PATTERN): EventPattern {
  return {
    source: [...pattern.source],
    detailType: [...pattern['detail-type']],
    detail: {
      eventSource: [...pattern.detail.eventSource],
      eventName: [...pattern.detail.eventName],
    },
  };
}

function pascal(folder: string): string {
  return folder.replace(/(^|-)([a-z])/g, (_match, _dash, letter: string) => letter.toUpperCase());
}

/** How cdk-nag prints a resolved ARN in a finding id: `Fn::Join` parts concatenated, `Ref`s as `<Name>`, attributes as `<Name.Attribute>`. */
function nagArn(resolved: unknown): string {
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(nagArn).join(join[0]);
  const ref = (resolved as { Ref?: string }).Ref;
  if (ref) return `<${ref}>`;
  const attribute = (resolved as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  if (attribute) return `<${attribute[0]}.${attribute[1]}>`;
  return JSON.stringify(resolved);
}
