/**
 * (6) Cold start: each function's handler bundled as the CDK stack bundles it (infra/constructs/pipeline-function.ts:
 * esbuild, ESM, minified, the AWS SDK bundled, platform node, target node22, the `require` shim banner, source
 * maps without the sources), its size, and the time a fresh Node process takes to import it with the environment
 * the handler reads at init (`NODE_OPTIONS=--enable-source-maps` as on Lambda).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { DEFAULT_CONFIG } from '../local/pipeline.ts';
import { median, note, round } from './common.ts';

const ROOT = resolve(import.meta.dirname, '..');
/** Inside the repository, like any build output that must not be committed. */
const OUT = join(ROOT, 'node_modules', '.cache', 'vend-bench', 'bundles');

/** The AWS SDK's packages, in a bundle's inputs. */
const SDK_PACKAGE = /node_modules\/(@aws-sdk|@smithy|@aws-crypto)\//;

const ESM_REQUIRE_SHIM =
  "import { createRequire as __vendCreateRequire } from 'node:module'; const require = __vendCreateRequire(import.meta.url);";

export interface FunctionColdStart {
  name: string;
  bundleKb: number;
  /** Of the bundle, the AWS SDK's share (`@aws-sdk/*`, `@smithy/*`, `@aws-crypto/*`). */
  sdkKb: number;
  importMsRuns: number[];
  importMs: number;
  error?: string;
}

export interface ColdStartResult {
  node: string;
  runs: number;
  functions: FunctionColdStart[];
  maxBundleKb: number;
  /** The largest bundle without the AWS SDK: Vend's own code and its other packages. */
  maxBundleKbWithoutSdk: number;
  maxInitMs: number;
}

/** The environment a handler reads when it is loaded (as the stack sets it, with local values). */
function initEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    VEND_CONFIG: readFileSync(DEFAULT_CONFIG, 'utf8'),
    VEND_TABLE_NAME: 'vend-registry',
    VEND_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:vend',
    VEND_SLACK_WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:vend-slack',
    POWERTOOLS_SERVICE_NAME: 'vend-bench',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_NAMESPACE: 'Vend',
    // As the stack sets it: stack traces point into the sources, which costs at load.
    NODE_OPTIONS: '--enable-source-maps',
    // What Lambda sets, so that Powertools behaves as there; no credentials are needed to load.
    AWS_LAMBDA_FUNCTION_NAME: 'vend-bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
  };
}

/** Imports the bundle in a fresh process and prints how long the import took, in milliseconds. */
function timeImport(file: string): Promise<number> {
  const code = `const t = performance.now(); await import(${JSON.stringify(`file://${file}`)}); process.stdout.write(String(performance.now() - t));`;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      cwd: ROOT,
      env: initEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (status) => {
      const ms = Number(out);
      if (status !== 0 || !Number.isFinite(ms))
        fail(new Error(err.trim().split('\n').slice(-3).join(' ') || `exit ${status}`));
      else done(ms);
    });
  });
}

export async function measureColdStart(options: { runs?: number } = {}): Promise<ColdStartResult> {
  const runs = options.runs ?? 7;
  const folders = readdirSync(join(ROOT, 'functions'))
    .filter((name) => {
      try {
        return statSync(join(ROOT, 'functions', name, 'handler.ts')).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  rmSync(OUT, { recursive: true, force: true });
  const functions: FunctionColdStart[] = [];
  for (const name of folders) {
    const dir = join(OUT, name);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'index.mjs');
    let sdkBytes = 0;
    try {
      const { metafile } = await build({
        entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
        outfile: file,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node22',
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        banner: { js: ESM_REQUIRE_SHIM },
        logLevel: 'warning',
        metafile: true,
      });
      for (const output of Object.values(metafile.outputs)) {
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
          if (SDK_PACKAGE.test(input)) sdkBytes += bytesInOutput;
        }
      }
    } catch (error) {
      functions.push({ name, bundleKb: 0, sdkKb: 0, importMsRuns: [], importMs: 0, error: String(error) });
      continue;
    }
    const bundleKb = round(statSync(file).size / 1024, 1);
    const sdkKb = round(sdkBytes / 1024, 1);
    const importMsRuns: number[] = [];
    let error: string | undefined;
    for (let run = 0; run < runs; run++) {
      try {
        importMsRuns.push(round(await timeImport(file), 1));
      } catch (failure) {
        error = (failure as Error).message;
        break;
      }
    }
    const importMs = importMsRuns.length ? round(median(importMsRuns), 1) : 0;
    note(
      `cold start: ${name}: ${bundleKb} KB (${sdkKb} KB of AWS SDK), import ${importMs} ms${error ? ` (${error})` : ''}`,
    );
    functions.push({ name, bundleKb, sdkKb, importMsRuns, importMs, ...(error ? { error } : {}) });
  }
  return {
    node: await nodeVersion(),
    runs,
    functions,
    maxBundleKb: Math.max(...functions.map((f) => f.bundleKb)),
    maxBundleKbWithoutSdk: round(Math.max(...functions.map((f) => f.bundleKb - f.sdkKb)), 1),
    maxInitMs: Math.max(...functions.map((f) => f.importMs)),
  };
}

function nodeVersion(): Promise<string> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('close', () => done(out.trim()));
  });
}
