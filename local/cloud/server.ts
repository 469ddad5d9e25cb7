import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { nonLocalCallerReason } from '../loopback.ts';
import { cloudTrailShape } from './audit.ts';
import type { Cloud } from './cloud.ts';
import { handleControl } from './control.ts';
import { AwsError, statusOf } from './errors.ts';
import { resolveCaller, signatureScope, userIdentity } from './identity.ts';
import type { HttpRequest, HttpResponse } from './protocols/types.ts';
import { evaluateServiceControlPolicies, type ScpRequest, scpDenialMessage } from './scp-evaluation.ts';
import type { Input, ServiceDefinition } from './service.ts';
import type { CallerRecord } from './state.ts';
import { Params } from './validate.ts';

/** Requests larger than this are refused before parsing (AWS's own limits are far lower for these APIs). */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function createLocalCloudServer(cloud: Cloud, services: readonly ServiceDefinition[]): Server {
  const bySigningName = new Map(services.map((service) => [service.signingName, service]));
  return createServer((incoming, outgoing) => {
    readRequest(incoming)
      .then((request) => route(cloud, bySigningName, request))
      .catch((error: unknown) => {
        console.error('local cloud: unexpected failure', error);
        return {
          status: 500,
          headers: { 'content-type': 'application/json' },
          body: '{"message":"internal error"}',
        };
      })
      .then((response) => writeResponse(outgoing, response));
  });
}

async function readRequest(incoming: IncomingMessage): Promise<HttpRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of incoming as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new AwsError('RequestEntityTooLarge', 'Request body is too large.', { status: 413 });
    chunks.push(chunk);
  }
  const url = new URL(incoming.url ?? '/', 'http://local');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    method: incoming.method ?? 'GET',
    path: url.pathname,
    query: url.searchParams,
    headers,
    body: Buffer.concat(chunks).toString('utf8'),
  };
}

function writeResponse(outgoing: ServerResponse, response: HttpResponse): void {
  outgoing.writeHead(response.status, {
    ...response.headers,
    'content-length': Buffer.byteLength(response.body),
  });
  outgoing.end(response.body);
}

/** Picks the service for a request that carries no signature, only to answer in its error format. */
function guessService(
  services: Map<string, ServiceDefinition>,
  request: HttpRequest,
): ServiceDefinition | undefined {
  const target = request.headers['x-amz-target'] ?? '';
  if (target.startsWith('AWSOrganizations')) return services.get('organizations');
  if (target.startsWith('AWSBudget')) return services.get('budgets');
  if (target.startsWith('SWBExternalService')) return services.get('sso');
  if (target.startsWith('AWSIdentityStore')) return services.get('identitystore');
  if (request.path.startsWith('/2013-04-01/')) return services.get('route53');
  if (request.path.startsWith('/v20180820/')) return services.get('s3');
  if (/^\/(?:get|put|delete)AlternateContact$/.test(request.path)) return services.get('account');
  return services.get('sts');
}

