import { AwsError } from '../errors.ts';
import { jsonProtocol } from '../protocols/json.ts';
import type { ServiceDefinition } from '../service.ts';

export const budgets: ServiceDefinition = {
  signingName: 'budgets',
  eventSource: 'budgets.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: jsonProtocol('AWSBudgetServiceGateway'),
  errorStatus: {},
  invalid: (message) => new AwsError('InvalidParameterException', message),
  unknownCredentialCode: 'UnrecognizedClientException',
  unknownOperationCode: 'UnknownOperationException',
  operations: {},
};
