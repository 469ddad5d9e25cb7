import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  type Method,
  MethodLoggingLevel,
  type MethodOptions,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface ApiThrottle {
  /** Requests per second, steady state, for each method. */
  readonly rateLimit: number;
  /** Requests that may arrive at once above the rate. */
  readonly burstLimit: number;
}

export interface RequestApiProps {
  /** The API Lambda: API Gateway proxies every request to it. */
  readonly handler: IFunction;
  readonly logRetention: RetentionDays;
  /**
   * The stage name, the last part of the API's URL.
   * @default 'prod'
   */
  readonly stageName?: string;
  /**
   * Throttling of every method of the stage.
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly throttle?: ApiThrottle;
  /**
   * Slack's interactivity callbacks (the approval message's buttons): `POST /slack/interactions` proxied to this
   * function, with no IAM authorization (Slack cannot sign with SigV4; the function checks Slack's own signature)
   * and its own throttling.
   * @default - no such route
   */
  readonly slackInteractions?: SlackInteractionsRouteProps;
}

export interface SlackInteractionsRouteProps {
  /** The function that verifies Slack's signature and decides. */
  readonly handler: IFunction;
  /**
   * Throttling of `POST /slack/interactions`, apart from the rest of the API: people press buttons, a few a
   * minute; anything faster is not Slack.
   * @default { rateLimit: 5, burstLimit: 20 }
   */
  readonly throttle?: ApiThrottle;
}

/** The path of Slack's callbacks: the Interactivity Request URL is the API's URL followed by this. */
export const SLACK_INTERACTIONS_ROUTE = ['slack', 'interactions'] as const;

/**
 * The request API: a regional REST API whose every method requires SigV4 (IAM authorization) but Slack's
 * callbacks (`POST /slack/interactions`, verified by Slack's signature in its function), throttled per method, with JSON access logs and X-Ray tracing, proxying to the API Lambda.
 *
 * API Gateway has no request-body size setting (REST APIs accept up to 10 MB): the API Lambda refuses larger
 * bodies than it accepts itself, with a 413. The request validator checks the declared path parameters; there is
 * no body model, so that a malformed body gets the same field-by-field answer from the Lambda as it does locally.
 */
export class RequestApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  /** The `POST /slack/interactions` method, when the API has it. */
  readonly slackInteractionsMethod?: Method;

  constructor(scope: Construct, id: string, props: RequestApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? { rateLimit: 10, burstLimit: 20 };
    const slackThrottle = props.slackInteractions?.throttle ?? { rateLimit: 5, burstLimit: 20 };
    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.api = new RestApi(this, 'Api', {
      description: 'Vend: ask for AWS accounts and follow the requests',
      endpointTypes: [EndpointType.REGIONAL],
      // Access and execution logging need the account-level API Gateway CloudWatch role.
      cloudWatchRole: true,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        methodOptions: {
          '/*/*': { throttlingRateLimit: throttle.rateLimit, throttlingBurstLimit: throttle.burstLimit },
          ...(props.slackInteractions
            ? {
                [`/${SLACK_INTERACTIONS_ROUTE.join('/')}/POST`]: {
                  throttlingRateLimit: slackThrottle.rateLimit,
                  throttlingBurstLimit: slackThrottle.burstLimit,
                },
              }
            : {}),
        },
      },
    });
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    const options = (...pathParameters: string[]): MethodOptions => ({
      requestValidator: validator,
      requestParameters: Object.fromEntries(
        pathParameters.map((name) => [`method.request.path.${name}`, true]),
      ),
    });

    const accounts = this.api.root.addResource('accounts');
    accounts.addMethod('POST', integration, options());
    accounts.addMethod('GET', integration, options());
    const account = accounts.addResource('{accountId}');
    account.addMethod('GET', integration, options('accountId'));
    const hold = account.addResource('hold');
    hold.addMethod('POST', integration, options('accountId'));
    hold.addMethod('DELETE', integration, options('accountId'));
    const request = accounts.addResource('requests').addResource('{requestId}');
    request.addMethod('GET', integration, options('requestId'));
    request.addResource('approval').addMethod('POST', integration, options('requestId'));
    this.api.root.addResource('openapi.json').addMethod('GET', integration, options());

    if (props.slackInteractions) {
      const [first, second] = SLACK_INTERACTIONS_ROUTE;
      this.slackInteractionsMethod = this.api.root
        .addResource(first)
        .addResource(second)
        .addMethod(
          'POST',
          new LambdaIntegration(props.slackInteractions.handler, { proxy: true, allowTestInvoke: false }),
          { ...options(), authorizationType: AuthorizationType.NONE },
        );
    }
  }
}
