import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/env.ts';
import { PipelineFunction } from '../../infra/constructs/pipeline-function.ts';
import { REPOSITORY_ROOT } from '../../infra/paths.ts';
import { configDelivery, loadPipelineConfig } from '../../infra/pipeline-config.ts';
import { synthVendStack } from './synth.ts';

const run = promisify(execFile);
const validConfig = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'vend.config.json'), 'utf8'));
// The copies live elsewhere: their policy files are the repository's.
for (const policy of Object.values(validConfig.policies as Record<string, { file?: string }>)) {
  if (policy.file) policy.file = join(REPOSITORY_ROOT, policy.file);
}
const directory = mkdtempSync(join(tmpdir(), 'vend-config-'));

function configFile(name: string, content: unknown): string {
  const path = join(directory, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

describe('the configuration file', () => {
  it('fails the synth of the CDK app, naming the key at fault', async () => {
    const bad = configFile('bad.json', {
      ...validConfig,
      organization: { ...validConfig.organization, allowedOrganizationalUnits: [] },
    });
    const synth = run('npx', ['tsx', join(REPOSITORY_ROOT, 'infra', 'app.ts')], {
      cwd: REPOSITORY_ROOT,
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ configFile: bad }),
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'vend-cdk-')),
      },
    });
    await expect(synth).rejects.toMatchObject({
      stderr: expect.stringMatching(/bad\.json is invalid:\n\s+organization\.allowedOrganizationalUnits: /),
    });
  });

  it('fails the stack on malformed JSON with the parser’s message', () => {
    expect(() =>
      synthVendStack({ configFile: configFile('broken.json', '{"organization": ') }, { bundle: false }),
    ).toThrow(/broken\.json: .*JSON/);
  });

  it('refuses a Slack webhook URL: on AWS it lives in the secret', () => {
    const withUrl = configFile('with-url.json', {
      ...validConfig,
      slack: { webhookUrl: 'https://hooks.slack.com/services/T0/B0/x' },
    });
    expect(() => synthVendStack({ configFile: withUrl }, { bundle: false })).toThrow(
      /slack\.webhookUrl: leave it out/,
    );
  });

  it('goes in the environment while it fits Lambda’s 4 KiB, else in a file bundled with each function', () => {
    const small = loadPipelineConfig(
      configFile('small.json', { organization: { allowedOrganizationalUnits: ['Sandbox'] } }),
    );
    expect(configDelivery(small)).toEqual({ kind: 'environment', environment: { [ENV.config]: small.json } });

    // The repository's configuration, its guardrail's document inlined (the functions have no policies/ folder).
    const shipped = loadPipelineConfig(join(REPOSITORY_ROOT, 'vend.config.json'));
    expect(JSON.parse(shipped.json).policies['vend-baseline-guardrails']).toMatchObject({
      document: { Version: '2012-10-17' },
    });
    expect(JSON.parse(shipped.json).policies['vend-baseline-guardrails'].file).toBeUndefined();
    const delivery = configDelivery(shipped);
    expect(delivery.kind).toBe('bundled-file');
    if (delivery.kind === 'bundled-file')
      expect(JSON.parse(readFileSync(delivery.source, 'utf8'))).toEqual(JSON.parse(shipped.json));

    const roles = Array.from({ length: 30 }, (_, index) => ({
      name: `Role${index}`,
      description: 'A role with a long description to make the configuration larger than Lambda allows',
      trustedAccountId: '111111111111',
    }));
    const large = loadPipelineConfig(
      configFile('large.json', {
        ...validConfig,
        baseline: { ...validConfig.baseline, roles: [...validConfig.baseline.roles, ...roles] },
      }),
    );
    expect(Buffer.byteLength(large.json)).toBeGreaterThan(4096);
    expect(configDelivery(large)).toEqual({
      kind: 'bundled-file',
      environment: { [ENV.configFile]: '/var/task/large.json' },
      source: large.source,
      fileName: 'large.json',
    });
  });

  it('bundled as a file, sits next to the handler in the function’s asset', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'vend-cdk-'));
    const stack = new Stack(new App({ outdir }), 'BundleTest', { env: { region: 'us-east-1' } });
    const source = configFile('bundled.json', validConfig);
    const fn = new PipelineFunction(stack, 'Fn', {
      entry: join(REPOSITORY_ROOT, 'functions', 'check-account-creation', 'handler.ts'),
      name: 'check-account-creation',
      description: 'test',
      environment: {},
      timeout: Duration.seconds(10),
      logRetention: RetentionDays.ONE_DAY,
      logLevel: 'INFO',
      metricsNamespace: 'Vend',
      bundledFiles: [{ source, fileName: 'vend.config.json' }],
    });
    const code = (
      Template.fromStack(stack).toJSON() as {
        Resources: Record<string, { Properties: { Code?: { S3Key: string } } }>;
      }
    ).Resources[stack.getLogicalId(fn.function.node.defaultChild as never)]!.Properties.Code!;
    const assetPath = `asset.${code.S3Key.replace(/\.zip$/, '')}`;
    expect(existsSync(join(outdir, assetPath, 'index.mjs'))).toBe(true);
    expect(JSON.parse(readFileSync(join(outdir, assetPath, 'vend.config.json'), 'utf8'))).toEqual(
      validConfig,
    );
  });
});

