/**
 * Confirmation before a destructive command, on a real pseudo-terminal (Python's pty module runs
 * the built CLI): the right Region typed starts the failover; a wrong one exits 2 and starts
 * nothing (checked on the dev server); without a terminal nothing is asked and the approval gate
 * governs (exit 4); --yes answers only the prompt, so the gate still waits.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { failbackWorkflowId, failoverWorkflowId, restoreWorkflowId, setupWorkflowId } from '../../domain/ids.js';
import { eventually, LAB_ONLY, onAws, startHarness, type Harness } from '../support/integration.js';
import { historyText } from '../support/leaks.js';
import { CLI_BIN, requireBuilt } from '../support/worker-process.js';
import { approvalUpdate } from '../../workflows/kit/control.messages.js';
import { failoverProgressQuery } from '../../workflows/failover.messages.js';

const PTY = fileURLToPath(new URL('../support/pty-run.py', import.meta.url));
const PROMPT = 'type the Region';
let h: Harness;
const values: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-confirm-'));

beforeAll(async () => {
  requireBuilt();
  h = await startHarness('confirm');
});
afterAll(async () => {
  await h?.close();
});

/** A replicated fleet of 3 under its own plan (one failover per plan); returns the plan file. */
async function fleet(tag: string, requireApproval: boolean): Promise<{ file: string; plan: string; names: string[] }> {
  const prefix = `${h.names}${tag}/`;
  const names = [0, 1, 2].map((i) => `${prefix}s${i}`);
  await h.lab!.seed(
    h.primaryRegion,
    names.map((name) => {
      const value = `confirm-${randomBytes(12).toString('hex')}`;
      values.push(value);
      return { name, value, replicaRegions: [h.drRegion] };
    }),
  );
  await eventually('replicas', async () => ((await h.lab!.status()).pendingReplications === 0 ? true : undefined));
  const plan = `${h.plan().name}-${tag}`;
  const file = join(dir, `${tag}.yaml`);
  writeFileSync(
    file,
    `name: ${plan}\nprimaryRegion: ${h.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${prefix}" }]\nfailover:\n  requireApproval: ${requireApproval}\n`,
  );
  return { file, plan, names };
}

const cliEnv = () => ({ ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: h.prefix, NO_COLOR: '1' });

