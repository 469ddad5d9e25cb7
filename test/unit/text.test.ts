import { describe, expect, it } from 'vitest';
import { canonicalJson, EMAIL_PATTERN, errorText } from '../../functions/shared/text.ts';

describe('canonicalJson', () => {
  it('gives the same text however the keys are ordered, at any depth, and keeps list order', () => {
    // Prepare
    const a = { b: 1, a: { d: [2, 1], c: null } };
    const b = { a: { c: null, d: [2, 1] }, b: 1 };

    // Act
    const texts = [canonicalJson(a), canonicalJson(b)];

    // Assess
    expect(texts[0]).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(texts[1]).toBe(texts[0]);
  });

  it('leaves out undefined fields and writes undefined list items as null, as JSON.stringify does', () => {
    // Prepare
    const value = { kept: 'x', dropped: undefined, list: [undefined, 'y'] };

    // Act
    const text = canonicalJson(value);

    // Assess
    expect(text).toBe('{"kept":"x","list":[null,"y"]}');
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
  });
});

describe('errorText', () => {
  it('names the error and cuts it to 1000 characters by default', () => {
    // Prepare
    const error = new TypeError('x'.repeat(2000));

    // Act
    const text = errorText(error);

    // Assess
    expect(text.startsWith('TypeError: xxx')).toBe(true);
    expect(text).toHaveLength(1000);
    expect(errorText('plain', 3)).toBe('pla');
  });
});

describe('EMAIL_PATTERN', () => {
  it('takes an address with a domain and refuses one without, or with spaces', () => {
    // Prepare
    const good = ['alice@example.com', 'aws+plat-dev@corp.example.org'];
    const bad = ['alice', 'alice@example', 'al ice@example.com', '@example.com', 'alice@@example.com'];

    // Act
    const results = [...good, ...bad].map((address) => EMAIL_PATTERN.test(address));

    // Assess
    expect(results).toEqual([true, true, false, false, false, false, false]);
  });
});
