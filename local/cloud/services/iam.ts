import { AwsError } from '../errors.ts';
import { queryProtocol } from '../protocols/query.ts';
import type { ServiceDefinition } from '../service.ts';

export const iam: ServiceDefinition = {
  signingName: 'iam',
  eventSource: 'iam.amazonaws.com',
  globalRegion: 'us-east-1',
  protocol: queryProtocol('https://iam.amazonaws.com/doc/2010-05-08/'),
  errorStatus: {},
  invalid: (message) => new AwsError('ValidationError', message),
  unknownCredentialCode: 'InvalidClientTokenId',
  unknownOperationCode: 'InvalidAction',
  operations: {},
};
