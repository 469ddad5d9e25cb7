import { describe, expect, it } from 'vitest';

describe('the toolchain', () => {
  it('runs on Node 22, which the node devDependency provides (Lambda runs nodejs22.x)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBe(22);
  });
});
