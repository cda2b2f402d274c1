/** `secrets-dr deploy synth`: CloudFormation templates for every plan Region (deploy/, AWS CDK), offline. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { defineCommand, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson } from '../output.js';
import { envValue } from '../../worker/config.js';

type DeployModule = typeof import('../../deploy/app.js');

/** The CDK app needs aws-cdk-lib and esbuild, which only the development tree has. */
async function loadDeploy(): Promise<DeployModule> {
  try {
    return (await import(pathToFileURL(resolve(import.meta.dirname, '../../deploy/app.js')).href)) as DeployModule;
  } catch (err) {
    throw new OperatorError(
      ErrorType.ConfigInvalid,
      `deploy synth needs the development tree (aws-cdk-lib, esbuild): run it from a clone of secrets-dr with \`npm run deploy:synth -- -f PLAN\` (${(err as Error).message.split('\n')[0]})`,
    );
  }
}

export const deploySynthCommand = defineCommand({
  words: ['deploy', 'synth'],
  summary: 'write CloudFormation templates (AWS CDK) for every plan Region: worker on ECS Fargate, recovery rules → receiver Lambda',
  examples: [
    'secrets-dr deploy synth --image 123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/secrets-dr:1.0 --temporal-address my-ns.a1b2c.tmprl.cloud:7233 --temporal-namespace my-ns.a1b2c',
    'secrets-dr deploy synth -f payments.yaml --image IMAGE --temporal-address HOST:7233 --temporal-namespace NS --workers 3 --out cdk.out',
  ],
  options: {
    ...PLAN_OPTION,
    image: { type: 'string', placeholder: 'URI', description: 'the worker image (built from the Dockerfile, pushed to ECR)' },
    'temporal-address': { type: 'string', placeholder: 'HOST:PORT', description: 'the Temporal frontend the workers connect to' },
    'temporal-namespace': { type: 'string', placeholder: 'NS', description: 'the Temporal namespace' },
    'temporal-api-key-secret': {
      type: 'string',
      placeholder: 'NAME',
      description: 'the Secrets Manager secret holding the Temporal API key (default secrets-dr/PLAN/temporal-api-key)',
    },
    workers: {
      type: 'string',
      placeholder: 'N',
      description: "worker tasks per Region, 1-10 (default 2); one runs the Region's AWS calls (it holds the write lease), the others stand by",
    },
    out: { type: 'string', placeholder: 'DIR', description: 'where the templates are written (default deploy/cdk.out of the package)' },
  },
  schema: z.object({
    plan: z.string(),
    json: z.boolean(),
    image: z.string({ error: "--image: expected the worker image URI (docker build -t ... from the repository's Dockerfile, pushed to ECR)" }).min(1),
    'temporal-address': z
      .string({ error: '--temporal-address: expected HOST:PORT of Temporal (e.g. my-ns.a1b2c.tmprl.cloud:7233)' })
      .regex(/^[^\s:]+:\d+$/, { error: 'expected HOST:PORT' }),
    'temporal-namespace': z.string({ error: '--temporal-namespace: expected the Temporal namespace' }).min(1),
    'temporal-api-key-secret': z.string().min(1).optional(),
    workers: z.coerce.number().int().min(1).max(10).default(2),
    out: z.string().optional(),
    positionals: z.array(z.string()).max(0, { error: 'deploy synth takes no arguments' }),
  }),
  async run(opts, io) {
    const { path, plan } = loadPlanFile(opts.plan);
    const deploy = await loadDeploy();
    const result = await deploy.synth(
      plan,
      readFileSync(path, 'utf8'),
      {
        image: opts.image,
        temporalAddress: opts['temporal-address'],
        temporalNamespace: opts['temporal-namespace'],
        temporalApiKeySecret: opts['temporal-api-key-secret'] ?? `secrets-dr/${plan.name}/temporal-api-key`,
        taskQueuePrefix: envValue('SECRETS_DR_TASK_QUEUE_PREFIX'),
        workerCount: opts.workers,
      },
      opts.out ? resolve(opts.out) : deploy.DEFAULT_OUT,
    );
    if (io.json) printJson(io, result);
    else {
      io.out(`CloudFormation templates for plan ${plan.name} in ${result.outDir}:`);
      for (const s of result.stacks) io.out(`  ${s.region}: ${s.stackName} (${s.template})`);
      io.out(`deploy each with: npx cdk deploy --app ${result.outDir} ${result.stacks.map((s) => s.stackName).join(' ')}`);
    }
    return ExitCode.Ok;
  },
});
