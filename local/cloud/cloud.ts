import { randomUUID } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { completeClosure, completeCreation } from './accounts.ts';
import type { Clock } from './clock.ts';
import { Faults } from './faults.ts';
import { pendingIdentityCenterOperations, settleIdentityCenter } from './identity-center.ts';
import { DIGITS, HEX, LOWER_ALNUM, type Random, UPPER_ALNUM } from './random.ts';
import { RateLimiter } from './rate-limits.ts';
import type { AuditEvent, CloudState } from './state.ts';

/** Audit events kept in state (and in the data file); older ones are dropped. */
const AUDIT_RETENTION = 10_000;

export type AuditListener = (event: AuditEvent) => void;

/**
 * The running local cloud: its state, its clock, its seeded randomness, injected faults, the audit trail and
 * its subscribers, and persistence to the data file.
 */
export class Cloud {
  readonly faults: Faults;
  readonly ids: IdFactory;
  /** Per-operation request rates (token buckets on the cloud's clock); off until configured. */
  readonly rateLimits: RateLimiter;
  /** Simulated milliseconds each service takes to answer, by signing name (not persisted); none by default. */
  latency: Record<string, number> = {};
  /** AWS API calls answered, by `service:Operation` and access key (not persisted): benchmarks count these. */
  readonly calls = new Map<string, number>();
  private readonly listeners = new Set<AuditListener>();
  private readonly timers = new Map<string, () => void>();
  private closed = false;

  constructor(
    public state: CloudState,
    readonly clock: Clock,
    readonly random: Random,
    private readonly dataFile?: string,
  ) {
    this.faults = new Faults(random);
    this.rateLimits = new RateLimiter(clock);
    this.ids = new IdFactory(random, this);
    this.scheduleAll();
  }

  /** Counts one answered call. */
  countCall(service: string, operation: string, accessKeyId: string): void {
    const key = `${service}:${operation}:${accessKeyId}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Calls answered so far, optionally only those made with access keys `keys` (and the sessions they started). */
  callCount(
    filter: (service: string, operation: string, accessKeyId: string) => boolean = () => true,
  ): number {
    let total = 0;
    for (const [key, count] of this.calls) {
      const [service, operation, accessKeyId] = key.split(':') as [string, string, string];
      if (filter(service, operation, accessKeyId)) total += count;
    }
    return total;
  }

  get settings() {
    return this.state.settings;
  }

  /** Hands every audit event recorded from now on to `listener`, in order; returns a function that unsubscribes. */
  subscribe(listener: AuditListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Audit events after `sequence`, oldest first. */
  auditSince(sequence = 0): AuditEvent[] {
    return this.state.audit.filter((event) => event.sequence > sequence);
  }

  /** Appends a CloudTrail record to the trail; listeners hear of it once the state holding it is saved. */
  record(
    event: Omit<
      AuditEvent,
      'sequence' | 'eventVersion' | 'eventTime' | 'eventID' | 'requestID' | 'readOnly' | 'managementEvent'
    > &
      Partial<Pick<AuditEvent, 'requestID' | 'readOnly'>>,
  ): AuditEvent {
    const full: AuditEvent = {
      sequence: this.state.auditSequence++,
      eventVersion: '1.08',
      eventTime: new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventID: randomUUID(),
      requestID: event.requestID ?? randomUUID(),
      readOnly: event.readOnly ?? false,
      managementEvent: true,
      ...event,
    };
    this.state.audit.push(full);
    if (this.state.audit.length > AUDIT_RETENTION)
      this.state.audit.splice(0, this.state.audit.length - AUDIT_RETENTION);
    this.pendingEvents.push(full);
    return full;
  }

  private pendingEvents: AuditEvent[] = [];

  /**
   * Saves the state (when there is a data file) and then hands recorded events to listeners. Called after every
   * mutating call, so an acknowledged change is never lost to a restart.
   */
  commit(): void {
    if (this.dataFile) {
      mkdirSync(dirname(this.dataFile), { recursive: true });
      const temporary = `${this.dataFile}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(this.state));
      renameSync(temporary, this.dataFile);
    }
    const events = this.pendingEvents;
    this.pendingEvents = [];
    for (const event of events) {
      for (const listener of this.listeners) {
        try {
          listener(event);
        } catch (error) {
          console.error('local cloud: an audit listener failed', error);
        }
      }
    }
  }

  /** Finishes creations, closures and Identity Center operations whose time has come. */
  settle(): void {
    const now = this.clock.now();
    let changed = false;
    for (const request of Object.values(this.state.createAccountRequests)) {
      if (request.state === 'IN_PROGRESS' && request.completesAt <= now) {
        completeCreation(this, request);
        this.cancelTimer(request.id);
        changed = true;
      }
    }
    for (const account of Object.values(this.state.accounts)) {
      if (account.status === 'PENDING_CLOSURE' && account.closesAt !== undefined && account.closesAt <= now) {
        completeClosure(this, account);
        this.cancelTimer(account.id);
        changed = true;
      }
    }
    if (settleIdentityCenter(this)) changed = true;
    if (changed) this.commit();
  }

  /** Arranges for `settle` to run at `at` (simulated epoch ms), so finishing does not wait for the next call. */
  wakeAt(key: string, at: number): void {
    if (this.closed) return;
    this.cancelTimer(key);
    this.timers.set(
      key,
      this.clock.schedule(at - this.clock.now(), () => {
        this.timers.delete(key);
        this.settle();
      }),
    );
  }

  private cancelTimer(key: string): void {
    this.timers.get(key)?.();
    this.timers.delete(key);
  }

  private scheduleAll(): void {
    for (const request of Object.values(this.state.createAccountRequests)) {
      if (request.state === 'IN_PROGRESS') this.wakeAt(request.id, request.completesAt);
    }
    for (const account of Object.values(this.state.accounts)) {
      if (account.status === 'PENDING_CLOSURE' && account.closesAt !== undefined)
        this.wakeAt(account.id, account.closesAt);
    }
    for (const { key, at } of pendingIdentityCenterOperations(this.state)) this.wakeAt(key, at);
  }

  close(): void {
    this.closed = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    this.listeners.clear();
  }
}

