import { AwsError } from './errors.ts';
import type { Random } from './random.ts';

/** A fault to inject into matching calls, through the control API or `cloud.faults.add`. */
export interface FaultRule {
  /** Service signing name (`organizations`, `iam`, `sts`, `budgets`, `route53`, `ec2`); any when absent. */
  service?: string;
  /** Operation name such as `CreateAccount`; any when absent or `*`. */
  operation?: string;
  /** Only calls made by principals of this account. */
  accountId?: string;
  /** The AWS error to answer with, by code (exception name); its status comes from the service unless given. */
  error?: { code: string; message?: string; status?: number; fields?: Record<string, unknown> };
  /** Simulated milliseconds to wait before answering. */
  latencyMs?: number;
  /** Fire for this many matching calls, then retire. */
  times?: number;
  /** Fire for this fraction of matching calls, drawn from the cloud's seeded random source. */
  rate?: number;
}

export interface ActiveFault extends FaultRule {
  readonly id: string;
  /** How many times it has fired. */
  fired: number;
}

export class Faults {
  private rules: ActiveFault[] = [];
  private sequence = 0;

  constructor(private readonly random: Random) {}

  add(rule: FaultRule): ActiveFault {
    if (rule.error === undefined && rule.latencyMs === undefined) {
      throw new TypeError('a fault needs an error, a latencyMs, or both');
    }
    if (rule.rate !== undefined && !(rule.rate >= 0 && rule.rate <= 1))
      throw new RangeError('rate must be between 0 and 1');
    if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times > 0)) {
      throw new RangeError('times must be a positive integer');
    }
    const active: ActiveFault = { ...rule, id: `fault-${++this.sequence}`, fired: 0 };
    this.rules.push(active);
    return active;
  }

  remove(id: string): boolean {
    const before = this.rules.length;
    this.rules = this.rules.filter((rule) => rule.id !== id);
    return this.rules.length < before;
  }

  clear(): void {
    this.rules = [];
  }

  list(): readonly ActiveFault[] {
    return this.rules;
  }

  /** Decides what happens to one call: the latency to add and the error to raise, if any. */
  draw(service: string, operation: string, accountId: string): { latencyMs: number; error?: AwsError } {
    let latencyMs = 0;
    let error: AwsError | undefined;
    for (const rule of [...this.rules]) {
      if (rule.service && rule.service !== service) continue;
      if (rule.operation && rule.operation !== '*' && rule.operation !== operation) continue;
      if (rule.accountId && rule.accountId !== accountId) continue;
      if (rule.error && error) continue;
      if (rule.rate !== undefined && this.random.next() >= rule.rate) continue;
      rule.fired++;
      if (rule.times !== undefined && rule.fired >= rule.times) this.remove(rule.id);
      latencyMs += rule.latencyMs ?? 0;
      if (rule.error) {
        error = new AwsError(rule.error.code, rule.error.message ?? `Injected fault: ${rule.error.code}`, {
          ...(rule.error.status !== undefined ? { status: rule.error.status } : {}),
          fields: rule.error.fields ?? {},
        });
      }
    }
    return error ? { latencyMs, error } : { latencyMs };
  }
}
