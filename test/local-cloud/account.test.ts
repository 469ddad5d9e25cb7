import {
  AccessDeniedException,
  DeleteAlternateContactCommand,
  GetAlternateContactCommand,
  PutAlternateContactCommand,
  type PutAlternateContactCommandInput,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-account';
import { AttachPolicyCommand, CreatePolicyCommand } from '@aws-sdk/client-organizations';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Credentials, startTestCloud, type TestCloud } from './harness.ts';

const MANAGEMENT = '000000000000';
const SECURITY = '111111111111';
const SECURITY_ROOT: Credentials = { accessKeyId: 'security-admin', secretAccessKey: 'security-admin' };
const CONTACT = {
  Name: 'Security Team',
  Title: 'Security',
  EmailAddress: 'security@example.com',
  PhoneNumber: '+1 (555) 010-0000',
};

/** The error a call rejects with (fails the test when the call succeeds). */
async function failure(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error & { $metadata: { httpStatusCode?: number } };
}

describe('Account API alternate contacts', () => {
  let t: TestCloud;
  beforeEach(async () => {
    t = await startTestCloud();
  });
  afterEach(() => t.close());

  const put = (input: Partial<PutAlternateContactCommandInput>, credentials?: Credentials) =>
    t.account(credentials).send(
      new PutAlternateContactCommand({
        AlternateContactType: 'SECURITY',
        ...CONTACT,
        ...input,
      } as PutAlternateContactCommandInput),
    );
  const get = (type: 'BILLING' | 'OPERATIONS' | 'SECURITY', credentials?: Credentials, AccountId?: string) =>
    t.account(credentials).send(new GetAlternateContactCommand({ AlternateContactType: type, AccountId }));

  it("sets, reads and replaces the caller's own contacts, one per type", async () => {
    await put({}, SECURITY_ROOT);
    await put({ AlternateContactType: 'BILLING', Name: 'Billing' }, SECURITY_ROOT);

    expect((await get('SECURITY', SECURITY_ROOT)).AlternateContact).toEqual({
      ...CONTACT,
      AlternateContactType: 'SECURITY',
    });
    expect((await get('BILLING', SECURITY_ROOT)).AlternateContact?.Name).toBe('Billing');

    await put({ Name: 'SOC' }, SECURITY_ROOT);
    expect((await get('SECURITY', SECURITY_ROOT)).AlternateContact?.Name).toBe('SOC');
  });

  it('answers ResourceNotFoundException (404) for a type never set, and for deleting it', async () => {
    const read = await failure(get('OPERATIONS', SECURITY_ROOT));
    const deleted = await failure(
      t
        .account(SECURITY_ROOT)
        .send(new DeleteAlternateContactCommand({ AlternateContactType: 'OPERATIONS' })),
    );

    for (const error of [read, deleted]) {
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
  });

  it('deletes a contact', async () => {
    await put({}, SECURITY_ROOT);

    await t
      .account(SECURITY_ROOT)
      .send(new DeleteAlternateContactCommand({ AlternateContactType: 'SECURITY' }));

    expect(await failure(get('SECURITY', SECURITY_ROOT))).toBeInstanceOf(ResourceNotFoundException);
  });

  it.each([
    ['Name', { Name: '' }],
    ['Name', { Name: 'x'.repeat(65) }],
    ['Title', { Title: 'x'.repeat(51) }],
    ['EmailAddress', { EmailAddress: 'not-an-address' }],
    ['EmailAddress', { EmailAddress: `${'a'.repeat(250)}@example.com` }],
    ['PhoneNumber', { PhoneNumber: 'call me' }],
    ['PhoneNumber', { PhoneNumber: '1'.repeat(26) }],
    ['AlternateContactType', { AlternateContactType: 'LEGAL' }],
    ['AccountId', { AccountId: '12345' }],
  ])('refuses a bad %s with ValidationException naming it, and changes nothing', async (field, input) => {
    const error = (await failure(
      put(input as Partial<PutAlternateContactCommandInput>),
    )) as ValidationException;

    expect(error).toBeInstanceOf(ValidationException);
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(error.reason).toBe('fieldValidationFailed');
    expect(error.fieldList?.[0]?.name).toBe(field);
    expect(await failure(get('SECURITY'))).toBeInstanceOf(ResourceNotFoundException);
  });

  it("lets the management account manage a member account's contacts by AccountId", async () => {
    await put({ AccountId: SECURITY });

    expect((await get('SECURITY', SECURITY_ROOT)).AlternateContact?.EmailAddress).toBe(CONTACT.EmailAddress);
    expect((await get('SECURITY', undefined, SECURITY)).AlternateContact?.Name).toBe(CONTACT.Name);
    expect(await failure(get('SECURITY'))).toBeInstanceOf(ResourceNotFoundException);
  });

  it.each([
    ['a member account naming an account', SECURITY_ROOT, MANAGEMENT],
    ['a member account naming itself', SECURITY_ROOT, SECURITY],
    ['the management account naming itself', undefined, MANAGEMENT],
    ['the management account naming an account outside the organization', undefined, '999999999999'],
  ])('refuses %s with AccessDeniedException (403)', async (_case, credentials, accountId) => {
    const error = await failure(put({ AccountId: accountId }, credentials));

    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(await failure(get('SECURITY', SECURITY_ROOT))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('refuses a call an SCP denies with AccessDeniedException naming account:PutAlternateContact', async () => {
    const org = t.organizations();
    const { Policy } = await org.send(
      new CreatePolicyCommand({
        Name: 'protect-contacts',
        Description: 'protect-contacts',
        Type: 'SERVICE_CONTROL_POLICY',
        Content: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Deny', Action: 'account:PutAlternateContact', Resource: '*' }],
        }),
      }),
    );
    await org.send(new AttachPolicyCommand({ PolicyId: Policy!.PolicySummary!.Id!, TargetId: SECURITY }));

    const error = await failure(put({}, SECURITY_ROOT));

    expect(error).toBeInstanceOf(AccessDeniedException);
    expect(error.message).toContain(
      'is not authorized to perform: account:PutAlternateContact on resource: * with an explicit deny in a service control policy',
    );
    // The management account is not bound by SCPs.
    await put({ AccountId: SECURITY });
    expect((await get('SECURITY', SECURITY_ROOT)).AlternateContact?.Name).toBe(CONTACT.Name);
  });
});
