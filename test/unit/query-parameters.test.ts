import { describe, expect, it } from 'vitest';
import { parseQueryParameters } from '../../local/cloud/protocols/query.ts';

describe('parseQueryParameters', () => {
  it('turns Query member lists into arrays of structures', () => {
    const input = parseQueryParameters(
      new URLSearchParams(
        'Action=CreateRole&RoleName=r&Tags.member.2.Key=b&Tags.member.2.Value=2&Tags.member.1.Key=a&Tags.member.1.Value=1',
      ),
    );
    expect(input).toEqual({
      RoleName: 'r',
      Tags: [
        { Key: 'a', Value: '1' },
        { Key: 'b', Value: '2' },
      ],
    });
  });

  it('turns EC2 numbered lists into arrays, nested', () => {
    const input = parseQueryParameters(
      new URLSearchParams(
        'Action=DescribeVpcs&Filter.1.Name=is-default&Filter.1.Value.1=true&VpcId.1=vpc-1&VpcId.2=vpc-2',
      ),
    );
    expect(input).toEqual({ Filter: [{ Name: 'is-default', Value: ['true'] }], VpcId: ['vpc-1', 'vpc-2'] });
  });

  it('refuses a list index of zero', () => {
    expect(() => parseQueryParameters(new URLSearchParams('VpcId.0=x'))).toThrow(/Bad list index/);
  });
});
