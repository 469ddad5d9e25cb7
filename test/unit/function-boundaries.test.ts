import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Each Lambda folder (a folder of functions/ holding a handler.ts) is its own deployable: it wires middleware to
 * its core and makes its own decisions, and shares code only through functions/domain/ and functions/shared/.
 * A step importing another step would drag the other's code, clients and permissions into its bundle.
 */

const FUNCTIONS = resolve(import.meta.dirname, '../../functions');

/** The folders of functions/ that hold a handler.ts. */
function handlerFolders(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, 'handler.ts')))
    .map((entry) => entry.name);
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|js|mjs)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const SPECIFIER = /(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Each relative import of `file` that lands in another handler folder: "drift/core.ts -> move-account/core.ts". */
function crossingImports(root: string): string[] {
  const handlers = new Set(handlerFolders(root));
  const crossings: string[] = [];
  for (const folder of handlers) {
    for (const file of sourceFiles(join(root, folder))) {
      for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
        const specifier = match[1] ?? match[2] ?? '';
        if (!specifier.startsWith('.')) continue;
        const target = relative(root, resolve(dirname(file), specifier)).split(sep)[0];
        if (target && target !== folder && handlers.has(target))
          crossings.push(`${relative(root, file)} -> ${relative(root, resolve(dirname(file), specifier))}`);
      }
    }
  }
  return crossings;
}

describe('Lambda folders under functions/', () => {
  it('finds the handler folders it checks', () => {
    expect(handlerFolders(FUNCTIONS)).toEqual(
      expect.arrayContaining(['api', 'apply-baseline', 'drift', 'move-account', 'connect-dns']),
    );
  });

  it('the check names an import from one Lambda folder into another, and allows domain/ and shared/', () => {
    const root = mkdtempSync(join(tmpdir(), 'vend-boundaries-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('move-account/handler.ts', "export { moveAccount } from './core.ts';\n");
      write(
        'move-account/core.ts',
        "import { ou } from '../domain/ou.ts';\nexport const moveAccount = ou;\n",
      );
      write('drift/handler.ts', "import { handle } from './core.ts';\nexport const handler = handle;\n");
      write(
        'drift/core.ts',
        "import { moveAccount } from '../move-account/core.ts';\nexport const handle = moveAccount;\n",
      );
      write('drift/lazy.ts', "export const later = () => import('../move-account/handler.ts');\n");
      write('domain/ou.ts', 'export const ou = 1;\n');
      write('drift-sweep/core.ts', "import { x } from '../shared/x.ts';\nexport const sweep = x;\n");

      expect(crossingImports(root).sort()).toEqual([
        `drift${sep}core.ts -> move-account${sep}core.ts`,
        `drift${sep}lazy.ts -> move-account${sep}handler.ts`,
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never import from another Lambda folder: shared code lives in domain/ or shared/', () => {
    expect(crossingImports(FUNCTIONS)).toEqual([]);
  });
});
