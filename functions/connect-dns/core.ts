import { type ConnectDnsOutput, connectVpcToSharedZone } from '../domain/dns.ts';
import type { Deps } from '../shared/deps.ts';
import { accountOf, runStep, type StepInput } from '../shared/steps.ts';

/** The request id and the execution's identity: the account and what to set up come from the registry. */
export type ConnectDnsInput = StepInput;

export type { ConnectDnsOutput };

/**
 * Connects the new account's VPC (the one the request names, else its default VPC in the home region) to the
 * organization's shared private hosted zone, so that names in it resolve there. Safe to run again: a VPC
 * already associated is success, and no authorization is left behind in the hub.
 */
export async function connectDns(deps: Deps, input: ConnectDnsInput): Promise<ConnectDnsOutput> {
  return runStep(deps, input, 'connectDns', async (record, attempt) => {
    const { request } = record;
    const accountId = accountOf(record);
    const result = await connectVpcToSharedZone(deps, accountId, request.vpc, { writeFirst: attempt === 1 });
    const detail =
      result.action === 'skipped'
        ? 'no shared DNS configured'
        : `${result.vpcId} in ${result.region} ${result.action === 'associated' ? 'associated with' : 'already associated with'} ${result.hostedZoneId}`;
    return { result, detail };
  });
}
