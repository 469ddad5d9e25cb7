import { Sha256 } from '@aws-crypto/sha256-js';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The headers of a request to `url` signed with SigV4 for API Gateway (service execute-api), as the CLI and the
 * SDKs sign it: Host, X-Amz-Date, X-Amz-Content-Sha256, X-Amz-Security-Token for a session, Authorization.
 * `signingDate` defaults to now.
 */
export async function signedHeaders(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  credentials: AwsCredentialIdentity,
  signingDate: Date = new Date(),
): Promise<Record<string, string>> {
  const target = new URL(url);
  const query: Record<string, string> = {};
  for (const [key, value] of target.searchParams) query[key] = value;
  const signer = new SignatureV4({
    service: 'execute-api',
    region: 'us-east-1',
    credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: init.method ?? 'GET',
      protocol: target.protocol,
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query,
      headers: { ...init.headers, host: target.host },
      ...(init.body === undefined ? {} : { body: init.body }),
    },
    { signingDate },
  );
  // fetch sets Host itself, to the same value.
  const { host: _host, ...headers } = signed.headers;
  return headers;
}
