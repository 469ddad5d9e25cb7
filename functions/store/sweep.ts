import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepFinding } from '../shared/model.ts';
import type { ItemKey, RegistryTable } from './table.ts';

/**
 * How many findings a checkpoint keeps (each a few hundred bytes; DynamoDB items hold 400 KB): beyond them only
 * their outcomes are counted, and each account's drift history still holds what was found.
 */
export const SWEEP_FINDINGS_KEPT = 200;

/** Where the drift sweep's one checkpoint lives: a sweep is one run at a time over the whole registry. */
const KEY: ItemKey = { pk: 'SWEEP', sk: 'CHECKPOINT' };

/**
 * How far a drift sweep run has come: the page of the accounts list it is on (`cursor`, absent for the first
 * page) and the accounts of that page already checked, with the run's totals and findings so far. A run that
 * stopped (its function's time ran out, the local pipeline shut down) resumes from here at the next invocation.
 */
export interface SweepCheckpoint {
  runId: string;
  startedAt: string;
  /** The accounts list's cursor of the page being swept; absent on the first page. */
  cursor?: string;
  /** Accounts of that page checked in this run. */
  done: string[];
  /** Accounts checked in this run, all pages. */
  checked: number;
  inSync: number;
  findings: SweepFinding[];
  /** Findings beyond `SWEEP_FINDINGS_KEPT`, counted by outcome. */
  omitted: Record<SweepFinding['outcome'], number>;
  /** Which invocation works on the run, and until when (epoch ms): another waits, or takes over once it passed. */
  leaseOwner?: string;
  leaseUntil?: number;
}

/** What taking the sweep found: a run to start or to go on with, or another invocation working on it. */
export type SweepClaim =
  | { kind: 'started' | 'resumed'; checkpoint: SweepCheckpoint }
  | { kind: 'busy'; runId: string };

/**
 * The drift sweep's checkpoint. Every write is conditional on the run id and the lease owner, so an invocation
 * whose lease passed (and that another took over) cannot write into the run any more.
 */
export class SweepStore {
  constructor(readonly table: RegistryTable) {}

  /** The checkpoint of the run in progress; undefined when no run is. */
  async get(): Promise<SweepCheckpoint | undefined> {
    const item = await this.table.getRaw(KEY);
    return item ? fromItem(item) : undefined;
  }

