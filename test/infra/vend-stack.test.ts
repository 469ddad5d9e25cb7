import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CfnElement, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../functions/api/openapi.ts';
import { DRIFT_EVENT_PATTERN } from '../../functions/shared/drift-pattern.ts';
import { ENV } from '../../functions/shared/env.ts';
import { METRIC, METRIC_DIMENSION, METRICS_NAMESPACE } from '../../functions/shared/metrics-names.ts';
import { SLACK_SIGNING_SECRET_PLACEHOLDER } from '../../functions/shared/slack-secret.ts';
import { REGISTRY_TABLE } from '../../functions/store/table.ts';
import {
  ASL_PATH,
  aslPlaceholders,
  functionTimeoutSeconds,
  readAsl,
  TASK_TIMEOUT_MARGIN_SECONDS,
} from '../../infra/asl.ts';
import { REPOSITORY_ROOT } from '../../infra/paths.ts';
import { configDelivery, loadPipelineConfig } from '../../infra/pipeline-config.ts';
import { TASK_FUNCTION_FOLDERS } from '../../infra/pipeline-functions.ts';
import type { VendStack } from '../../infra/vend-stack.ts';
import { TASK_FUNCTIONS } from '../../local/runner.ts';
import { resourcesOfType, synthVendStack } from './synth.ts';

type Statement = {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
  Condition?: Record<string, Record<string, unknown>>;
};

/** What each function's role may do besides writing its own logs and traces, as its code needs (read from it). */
const EXPECTED_ACTIONS: Record<string, string[]> = {
  'create-account': [
    'organizations:CreateAccount',
    'organizations:ListCreateAccountStatus',
    'organizations:ListRoots',
    'organizations:TagResource',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
  ],
  'check-account-creation': [
    'organizations:DescribeCreateAccountStatus',
    'organizations:ListPolicies',
    'organizations:CreatePolicy',
    'organizations:ListPoliciesForTarget',
    'organizations:DescribePolicy',
    'organizations:UpdatePolicy',
    'organizations:AttachPolicy',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
  ],
  'move-account': [
    'organizations:ListParents',
    'organizations:MoveAccount',
    'organizations:ListPolicies',
    'organizations:CreatePolicy',
    'organizations:ListPoliciesForTarget',
    'organizations:DescribePolicy',
    'organizations:UpdatePolicy',
    'organizations:AttachPolicy',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
  ],
  'apply-baseline': ['sts:AssumeRole', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'apply-budget': ['sts:AssumeRole', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'connect-dns': ['sts:AssumeRole', 'dynamodb:GetItem', 'dynamodb:UpdateItem'],
  'grant-access': [
    'sso:ListPermissionSets',
    'sso:DescribePermissionSet',
    'sso:CreatePermissionSet',
    'sso:UpdatePermissionSet',
    'sso:ListManagedPoliciesInPermissionSet',
    'sso:AttachManagedPolicyToPermissionSet',
    'sso:DetachManagedPolicyFromPermissionSet',
    'sso:ProvisionPermissionSet',
    'sso:DescribePermissionSetProvisioningStatus',
    'sso:DescribeAccountAssignmentCreationStatus',
    'sso:ListAccountAssignments',
    'sso:CreateAccountAssignment',
    'identitystore:GetUserId',
    'identitystore:GetGroupId',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
  ],
  'complete-request': [
    'organizations:ListPolicies',
    'organizations:CreatePolicy',
    'organizations:ListPoliciesForTarget',
    'organizations:DescribePolicy',
    'organizations:UpdatePolicy',
    'organizations:AttachPolicy',
    'organizations:DetachPolicy',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'secretsmanager:GetSecretValue',
  ],
  'record-failure': [
    'organizations:DescribeCreateAccountStatus',
    'organizations:ListPolicies',
    'organizations:ListPoliciesForTarget',
    'dynamodb:GetItem',
    'dynamodb:UpdateItem',
    'dynamodb:PutItem',
    'dynamodb:DeleteItem',
    'secretsmanager:GetSecretValue',
  ],
  'deliver-messages': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'secretsmanager:GetSecretValue',
  ],
  api: [
    'organizations:ListRoots',
    'organizations:ListAccounts',
    'organizations:ListCreateAccountStatus',
    'organizations:ListOrganizationalUnitsForParent',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
    'sts:AssumeRole',
    'secretsmanager:GetSecretValue',
    'states:StartExecution',
  ],
  'slack-interactions': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'secretsmanager:GetSecretValue',
    'states:StartExecution',
  ],
  'reap-requests': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
    'secretsmanager:GetSecretValue',
    'states:DescribeExecution',
    'states:StartExecution',
  ],
};

