/** `secrets-dr lab up|down|env|status|fault|reset`: the local AWS lab and the local stack. */
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { RegionListText } from '../../domain/regions.js';
import { LabApiError, LabClient } from '../../lab/client.js';
import { PolicyError } from '../../lab/iam/policy.js';
import { loadPolicyBindings } from '../../lab/iam/policy-files.js';
import { ROTATION_STEPS } from '../../lab/secrets-manager/rotation-runner.js';
import { INCIDENT_ERRORS, isIncidentError } from '../../lab/incident-errors.js';
import { exportLines, isAlive, readStack, stackDown, stackEnv, stackHome, stackUp, StackError } from '../../lab/stack.js';
import { defineCommand } from '../command.js';
import { printJson, type Io } from '../output.js';

export const labUpCommand = defineCommand({
  words: ['lab', 'up'],
  summary: 'start the lab, a Temporal dev server and a worker in the background; prints export lines to eval',
  examples: [
    'eval "$(secrets-dr lab up)"',
    'eval "$(secrets-dr lab up --regions ap-northeast-1,ap-northeast-3 --state lab-state.json)"',
    'secrets-dr iam-policy --role worker -f secrets-dr.yaml > worker.json && eval "$(secrets-dr lab up --iam-policy worker.json)"',
  ],
  options: {
    port: { type: 'string', placeholder: 'N', description: "the lab's port (default: a free one)" },
    regions: { type: 'string', placeholder: 'R1,R2', description: 'the Regions the lab serves, comma-separated' },
    state: { type: 'string', placeholder: 'FILE', description: "keep the lab's secrets in this file across restarts" },
    'iam-policy': {
      type: 'string',
      multiple: true,
      placeholder: '[ACCESS_KEY_ID=]FILE',
      description: "enforce an IAM policy (JSON) on every lab request: of every caller, or of one access key; repeatable (a key's policies combine)",
    },
    'no-temporal': { type: 'boolean', default: false, description: 'start only the lab (no Temporal dev server, no worker)' },
    'no-worker': { type: 'boolean', default: false, description: 'start the lab and Temporal, but no worker' },
  },
  schema: z.object({
    port: z.coerce.number().int().min(1).max(65535).optional(),
    regions: RegionListText,
    state: z.string().optional(),
    'iam-policy': z.array(z.string()).default([]),
    'no-temporal': z.boolean(),
    'no-worker': z.boolean(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts, io) {
    try {
      loadPolicyBindings(opts['iam-policy']); // every file read and checked before anything starts
    } catch (err) {
      if (err instanceof PolicyError) throw new OperatorError(ErrorType.UsageError, err.message);
      throw err;
    }
    let info;
    try {
      info = await stackUp(
        {
          port: opts.port,
          regions: opts.regions,
          statePath: opts.state,
          iamPolicies: opts['iam-policy'],
          temporal: !opts['no-temporal'],
          worker: !opts['no-worker'] && !opts['no-temporal'],
        },
        (line) => io.err(`lab up: ${line}`),
      );
    } catch (err) {
      if (err instanceof StackError) throw new OperatorError(ErrorType.StackUnavailable, err.message, [], ExitCode.Failed);
      throw err;
    }
    const env = stackEnv(info);
    if (io.json) printJson(io, { ...info, env });
    else {
      for (const l of exportLines(env)) io.out(l);
      io.err(
        `lab up: ready. Lab ${info.labUrl}${info.temporalUi ? `, Temporal UI ${info.temporalUi}` : ''}; logs in ${info.home}/logs. Stop with \`secrets-dr lab down\`.`,
      );
    }
    return ExitCode.Ok;
  },
});

export const labDownCommand = defineCommand({
  words: ['lab', 'down'],
  summary: 'stop everything `lab up` started',
  examples: ['secrets-dr lab down'],
  options: {},
  schema: z.object({ positionals: z.array(z.string()).max(0) }),
  async run(_opts, io) {
    const stopped = await stackDown();
    if (io.json) printJson(io, { stopped });
    else io.out(stopped.length ? `stopped ${stopped.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}` : 'no local stack was running');
    return ExitCode.Ok;
  },
});

function requireStack() {
  const info = readStack();
  if (!info)
    throw new OperatorError(
      ErrorType.StackUnavailable,
      `no local stack recorded in ${stackHome()}: start one with \`eval "$(secrets-dr lab up)"\``,
      [],
      ExitCode.Failed,
    );
  return info;
}

export const labEnvCommand = defineCommand({
  words: ['lab', 'env'],
  summary: 'print the export lines of the running local stack again',
  examples: ['eval "$(secrets-dr lab env)"'],
  options: {},
  schema: z.object({ positionals: z.array(z.string()).max(0) }),
  async run(_opts, io) {
    const env = stackEnv(requireStack());
    if (io.json) printJson(io, env);
    else for (const l of exportLines(env)) io.out(l);
    return ExitCode.Ok;
  },
});

export const labStatusCommand = defineCommand({
  words: ['lab', 'status'],
  summary: 'processes, Regions and active faults of the local stack',
  examples: ['secrets-dr lab status', 'secrets-dr lab status --json'],
  options: {},
  schema: z.object({ positionals: z.array(z.string()).max(0) }),
  async run(_opts, io) {
    const info = requireStack();
    const processes = info.processes.map((p) => ({ ...p, alive: isAlive(p.pid) }));
    const lab = await new LabClient(info.labUrl).status().catch((err: Error) => ({ error: err.message }));
    if (io.json) {
      printJson(io, { ...info, processes, lab });
      return ExitCode.Ok;
    }
    io.out(`local stack in ${info.home} (started ${info.startedAt})`);
    for (const p of processes) io.out(`  ${p.name.padEnd(8)} pid ${String(p.pid).padEnd(7)} ${p.alive ? 'running' : 'NOT RUNNING'}  log ${p.log}`);
    io.out(`  lab ${info.labUrl}; Temporal ${info.temporalAddress ?? '(not started)'}${info.temporalUi ? `, UI ${info.temporalUi}` : ''}`);
    if ('error' in lab) io.out(`  lab API: ${String(lab.error)}`);
    else {
      io.out(`  Regions: ${(lab.regions as string[]).join(', ')}`);
      io.out(`  faults: ${JSON.stringify(lab.faults)}`);
      io.out(`  secrets: ${JSON.stringify(lab.secrets)}`);
      const rotations = (lab.rotations ?? []) as Array<{ region: string; secretArn: string; nextStep: string; waiting?: string }>;
      io.out(`  rotation functions: ${String(lab.lambdaFunctions ?? 0)} (\`secrets-dr lab lambda list\`); rotations in flight: ${rotations.length}`);
      for (const r of rotations) io.out(`    ${r.region} ${r.secretArn}: next ${r.nextStep}${r.waiting ? ` — held: ${r.waiting}` : ''}`);
    }
    return processes.every((p) => p.alive) ? ExitCode.Ok : ExitCode.Failed;
  },
});

const FAULTS = [
  'outage',
  'latency',
  'replication-lag',
  'replication-pause',
  'throttle',
  'fail-next',
  'rotation-stall',
  'replica-delete-delay',
  'deny',
  'clear',
] as const;

/** The lab of `SECRETS_DR_LAB_URL`, else of the running local stack. */
function labClient(): LabClient {
  const c = LabClient.fromEnv() ?? (readStack() ? new LabClient(readStack()!.labUrl) : undefined);
  if (!c)
    throw new OperatorError(ErrorType.StackUnavailable, 'no lab: set SECRETS_DR_LAB_URL or start one with `eval "$(secrets-dr lab up)"`', [], ExitCode.Failed);
  return c;
}

/** A lab API call: a 400 is the operator's input (exit 2), anything else the lab's state (exit 1). */
export async function callLab<T>(fn: (lab: LabClient) => Promise<T>): Promise<T> {
  try {
    return await fn(labClient());
  } catch (err) {
    if (err instanceof OperatorError) throw err;
    const bad = err instanceof LabApiError && err.status === 400;
    throw new OperatorError(bad ? ErrorType.UsageError : ErrorType.StackUnavailable, (err as Error).message, [], bad ? ExitCode.BadInput : ExitCode.Failed);
  }
}

export const labFaultCommand = defineCommand({
  words: ['lab', 'fault'],
  summary: 'inject a fault: outage|latency|replication-lag|replication-pause|throttle|fail-next|rotation-stall|replica-delete-delay|deny|clear',
  args: 'KIND',
  examples: [
    'secrets-dr lab fault outage --region ap-northeast-1 --mode hang',
    'secrets-dr lab fault fail-next --region ap-northeast-3 --op StopReplicationToReplica --count 2',
    'secrets-dr lab fault clear',
  ],
  options: {
    region: {
      type: 'string',
      placeholder: 'REGION',
      description: 'the Region the fault applies to (every kind but clear needs it; clear without it clears all)',
    },
    mode: { type: 'string', description: 'outage: answer 5xx (error), refuse connections, or hang (default error)' },
    ms: { type: 'string', placeholder: 'MS', description: 'latency, replication-lag, replica-delete-delay: milliseconds' },
    jitter: { type: 'string', placeholder: 'MS', description: 'latency: random extra milliseconds, up to this' },
    group: { type: 'string', placeholder: 'GROUP', description: 'throttle: the quota group (default write)' },
    tps: { type: 'string', placeholder: 'N', description: 'throttle: the calls per second allowed' },
    op: { type: 'string', placeholder: 'OPERATION', description: 'fail-next, deny: the API operation (e.g. StopReplicationToReplica)' },
    count: { type: 'string', placeholder: 'N', description: 'fail-next: how many calls fail (default 1)' },
    error: {
      type: 'string',
      placeholder: 'TYPE',
      description: 'fail-next, deny: the error answered (deny: AccessDeniedException, ExpiredTokenException, UnrecognizedClientException, ThrottlingException)',
    },
    step: { type: 'string', description: 'rotation-stall: the rotation step that stalls' },
  },
  schema: z
    .object({
      positionals: z.tuple([z.enum(FAULTS, { error: `expected one of ${FAULTS.join(', ')}` })]),
      region: z.string().optional(),
      mode: z.enum(['refuse', 'error', 'hang']).optional(),
      ms: z.coerce.number().min(0).optional(),
      jitter: z.coerce.number().min(0).optional(),
      group: z.string().optional(),
      tps: z.coerce.number().gt(0).optional(),
      op: z.string().optional(),
      count: z.coerce.number().int().min(1).optional(),
      error: z.string().optional(),
      step: z.enum(ROTATION_STEPS, { error: `expected one of ${ROTATION_STEPS.join(', ')}` }).optional(),
    })
    .superRefine((o, ctx) => {
      const kind = o.positionals[0];
      if (kind !== 'clear' && !o.region) ctx.addIssue({ code: 'custom', path: ['region'], message: `lab fault ${kind} needs --region` });
      if ((kind === 'latency' || kind === 'replication-lag' || kind === 'replica-delete-delay') && o.ms === undefined)
        ctx.addIssue({ code: 'custom', path: ['ms'], message: `lab fault ${kind} needs --ms` });
      if (kind === 'throttle' && o.tps === undefined) ctx.addIssue({ code: 'custom', path: ['tps'], message: 'lab fault throttle needs --tps' });
      if (o.step !== undefined && kind !== 'rotation-stall')
        ctx.addIssue({ code: 'custom', path: ['step'], message: '--step goes with lab fault rotation-stall' });
      if (kind === 'fail-next' && !o.op)
        ctx.addIssue({ code: 'custom', path: ['op'], message: 'lab fault fail-next needs --op (e.g. StopReplicationToReplica)' });
      if (kind === 'deny' && o.error !== undefined && !isIncidentError(o.error)) {
        ctx.addIssue({ code: 'custom', path: ['error'], message: `lab fault deny --error must be one of ${INCIDENT_ERRORS.join(', ')}, got ${o.error}` });
      }
    }),
  async run(opts, io) {
    const { positionals, ...rest } = opts;
    const body = Object.fromEntries(Object.entries(rest).filter(([k, v]) => v !== undefined && k !== 'json' && k !== 'help' && k !== 'profile'));
    try {
      const r = await labClient().fault(positionals[0], body);
      if (io.json) printJson(io, r);
      else io.out(`lab fault ${positionals[0]}: ok ${JSON.stringify(body)}`);
      return ExitCode.Ok;
    } catch (err) {
      throw new OperatorError(ErrorType.StackUnavailable, (err as Error).message, [], ExitCode.Failed);
    }
  },
});

export const labResetCommand = defineCommand({
  words: ['lab', 'reset'],
  summary: 'drop all lab state and faults',
  examples: ['secrets-dr lab reset'],
  options: {},
  schema: z.object({ positionals: z.array(z.string()).max(0) }),
  async run(_opts, io: Io) {
    await labClient()
      .reset()
      .catch((err: Error) => {
        throw new OperatorError(ErrorType.StackUnavailable, err.message, [], ExitCode.Failed);
      });
    io.out('lab reset: all state and faults dropped');
    return ExitCode.Ok;
  },
});
