import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Deps } from '../shared/deps.ts';
import { HttpError, RequestRejectedError } from '../shared/errors.ts';
import type { RequestRecord, VendRequest } from '../shared/model.ts';
import type { Accepted } from '../shared/submit.ts';
import { canonicalJson } from '../shared/text.ts';
import type { IdempotencyRecord } from '../store/idempotency.ts';
import { header } from './http.ts';
import { idempotencyKeySchema } from './schemas.ts';

/** SHA-256 of a JSON value with its object keys sorted: the same body however it is spaced or ordered. */
export function bodyHash(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

/** The `Idempotency-Key` header, checked; undefined when the request has none. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const value = header(event, 'idempotency-key');
  if (value === undefined) return undefined;
  if (!idempotencyKeySchema.safeParse(value).success) {
    throw new HttpError(400, 'Idempotency-Key must be 1-255 printable ASCII characters', {
      field: 'Idempotency-Key',
      fix: 'Use a random value such as a UUID, or leave the header out.',
    });
  }
  return value;
}

/** The steps of a POST the key protocol runs: each is called at most once per submission. */
export interface Submission {
  /** A new request id. */
  newRequestId(): string;
  /** Checks the body under this request id; nothing is written. */
  prepare(requestId: string): Promise<VendRequest>;
  /** Writes the checked request and starts it; a request stored under its id already is the answer. */
  accept(request: VendRequest): Promise<Accepted>;
  /** Answers with a request stored earlier. */
  replay(record: RequestRecord): Promise<Accepted>;
}

/**
 * Submits a body under an `Idempotency-Key` (per principal, 24 hours). A new key is claimed after the body passed
 * its checks, so a refused body never holds a key. A claimed key with another body is refused; with the same body
 * it answers with its request. When no request stands behind the key (the claimant crashed before storing it, or
 * is storing it right now), the body is submitted under the claimed id: the registry stores a request id only
 * once, so of concurrent submissions exactly one starts an execution, and the others answer with its request.
 * A refusal frees the key, so the caller can correct the request and retry with the key.
 */
export async function submitUnderKey(
  deps: Pick<Deps, 'idempotency' | 'requests'>,
  principal: string,
  key: string,
  body: unknown,
  submission: Submission,
): Promise<Accepted> {
  const hash = bodyHash(body);
  const acceptUnder = async (requestId: string, prepared?: VendRequest): Promise<Accepted> => {
    try {
      return await submission.accept(prepared ?? (await submission.prepare(requestId)));
    } catch (error) {
      const refused = error instanceof RequestRejectedError || (error instanceof HttpError && error.expose);
      if (refused) await deps.idempotency.release(principal, key, requestId);
      throw error;
    }
  };
  const resume = async (claimed: IdempotencyRecord): Promise<Accepted> => {
    if (claimed.bodyHash !== hash) {
      throw new HttpError(409, 'this Idempotency-Key was already used with a different body', {
        field: 'Idempotency-Key',
        fix: 'Use a new key for a new request; to retry the earlier one, send its body unchanged.',
      });
    }
    const stored = await deps.requests.get(claimed.requestId);
    return stored ? submission.replay(stored) : acceptUnder(claimed.requestId);
  };

  const existing = await deps.idempotency.get(principal, key);
  if (existing) return resume(existing);
  const requestId = submission.newRequestId();
  const prepared = await submission.prepare(requestId);
  const claim = await deps.idempotency.claim(principal, key, hash, requestId);
  if (!claim.claimed) return resume(claim.record);
  return acceptUnder(requestId, prepared);
}