/** Actions AWS lets no policy scope to a resource: the only ones allowed on `*`. */
const UNSCOPABLE = new Set([
  // No resource type (Service Authorization Reference); limited to SCPs by organizations:PolicyType.
  'organizations:ListPolicies',
  'organizations:CreatePolicy',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  'organizations:CreateAccount',
  'organizations:ListCreateAccountStatus',
  'organizations:DescribeCreateAccountStatus',
  'organizations:ListRoots',
  'organizations:ListAccounts',
]);

const actionsOf = (statement: Statement) => [statement.Action].flat();

let stack: VendStack;
let template: Template;
let json: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

function logicalId(element: CfnElement): string {
  return Stack.of(element).getLogicalId(element);
}

function policyStatements(folder: string): Statement[] {
  const policy = stack.functions[folder]!.role.node.findChild('DefaultPolicy').node
    .defaultChild as CfnElement;
  const resource = json.Resources[logicalId(policy)]!;
  return (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

function functionProperties(folder: string): Record<string, unknown> {
  return json.Resources[logicalId(stack.functions[folder]!.function.node.defaultChild as CfnElement)]!
    .Properties;
}

beforeAll(() => {
  // One synth for the file, esbuild bundling included: it proves the nine functions bundle offline.
  stack = synthVendStack().stack;
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
  // Bundling ten functions takes minutes when the machine's cores are shared.
}, 600_000);

describe('the request API', () => {
  it("has exactly the routes the API documents, each requiring IAM authorization (SigV4) but Slack's callbacks", () => {
    const resources = resourcesOfType(template, 'AWS::ApiGateway::Resource');
    const pathOf = (id: string): string => {
      const props = resources[id]!.Properties as { PathPart: string; ParentId: unknown };
      const parent = (props.ParentId as { Ref?: string }).Ref;
      return `${parent && resources[parent] ? pathOf(parent) : ''}/${props.PathPart}`;
    };
    const methods = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Method')).map((method) => {
      const props = method.Properties as {
        HttpMethod: string;
        ResourceId: { Ref: string };
        AuthorizationType: string;
      };
      return { route: `${props.HttpMethod} ${pathOf(props.ResourceId.Ref)}`, auth: props.AuthorizationType };
    });
    // Every operation the API documents (and so answers) has its route, and no other route exists.
    const documented = Object.entries(
      openApiDocument().paths as Record<string, Record<string, unknown>>,
    ).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented).toContain('POST /accounts/requests/{requestId}/approval');
    expect(methods.map((method) => method.route).sort()).toEqual(
      [...new Set([...documented, 'GET /openapi.json', 'POST /slack/interactions'])].sort(),
    );
    for (const method of methods) {
      expect(method.auth, method.route).toBe(
        method.route === 'POST /slack/interactions' ? 'NONE' : 'AWS_IAM',
      );
    }
  });

  it("proxies every method to the API Lambda, and Slack's callbacks to their own function", () => {
    const arnOf = (folder: string) => ({
      'Fn::GetAtt': [logicalId(stack.functions[folder]!.function.node.defaultChild as CfnElement), 'Arn'],
    });
    const slackMethod = logicalId(stack.api.slackInteractionsMethod!.node.defaultChild as CfnElement);
    for (const [id, method] of Object.entries(resourcesOfType(template, 'AWS::ApiGateway::Method'))) {
      const target = id === slackMethod ? 'slack-interactions' : 'api';
      expect(method.Properties.Integration, id).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
      });
      expect(JSON.stringify(method.Properties.Integration), id).toContain(JSON.stringify(arnOf(target)));
    }
  });

  it("throttles Slack's callbacks on their own, below the rest of the API", () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1slack~1interactions',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 20,
        }),
      ]),
    });
  });

  it('throttles every method of the stage, logs access as JSON to its log group and traces', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 10,
          ThrottlingBurstLimit: 20,
        }),
      ]),
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('AccessLogs'), 'Arn'] },
        Format: Match.stringLikeRegexp('"caller":"\\$context.identity.caller"'),
      },
    });
  });

  it('validates the path parameters of every method', () => {
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestParameters: true,
    });
    template.allResourcesProperties('AWS::ApiGateway::Method', {
      RequestValidatorId: { Ref: Match.stringLikeRegexp('Validator') },
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      RequestParameters: { 'method.request.path.accountId': true },
    });
  });
});

