/**
 * `secrets-dr lab lambda create|list|delete`: rotation functions in the lab, per Region. RotateSecret
 * in the lab invokes them as AWS invokes a rotation Lambda (four steps after the answer); a
 * RotationLambdaARN that names no lab function answers AccessDeniedException, as on AWS.
 */
import { z } from 'zod';
import { ExitCode } from '../../domain/errors.js';
import { isKnownRegion } from '../../domain/regions.js';
import { DEFAULT_STEP_DELAY_MS, ROTATION_KINDS, type LabFunction } from '../../lab/lambda/functions.js';
import { defineCommand } from '../command.js';
import { printJson, type Io } from '../output.js';
import { callLab } from './lab.js';

const Region = z.string({ error: 'needs --region R' }).refine(isKnownRegion, { error: (i) => `unknown AWS Region "${String(i.input)}"` });
const Name = z.string({ error: 'needs --name N' }).regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'a function name is 1-64 letters, digits, hyphens or underscores' });

function describeFunction(f: LabFunction): string {
  return `${f.arn}  ${f.kind}, steps ${f.stepDelayMs} ms apart (lab clock)`;
}

export const labLambdaCreateCommand = defineCommand({
  words: ['lab', 'lambda', 'create'],
  summary: 'create a rotation function in the lab (RotateSecret then runs its four steps)',
  examples: [
    'secrets-dr lab lambda create --region ap-northeast-3 --name rotate-payments',
    'secrets-dr lab lambda create --region ap-northeast-1 --name rotate-slow --step-delay 2000',
  ],
  options: {
    region: { type: 'string', placeholder: 'REGION', description: 'the lab Region of the function' },
    name: { type: 'string', placeholder: 'NAME', description: 'the function name' },
    kind: { type: 'string', description: 'which rotation it performs (default rotation-single-user)' },
    'step-delay': { type: 'string', placeholder: 'MS', description: `milliseconds between its four steps (default ${DEFAULT_STEP_DELAY_MS})` },
  },
  schema: z.object({
    region: Region,
    name: Name,
    kind: z.enum(ROTATION_KINDS, { error: `expected one of ${ROTATION_KINDS.join(', ')}` }).default('rotation-single-user'),
    'step-delay': z
      .string()
      .regex(/^\d+(\.\d+)?$/, { error: 'expected milliseconds (a non-negative number)' })
      .transform(Number)
      .default(DEFAULT_STEP_DELAY_MS),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
  }),
  async run(opts, io: Io) {
    const f = await callLab((lab) => lab.createFunction({ region: opts.region, name: opts.name, kind: opts.kind, stepDelayMs: opts['step-delay'] }));
    if (io.json) printJson(io, f);
    else io.out(`created ${describeFunction(f)}`);
    return ExitCode.Ok;
  },
});

export const labLambdaListCommand = defineCommand({
  words: ['lab', 'lambda', 'list'],
  summary: "the lab's rotation functions",
  examples: ['secrets-dr lab lambda list', 'secrets-dr lab lambda list --region ap-northeast-3 --json'],
  options: { region: { type: 'string', placeholder: 'REGION', description: 'only the functions of this Region' } },
  schema: z.object({ region: Region.optional(), json: z.boolean(), positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }) }),
  async run(opts, io: Io) {
    const functions = await callLab((lab) => lab.listFunctions(opts.region));
    if (io.json) printJson(io, { functions });
    else if (functions.length === 0)
      io.out(`no functions${opts.region ? ` in ${opts.region}` : ''}: create one with \`secrets-dr lab lambda create --region R --name N\``);
    else for (const f of functions) io.out(describeFunction(f));
    return ExitCode.Ok;
  },
});

export const labLambdaDeleteCommand = defineCommand({
  words: ['lab', 'lambda', 'delete'],
  summary: 'delete a rotation function from the lab (RotateSecret naming it then fails with AccessDeniedException)',
  examples: ['secrets-dr lab lambda delete --region ap-northeast-3 --name rotate-payments'],
  options: {
    region: { type: 'string', placeholder: 'REGION', description: 'the lab Region of the function' },
    name: { type: 'string', placeholder: 'NAME', description: 'the function name' },
  },
  schema: z.object({ region: Region, name: Name, json: z.boolean(), positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }) }),
  async run(opts, io: Io) {
    await callLab((lab) => lab.deleteFunction(opts.region, opts.name));
    if (io.json) printJson(io, { deleted: { region: opts.region, name: opts.name } });
    else io.out(`deleted function ${opts.name} in ${opts.region}`);
    return ExitCode.Ok;
  },
});
