/**
 * The principals of the approval tests, as access keys the local cloud resolves to sessions of roles in the
 * management account: `PlatformAdmin` (the default config's `platform-admins`: approves everywhere), `Developer`
 * (`developers`: requests, never approves) and `Auditor` (matches no `access` entry). The seed gets the roles and
 * keys here unless it has them already; the harness signs as a key with its `accessKeyId` option. Kept in this one
 * file so that tests switch to the seed's own roles and real signatures in one place.
 */
import { readFileSync } from 'node:fs';
import type { Seed } from '../../local/cloud/index.ts';
import { DEFAULT_SEED } from '../../local/pipeline.ts';

export interface TestPrincipal {
  /** The access key to sign with. */
  key: string;
  /** The key with its secret (the seed's default: the key id), to sign with. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The caller's ARN, as the API sees it. */
  arn: string;
}

const session = (role: string, name: string): TestPrincipal => ({
  key: `test-${role.toLowerCase()}`,
  credentials: { accessKeyId: `test-${role.toLowerCase()}`, secretAccessKey: `test-${role.toLowerCase()}` },
  arn: `arn:aws:sts::000000000000:assumed-role/${role}/${name}`,
});

export const PLATFORM_ADMIN = session('PlatformAdmin', 'pat');
export const DEVELOPER_ROLE = session('Developer', 'dana');
export const AUDITOR = session('Auditor', 'avery');

/** The default seed with the roles and keys of the principals above. */
export function seedWithApprovers(): Seed {
  const seed = JSON.parse(readFileSync(DEFAULT_SEED, 'utf8')) as Seed & {
    roles: NonNullable<Seed['roles']>;
    accessKeys: NonNullable<Seed['accessKeys']>;
  };
  for (const principal of [PLATFORM_ADMIN, DEVELOPER_ROLE, AUDITOR]) {
    const [, role, name] = /assumed-role\/([^/]+)\/(.+)$/.exec(principal.arn)!;
    if (!seed.roles.some((r) => r.account === 'management' && r.name === role)) {
      seed.roles.push({ account: 'management', name: role!, trustedAccounts: ['management'] });
    }
    if (!seed.accessKeys.some((k) => k.accessKeyId === principal.key)) {
      seed.accessKeys.push({ accessKeyId: principal.key, account: 'management', role, sessionName: name });
    }
  }
  return seed;
}

/** A request body for Workloads/Prod, which the default config makes wait for approval by `platform-admins`. */
export function prodBody(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    organizationalUnit: 'Workloads/Prod',
    owner: 'alice@example.com',
    requester: { slackUserId: 'U012ALICE' },
    budget: { monthlyLimitUsd: 1000 },
    tags: { team: 'payments', 'cost-center': 'cc-1234' },
    ...overrides,
  };
}