describe('the workflow', () => {
  it('substitutes exactly the ASL placeholders, each with a function of this stack', () => {
    const machine = Object.values(resourcesOfType(template, 'AWS::StepFunctions::StateMachine'))[0]!;
    const substitutions = machine.Properties.DefinitionSubstitutions as Record<
      string,
      { 'Fn::GetAtt': string[] }
    >;
    const asl = readFileSync(ASL_PATH, 'utf8');
    expect(Object.keys(substitutions).sort()).toEqual(aslPlaceholders(asl).sort());
    for (const [placeholder, folder] of Object.entries(TASK_FUNCTION_FOLDERS)) {
      expect(substitutions[placeholder]).toEqual({
        'Fn::GetAtt': [logicalId(stack.functions[folder]!.function.node.defaultChild as CfnElement), 'Arn'],
      });
    }
    // The definition is the ASL file itself, inline.
    expect(machine.Properties.DefinitionString).toBe(asl);
  });

  it('maps placeholders to the same function folders as the local runner', () => {
    expect(TASK_FUNCTION_FOLDERS).toEqual(
      Object.fromEntries(Object.entries(TASK_FUNCTIONS).map(([name, fn]) => [name, fn.functionName])),
    );
  });

  it('is a Standard state machine that logs to CloudWatch and traces', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
  });

  it('may invoke exactly the eight step functions', () => {
    const role = stack.stateMachine.role.node.findChild('DefaultPolicy').node.defaultChild as CfnElement;
    const statements = (
      json.Resources[logicalId(role)]!.Properties.PolicyDocument as { Statement: Statement[] }
    ).Statement;
    const invoke = statements.filter((statement) => actionsOf(statement).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(actionsOf(invoke[0]!)).toEqual(['lambda:InvokeFunction']);
    expect(invoke[0]!.Resource).toEqual(
      Object.values(TASK_FUNCTION_FOLDERS).map((folder) => ({
        'Fn::GetAtt': [logicalId(stack.functions[folder]!.function.node.defaultChild as CfnElement), 'Arn'],
      })),
    );
  });
});

