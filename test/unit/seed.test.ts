import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../local/cloud/index.ts';
import { parseSeed, readSeedFile } from '../../local/cloud/seed.ts';

describe('the seed', () => {
  it('accepts the default seed that npm start uses', () => {
    const seed = readSeedFile(resolve(import.meta.dirname, '../../local/seed.json'));
    expect(seed.accounts.map((a) => a.name)).toEqual(['security', 'network']);
  });

  it('seeds Developer and PlatformAdmin in the management account, trusting it, and the keys with their secrets', () => {
    const seed = readSeedFile(resolve(import.meta.dirname, '../../local/seed.json'));
    const role = (name: string) => seed.roles.find((r) => r.name === name);
    expect(role('Developer')).toEqual({
      account: 'management',
      name: 'Developer',
      trustedAccounts: ['management'],
      managedPolicies: [],
    });
    expect(role('PlatformAdmin')).toEqual({
      account: 'management',
      name: 'PlatformAdmin',
      trustedAccounts: ['management'],
      managedPolicies: ['arn:aws:iam::aws:policy/AdministratorAccess'],
    });
    expect(seed.accessKeys.find((key) => key.accessKeyId === 'test')).toMatchObject({
      account: 'management',
    });
    expect(seed.accessKeys.find((key) => key.accessKeyId === 'test')?.role).toBeUndefined();
  });

  it('gives a seeded key the secret it declares, or its own id: key test signs with secret test', async () => {
    const local = await startLocalCloud({
      port: 0,
      seed: {
        accessKeys: [
          { accessKeyId: 'test', account: 'management' },
          { accessKeyId: 'ops', secretAccessKey: 'ops-secret', account: 'management' },
        ],
      },
    });
    try {
      expect(local.cloud.state.credentials['test']?.secretAccessKey).toBe('test');
      expect(local.cloud.state.credentials['ops']?.secretAccessKey).toBe('ops-secret');
    } finally {
      await local.close();
    }
  });

  it('names the key and the problem when invalid', () => {
    expect(() => parseSeed({ managementAccount: { id: '12' }, accounts: [{ name: 'x' }] })).toThrow(
      /managementAccount\.id: an account id is 12 digits/,
    );
    expect(() => parseSeed({ accounts: [{ name: 'x' }] })).toThrow(/accounts\.0\.email/);
  });
});