/** Identifiers in AWS's formats, drawn from the seeded random source and unique within the cloud. */
export class IdFactory {
  constructor(
    private readonly random: Random,
    private readonly cloud: Cloud,
  ) {}

  accountId(): string {
    for (;;) {
      const id = this.random.string(12, DIGITS);
      if (!this.cloud.state.accounts[id] && !id.startsWith('0')) return id;
    }
  }
  organizationId(): string {
    return `o-${this.random.string(10, LOWER_ALNUM)}`;
  }
  rootId(): string {
    return `r-${this.random.string(4, LOWER_ALNUM)}`;
  }
  organizationalUnitId(): string {
    const root = this.cloud.state.organization.rootId.slice(2);
    return `ou-${root}-${this.random.string(8, LOWER_ALNUM)}`;
  }
  createAccountRequestId(): string {
    return `car-${this.random.string(32, HEX)}`;
  }
  roleId(): string {
    return `AROA${this.random.string(17, UPPER_ALNUM)}`;
  }
  vpcId(): string {
    return `vpc-${this.random.string(17, HEX)}`;
  }
  /** An Organizations policy id: `p-` and 8 lowercase letters or digits, as AWS issues them. */
  policyId(): string {
    for (;;) {
      const id = `p-${this.random.string(8, LOWER_ALNUM)}`;
      if (!Object.hasOwn(this.cloud.state.policies, id)) return id;
    }
  }
  hostedZoneId(): string {
    return `Z${this.random.string(20, UPPER_ALNUM)}`;
  }
  changeId(): string {
    return `C${this.random.string(20, UPPER_ALNUM)}`;
  }
  temporaryAccessKeyId(): string {
    return `ASIA${this.random.string(16, UPPER_ALNUM)}`;
  }
  secret(length = 40): string {
    return this.random.string(length, `${UPPER_ALNUM}abcdefghijklmnopqrstuvwxyz/+`);
  }
}
