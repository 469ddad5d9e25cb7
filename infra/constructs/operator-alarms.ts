import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface OperatorAlarmsProps {
  /**
   * An address subscribed to the topic (it must confirm the subscription AWS mails it).
   * @default - no subscription: subscribe to the topic yourself
   */
  readonly email?: string;
}

/**
 * The operator's alarms, all to one SNS topic encrypted with a key of this stack. CloudWatch cannot publish to a
 * topic encrypted with the AWS-managed SNS key, whose policy cannot grant it; this key's policy does.
 */
export class OperatorAlarms extends Construct {
  readonly topic: Topic;
  readonly key: Key;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: OperatorAlarmsProps = {}) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'Vend: encrypts the operator alarm topic',
      enableKeyRotation: true,
      // Nothing outlives the topic that this key could decrypt: it goes with the stack (after KMS's waiting period).
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Vend alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    this.action = new SnsAction(this.topic);
  }

  /**
   * Alarms when `metric` (a statistic over `OperatorAlarms.PERIOD`) reaches `threshold` in `periods` consecutive
   * periods; no data counts as fine.
   */
  alarmWhen(
    id: string,
    metric: IMetric,
    description: string,
    options: { threshold?: number; periods?: number } = {},
  ): Alarm {
    const periods = options.periods ?? 1;
    const alarm = new Alarm(this, id, {
      metric,
      threshold: options.threshold ?? 1,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
    alarm.addAlarmAction(this.action);
    return alarm;
  }

  /** The period the alarms' metrics are summed over. */
  static readonly PERIOD = Duration.minutes(5);
}
