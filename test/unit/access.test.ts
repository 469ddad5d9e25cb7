import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  grantsFor,
  grantsForSlackUser,
  matchArnOf,
  matchesPrincipal,
  whoMayRequest,
} from '../../functions/shared/access.ts';
import { readConfigFile } from '../../functions/shared/config.ts';

const config = readConfigFile(resolve(import.meta.dirname, '../../vend.config.json'));
const caller = (arn: string) => ({ arn, matchArn: matchArnOf(arn) });

describe('access grants', () => {
  it('matches ARN patterns where * is any run of characters, and nothing else is special', () => {
    expect(
      matchesPrincipal('arn:aws:iam::000000000000:role/Dev*', 'arn:aws:iam::000000000000:role/Developer'),
    ).toBe(true);
    expect(
      matchesPrincipal('arn:aws:iam::000000000000:role/Dev', 'arn:aws:iam::000000000000:role/Developer'),
    ).toBe(false);
    // A dot in a pattern is a dot, not any character.
    expect(matchesPrincipal('arn:aws:iam::000000000000:user/a.b', 'arn:aws:iam::000000000000:user/aXb')).toBe(
      false,
    );
    expect(matchesPrincipal('arn:aws:iam::*:role/Admin', 'arn:aws:iam::123456789012:role/Admin')).toBe(true);
  });

  it('maps an assumed-role session to its role for matching, in every partition', () => {
    expect(matchArnOf('arn:aws:sts::123456789012:assumed-role/Developer/alice')).toBe(
      'arn:aws:iam::123456789012:role/Developer',
    );
    expect(matchArnOf('arn:aws-us-gov:sts::123456789012:assumed-role/Developer/alice@example.com')).toBe(
      'arn:aws-us-gov:iam::123456789012:role/Developer',
    );
    expect(matchArnOf('arn:aws:iam::123456789012:user/bob')).toBe('arn:aws:iam::123456789012:user/bob');
  });

  it('gives Developer requests in the three OUs and its own reads, PlatformAdmin everything', () => {
    const developer = grantsFor(config, caller('arn:aws:sts::000000000000:assumed-role/Developer/alice'));
    expect(developer.entries).toEqual(['developers']);
    expect(['Sandbox', 'Workloads/Dev', 'Workloads/Prod'].map((ou) => developer.mayRequest(ou))).toEqual([
      true,
      true,
      true,
    ]);
    expect(developer.mayApprove('Workloads/Prod')).toBe(false);
    expect(developer.readsAll).toBe(false);
    const local = grantsFor(config, caller('arn:aws:iam::000000000000:user/local-developer'));
    expect(local.entries).toEqual(['developers']);
    const admin = grantsFor(config, caller('arn:aws:sts::000000000000:assumed-role/PlatformAdmin/bob'));
    expect(admin).toMatchObject({ entries: ['platform-admins'], readsAll: true, administers: true });
    expect(admin.mayApprove('Workloads/Prod')).toBe(true);
    const nobody = grantsFor(config, caller('arn:aws:iam::000000000000:root'));
    expect(nobody.entries).toEqual([]);
    expect(nobody.mayRequest('Sandbox')).toBe(false);
  });

  it('maps a Slack member to the entries that list it', () => {
    expect(grantsForSlackUser(config, 'U0PLATFORM1').mayApprove('Workloads/Prod')).toBe(true);
    expect(grantsForSlackUser(config, 'U0SOMEONE1').entries).toEqual([]);
  });

  it('says who may request in an OU', () => {
    expect(whoMayRequest(config, 'Workloads/Prod')).toContain(
      'developers (arn:aws:iam::000000000000:role/Developer',
    );
    expect(whoMayRequest(config, 'Workloads/Prod')).toContain('platform-admins');
  });
});
