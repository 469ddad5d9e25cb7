import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DRIFT_EVENT_PATTERN } from '../../functions/shared/drift-pattern.ts';
import { DriftEvents } from '../../infra/constructs/drift-events.ts';
import { toEventPattern } from '../../infra/vend-stack.ts';
import { resourcesOfType } from './synth.ts';

// The drift function does not exist yet: the wiring is tested with a stand-in function.
let template: Template;
let stack: Stack;
let drift: DriftEvents;

beforeAll(() => {
  stack = new Stack(new App(), 'DriftTest', { env: { account: '000000000000', region: 'us-east-1' } });
  const handler = new LambdaFunction(stack, 'StandIn', {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = async () => {};'),
  });
  drift = new DriftEvents(stack, 'Drift', {
    handler,
    eventPattern: toEventPattern(DRIFT_EVENT_PATTERN),
    sweepSchedule: Schedule.rate(Duration.hours(24)),
  });
  template = Template.fromStack(stack);
});

describe('the drift wiring', () => {
  it('matches on the default bus exactly the shared Organizations pattern', () => {
    const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule')).filter(
      (rule) => rule.Properties.EventPattern,
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]!.Properties.EventPattern).toEqual(DRIFT_EVENT_PATTERN);
    expect(rules[0]!.Properties).not.toHaveProperty('EventBusName');
  });

  it('runs the sweep on a schedule', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 day)' });
  });

  it('gives a handler that throws Lambda’s two retries, then sends the event to an encrypted, TLS-only failure queue', () => {
    const queue = stack.getLogicalId(drift.failureQueue.node.defaultChild as never);
    const handler = stack.getLogicalId(stack.node.findChild('StandIn').node.defaultChild as never);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: handler },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy')).filter(
      (policy) => JSON.stringify(policy.Properties.Queues) === JSON.stringify([{ Ref: queue }]),
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]!.Properties.PolicyDocument).toMatchObject({
      Statement: [{ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    });
    // Lambda sends to the destination as the function's role (Lambda developer guide, "Asynchronous invocation").
    const roles = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'));
    expect(JSON.stringify(roles)).toContain(JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }));
  });

  it('retries delivery for hours, then keeps what Lambda never accepted in an encrypted, TLS-only dead-letter queue', () => {
    const queue = stack.getLogicalId(drift.deadLetterQueue.node.defaultChild as never);
    const handler = stack.getLogicalId(stack.node.findChild('StandIn').node.defaultChild as never);
    for (const rule of Object.values(resourcesOfType(template, 'AWS::Events::Rule'))) {
      expect(rule.Properties.Targets).toEqual([
        expect.objectContaining({
          Arn: { 'Fn::GetAtt': [handler, 'Arn'] },
          RetryPolicy: { MaximumEventAgeInSeconds: 6 * 3600, MaximumRetryAttempts: 8 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        }),
      ]);
    }
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86400,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' } }),
        ]),
      },
    });
  });
});
