import { AwsError } from '../errors.ts';
import { jsonProtocol } from '../protocols/json.ts';
import type { ServiceDefinition } from '../service.ts';

// Placeholder until the REST-XML protocol lands.
export const route53: ServiceDefinition = {
  signingName: 'route53',
  eventSource: 'route53.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: jsonProtocol('Route53'),
  errorStatus: {},
  invalid: (message) => new AwsError('InvalidInput', message),
  unknownCredentialCode: 'InvalidClientTokenId',
  unknownOperationCode: 'InvalidAction',
  operations: {},
};
