import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { VendStack, type VendStackProps } from '../../infra/vend-stack.ts';

/**
 * A Vend stack in a fresh app whose cloud assembly goes to a temporary directory (never the repository's cdk.out).
 * `bundle: false` skips esbuild (CDK's `aws:cdk:bundling-stacks` context): the template is the same but for the
 * asset hashes, in a fraction of the time.
 */
export function synthVendStack(props: VendStackProps = {}, options: { bundle?: boolean } = {}) {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'vend-cdk-')),
    context: options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {},
  });
  const stack = new VendStack(app, 'VendTest', {
    env: { account: '000000000000', region: 'us-east-1' },
    ...props,
  });
  return { app, stack };
}

/** A template's resources of one type, by logical id. */
export function resourcesOfType(
  template: { toJSON(): Record<string, unknown> },
  type: string,
): Record<string, { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }> {
  const resources = (template.toJSON() as { Resources: Record<string, { Type: string }> }).Resources;
  return Object.fromEntries(
    Object.entries(resources).filter(([, resource]) => resource.Type === type),
  ) as never;
}
