import { type Parsed, str } from '../args.ts';
import type { RequestView } from '../contract.ts';
import { usage } from '../errors.ts';
import { EXIT } from '../io.ts';
import { approvalLine } from '../render.ts';
import { type Context, followHint } from './context.ts';

/** POSTs a decision on a request awaiting approval and prints how it now stands. */
async function decide(
  context: Context,
  requestId: string,
  decision: 'approve' | 'deny',
  reason: string | undefined,
): Promise<number> {
  const { out } = context;
  const request = await context.api.call<RequestView>(
    'POST',
    `/accounts/requests/${encodeURIComponent(requestId)}/approval`,
    { body: { decision, ...(reason !== undefined ? { reason } : {}) } },
  );
  out.data(request);
  out.line(
    `Request ${request.requestId}: ${request.accountName} in ${request.organizationalUnit?.path ?? '?'}`,
  );
  const line = approvalLine(request);
  if (line) out.line(`  ${line}`);
  out.line();
  if (decision === 'approve') {
    out.line(`It is being vended now. Follow it:  ${followHint(context, request.requestId)}`);
  } else {
    out.line(
      'It ended without an account; its name and email are free again. The requester is told on Slack.',
    );
  }
  return EXIT.ok;
}

/** `vend approve <requestId> [--reason <text>]`: the request is vended now. */
export async function approveCommand(context: Context, parsed: Parsed): Promise<number> {
  return decide(context, parsed.positionals[0]!, 'approve', str(parsed.values, 'reason'));
}

/** `vend deny <requestId> --reason <text>`: the request ends; a reason is required (the requester is told). */
export async function denyCommand(context: Context, parsed: Parsed): Promise<number> {
  const requestId = parsed.positionals[0]!;
  const reason = str(parsed.values, 'reason');
  if (reason === undefined || reason.trim() === '') {
    throw usage(
      'deny',
      '--reason is required: the requester is told why',
      `Write: vend deny ${requestId} --reason "use Workloads/Dev for load tests".`,
    );
  }
  return decide(context, requestId, 'deny', reason);
}
