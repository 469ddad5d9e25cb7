import type { AwsError } from '../errors.ts';

export interface HttpRequest {
  readonly method: string;
  /** Path without the query string, percent-decoded per segment by the protocol that needs it. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Input = Record<string, unknown>;
export type Output = Record<string, unknown> | undefined;

/** Turns a service's HTTP requests into operation calls and results back into its wire format. */
export interface Protocol {
  decode(request: HttpRequest): { operation: string; input: Input };
  encode(operation: string, output: Output, requestId: string): HttpResponse;
  encodeError(error: AwsError, status: number, requestId: string): HttpResponse;
}
