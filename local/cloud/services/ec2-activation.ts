import type { Cloud } from '../cloud.ts';
import { AwsError } from '../errors.ts';

/** Where a created account stands in its activation; see {@link activationOf}. */
export type Activation = 'inactive' | 'no-default-vpc' | 'active';

/**
 * Where a created account stands in its activation, on the cloud's clock: first EC2 answers OptInRequired, then
 * it answers without the default VPC, which AWS makes once the account is active. Invited and seeded accounts
 * are long established.
 */
export function activationOf(cloud: Cloud, accountId: string): Activation {
  const account = cloud.state.accounts[accountId];
  if (account?.joinedMethod !== 'CREATED') return 'active';
  const { serviceActivationMs, defaultVpcDelayMs } = cloud.settings;
  const age = cloud.clock.now() - account.joinedAt;
  if (age < serviceActivationMs) return 'inactive';
  if (age < serviceActivationMs + defaultVpcDelayMs) return 'no-default-vpc';
  return 'active';
}

/**
 * Refuses every EC2 operation of an account whose services are not activated yet: OptInRequired, HTTP 401 (EC2
 * API reference, "Error codes for the Amazon EC2 API"). Returns the activation otherwise.
 */
export function requireSubscribed(cloud: Cloud, accountId: string): Exclude<Activation, 'inactive'> {
  const activation = activationOf(cloud, accountId);
  if (activation === 'inactive') {
    throw new AwsError(
      'OptInRequired',
      'You are not subscribed to this service. Please go to http://aws.amazon.com to subscribe.',
    );
  }
  return activation;
}
