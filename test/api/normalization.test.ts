import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type ApiEnv,
  accountBody,
  expectError,
  startApiEnv,
  withRequestedRootEmails,
} from './harness.ts';

/** `text` in fullwidth forms (U+FF01-U+FF5E), which NFKC maps back to ASCII. */
const fullwidth = (text: string) =>
  [...text]
    .map((char) => {
      const code = char.charCodeAt(0);
      return code > 0x20 && code < 0x7f ? String.fromCharCode(code + 0xfee0) : char;
    })
    .join('');

let unique = 0;
/** A lower-case name no other test uses, within the naming rule. */
const freshName = (base: string) => `${base}-${++unique}${Math.random().toString(36).slice(2, 6)}`;

describe('POST /accounts: names and emails are NFKC-normalized, and look-alikes from other scripts refused', () => {
  let env: ApiEnv;
  beforeAll(async () => {
    // The email rules themselves are under test: requests may give root emails (in example.com).
    env = await startApiEnv({ config: withRequestedRootEmails() });
  });
  afterAll(() => env.close());

  const post = (body: unknown) => env.call('POST', '/accounts', { body });

  /** A refusal that names the field and the fix, and writes nothing: no request, no reservation, no execution. */
  async function refused(body: Record<string, unknown>, field: string): Promise<Answer> {
    const before = await env.snapshot();
    const answer = await post(body);
    const error = expectError(answer, 400, field);
    expect(error.message).toContain('not ASCII');
    expect(await env.snapshot()).toEqual(before);
    return answer;
  }

  it('refuses a Cyrillic look-alike in the name, naming the field and the character, and writes nothing', async () => {
    const name = freshName('p\u0430yments');
    const answer = await refused(accountBody({ name }), 'name');
    expect(answer.body.error.message).toContain('U+0430');
    expect(answer.body.error.fix).toContain('ASCII');
    // Nothing was reserved: the ASCII name is free.
    const ascii = await post(accountBody({ name: name.replace('\u0430', 'a') }));
    expect(ascii.status, ascii.text).toBe(202);
  });

  it('refuses a look-alike in the root email and in the owner email', async () => {
    let answer = await refused(
      accountBody({ name: freshName('mail'), email: 'aws+x@ex\u0430mple.com' }),
      'email',
    );
    expect(answer.body.error.message).toContain('U+0430');
    answer = await refused(
      accountBody({ name: freshName('owner'), owner: '\u0430lice@example.com' }),
      'owner',
    );
    expect(answer.body.error.message).toContain('U+0430');
    expect(answer.body.error.fix).toContain('ASCII');
  });

  it('refuses invisible and bidi characters in a name or an address', async () => {
    await refused(accountBody({ name: `${freshName('pay')}\u200b` }), 'name');
    await refused(accountBody({ name: freshName('pay'), owner: 'alice@example.com\u202e' }), 'owner');
  });

  it('normalizes fullwidth letters to ASCII, and reserves the normalized, lower-cased name and email', async () => {
    const name = freshName('payments');
    const email = `aws+${name}@example.com`;
    const answer = await post(
      accountBody({
        name: fullwidth(name),
        email: fullwidth(email.toUpperCase()),
        owner: fullwidth('alice@example.com'),
      }),
    );
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.accountName).toContain(name);
    expect(answer.body.email).toBe(email.toUpperCase());
    const view = await env.call('GET', `/accounts/requests/${answer.body.requestId}`);
    expect(view.body.owner).toBe('alice@example.com');

    // The ASCII forms are the same name and the same address: taken.
    const sameEmail = await post(accountBody({ name: freshName('other'), email }));
    expectError(sameEmail, 409, 'email');
    const sameName = await post(accountBody({ name }));
    expectError(sameName, 409, 'name');
  });

  it('still applies the naming rule after normalizing: fullwidth capitals become capitals, which the rule refuses', async () => {
    const before = await env.snapshot();
    const answer = await post(accountBody({ name: fullwidth('PAYMENTS') }));
    const error = expectError(answer, 400, 'name');
    expect(error.message).toContain("'PAYMENTS'");
    expect(await env.snapshot()).toEqual(before);
  });
});