/** Runs a child without blocking this process (its in-process workers must keep working). */
function run(cmd: string, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // stdin: a pipe that stays open and silent; without a terminal, anything that waited for input would hang.
    const child = spawn(cmd, args, { env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (out += String(d)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the CLI hung:\n${out}`));
    }, 100_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The CLI on a pseudo-terminal; `answer` is typed when the prompt shows (undefined: never). */
const onTerminal = (args: string[], answer?: string) =>
  run('python3', [PTY, JSON.stringify([process.execPath, CLI_BIN, ...args]), answer === undefined ? '' : PROMPT, answer ?? '', '90']);
const withoutTerminal = (args: string[]) => run(process.execPath, [CLI_BIN, ...args]);

const standalone = async (name: string) => !(await h.sm(h.drRegion).send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion;
async function notStarted(plan: string, workflowId = failoverWorkflowId(plan)): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(workflowId).describe();
    return false;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return true;
    throw err;
  }
}
const atGate = async (plan: string) => (await h.client.workflow.getHandle(failoverWorkflowId(plan)).query(failoverProgressQuery)).step === 'awaitingApproval';

describe.skipIf(onAws)(`failover asks for the Region on a terminal (${LAB_ONLY})`, () => {
  it('the right Region typed: the preview, then the failover runs', async () => {
    const { file, plan, names } = await fleet('right', false);
    const r = await onTerminal(['failover', '--to', h.drRegion, '--mode', 'unplanned', '--wait', '-f', file], h.drRegion);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(`failover of plan ${plan}: ${h.primaryRegion} → ${h.drRegion} (unplanned)`);
    expect(r.out).toContain(`${h.drRegion}: 3 replica(s) become standalone secrets`);
    expect(r.out).toMatch(/expected time from the quota: \d/);
    expect(r.out).toContain(`type the Region (${h.drRegion}):`);
    expect(r.out).toContain(`confirmed: fail over to ${h.drRegion}`);
    expect(r.out).toMatch(/DONE/);
    for (const n of names) expect(await standalone(n)).toBe(true);
    for (const v of values) expect(r.out).not.toContain(v);
    const history = historyText(await h.client.workflow.getHandle(failoverWorkflowId(plan)).fetchHistory());
    expect(history, 'positive control: the scan reads payloads').toContain(names[0]);
    for (const v of values) expect(history).not.toContain(v);
  });

  it('a wrong Region typed: exit 2, no failover workflow on the server, nothing promoted', async () => {
    const { file, plan, names } = await fleet('wrong', false);
    const r = await onTerminal(['failover', '--to', h.drRegion, '--mode', 'unplanned', '--wait', '-f', file], h.primaryRegion);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain(`aborted ("${h.primaryRegion}" is not ${h.drRegion}): nothing was started`);
    expect(await notStarted(plan)).toBe(true);
    for (const n of names) expect(await standalone(n)).toBe(false);
  });

  it("--yes without --approve: no question, and the plan's approval gate waits (exit 4)", async () => {
    const { file, plan } = await fleet('yes', true);
    const r = await onTerminal(['failover', '--to', h.drRegion, '--mode', 'unplanned', '--yes', '-f', file]);
    expect(r.code, r.out).toBe(4);
    expect(r.out).not.toContain(PROMPT);
    expect(r.out).toContain(`waiting for approval: secrets-dr approve ${failoverWorkflowId(plan)}`);
    expect(await atGate(plan)).toBe(true);
    await h.client.workflow.getHandle(failoverWorkflowId(plan)).executeUpdate(approvalUpdate, { args: [{ decision: 'reject', reason: 'test', by: 'test' }] });
  });
});

describe.skipIf(onAws)(`failback asks for the Region it writes into (${LAB_ONLY})`, () => {
  it('after a failover: a wrong Region starts no failback; the right one fails back', async () => {
    const { file, plan, names } = await fleet('back', false);
    const over = await withoutTerminal(['failover', '--to', h.drRegion, '--mode', 'unplanned', '--wait', '-f', file]);
    expect(over.code, over.out).toBe(0);

    const wrong = await onTerminal(['failback', '--wait', '-f', file], h.drRegion);
    expect(wrong.code, wrong.out).toBe(2);
    expect(wrong.out).toContain(`failback of plan ${plan}: ${h.drRegion} → ${h.primaryRegion}`);
    expect(wrong.out).toMatch(/expected time from the quota: at least \S+ \(\d+ writes/);
    expect(wrong.out).toContain(`type the Region (${h.primaryRegion}):`);
    expect(await notStarted(plan, failbackWorkflowId(plan))).toBe(true);

    const right = await onTerminal(['failback', '--wait', '-f', file], h.primaryRegion);
    expect(right.code, right.out).toBe(0);
    expect(right.out).toContain(`confirmed: fail back into ${h.primaryRegion}`);
    for (const n of names) expect(await standalone(n)).toBe(false); // replicas again
  });
});

describe.skipIf(onAws)(`setup asks before its conflict policy replaces a same-named secret (${LAB_ONLY})`, () => {
  it('a wrong Region: exit 2 and no setup workflow; the right one: the same-named secret is backed up and replaced; backups restore asks the same way', async () => {
    const prefix = `${h.names}setup/`;
    const name = `${prefix}clash`;
    const value = () => {
      const v = `confirm-${randomBytes(12).toString('hex')}`;
      values.push(v);
      return v;
    };
    await h.lab!.seed(h.primaryRegion, [{ name, value: value() }]);
    await h.lab!.seed(h.drRegion, [{ name, value: value(), description: 'created by hand' }]);
    const plan = `${h.plan().name}-setup`;
    const file = join(dir, 'setup.yaml');
    writeFileSync(
      file,
      `name: ${plan}\nprimaryRegion: ${h.primaryRegion}\ndrRegions: [{ region: ${h.drRegion} }]\nsecrets:\n  include: [{ prefix: "${prefix}" }]\nconflicts:\n  policy: backup-then-overwrite\n`,
    );

    const wrong = await onTerminal(['setup', '--wait', '-f', file], 'yes');
    expect(wrong.code, wrong.out).toBe(2);
    expect(wrong.out).toContain(`${h.drRegion}: 1 same-named secret(s) that are not our replicas would be replaced by policy:`);
    expect(wrong.out).toContain(`${name} (backup-then-overwrite: backed up first)`);
    expect(await notStarted(plan, setupWorkflowId(plan))).toBe(true);
    expect((await h.sm(h.drRegion).send(new DescribeSecretCommand({ SecretId: name }))).Description).toBe('created by hand');

    const right = await onTerminal(['setup', '--wait', '-f', file], h.drRegion);
    expect(right.code, right.out).toBe(0);
    expect(right.out).toMatch(/backup secrets-dr-backup\//);
    expect((await h.sm(h.drRegion).send(new DescribeSecretCommand({ SecretId: name }))).PrimaryRegion).toBe(h.primaryRegion);

    // backups restore asks too: for the Region of the secret it replaces.
    const backup = /backup (secrets-dr-backup\/\S+?);?\s/.exec(right.out)![1]!;
    const no = await onTerminal(['backups', 'restore', backup, '-f', file], h.primaryRegion);
    expect(no.code, no.out).toBe(2);
    expect(no.out).toContain(`${name} (${h.drRegion}): is our replica`);
    expect(no.out).toContain(`type the Region (${h.drRegion}):`);
    expect(await notStarted(plan, restoreWorkflowId(plan, backup))).toBe(true);
    const yes = await onTerminal(['backups', 'restore', backup, '-f', file], h.drRegion);
    expect(yes.code, yes.out).toBe(0);
    expect((await h.sm(h.drRegion).send(new DescribeSecretCommand({ SecretId: name }))).Description).toBe('created by hand');
    for (const v of values) expect(wrong.out + right.out + no.out + yes.out).not.toContain(v);
  });
});

describe.skipIf(onAws)(`without a terminal (${LAB_ONLY})`, () => {
  it('nothing is asked, nothing hangs: the approval gate governs (exit 4)', async () => {
    const { file, plan } = await fleet('notty', true);
    const r = await withoutTerminal(['failover', '--to', h.drRegion, '--mode', 'unplanned', '-f', file]);
    expect(r.code, r.out).toBe(4);
    expect(r.out).not.toContain(PROMPT);
    expect(await atGate(plan)).toBe(true);
    await h.client.workflow.getHandle(failoverWorkflowId(plan)).executeUpdate(approvalUpdate, { args: [{ decision: 'reject', reason: 'test', by: 'test' }] });
  });

  it('backups restore without --yes or --dry-run still refuses (exit 2) instead of asking', async () => {
    const { file } = await fleet('restore', true);
    const r = await withoutTerminal(['backups', 'restore', 'secrets-dr-backup/x/y/2026-12-02T050000Z', '-f', file]);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain('run again with --yes to proceed (on a terminal, it asks instead)');
  });
});
