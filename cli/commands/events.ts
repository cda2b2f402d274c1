/**
 * `secrets-dr events install|uninstall|schema`.
 * install: in every plan Region, an API-key connection, an API destination pointing at the
 * receiver, and rules for the plan's CloudWatch alarms (ALARM) and AWS Health issues for Secrets
 * Manager targeting it — through the eventsInstall workflow (AWS calls only in activities).
 * Idempotent; uninstall removes exactly what install made. The API key itself never reaches
 * Temporal: the workers read SECRETS_DR_RECEIVER_API_KEY, the CLI only checks its fingerprint.
 * On the local stack (`lab up`), the receiver URL and key come from `lab env`, and the plan is
 * copied into the stack's plans directory, where the lab's receiver finds it.
 * schema: the JSON Schema of every event secrets-dr publishes.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../../domain/errors.js';
import { eventJsonSchemas } from '../../domain/events.js';
import type { EventsInstallInput, EventsInstallReport } from '../../domain/events-install.js';
import { eventsInstallWorkflowId, workflowTaskQueue } from '../../domain/ids.js';
import type { Plan } from '../../domain/plan.js';
import { readStack, stackHome } from '../../lab/stack.js';
import { defineCommand, PLAN_ONLY_SCHEMA, PLAN_OPTION } from '../command.js';
import { loadPlanFile } from '../plan-file.js';
import { printJson, type Io } from '../output.js';
import { type Connected, withTemporal } from '../temporal.js';
import { envValue } from '../../worker/config.js';
import type { eventsInstallWorkflow } from '../../workflows/events-install.workflow.js';

export async function runEventsInstall(c: Connected, input: Omit<EventsInstallInput, 'taskQueuePrefix'>): Promise<EventsInstallReport> {
  const prefix = c.env.SECRETS_DR_TASK_QUEUE_PREFIX;
  return c.client.workflow.execute<typeof eventsInstallWorkflow>('eventsInstallWorkflow', {
    taskQueue: workflowTaskQueue(prefix),
    workflowId: eventsInstallWorkflowId(input.plan.name),
    args: [{ ...input, taskQueuePrefix: prefix }],
    workflowExecutionTimeout: '5m',
  });
}

export const fingerprintOf = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 16);

function render(report: EventsInstallReport, io: Io): ExitCode {
  if (io.json) printJson(io, report);
  else {
    io.out(`events ${report.action} for plan ${report.plan}${report.endpoint ? ` → ${report.endpoint} (header ${report.apiKeyHeader})` : ''}`);
    for (const r of report.regions) {
      if (r.error) {
        io.out(`  ${r.region}: FAILED: ${r.error}`);
        continue;
      }
      const parts = [
        r.created.length ? `created ${r.created.join(', ')}` : '',
        r.updated.length ? `updated ${r.updated.join(', ')}` : '',
        r.removed.length ? `removed ${r.removed.join(', ')}` : '',
        r.unchanged.length ? `${r.unchanged.length} unchanged` : '',
      ].filter(Boolean);
      io.out(`  ${r.region}: ${parts.join('; ') || 'nothing to do'}`);
    }
  }
  return report.regions.some((r) => r.error) ? ExitCode.NeedsAttention : ExitCode.Ok;
}

/** The local stack's receiver serves the plans in its plans directory. */
function shareWithLabReceiver(planPath: string, plan: Plan, receiverUrl: string): boolean {
  const stack = readStack(stackHome());
  if (!stack?.receiverUrl || stack.receiverUrl !== receiverUrl || !stack.plansDir) return false;
  mkdirSync(stack.plansDir, { recursive: true });
  copyFileSync(planPath, join(stack.plansDir, `${plan.name}.yaml`));
  return true;
}

export const eventsInstallCommand = defineCommand({
  words: ['events', 'install'],
  summary: 'create, in every plan Region, the EventBridge rules and API destination that feed recover (idempotent)',
  examples: [
    'secrets-dr events install --receiver-url https://receiver.example.com',
    'secrets-dr events install -f payments.yaml --receiver-url https://receiver.example.com --role-arn arn:aws:iam::123456789012:role/secrets-dr-events',
  ],
  options: {
    ...PLAN_OPTION,
    'receiver-url': {
      type: 'string',
      placeholder: 'URL',
      description: 'where EventBridge delivers events: the `secrets-dr receiver` (default SECRETS_DR_RECEIVER_URL)',
    },
    'api-key': {
      type: 'string',
      placeholder: 'KEY',
      description: 'the API key the connection sends, 16+ characters (default SECRETS_DR_RECEIVER_API_KEY; prefer the variable: arguments show in ps)',
    },
    'role-arn': { type: 'string', placeholder: 'ARN', description: 'the IAM role EventBridge assumes to call the API destination' },
  },
  schema: z.object({
    plan: z.string(),
    'receiver-url': z.string().url({ error: '--receiver-url must be a URL such as https://receiver.example.com' }).optional(),
    'api-key': z.string().min(16, { error: 'the API key must have at least 16 characters' }).optional(),
    'role-arn': z.string().startsWith('arn:').optional(),
    json: z.boolean(),
    positionals: z.array(z.string()).max(0),
  }),
  async run(opts, io) {
    const { path, plan } = loadPlanFile(opts.plan);
    const receiverUrl = opts['receiver-url'] ?? envValue('SECRETS_DR_RECEIVER_URL');
    if (!receiverUrl) throw new OperatorError(ErrorType.UsageError, 'where is the receiver? --receiver-url URL (or SECRETS_DR_RECEIVER_URL; `lab up` sets it)');
    const key = opts['api-key'] ?? envValue('SECRETS_DR_RECEIVER_API_KEY');
    return withTemporal({ worker: true }, async (c) => {
      const report = await runEventsInstall(c, {
        plan,
        action: 'install',
        receiverUrl,
        apiKeyFingerprint: key ? fingerprintOf(key) : undefined,
        roleArn: opts['role-arn'],
      });
      if (shareWithLabReceiver(path, plan, receiverUrl) && !io.json) io.out(`  (the local stack's receiver now serves plan ${plan.name})`);
      return render(report, io);
    });
  },
});

export const eventsUninstallCommand = defineCommand({
  words: ['events', 'uninstall'],
  summary: 'remove what `events install` created, in every plan Region',
  examples: ['secrets-dr events uninstall -f payments.yaml'],
  options: { ...PLAN_OPTION },
  schema: PLAN_ONLY_SCHEMA,
  async run(opts, io) {
    const { plan } = loadPlanFile(opts.plan);
    return withTemporal({ worker: true }, async (c) => {
      return render(await runEventsInstall(c, { plan, action: 'uninstall' }), io);
    });
  },
});

export const eventsSchemaCommand = defineCommand({
  words: ['events', 'schema'],
  summary: 'the JSON Schema of every event secrets-dr publishes (source "secrets-dr")',
  examples: ['secrets-dr events schema > secrets-dr-events.schema.json'],
  options: {},
  schema: z.object({ json: z.boolean(), positionals: z.array(z.string()).max(0) }),
  async run(_opts, io) {
    io.out(JSON.stringify(eventJsonSchemas(), null, 2));
    return ExitCode.Ok;
  },
});