describe('the region', () => {
  it('must be us-east-1, where Organizations delivers its events', () => {
    expect(() => synthVendStack({ env: { region: 'eu-west-1' } }, { bundle: false })).toThrow(
      /deploy Vend to us-east-1 \(got eu-west-1\).*only to the us-east-1 default event bus/,
    );
  });
});

describe('the organization and the vendable OUs', () => {
  it('take the ids given at synth instead of parameters, exactly in every condition and resource', () => {
    const ouConfig = configFile('ou-ids.json', {
      ...validConfig,
      organization: {
        ...validConfig.organization,
        allowedOrganizationalUnits: ['ou-ab12-11111111', 'Workloads/Dev'],
      },
      naming: { ...validConfig.naming, prefixes: {} },
      // Profiles and grants name OUs by path; this file names one by id only.
      profiles: {},
      access: {},
    });
    const { stack } = synthVendStack(
      {
        configFile: ouConfig,
        organizationId: 'o-abcdefghij',
        organizationalUnitIds: { 'Workloads/Dev': 'ou-ab12-22222222' },
      },
      { bundle: false },
    );
    const template = Template.fromStack(stack);
    expect(
      Object.keys(template.toJSON().Parameters ?? {}).filter((name) => !name.startsWith('BootstrapVersion')),
    ).toEqual([]);
    const policies = JSON.stringify(template.toJSON().Resources);
    expect(policies).toContain('"aws:ResourceOrgID":"o-abcdefghij"');
    expect(policies).toContain(
      '"aws:ResourceOrgPaths":["o-abcdefghij/*/ou-ab12-11111111/*","o-abcdefghij/*/ou-ab12-22222222/*"]',
    );
    expect(policies).toContain(':ou/o-abcdefghij/ou-ab12-11111111"');
    expect(policies).toContain(':ou/o-abcdefghij/ou-ab12-22222222"');
  });

  it('refuse a DNS hub role named like the generic access role, which is denied in the hub', () => {
    const same = configFile('same-role.json', {
      ...validConfig,
      dns: { ...validConfig.dns, roleName: validConfig.organization.accessRoleName },
    });
    expect(() => synthVendStack({ configFile: same }, { bundle: false })).toThrow(
      /dns\.roleName \(OrganizationAccountAccessRole\) is organization\.accessRoleName/,
    );
  });
});

describe('Identity Center without its identity store id', () => {
  it('lets grant-access and drift list instances to find it, and passes cdk-nag with the findings acknowledged', () => {
    const { identityStoreId: _, ...identityCenter } = validConfig.identityCenter;
    const file = configFile('no-store-id.json', { ...validConfig, identityCenter });
    const { stack } = synthVendStack({ configFile: file }, { bundle: false });

    const statements = (folder: string) =>
      (
        Template.fromStack(stack).toJSON().Resources[
          stack.getLogicalId(
            stack.functions[folder]!.role.node.findChild('DefaultPolicy').node.defaultChild as never,
          )
        ] as {
          Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } };
        }
      ).Properties.PolicyDocument.Statement;
    for (const folder of ['grant-access', 'drift']) {
      const lists = statements(folder).find((statement) =>
        [statement.Action].flat().includes('sso:ListInstances'),
      );
      expect(lists?.Resource, folder).toBe('*');
      const lookups = statements(folder).find((statement) =>
        [statement.Action].flat().includes('identitystore:GetUserId'),
      );
      expect(JSON.stringify(lookups?.Resource), folder).toContain(':identitystore/*');
    }
    expect(statements('apply-budget').some((s) => [s.Action].flat().includes('sso:ListInstances'))).toBe(
      false,
    );
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.flatMap((violation) => violation.violatingResources)).toEqual([]);
  });
});
