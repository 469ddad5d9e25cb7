import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isLoopbackOrigin, nonLocalCallerReason } from '../../local/loopback.ts';

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'localhost:4566',
    'LOCALHOST:3000',
    'vend.localhost',
    'api.vend.localhost:8080',
    '127.0.0.1',
    '127.0.0.1:4566',
    '127.1.2.3:80',
    '[::1]',
    '[::1]:4566',
    '[0:0:0:0:0:0:0:1]:4566',
    '[::ffff:127.0.0.1]:4566',
  ])('takes %s for this machine', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each([
    'evil.example',
    'evil.example:4566',
    'localhost.evil.example',
    'evillocalhost',
    '127.0.0.1.evil.example',
    '128.0.0.1',
    '10.0.0.5:4566',
    '0.0.0.0:4566',
    '[::2]:4566',
    '[::]:4566',
    '::1',
    'evil.example@127.0.0.1',
    '127.0.0.1/x',
    '127.0.0.1:99999',
    'localhost:',
    '',
  ])('refuses %s', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});

describe('isLoopbackOrigin', () => {
  it.each(['http://localhost:5173', 'https://127.0.0.1', 'http://[::1]:8080', 'http://app.localhost'])(
    'takes %s',
    (origin) => {
      expect(isLoopbackOrigin(origin)).toBe(true);
    },
  );

  it.each([
    'null',
    'http://evil.example',
    'file://',
    'chrome-extension://abc',
    'http://127.0.0.1.nip.io',
    'x',
  ])('refuses %s', (origin) => {
    expect(isLoopbackOrigin(origin)).toBe(false);
  });
});

describe('nonLocalCallerReason', () => {
  it('lets an SDK client, the AWS CLI or curl through: loopback Host, no Origin', () => {
    expect(nonLocalCallerReason({ host: '127.0.0.1:4566' })).toBeUndefined();
    expect(nonLocalCallerReason({ host: '[::1]:4566' })).toBeUndefined();
  });

  it('lets a page served from this machine through', () => {
    expect(
      nonLocalCallerReason({
        host: '127.0.0.1:4566',
        origin: 'http://localhost:5173',
        'sec-fetch-site': 'cross-site',
      }),
    ).toBeUndefined();
  });

  it('refuses a foreign or missing Host, naming it', () => {
    expect(nonLocalCallerReason({ host: 'evil.example:4566' })).toMatch(
      /Host 'evil\.example:4566' is not a loopback/,
    );
    expect(nonLocalCallerReason({})).toMatch(/no Host header/);
  });

  it('refuses a foreign Origin, whatever the method', () => {
    expect(nonLocalCallerReason({ host: 'localhost:4566', origin: 'https://evil.example' })).toMatch(
      /Origin 'https:\/\/evil\.example' is not on this machine/,
    );
    expect(nonLocalCallerReason({ host: 'localhost:4566', origin: 'null' })).toMatch(/Origin 'null'/);
  });

  it('refuses a cross-site browser request that carries no Origin (an image or a no-cors GET)', () => {
    expect(nonLocalCallerReason({ host: '127.0.0.1:4566', 'sec-fetch-site': 'cross-site' })).toMatch(
      /Sec-Fetch-Site: cross-site/,
    );
    expect(nonLocalCallerReason({ host: '127.0.0.1:4566', 'sec-fetch-site': 'same-origin' })).toBeUndefined();
    expect(nonLocalCallerReason({ host: '127.0.0.1:4566', 'sec-fetch-site': 'none' })).toBeUndefined();
  });

  it('quotes at most 100 characters of a refused header', () => {
    const reason = nonLocalCallerReason({ host: `${'a'.repeat(500)}.example` }) ?? '';
    expect(reason.length).toBeLessThan(300);
  });
});
