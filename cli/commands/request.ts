import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type Parsed, str } from '../args.ts';
import type { Accepted, DryRunPlan } from '../contract.ts';
import { UnavailableError, usage } from '../errors.ts';
import { EXIT } from '../io.ts';
import { dateTime, renderPlan } from '../render.ts';
import { type Context, followHint } from './context.ts';
import { finish, watch } from './status.ts';

const OBJECT_EXAMPLE =
  'Write the request as a JSON object: {"name": "payments", "organizationalUnit": "Workloads/Dev", "owner": "alice@example.com"}.';

/** The request's body: the file's, then each flag over it. Checks what can be checked without the API. */
async function requestBody(context: Context, values: Parsed['values']): Promise<Record<string, unknown>> {
  let body: Record<string, unknown> = {};
  const file = str(values, 'file');
  if (file !== undefined) {
    let text: string;
    try {
      text = await (context.io.readFile ?? ((path: string) => readFile(path, 'utf8')))(file);
    } catch (error) {
      throw usage(
        'request',
        `--file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        'Give the path of a JSON file with the request, e.g. --file request.json.',
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw usage('request', `--file ${file} is not JSON (${(error as Error).message})`, OBJECT_EXAMPLE);
    }
    if (!json || typeof json !== 'object' || Array.isArray(json)) {
      throw usage('request', `--file ${file} does not hold a JSON object`, OBJECT_EXAMPLE);
    }
    body = { ...(json as Record<string, unknown>) };
  }
  const name = str(values, 'name');
  if (name !== undefined) body['name'] = name;
  const ou = str(values, 'ou');
  if (ou !== undefined) body['organizationalUnit'] = ou;
  const owner = str(values, 'owner');
  if (owner !== undefined) body['owner'] = owner;
  const email = str(values, 'email');
  if (email !== undefined) body['email'] = email;
  const slackUser = str(values, 'slack-user');
  if (slackUser !== undefined) {
    body['requester'] = { ...(body['requester'] as object | undefined), slackUserId: slackUser };
  }
  const budget = str(values, 'budget');
  if (budget !== undefined) {
    const monthlyLimitUsd = Number(budget);
    if (!/^\d+(\.\d+)?$/.test(budget.trim()) || !(monthlyLimitUsd > 0)) {
      throw usage(
        'request',
        `--budget ${budget} is not a positive amount`,
        'Give the monthly limit in USD, e.g. --budget 200.',
      );
    }
    body['budget'] = { ...(body['budget'] as object | undefined), monthlyLimitUsd };
  }
  const tags = values['tag'] as string[] | undefined;
  if (tags) {
    const merged: Record<string, string> = { ...(body['tags'] as Record<string, string> | undefined) };
    for (const tag of tags) {
      const eq = tag.indexOf('=');
      if (eq <= 0) {
        throw usage(
          'request',
          `--tag ${tag} is not key=value`,
          'Write each tag as --tag key=value, e.g. --tag team=payments.',
        );
      }
      merged[tag.slice(0, eq)] = tag.slice(eq + 1);
    }
    body['tags'] = merged;
  }
  const vpc = str(values, 'vpc');
  if (vpc !== undefined) {
    const match = /^(vpc-[0-9a-zA-Z]+):([a-z]{2}(?:-[a-z]+)+-\d+)$/.exec(vpc);
    if (!match) {
      throw usage(
        'request',
        `--vpc ${vpc} is not <vpc-id>:<region>`,
        'Give the VPC id and its region, e.g. --vpc vpc-0abc1234def567890:us-east-1.',
      );
    }
    body['vpc'] = { id: match[1], region: match[2] };
  }
  const required: [string, string, string][] = [
    ['name', '--name', "the account's short name, e.g. --name payments"],
    ['organizationalUnit', '--ou', 'the OU to vend into, e.g. --ou Workloads/Dev'],
    ['owner', '--owner', "the owner's email, e.g. --owner alice@example.com"],
  ];
  for (const [field, flag, fix] of required) {
    if (body[field] === undefined || body[field] === '') {
      throw usage(
        'request',
        `${flag} is required`,
        `Give ${fix}${file ? ` (or "${field}" in ${file})` : ''}.`,
      );
    }
  }
  return body;
}

/**
 * `vend request`: POSTs the request with an Idempotency-Key (given, or new per run), so the client's retries
 * and a repeated command never ask for a second account; then says how to follow it, or follows it (`--watch`).
 */
export async function requestCommand(context: Context, parsed: Parsed): Promise<number> {
  const { out, io } = context;
  const body = await requestBody(context, parsed.values);
  if (parsed.values['dry-run']) {
    if (parsed.values['watch']) {
      throw usage(
        'request',
        '--dry-run and --watch go not together',
        'A dry run asks for nothing to watch: drop one.',
      );
    }
    const answer = await context.api.call<DryRunPlan>('POST', '/accounts', {
      body,
      query: { dryRun: 'true' },
    });
    out.data(answer);
    for (const line of renderPlan(answer)) out.line(line);
    return EXIT.ok;
  }
  const key =
    str(parsed.values, 'idempotency-key') ?? (io.newIdempotencyKey ?? (() => `vend-cli-${randomUUID()}`))();
  let accepted: Accepted;
  try {
    accepted = await context.api.call<Accepted>('POST', '/accounts', {
      body,
      headers: { 'idempotency-key': key },
    });
  } catch (error) {
    if (error instanceof UnavailableError && error.mayHaveArrived) {
      throw new UnavailableError(
        error.message,
        `${error.fix} The request may have been accepted: repeat the command with --idempotency-key ${key} to find out without asking for a second account.`,
        error.body,
      );
    }
    throw error;
  }
  if (parsed.values['watch']) {
    if (!out.json) {
      out.line(`Request ${accepted.requestId} accepted (idempotency key ${key}).`);
      out.line();
    }
    const request = await watch(context, accepted.requestId);
    return finish(context, request, true);
  }
  out.data(accepted);
  out.line(
    `Request ${accepted.requestId} accepted: ${accepted.accountName} (${accepted.email}) in ${accepted.organizationalUnit?.path}, ${accepted.status}.`,
  );
  if (accepted.approval) {
    out.line(
      `It waits for approval by ${accepted.approval.approvers.join(', ') || 'an approver'} until ${dateTime(accepted.approval.expiresAt)}; nothing is created until then.`,
    );
  }
  out.line(`Follow it:  ${followHint(context, accepted.requestId)}`);
  return EXIT.ok;
}
