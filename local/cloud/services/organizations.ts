import { AwsError } from '../errors.ts';
import { jsonProtocol } from '../protocols/json.ts';
import type { ServiceDefinition } from '../service.ts';

export const organizations: ServiceDefinition = {
  signingName: 'organizations',
  eventSource: 'organizations.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: jsonProtocol('AWSOrganizationsV20161128'),
  errorStatus: {},
  invalid: (message, reason) =>
    new AwsError('InvalidInputException', message, { fields: { Reason: reason } }),
  unknownCredentialCode: 'UnrecognizedClientException',
  unknownOperationCode: 'UnknownOperationException',
  operations: {},
};
