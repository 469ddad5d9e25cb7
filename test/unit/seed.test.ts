import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSeed, readSeedFile } from '../../local/cloud/seed.ts';

describe('the seed', () => {
  it('accepts the default seed that npm start uses', () => {
    const seed = readSeedFile(resolve(import.meta.dirname, '../../local/seed.json'));
    expect(seed.accounts.map((a) => a.name)).toEqual(['security', 'network']);
  });

  it('names the key and the problem when invalid', () => {
    expect(() => parseSeed({ managementAccount: { id: '12' }, accounts: [{ name: 'x' }] })).toThrow(
      /managementAccount\.id: an account id is 12 digits/,
    );
    expect(() => parseSeed({ accounts: [{ name: 'x' }] })).toThrow(/accounts\.0\.email/);
  });
});
