/**
 * The CDK app: one stack per plan Region (deploy/region-stack.ts), synthesized offline into
 * CloudFormation templates. `secrets-dr deploy synth -f plan.yaml` or `npm run deploy:synth -- -f plan.yaml`.
 * The receiver's Lambda handler is bundled with esbuild first (one ESM file, no dev tree needed).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import type { Plan } from '../domain/plan.js';
import { planRegions } from '../domain/plan.js';
import { RegionStack, type DeployOptions } from './region-stack.js';

/** The repository root, from dist/deploy/app.js or deploy/app.ts. */
const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), fileURLToPath(import.meta.url).includes('/dist/') ? '../..' : '..');

export const DEFAULT_OUT = join(REPO, 'deploy', 'cdk.out');

export interface SynthResult {
  outDir: string;
  stacks: Array<{ region: string; stackName: string; template: string }>;
}

export function stackName(plan: Plan, region: string): string {
  return `secrets-dr-${plan.name}-${region}`.replace(/[^A-Za-z0-9-]/g, '-');
}

/** Bundles cli/lambda-handler into one ESM file for the Lambda runtime. */
async function bundleReceiver(outDir: string): Promise<string> {
  const dir = join(outDir, '.receiver');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const built = join(REPO, 'dist', 'cli', 'lambda-handler.js');
  await build({
    entryPoints: [built],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    outfile: join(dir, 'index.mjs'),
    // CommonJS dependencies (grpc-js, protobufjs) call require(): give the ESM bundle one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
    legalComments: 'none',
  });
  return dir;
}

export async function synth(plan: Plan, planText: string, options: DeployOptions, outDir = DEFAULT_OUT): Promise<SynthResult> {
  mkdirSync(outDir, { recursive: true });
  const receiverCodeDir = await bundleReceiver(outDir);
  const app = new App({ outdir: outDir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = planRegions(plan).map((region) => {
    const name = stackName(plan, region);
    new RegionStack(app, name, {
      stackName: name,
      env: { region },
      plan,
      planText,
      region,
      options,
      receiverCodeDir,
      description: `secrets-dr ${plan.name}: worker and recovery path in ${region}`,
    });
    return { region, stackName: name, template: join(outDir, `${name}.template.json`) };
  });
  app.synth();
  return { outDir, stacks };
}