  /**
   * Takes the sweep for `owner` until `leaseUntil` (epoch ms): the run in progress when there is one whose lease
   * has passed or was released (resumed), a new run `runId` when there is none (started), else busy.
   */
  async claim(runId: string, owner: string, leaseUntil: number, now = Date.now()): Promise<SweepClaim> {
    for (let round = 0; round < 3; round++) {
      const current = await this.get();
      if (!current) {
        const checkpoint: SweepCheckpoint = {
          runId,
          startedAt: new Date(now).toISOString(),
          done: [],
          checked: 0,
          inSync: 0,
          findings: [],
          omitted: { fixed: 0, reported: 0, failed: 0 },
          leaseOwner: owner,
          leaseUntil,
        };
        const { done: _done, omitted: _omitted, ...item } = checkpoint;
        const written = await this.table.write(
          new PutCommand({
            TableName: this.table.name,
            Item: { ...KEY, ...item },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        if (written.ok) return { kind: 'started', checkpoint };
        continue;
      }
      const taken = await this.table.write(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEY,
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ConditionExpression:
            'runId = :run AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner)',
          ExpressionAttributeValues: {
            ':owner': owner,
            ':until': leaseUntil,
            ':run': current.runId,
            ':now': now,
          },
        }),
      );
      if (taken.ok) return { kind: 'resumed', checkpoint: { ...current, leaseOwner: owner, leaseUntil } };
      const again = await this.get();
      if (again?.runId === current.runId) return { kind: 'busy', runId: current.runId };
    }
    return { kind: 'busy', runId };
  }

  /**
   * Records one account of the current page checked: in sync, or with a finding. False when the run is no longer
   * this owner's (nothing recorded).
   */
  async markChecked(
    runId: string,
    owner: string,
    accountId: string,
    finding?: SweepFinding,
  ): Promise<boolean> {
    const mark = (
      update: string,
      condition: string,
      values: Record<string, unknown>,
      names?: Record<string, string>,
    ) =>
      this.table.write(
        new UpdateCommand({
          TableName: this.table.name,
          Key: KEY,
          UpdateExpression: update,
          ConditionExpression: `runId = :run AND leaseOwner = :owner AND NOT contains(done, :accountId)${condition}`,
          ...(names ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: {
            ':id': new Set([accountId]),
            ':accountId': accountId,
            ':one': 1,
            ':run': runId,
            ':owner': owner,
            ...values,
          },
        }),
      );
    if (!finding) return (await mark('ADD done :id, checked :one, inSync :one', '', {})).ok;
    const kept = await mark(
      'ADD done :id, checked :one SET findings = list_append(if_not_exists(findings, :none), :finding)',
      ' AND (attribute_not_exists(findings) OR size(findings) < :kept)',
      { ':finding': [finding], ':none': [], ':kept': SWEEP_FINDINGS_KEPT },
    );
    if (kept.ok) return true;
    // The checkpoint holds as many findings as it keeps (or the run is no longer this owner's: this fails too).
    const counted = await mark(
      'ADD done :id, checked :one, #omitted :one',
      '',
      {},
      {
        '#omitted': `omitted_${finding.outcome}`,
      },
    );
    return counted.ok;
  }

  /** Moves the run on to the next page of the accounts list (its cursor), forgetting the page's checked accounts. */
  async nextPage(runId: string, owner: string, cursor: string): Promise<boolean> {
    const written = await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEY,
        UpdateExpression: 'SET #cursor = :cursor REMOVE done',
        ConditionExpression: 'runId = :run AND leaseOwner = :owner',
        ExpressionAttributeNames: { '#cursor': 'cursor' },
        ExpressionAttributeValues: { ':cursor': cursor, ':run': runId, ':owner': owner },
      }),
    );
    return written.ok;
  }

  /** Gives the run up for now (it stopped before the end): the next invocation resumes it at once. */
  async release(runId: string, owner: string): Promise<void> {
    await this.table.write(
      new UpdateCommand({
        TableName: this.table.name,
        Key: KEY,
        UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
        ConditionExpression: 'runId = :run AND leaseOwner = :owner',
        ExpressionAttributeValues: { ':run': runId, ':owner': owner },
      }),
    );
  }

  /** Ends the run (every account checked): returns its final checkpoint, or undefined when it was not this owner's. */
  async finish(runId: string, owner: string): Promise<SweepCheckpoint | undefined> {
    const written = await this.table.write(
      new DeleteCommand({
        TableName: this.table.name,
        Key: KEY,
        ConditionExpression: 'runId = :run AND leaseOwner = :owner',
        ExpressionAttributeValues: { ':run': runId, ':owner': owner },
        ReturnValues: 'ALL_OLD',
      }),
    );
    if (!written.ok || !written.attributes) return undefined;
    return fromItem(written.attributes);
  }
}

/** A checkpoint from its registry item (the accounts done are a string set there, the omitted counts flat). */
function fromItem(item: Record<string, unknown>): SweepCheckpoint {
  const {
    pk: _pk,
    sk: _sk,
    done,
    findings,
    omitted_fixed: fixed,
    omitted_reported: reported,
    omitted_failed: failed,
    ...rest
  } = item;
  return {
    ...(rest as Omit<SweepCheckpoint, 'done' | 'findings' | 'omitted'>),
    done: [...((done as Set<string> | undefined) ?? [])],
    findings: (findings as SweepFinding[] | undefined) ?? [],
    omitted: {
      fixed: (fixed as number | undefined) ?? 0,
      reported: (reported as number | undefined) ?? 0,
      failed: (failed as number | undefined) ?? 0,
    },
  };
}
