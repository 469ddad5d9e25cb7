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

  it('seeds an Identity Center instance whose users keep their ids from start to start', async () => {
    const seed = {
      identityCenter: {
        users: [{ userName: 'alice', email: 'alice@example.com', givenName: 'Alice', familyName: 'Example' }],
        groups: [{ displayName: 'developers', members: ['alice'] }],
      },
    };
    const ids = [];
    for (let run = 0; run < 2; run++) {
      const local = await startLocalCloud({ port: 0, seed, randomSeed: run + 1 });
      try {
        const instance = local.cloud.state.identityCenter!.instances[0]!;
        expect(instance).toMatchObject({
          instanceArn: 'arn:aws:sso:::instance/ssoins-7223f1e0c0ffee01',
          identityStoreId: 'd-9067c0ffee',
          ownerAccountId: '000000000000',
        });
        expect(Object.values(instance.memberships)).toHaveLength(1);
        ids.push(Object.keys(instance.users));
      } finally {
        await local.close();
      }
    }
    expect(ids[0]).toEqual(ids[1]);
  });

  it('names the Identity Center key and the problem when invalid', async () => {
    expect(() => parseSeed({ identityCenter: { identityStoreId: 'store' } })).toThrow(
      /identityCenter\.identityStoreId: an identity store id such as d-9067c0ffee/,
    );
    const user = (userName: string, email: string) => ({ userName, email, givenName: 'A', familyName: 'B' });
    await expect(
      startLocalCloud({
        port: 0,
        seed: { identityCenter: { groups: [{ displayName: 'developers', members: ['nobody'] }] } },
      }),
    ).rejects.toThrow(/identityCenter\.groups\.0\.members: 'nobody' is not a declared user/);
    await expect(
      startLocalCloud({
        port: 0,
        seed: { identityCenter: { users: [user('a', 'same@example.com'), user('b', 'SAME@example.com')] } },
      }),
    ).rejects.toThrow(/identityCenter\.users\.1: A user with that email address already exists/);
  });
});
