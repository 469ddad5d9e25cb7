import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ClientSession } from '../../functions/shared/aws-clients.ts';

describe('the AWS clients', () => {
  it('are instrumented (traced on AWS) once each, when an instrument is given', () => {
    const wrapped: unknown[] = [];
    const session = new ClientSession({
      region: 'us-east-1',
      instrument: (client) => {
        wrapped.push(client);
        return client;
      },
    });

    const first = session.client(STSClient);
    const again = session.client(STSClient);
    session.client(STSClient, { region: 'eu-west-1' });

    expect(again).toBe(first);
    expect(wrapped).toHaveLength(2);
    expect(wrapped[0]).toBe(first);
  });

  it('are left as built without one (locally)', () => {
    const client = new ClientSession({ region: 'us-east-1' }).client(STSClient);
    expect(client).toBeInstanceOf(STSClient);
  });
});
