import { AwsError } from '../errors.ts';
import { jsonDates } from './json.ts';
import type { HttpRequest, HttpResponse, Input, Output, Protocol } from './types.ts';

/** One operation of a REST-JSON service whose members all travel in a JSON body (the Account API's). */
export interface RestJsonRoute {
  readonly operation: string;
  readonly method: 'POST';
  readonly path: string;
}

/**
 * AWS REST-JSON 1 for services that POST a JSON body to one path per operation (the Account API): the operation
 * comes from the path, the error code travels in `x-amzn-errortype` and the body as `{ "message": ... }` with the
 * error's other members (Smithy, "AWS restJson1 protocol": error shape serialization).
 */
export function restJsonProtocol(routes: readonly RestJsonRoute[]): Protocol {
  return {
    decode(request: HttpRequest) {
      const route = routes.find((entry) => entry.method === request.method && entry.path === request.path);
      if (!route) {
        throw new AwsError(
          'UnknownOperationException',
          `The local cloud has no operation at ${request.method} ${request.path}.`,
          { status: 404 },
        );
      }
      let input: unknown;
      try {
        input = request.body.trim() === '' ? {} : JSON.parse(request.body);
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON.');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'The request body must be a JSON object.');
      }
      return { operation: route.operation, input: input as Input };
    },
    encode(_operation: string, output: Output, requestId: string): HttpResponse {
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId },
        body: output === undefined ? '' : JSON.stringify(jsonDates(output)),
      };
    },
    encodeError(error: AwsError, status: number, requestId: string): HttpResponse {
      return {
        status,
        headers: {
          'content-type': 'application/json',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': error.code,
        },
        body: JSON.stringify({ message: error.message, ...error.fields }),
      };
    },
  };
}
