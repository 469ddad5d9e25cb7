import { AwsError } from '../errors.ts';
import { ec2Protocol } from '../protocols/query.ts';
import type { ServiceDefinition } from '../service.ts';

export const ec2: ServiceDefinition = {
  signingName: 'ec2',
  eventSource: 'ec2.amazonaws.com',
  protocol: ec2Protocol('http://ec2.amazonaws.com/doc/2016-11-15/'),
  errorStatus: {},
  invalid: (message) => new AwsError('InvalidParameterValue', message),
  unknownCredentialCode: 'AuthFailure',
  unknownOperationCode: 'InvalidAction',
  operations: {},
};
