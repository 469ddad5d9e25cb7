import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { readConfigFile, type VendConfig } from '../functions/shared/config.ts';
import { ENV } from '../functions/shared/env.ts';
import { ConfigError } from '../functions/shared/errors.ts';

/** Lambda's limit on the total size of a function's environment variables (names and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What the other variables of a function may take at most once CloudFormation resolves them (table name, secret
 * and state machine ARNs, Powertools settings, NODE_OPTIONS): the configuration gets the rest of the 4 KiB.
 */
export const OTHER_VARIABLES_BUDGET_BYTES = 1024;

/** The configuration as the stack ships it: checked, and minified for the functions. */
export interface PipelineConfig {
  /** The file it came from. */
  readonly path: string;
  readonly config: VendConfig;
  /**
   * The file's JSON without whitespace, each policy's `file` replaced by its `document` (the functions have no
   * `policies/` folder): what the functions parse (they apply the defaults themselves).
   */
  readonly json: string;
  /** A file holding `json`, to bundle with the functions when it is too large for the environment. */
  readonly source: string;
}

/**
 * Reads and checks the configuration file with the functions' own parser, so that an invalid file fails
 * `cdk synth` with the same message (naming each key at fault) that the functions would log at cold start.
 * Refuses a Slack webhook URL in the file: on AWS it belongs in the secret, never in an environment variable.
 */
export function loadPipelineConfig(path: string): PipelineConfig {
  const config = readConfigFile(path);
  if (config.slack.webhookUrl) {
    throw new ConfigError(
      `${path} is invalid for deployment:\n  slack.webhookUrl: leave it out; after deploying, put the URL in the Slack webhook secret (see README, "Deploying to AWS")`,
    );
  }
  const raw = JSON.parse(readFileSync(path, 'utf8')) as {
    policies?: Record<string, Record<string, unknown>>;
  };
  const files = Object.entries(raw.policies ?? {}).filter(([, policy]) => policy.file !== undefined);
  if (files.length === 0) return { path, config, json: JSON.stringify(raw), source: path };
  for (const [name, policy] of files) {
    delete policy.file;
    policy.document = config.policies[name]?.document;
  }
  const json = JSON.stringify(raw);
  const source = join(mkdtempSync(join(tmpdir(), 'vend-config-')), basename(path));
  writeFileSync(source, json);
  return { path, config, json, source };
}

/** How the functions get the configuration: in `ENV.config`, or as a file bundled next to the handler. */
export type ConfigDelivery =
  | { readonly kind: 'environment'; readonly environment: Record<string, string> }
  | {
      readonly kind: 'bundled-file';
      readonly environment: Record<string, string>;
      /** Copy this file into each function's bundle under `fileName`. */
      readonly source: string;
      readonly fileName: string;
    };

/**
 * The configuration goes in `ENV.config` while it fits in Lambda's 4 KiB of environment beside the other
 * variables; a larger one is bundled with each function as a file that `ENV.configFile` points to (Lambda unpacks
 * the bundle in `/var/task`). Either way the functions read it with `configFromEnv`.
 */
export function configDelivery(
  pipeline: PipelineConfig,
  budget = LAMBDA_ENVIRONMENT_LIMIT_BYTES - OTHER_VARIABLES_BUDGET_BYTES,
): ConfigDelivery {
  const size = Buffer.byteLength(ENV.config) + Buffer.byteLength(pipeline.json);
  if (size <= budget) return { kind: 'environment', environment: { [ENV.config]: pipeline.json } };
  const fileName = basename(pipeline.path);
  return {
    kind: 'bundled-file',
    environment: { [ENV.configFile]: `/var/task/${fileName}` },
    source: pipeline.source,
    fileName,
  };
}