describe('the functions', () => {
  const folders = [
    ...Object.values(TASK_FUNCTION_FOLDERS),
    'api',
    'reap-requests',
    'deliver-messages',
    'slack-interactions',
  ];

  it('are one Node.js 22 arm64 function per handler, traced, each with its own log group kept three months', () => {
    expect(
      Object.keys(stack.functions)
        .filter((name) => name !== 'drift')
        .sort(),
    ).toEqual([...folders].sort());
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    const seen = new Set<string>();
    for (const folder of folders) {
      const props = functionProperties(folder) as {
        Runtime: string;
        Architectures: string[];
        TracingConfig: { Mode: string };
        Handler: string;
        LoggingConfig: { LogGroup: { Ref: string } };
      };
      expect(props.Runtime, folder).toBe('nodejs22.x');
      expect(props.Architectures, folder).toEqual(['arm64']);
      expect(props.TracingConfig, folder).toEqual({ Mode: 'Active' });
      expect(props.Handler, folder).toBe('index.handler');
      const group = props.LoggingConfig.LogGroup.Ref;
      expect(logGroups[group]?.Properties.RetentionInDays, folder).toBe(90);
      expect(seen.has(group), `${folder} shares a log group`).toBe(false);
      seen.add(group);
    }
  });

  it('get the configuration, the table and Powertools settings through the shared ENV names', () => {
    // The repository's configuration, in the environment or, once it outgrows Lambda's 4 KiB, as a bundled file.
    const delivery = configDelivery(loadPipelineConfig(join(REPOSITORY_ROOT, 'vend.config.json')));
    for (const folder of folders) {
      const variables = (
        functionProperties(folder) as { Environment: { Variables: Record<string, unknown> } }
      ).Environment.Variables;
      expect(variables, folder).toMatchObject(delivery.environment);
      expect(variables[ENV.tableName], folder).toEqual({
        Ref: logicalId(stack.table.node.defaultChild as CfnElement),
      });
      expect(variables, folder).toMatchObject({
        POWERTOOLS_SERVICE_NAME: `vend-${folder}`,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_NAMESPACE: 'Vend',
      });
      expect(variables, `${folder} must never get the webhook URL itself`).not.toHaveProperty(
        ENV.slackWebhookUrl,
      );
      const size = Object.entries(variables).reduce(
        (total, [name, value]) => total + name.length + (typeof value === 'string' ? value.length : 100),
        0,
      );
      expect(size, `${folder}'s environment must fit Lambda's 4 KiB`).toBeLessThan(4096);
    }
    expect(
      (functionProperties('api') as { Environment: { Variables: Record<string, unknown> } }).Environment
        .Variables[ENV.stateMachineArn],
    ).toEqual({ Ref: logicalId(stack.stateMachine.node.defaultChild as CfnElement) });
  });

  it('time out before every Task that invokes them, by the margin of a cold start, so no retry overlaps an attempt', () => {
    const { states } = readAsl(ASL_PATH);
    let tasks = 0;
    for (const [name, state] of states) {
      const placeholder = /^\$\{(\w+)\}$/.exec(state.Resource ?? '')?.[1];
      if (state.Type !== 'Task' || !placeholder) continue;
      tasks++;
      const folder = TASK_FUNCTION_FOLDERS[placeholder as keyof typeof TASK_FUNCTION_FOLDERS];
      const timeout = (functionProperties(folder) as { Timeout: number }).Timeout;
      expect(state.TimeoutSeconds, name).toBeTypeOf('number');
      expect(timeout + TASK_TIMEOUT_MARGIN_SECONDS, `${name} (${folder})`).toBeLessThanOrEqual(
        state.TimeoutSeconds!,
      );
    }
    expect(tasks).toBeGreaterThanOrEqual(Object.keys(TASK_FUNCTION_FOLDERS).length);
    expect((functionProperties('api') as { Timeout: number }).Timeout).toBe(29);
    expect((functionProperties('slack-interactions') as { Timeout: number }).Timeout).toBe(10);
  });

  it('refuse an ASL whose Task leaves its function no time', () => {
    expect(() => functionTimeoutSeconds(TASK_TIMEOUT_MARGIN_SECONDS)).toThrow(/leaves its function no time/);
    expect(functionTimeoutSeconds(120)).toBe(120 - TASK_TIMEOUT_MARGIN_SECONDS);
  });

  it('may do what their code calls, and nothing else', () => {
    for (const folder of folders) {
      const granted = policyStatements(folder)
        .filter((statement) => statement.Effect === 'Allow')
        .flatMap(actionsOf)
        .filter((action) => !action.startsWith('xray:') && !action.startsWith('logs:'));
      expect([...new Set(granted)].sort(), folder).toEqual([...EXPECTED_ACTIONS[folder]!].sort());
      const logs = policyStatements(folder).filter((statement) =>
        actionsOf(statement).some((a) => a.startsWith('logs:')),
      );
      expect(logs, `${folder} writes only to its own log group`).toEqual([
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: {
            'Fn::GetAtt': [
              logicalId(stack.functions[folder]!.logGroup.node.defaultChild as CfnElement),
              'Arn',
            ],
          },
        },
      ]);
    }
  });

  it("let only the API, Slack's callbacks and the reaper start executions, of this state machine only", () => {
    const starts = folders.flatMap((folder) =>
      policyStatements(folder)
        .filter((statement) => actionsOf(statement).includes('states:StartExecution'))
        .map((statement) => ({ folder, resource: statement.Resource })),
    );
    const stateMachine = { Ref: logicalId(stack.stateMachine.node.defaultChild as CfnElement) };
    expect(starts).toEqual([
      { folder: 'api', resource: stateMachine },
      { folder: 'reap-requests', resource: stateMachine },
      { folder: 'slack-interactions', resource: stateMachine },
    ]);
  });

  it('let only the reaper look executions up, those of this state machine only', () => {
    const describes = folders.flatMap((folder) =>
      policyStatements(folder)
        .filter((statement) => actionsOf(statement).includes('states:DescribeExecution'))
        .map((statement) => ({
          folder,
          actions: statement.Action,
          resource: stack.resolve(statement.Resource),
        })),
    );
    expect(describes).toEqual([
      {
        folder: 'reap-requests',
        actions: 'states:DescribeExecution',
        resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':states:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':execution:',
              { 'Fn::GetAtt': [logicalId(stack.stateMachine.node.defaultChild as CfnElement), 'Name'] },
              ':*',
            ],
          ],
        },
      },
    ]);
  });

  it('scope the registry to its table and its list index', () => {
    const table = logicalId(stack.table.node.defaultChild as CfnElement);
    for (const folder of folders) {
      for (const statement of policyStatements(folder)) {
        const actions = actionsOf(statement);
        if (!actions.some((action) => action.startsWith('dynamodb:'))) continue;
        if (actions.includes('dynamodb:Query')) {
          expect(statement.Resource).toEqual({
            'Fn::Join': ['', [{ 'Fn::GetAtt': [table, 'Arn'] }, `/index/${REGISTRY_TABLE.index.name}`]],
          });
        } else {
          expect(statement.Resource, folder).toEqual({ 'Fn::GetAtt': [table, 'Arn'] });
        }
      }
    }
  });

  it('assume the access role only in accounts of the organization under a vendable OU, never in the hub, security or management account', () => {
    const arn = (account: string, role: string) =>
      JSON.stringify({
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:role/${role}`]],
      });
    const assumes = (folder: string) =>
      policyStatements(folder).filter((statement) => actionsOf(statement).includes('sts:AssumeRole'));
    const org = { Ref: 'OrganizationId' };
    const ouParameters = ['OuIdSandbox', 'OuIdWorkloadsDev', 'OuIdWorkloadsProd'];
    for (const folder of ['apply-baseline', 'apply-budget', 'connect-dns', 'drift']) {
      const [allow, deny, ...rest] = assumes(folder);
      expect(stack.resolve(allow), folder).toEqual({
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Resource: JSON.parse(arn('*', 'OrganizationAccountAccessRole')),
        Condition: {
          StringEquals: { 'aws:ResourceOrgID': org },
          'ForAnyValue:StringLike': {
            'aws:ResourceOrgPaths': ouParameters.map((name) => ({
              'Fn::Join': ['', [org, '/*/', { Ref: name }, '/*']],
            })),
          },
        },
      });
      expect(deny!.Effect).toBe('Deny');
      expect(
        [deny!.Resource]
          .flat()
          .map((resource) => JSON.stringify(resource))
          .sort(),
      ).toEqual(
        [
          arn('222222222222', 'OrganizationAccountAccessRole'),
          arn('111111111111', 'OrganizationAccountAccessRole'),
          arn('000000000000', 'OrganizationAccountAccessRole'),
        ].sort(),
      );
      const hub = rest.map((statement) => JSON.stringify(statement.Resource));
      expect(hub, folder).toEqual(
        folder === 'connect-dns' || folder === 'drift' ? [arn('222222222222', 'VendDnsAuthorizer')] : [],
      );
      for (const statement of rest) expect(statement.Effect).toBe('Allow');
    }
    for (const folder of [
      'create-account',
      'check-account-creation',
      'move-account',
      'complete-request',
      'record-failure',
      'reap-requests',
      'slack-interactions',
    ]) {
      expect(assumes(folder), folder).toEqual([]);
    }
    // The API reads the shared zone's VPC limit through the hub's role, and assumes no other.
    expect(assumes('api').map((statement) => [statement.Effect, JSON.stringify(statement.Resource)])).toEqual(
      [['Allow', arn('222222222222', 'VendDnsAuthorizer')]],
    );
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'VendTest-api' });
    for (const name of ['OrganizationId', ...ouParameters]) {
      template.hasParameter(name, { Type: 'String', AllowedPattern: Match.stringLikeRegexp('^\\^(o|ou)-') });
    }
  });

  it('move new accounts only out of the root into the vendable OUs, and drifted ones only within the organization', () => {
    const base = (kind: string, rest: unknown[]) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':organizations::',
          { Ref: 'AWS::AccountId' },
          `:${kind}`,
          { Ref: 'OrganizationId' },
          ...rest,
        ],
      ],
    });
    const moves = (folder: string) =>
      policyStatements(folder).filter((statement) =>
        actionsOf(statement).includes('organizations:MoveAccount'),
      );
    const [step] = moves('move-account');
    expect(moves('move-account')).toHaveLength(1);
    expect(JSON.stringify(step!.Resource)).not.toMatch(/"\*"|ou-\*/);
    expect(step!.Resource).toEqual([
      base('account/', ['/*']),
      base('root/', ['/r-*']),
      ...['OuIdSandbox', 'OuIdWorkloadsDev', 'OuIdWorkloadsProd'].map((name) =>
        base('ou/', ['/', { Ref: name }]),
      ),
    ]);
    for (const statement of moves('drift')) {
      expect(statement.Resource).toEqual([
        base('account/', ['/*']),
        base('ou/', ['/ou-*']),
        base('root/', ['/r-*']),
      ]);
    }
  });

  it('administer Identity Center in the configured instance only, never assigning in the protected accounts', () => {
    for (const folder of ['grant-access', 'drift']) {
      const statements = policyStatements(folder).filter((statement) =>
        actionsOf(statement).some(
          (action) => action.startsWith('sso:') || action.startsWith('identitystore:'),
        ),
      );
      const resources = JSON.stringify(statements.map((statement) => statement.Resource));
      // No sso:ListInstances: the default configuration gives the identity store's id.
      expect(resources, folder).not.toMatch(/"\*"/);
      const allowed = statements.filter((statement) => statement.Effect === 'Allow');
      for (const statement of allowed.filter((s) => actionsOf(s).some((a) => a.startsWith('sso:')))) {
        expect(JSON.stringify(statement.Resource), folder).toMatch(/instance\/ssoins-7223f1e0c0ffee01/);
        expect(JSON.stringify(statement.Resource), folder).toMatch(
          /permissionSet\/ssoins-7223f1e0c0ffee01\/\*/,
        );
      }
      const lookups = allowed.find((statement) => actionsOf(statement).includes('identitystore:GetUserId'))!;
      expect(JSON.stringify(lookups.Resource), folder).toMatch(/identitystore\/d-9067c0ffee/);
      const denied = statements.find((statement) => statement.Effect === 'Deny')!;
      expect(actionsOf(denied), folder).toEqual(['sso:CreateAccountAssignment']);
      const deniedAccounts = JSON.stringify(denied.Resource);
      for (const id of ['222222222222', '111111111111'])
        expect(deniedAccounts, folder).toContain(`account/${id}`);
      // The management account: the stack's own.
      expect(deniedAccounts, folder).toContain(
        Token.isUnresolved(stack.account) ? 'AWS::AccountId' : `account/${stack.account}`,
      );
    }
  });

  it("let the drift function read an account's state on account ARNs only", () => {
    const reads = policyStatements('drift').filter((statement) =>
      actionsOf(statement).includes('organizations:DescribeAccount'),
    );
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0]!.Resource)).toMatch(/:account\//);
    expect(JSON.stringify(reads[0]!.Resource)).not.toMatch(/"\*"|:(ou|root|policy)\//);
  });

  it('tag only accounts, and only with the keys Vend owns or a request may set', () => {
    for (const folder of ['create-account', 'drift']) {
      const tags = policyStatements(folder).filter((statement) =>
        actionsOf(statement).includes('organizations:TagResource'),
      );
      expect(tags, folder).toHaveLength(1);
      expect(JSON.stringify(tags[0]!.Resource)).toMatch(/:account\//);
      expect(JSON.stringify(tags[0]!.Resource)).not.toMatch(/:(ou|root|policy)\//);
      expect(tags[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['vend:*', '*'] } });
    }
    const create = policyStatements('create-account').find((statement) =>
      actionsOf(statement).includes('organizations:CreateAccount'),
    );
    expect(create!.Condition).toEqual({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['vend:*', '*'] } });
    for (const folder of folders) {
      for (const statement of policyStatements(folder)) {
        if (actionsOf(statement).includes('organizations:UntagResource'))
          throw new Error(`${folder} may untag`);
      }
    }
  });

  it('use no wildcard action, and a wildcard resource only for actions AWS cannot scope', () => {
    for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
        for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
        if (
          statement.Resource === '*' ||
          (Array.isArray(statement.Resource) && statement.Resource.includes('*'))
        ) {
          for (const action of actionsOf(statement)) expect(UNSCOPABLE, `${action} on *`).toContain(action);
        }
      }
    }
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      for (const policy of (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ??
        []) {
        for (const statement of policy.PolicyDocument.Statement) {
          for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
        }
      }
    }
  });
});

describe('the Slack webhook secret', () => {
  it('holds a placeholder, not a URL, until the operator puts one in', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: Match.stringLikeRegexp('^REPLACE-ME'),
    });
  });

  /** The functions that post to Slack: to the requester, to the approvers (the API), or of drift. */
  const NOTIFIERS = [
    'complete-request',
    'record-failure',
    'drift',
    'reap-requests',
    'deliver-messages',
    'api',
    'slack-interactions',
  ];

  it('may be read only by the functions that notify (the requester, the approvers, or of drift), which get its ARN', () => {
    const secret = logicalId(stack.slackWebhookSecret.node.defaultChild as CfnElement);
    const readers = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter(([, policy]) => JSON.stringify(policy.Properties.PolicyDocument).includes(`"Ref":"${secret}"`))
      .map(([id]) => id);
    expect(readers.sort()).toEqual(
      NOTIFIERS.map((folder) =>
        logicalId(
          stack.functions[folder]!.role.node.findChild('DefaultPolicy').node.defaultChild as CfnElement,
        ),
      ).sort(),
    );
    for (const [folder] of Object.entries(stack.functions)) {
      const variables = (
        functionProperties(folder) as { Environment: { Variables: Record<string, unknown> } }
      ).Environment.Variables;
      if (NOTIFIERS.includes(folder)) {
        expect(variables[ENV.slackWebhookSecretArn], folder).toEqual({ Ref: secret });
      } else {
        expect(variables, folder).not.toHaveProperty(ENV.slackWebhookSecretArn);
      }
    }
  });
});

describe('the Slack signing secret', () => {
  it("holds a placeholder until the operator puts the Slack app's signing secret in", () => {
    const secret = logicalId(stack.slackSigningSecret.node.defaultChild as CfnElement);
    expect(json.Resources[secret]!.Properties.SecretString).toBe(SLACK_SIGNING_SECRET_PLACEHOLDER);
    template.hasOutput('SlackSigningSecretArn', { Value: { Ref: secret } });
    template.hasOutput('SlackInteractionsUrl', {
      Value: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('/slack/interactions$')])] },
    });
  });

  it("may be read only by Slack's callbacks function, which alone gets its ARN", () => {
    const secret = logicalId(stack.slackSigningSecret.node.defaultChild as CfnElement);
    const readers = Object.entries(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter(([, policy]) => JSON.stringify(policy.Properties.PolicyDocument).includes(`"Ref":"${secret}"`))
      .map(([id]) => id);
    expect(readers).toEqual([
      logicalId(
        stack.functions['slack-interactions']!.role.node.findChild('DefaultPolicy').node
          .defaultChild as CfnElement,
      ),
    ]);
    const reads = policyStatements('slack-interactions').filter((statement) =>
      actionsOf(statement).includes('secretsmanager:GetSecretValue'),
    );
    expect(reads.map((statement) => statement.Resource)).toEqual([
      { Ref: logicalId(stack.slackWebhookSecret.node.defaultChild as CfnElement) },
      { Ref: secret },
    ]);
    for (const folder of Object.keys(stack.functions)) {
      const variables = (
        functionProperties(folder) as { Environment: { Variables: Record<string, unknown> } }
      ).Environment.Variables;
      if (folder === 'slack-interactions') {
        expect(variables[ENV.slackSigningSecretArn]).toEqual({ Ref: secret });
        expect(variables[ENV.stateMachineArn]).toEqual({
          Ref: logicalId(stack.stateMachine.node.defaultChild as CfnElement),
        });
      } else {
        expect(variables, folder).not.toHaveProperty(ENV.slackSigningSecretArn);
      }
    }
  });
});

describe('the Slack outbox deliverer', () => {
  it('runs every minute from an EventBridge schedule, without retries of the rule (the next run makes up a missed one)', () => {
    const fn = logicalId(stack.functions['deliver-messages']!.function.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0 },
        }),
      ],
    });
    expect(functionProperties('deliver-messages')).toMatchObject({ Timeout: 300 });
  });
});

describe('the registry table', () => {
  it('is on-demand, recoverable, encrypted, protected from deletion, with the TTL and the list index', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: REGISTRY_TABLE.timeToLiveAttribute, Enabled: true },
        KeySchema: [
          { AttributeName: REGISTRY_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: REGISTRY_TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: REGISTRY_TABLE.index.name,
            KeySchema: [
              { AttributeName: REGISTRY_TABLE.index.partitionKey, KeyType: 'HASH' },
              { AttributeName: REGISTRY_TABLE.index.sortKey, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    });
    // AWS-managed encryption: SSE on, no customer key.
    const table = Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'))[0]!;
    expect(table.Properties.SSESpecification).not.toHaveProperty('KMSMasterKeyId');
  });
});

describe('alarms', () => {
  it('fire on any failed vend, whatever its reason, from the metric name the functions emit', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: `SELECT SUM("${METRIC.vendsFailed}") FROM "${METRICS_NAMESPACE}"`,
          Period: 300,
          ReturnData: true,
        }),
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
  });

  it('fire when a Slack message has not been delivered for an hour (SlackUndelivered)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: [
        Match.objectLike({
          Expression: `SELECT SUM("${METRIC.slackUndelivered}") FROM "${METRICS_NAMESPACE}"`,
          Period: 300,
        }),
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: logicalId(stack.alarms.topic.node.defaultChild as CfnElement) }],
    });
  });

  it('have a dashboard of every metric Vend emits, failures by reason and retries by step', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody).replaceAll('\\', '');
    for (const name of Object.values(METRIC)) {
      expect(body, name).toContain(`("${name}") FROM "${METRICS_NAMESPACE}"`);
    }
    expect(body).toContain(`GROUP BY "${METRIC_DIMENSION.reason}"`);
    expect(body).toContain(`GROUP BY "${METRIC_DIMENSION.step}"`);
  });

  it('tell an encrypted topic of failed executions, API 5XX and each function’s errors', () => {
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const topic = logicalId(stack.alarms.topic.node.defaultChild as CfnElement);
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties as { MetricName: string; Namespace: string; AlarmActions: unknown[] },
    );
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
    const metrics = alarms.map((alarm) => `${alarm.Namespace}/${alarm.MetricName}`);
    expect(metrics.filter((metric) => metric === 'AWS/States/ExecutionsFailed')).toHaveLength(1);
    expect(metrics.filter((metric) => metric === 'AWS/Lambda/Errors')).toHaveLength(
      Object.keys(stack.functions).length,
    );
    expect(metrics).toContain('AWS/ApiGateway/5XXError');
  });

  it('wait for step errors in three periods in a row (steps fail on purpose to be retried), not for API or Slack callback errors', () => {
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm');
    for (const [folder, fn] of Object.entries(stack.functions)) {
      const name = logicalId(fn.function.node.defaultChild as CfnElement);
      const alarm = Object.values(alarms).find(
        (candidate) =>
          candidate.Properties.MetricName === 'Errors' &&
          JSON.stringify(candidate.Properties.Dimensions).includes(`"Ref":"${name}"`),
      );
      const periods = folder === 'api' || folder === 'slack-interactions' ? 1 : 3;
      expect(alarm?.Properties, folder).toMatchObject({
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: periods,
        DatapointsToAlarm: periods,
      });
    }
  });
});

describe('drift', () => {
  it('routes the Organizations events of the shared pattern, and the sweep schedule, to the drift function', () => {
    const drift = logicalId(stack.functions.drift!.function.node.defaultChild as CfnElement);
    const scheduled = [stack.reapRule, stack.messageDelivery].map((rule) =>
      logicalId(rule.node.defaultChild as CfnElement),
    );
    const rules = Object.entries(resourcesOfType(template, 'AWS::Events::Rule'))
      .filter(([id]) => !scheduled.includes(id))
      .map(([, rule]) => rule) as unknown as {
      Properties: { EventPattern?: unknown; ScheduleExpression?: string; Targets: { Arn: unknown }[] };
    }[];
    expect(rules).toHaveLength(2);
    expect(rules.map((rule) => rule.Properties.EventPattern).filter(Boolean)).toEqual([DRIFT_EVENT_PATTERN]);
    expect(rules.filter((rule) => rule.Properties.ScheduleExpression)).toHaveLength(1);
    for (const rule of rules)
      expect(rule.Properties.Targets[0]!.Arn).toEqual({ 'Fn::GetAtt': [drift, 'Arn'] });
    template.resourceCountIs('AWS::SQS::Queue', 2);
  });

  it('sends events whose handler failed after Lambda’s two retries to the failure queue, and alarms on its depth', () => {
    const drift = logicalId(stack.functions.drift!.function.node.defaultChild as CfnElement);
    const queue = logicalId(stack.drift!.failureQueue.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: drift },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.anyValue() }],
    });
  });

  it('tells the drift function the exact roles that change accounts for Vend, and no name prefix', () => {
    const variables = (functionProperties('drift') as { Environment: { Variables: Record<string, unknown> } })
      .Environment.Variables;
    const roleArn = (folder: string) => ({
      'Fn::GetAtt': [logicalId(stack.functions[folder]!.role.node.defaultChild as CfnElement), 'Arn'],
    });
    expect(variables[ENV.ownPrincipalArns]).toEqual({
      'Fn::Join': [
        ',',
        [
          roleArn('create-account'),
          roleArn('check-account-creation'),
          roleArn('move-account'),
          roleArn('complete-request'),
          roleArn('drift'),
        ],
      ],
    });
    expect(JSON.stringify(variables[ENV.ownPrincipalArns])).not.toContain('*');
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no finding that is not acknowledged with a reason', () => {
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    const findings = report.violations.flatMap((violation) =>
      violation.violatingResources.map(
        (resource) =>
          `${violation.ruleName} at ${resource.locations?.join(', ') ?? resource.resourceLogicalId}`,
      ),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe('the reaper of requests left pending', () => {
  it('runs every five minutes from an EventBridge schedule, which retries delivery for five minutes at most', () => {
    const reaper = logicalId(stack.functions['reap-requests']!.function.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [reaper, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reaper, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [logicalId(stack.reapRule.node.defaultChild as CfnElement), 'Arn'] },
    });
  });

  it('is not retried by Lambda (the next run is the retry) and knows the state machine', () => {
    const reaper = logicalId(stack.functions['reap-requests']!.function.node.defaultChild as CfnElement);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: reaper },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
    const variables = (
      functionProperties('reap-requests') as { Environment: { Variables: Record<string, unknown> } }
    ).Environment.Variables;
    expect(variables[ENV.stateMachineArn]).toEqual({
      Ref: logicalId(stack.stateMachine.node.defaultChild as CfnElement),
    });
  });
});
