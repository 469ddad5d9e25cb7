import { type ConnectDnsOutput, connectVpcToSharedZone } from '../domain/dns.ts';
import type { Deps } from '../shared/deps.ts';
import type { VendRequest } from '../shared/model.ts';
import { runStep } from '../shared/steps.ts';

export interface ConnectDnsInput {
  request: VendRequest;
  accountId: string;
}

export type { ConnectDnsOutput };

/**
 * Connects the new account's VPC (the one the request names, else its default VPC in the home region) to the
 * organization's shared private hosted zone, so that names in it resolve there. Safe to run again: a VPC
 * already associated is success, and no authorization is left behind in the hub.
 */
export async function connectDns(
  deps: Deps,
  { request, accountId }: ConnectDnsInput,
): Promise<ConnectDnsOutput> {
  return runStep(deps, request.requestId, 'connectDns', async (_record, attempt) => {
    const result = await connectVpcToSharedZone(deps, accountId, request.vpc, { writeFirst: attempt === 1 });
    const detail =
      result.action === 'skipped'
        ? 'no shared DNS configured'
        : `${result.vpcId} in ${result.region} ${result.action === 'associated' ? 'associated with' : 'already associated with'} ${result.hostedZoneId}`;
    return { result, detail };
  });
}
