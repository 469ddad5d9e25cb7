import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the CLI’s code', () => {
  it('loads nothing of the server but the shared retry helper: the API’s schemas are imported as types', async () => {
    const result = await build({
      entryPoints: ['cli/main.ts'],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((path) => !path.startsWith('cli/') && !path.includes('node_modules/'))).toEqual([
      'functions/shared/retry.ts',
    ]);
    expect(inputs.filter((path) => path.includes('node_modules/zod/'))).toEqual([]);
  }, 30_000);
});
