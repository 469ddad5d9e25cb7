import type { Cloud } from './cloud.ts';
import type { Input, Output, Protocol } from './protocols/types.ts';
import type { CallerRecord } from './state.ts';
import type { Params } from './validate.ts';

export type { Input, Output };

/** What an operation sees of the call it serves. */
export interface CallContext {
  readonly cloud: Cloud;
  /** Who calls; every operation acts in `caller.accountId`. */
  readonly caller: CallerRecord;
  /** The region the request was signed for. */
  readonly region: string;
  readonly requestId: string;
  readonly operation: string;
  /** Reads and checks the input, raising the service's own validation error. */
  readonly params: Params;
}

export interface OperationDefinition {
  /** Changes state: persisted, and recorded in the audit trail. */
  readonly mutating: boolean;
  run(context: CallContext, input: Input): Output;
}

export interface ServiceDefinition {
  /** The SigV4 signing name, which routes a request to this service. */
  readonly signingName: string;
  /** CloudTrail's `eventSource`. */
  readonly eventSource: string;
  /** Region that CloudTrail records global services in; undefined for regional services. */
  readonly globalRegion?: string;
  readonly protocol: Protocol;
  readonly operations: Record<string, OperationDefinition>;
  /** HTTP status by error code, for errors whose status is not the default 400. */
  readonly errorStatus: Record<string, number>;
  /** Builds the service's error for bad input; `reason` is a machine-readable code where the service has one. */
  invalid(message: string, reason: string): Error;
  /** The error for a credential the service does not know (differs between JSON and Query services). */
  readonly unknownCredentialCode: string;
  /** The error for an operation the service (or the local cloud) does not have. */
  readonly unknownOperationCode: string;
  /** The error for a call that a policy (here: a service control policy) refuses. */
  readonly accessDeniedCode: string;
  /**
   * The IAM action an operation needs, which SCPs match, when it is not `<signing name>:<Operation>` (S3 Control
   * signs as `s3` and names its actions after the account: `s3:PutAccountPublicAccessBlock`).
   */
  iamAction?(operation: string): string;
}