async function route(
  cloud: Cloud,
  services: Map<string, ServiceDefinition>,
  request: HttpRequest,
): Promise<HttpResponse> {
  const isControl = request.path === '/_local' || request.path.startsWith('/_local/');
  const requestId = randomUUID();
  const scope = signatureScope(request);
  const service = scope ? services.get(scope.service) : guessService(services, request);
  const refusal = nonLocalCallerReason(request.headers);
  if (refusal !== undefined) {
    // Not an AWS error: the local cloud's own refusal, in the service's wire format so that an SDK shows why.
    if (isControl || !service)
      return {
        status: 403,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(isControl ? { error: refusal } : { __type: 'AccessDenied', Message: refusal }),
      };
    return service.protocol.encodeError(
      new AwsError('AccessDenied', refusal, { status: 403 }),
      403,
      requestId,
    );
  }
  if (isControl) return handleControl(cloud, request);
  if (!service) {
    return {
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        __type: 'UnknownServiceException',
        Message: `The local cloud does not emulate service '${scope?.service}'.`,
      }),
    };
  }
  const fail = (error: AwsError) =>
    service.protocol.encodeError(error, statusOf(error, service.errorStatus), requestId);
  if (!scope)
    return fail(
      new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token', { status: 403 }),
    );

  let operation: string;
  let input: Record<string, unknown>;
  try {
    ({ operation, input } = service.protocol.decode(request));
  } catch (error) {
    if (error instanceof AwsError) return fail(error);
    throw error;
  }
  const definition = Object.hasOwn(service.operations, operation) ? service.operations[operation] : undefined;

  let caller: ReturnType<typeof resolveCaller>;
  try {
    caller = resolveCaller(
      cloud.state,
      scope,
      request.headers['x-amz-security-token'],
      cloud.clock.now(),
      service.unknownCredentialCode,
    );
  } catch (error) {
    if (error instanceof AwsError) return fail(error);
    throw error;
  }
  const closed = closedAccountRefusal(cloud, service, caller);
  if (closed) return fail(closed);
  if (!definition) {
    return fail(
      new AwsError(
        service.unknownOperationCode,
        `Operation ${operation} is not supported by the local cloud's ${service.signingName}.`,
      ),
    );
  }

  cloud.countCall(service.signingName, operation, scope.accessKeyId);
  cloud.settle();
  const throttled = cloud.rateLimits.take({
    service: service.signingName,
    operation,
    mutating: definition.mutating,
    accountId: caller.accountId,
    region: service.globalRegion ?? scope.region,
  });
  if (throttled) return fail(throttled);
  const fault = cloud.faults.draw(service.signingName, operation, caller.accountId);
  const latencyMs = fault.latencyMs + (cloud.latency[service.signingName] ?? 0);
  if (latencyMs > 0) await new Promise<void>((resolve) => cloud.clock.schedule(latencyMs, resolve));
  if (fault.error) return fail(fault.error);
  cloud.settle();

  const context = {
    cloud,
    caller,
    region: scope.region,
    requestId,
    operation,
    params: new Params((message, reason) => service.invalid(message, reason)),
  };
  let response: HttpResponse;
  let failure: AwsError | undefined;
  let output: Record<string, unknown> | undefined;
  try {
    const denial = scpDenial(cloud, service, caller, operation, input, scope.region);
    if (denial) throw denial;
    output = definition.run(context, input);
    response = service.protocol.encode(operation, output, requestId);
  } catch (error) {
    if (!(error instanceof AwsError)) {
      console.error(`local cloud: ${service.signingName}.${operation} failed`, error);
      failure = new AwsError(
        service.signingName === 'organizations' ? 'ServiceException' : 'InternalFailure',
        'An internal error occurred.',
        { status: 500 },
      );
    } else {
      failure = error;
    }
    response = fail(failure);
  }
  if (definition.mutating) {
    cloud.record({
      eventType: 'AwsApiCall',
      eventSource: service.eventSource,
      eventName: operation,
      awsRegion: service.globalRegion ?? scope.region,
      userIdentity: userIdentity(caller, scope.accessKeyId),
      sourceIPAddress: '127.0.0.1',
      userAgent: request.headers['user-agent'] ?? 'unknown',
      requestParameters: cloudTrailShape(input) as Record<string, unknown>,
      responseElements: failure
        ? null
        : ((cloudTrailShape(output ?? null) as Record<string, unknown> | null) ?? null),
      ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}),
      requestID: requestId,
      recipientAccountId: caller.accountId,
    });
    cloud.commit();
  }
  return response;
}

/**
 * Credentials of a member account that is closing or closed no longer work: AWS refuses every call, as it refuses
 * AssumeRole into such an account with AccessDenied (STS, AssumeRole; LZA and SRA issues about suspended accounts).
 * AWS does not document the error other services give: here each answers its own access-denied error.
 */
function closedAccountRefusal(
  cloud: Cloud,
  service: ServiceDefinition,
  caller: CallerRecord,
): AwsError | undefined {
  const account = cloud.state.accounts[caller.accountId];
  if (!account || account.status === 'ACTIVE') return undefined;
  return new AwsError(
    service.accessDeniedCode,
    `Account ${caller.accountId} is ${account.status === 'PENDING_CLOSURE' ? 'being closed' : 'closed or suspended'}: its credentials can no longer be used.`,
  );
}

/**
 * The service's access-denied error when the SCPs of the caller's account refuse the call, else undefined. The
 * action is the service's `iamAction`, else `<signing name>:<Operation>` (the signing name is the IAM service
 * prefix of every other service here). The resource is known only for AssumeRole (the role ARN); elsewhere it is
 * `*` (see ScpRequest).
 */
function scpDenial(
  cloud: Cloud,
  service: ServiceDefinition,
  caller: CallerRecord,
  operation: string,
  input: Input,
  region: string,
): AwsError | undefined {
  const roleArn = service.signingName === 'sts' ? input.RoleArn : undefined;
  const request: ScpRequest = {
    caller,
    action: service.iamAction?.(operation) ?? `${service.signingName}:${operation}`,
    resource: typeof roleArn === 'string' && roleArn.startsWith('arn:') ? roleArn : '*',
    region,
  };
  const decision = evaluateServiceControlPolicies(cloud.state, request);
  if (decision === 'allowed') return undefined;
  return new AwsError(service.accessDeniedCode, scpDenialMessage(request, decision));
}
