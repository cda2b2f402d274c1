/**
 * The receiver (HTTP) and the Lambda handler: malformed, unauthenticated, oversized, wrong-method
 * requests are rejected with the right status and start nothing; a valid alarm signal-with-starts
 * recover; an alarm that is not the plan's is accepted and ignored.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { recoverWorkflowId } from '../../domain/ids.js';
import { PLAN_CONFIG_INVALID_STATUS, RECEIVER_API_KEY_HEADER, receiverPath } from '../../domain/inbound-events.js';
import type { Plan } from '../../domain/plan.js';
import { startReceiver, type RunningReceiver } from '../../cli/receiver-server.js';
import { startHarness, type Harness } from '../support/integration.js';
import { regionPlan } from '../support/recovery.js';

const KEY = 'receiver-test-key-0123456789abcdef';
let h: Harness;
let r: RunningReceiver;
let plan: Plan;
const logs: string[] = [];

const alarm = (over: Record<string, unknown> = {}) => ({
  version: '0',
  id: `ev-${Math.random().toString(36).slice(2)}`,
  'detail-type': 'CloudWatch Alarm State Change',
  source: 'aws.cloudwatch',
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'eu-west-2',
  resources: ['arn:aws:cloudwatch:eu-west-2:123456789012:alarm:recv-errors'],
  detail: { alarmName: 'recv-errors', state: { value: 'ALARM', reason: 'Threshold crossed', timestamp: new Date().toISOString() } },
  ...over,
});

async function post(body: string | object, headers: Record<string, string> = { [RECEIVER_API_KEY_HEADER]: KEY }, method = 'POST', planName = plan.name) {
  const res = await fetch(`${r.url}${receiverPath(planName)}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

async function recoverExists(): Promise<boolean> {
  try {
    await h.client.workflow.getHandle(recoverWorkflowId(plan.name)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

beforeAll(async () => {
  h = await startHarness('receiver');
  plan = regionPlan(`${h.prefix}-recv`, 'eu-west-2', 'eu-west-3', `${h.names}`, 'health: { alarms: [recv-errors] }');
  r = await startReceiver({ client: h.client, apiKey: KEY, taskQueuePrefix: `${h.prefix}-none`, plans: [plan], log: (l) => logs.push(l) });
});
afterAll(async () => {
  await r?.close();
  await h?.close();
});

describe('receiver', () => {
  it('rejects unauthenticated, wrong-method, oversized and malformed requests with the right status, logs them, and starts nothing', async () => {
    expect((await post(alarm(), {})).status).toBe(401);
    expect((await post(alarm(), { [RECEIVER_API_KEY_HEADER]: `${KEY}x` })).status).toBe(401);
    expect((await post(alarm(), { [RECEIVER_API_KEY_HEADER]: KEY.slice(0, 10) })).status).toBe(401);
    expect((await post('', { [RECEIVER_API_KEY_HEADER]: KEY }, 'GET')).status).toBe(405);
    expect((await post(alarm({ padding: 'x'.repeat(300 * 1024) }))).status).toBe(413);
    expect((await post('{"source": "aws.cloudwatch", ')).status).toBe(400);
    const invalid = await post({ ...alarm(), detail: { alarmName: 'recv-errors', state: { value: 'PANIC' } } });
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body.issues)).toMatch(/detail\.state\.value/);
    expect((await post({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', id: 'x', region: 'eu-west-2', detail: {} })).status).toBe(
      400,
    );
    expect((await post(alarm(), { [RECEIVER_API_KEY_HEADER]: KEY }, 'POST', 'no-such-plan')).status).toBe(404);
    expect(logs.filter((l) => /→ 4\d\d/.test(l)).length).toBeGreaterThanOrEqual(9);
    expect(await recoverExists()).toBe(false);
  });

  it('accepts and ignores a valid event that is not for this plan (OK state, another alarm)', async () => {
    expect(await post(alarm({ detail: { alarmName: 'recv-errors', state: { value: 'OK' } } }))).toMatchObject({
      status: 200,
      body: { ignored: expect.stringMatching(/not ALARM/) },
    });
    expect(await post(alarm({ detail: { alarmName: 'someone-elses', state: { value: 'ALARM' } } }))).toMatchObject({
      status: 200,
      body: { ignored: expect.stringMatching(/not one of/) },
    });
    expect(await recoverExists()).toBe(false);
  });

  it('the Lambda handler validates the same way: a malformed event is a 400 and starts nothing', async () => {
    Object.assign(process.env, {
      SECRETS_DR_PLAN: `name: ${plan.name}\nprimaryRegion: eu-west-2\ndrRegions: [{ region: eu-west-3 }]\nsecrets: { include: [{ prefix: x/ }] }\nhealth: { alarms: [recv-errors] }\n`,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      SECRETS_DR_TASK_QUEUE_PREFIX: `${h.prefix}-none`,
    });
    const { handler } = await import('../../cli/lambda-handler.js');
    expect((await handler({ source: 'aws.cloudwatch', nonsense: true })).statusCode).toBe(400);
    expect(await recoverExists()).toBe(false);
  });

  it('a malformed %-escape in the path is a 400 (never a 5xx EventBridge would retry), and starts nothing', async () => {
    const raw = async (path: string) => {
      const res = await fetch(`${r.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [RECEIVER_API_KEY_HEADER]: KEY },
        body: JSON.stringify(alarm()),
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    for (const path of ['/events/%', '/events/%E0%A4%A', '/events/pay%zzments', `/events/${encodeURIComponent(plan.name)}%`]) {
      const res = await raw(path);
      expect(res.status, path).toBe(400);
      expect(String(res.body.error), path).toMatch(/malformed %-escape in the plan name/);
    }
    expect(logs.some((l) => /\/events\/% → 400/.test(l))).toBe(true);
    expect(await recoverExists()).toBe(false);
  });

  it('an alias bomb (or any invalid plan) in the plans directory is a clear configuration error (422), not a 503 loop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-plans-'));
    copyFileSync(new URL('../fixtures/alias-bomb.yaml', import.meta.url), join(dir, 'bombed.yaml'));
    const dirLogs: string[] = [];
    const rd = await startReceiver({
      client: h.client,
      apiKey: KEY,
      taskQueuePrefix: `${h.prefix}-none`,
      plans: [],
      plansDir: dir,
      log: (l) => dirLogs.push(l),
    });
    try {
      const res = await fetch(`${rd.url}${receiverPath('bombed')}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [RECEIVER_API_KEY_HEADER]: KEY },
        body: JSON.stringify(alarm()),
      });
      const body = (await res.json()) as { error: string; invalidPlanFiles: Array<{ file: string; problems: Array<{ path: string; message: string }> }> };
      expect(res.status).toBe(PLAN_CONFIG_INVALID_STATUS);
      expect(body.error).toMatch(
        /no valid plan bombed on this receiver: 1 plan file\(s\) in .* are invalid \(.*bombed\.yaml: \(yaml\): the YAML cannot be expanded: .*Excessive alias count/,
      );
      expect(body.invalidPlanFiles[0]!.file).toMatch(/bombed\.yaml$/);
      // A valid plan beside it is still served.
      writeFileSync(
        join(dir, 'good.yaml'),
        readFileSync(new URL('../fixtures/canonical-plan.yaml', import.meta.url), 'utf8')
          .replace('name: payments', `name: ${plan.name}-dir`)
          .replace('alarms: [payments-sm-errors]', 'alarms: [recv-errors]'),
      );
      const ok = await fetch(`${rd.url}${receiverPath(`${plan.name}-dir`)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [RECEIVER_API_KEY_HEADER]: KEY },
        body: JSON.stringify(alarm({ detail: { alarmName: 'recv-errors', state: { value: 'OK' } } })),
      });
      expect(ok.status).toBe(200);
      expect(dirLogs.some((l) => / → 5\d\d/.test(l))).toBe(false);
    } finally {
      await rd.close();
    }
  });

  it('the Lambda handler answers a plan that is an alias bomb with a configuration error at cold start, never a throw', async () => {
    const { handler, resetLambdaColdStart } = await import('../../cli/lambda-handler.js');
    const saved = process.env.SECRETS_DR_PLAN;
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      resetLambdaColdStart();
      process.env.SECRETS_DR_PLAN = readFileSync(new URL('../fixtures/alias-bomb.yaml', import.meta.url), 'utf8');
      for (let i = 0; i < 2; i++) {
        const out = await handler(alarm());
        expect(out.statusCode).toBe(PLAN_CONFIG_INVALID_STATUS);
        const body = JSON.parse(out.body) as { error: string; problems: Array<{ path: string; message: string }> };
        expect(body.error).toMatch(/the plan given to the Lambda handler \(SECRETS_DR_PLAN\) is invalid/);
        expect(body.problems).toEqual([{ path: '(yaml)', message: expect.stringMatching(/Excessive alias count/) }]);
      }
      expect(errors.length).toBe(2);
      expect(errors[0]).toMatch(/configuration error/);
    } finally {
      console.error = original;
      process.env.SECRETS_DR_PLAN = saved;
      resetLambdaColdStart();
    }
    expect(await recoverExists()).toBe(false);
  });

  it('a valid alarm signal-with-starts recover (202), carrying the event id', async () => {
    const ev = alarm();
    const res = await post(ev);
    expect(res).toMatchObject({ status: 202, body: { workflowId: recoverWorkflowId(plan.name), eventId: ev.id, region: 'eu-west-2' } });
    expect(await recoverExists()).toBe(true);
    await h.client.workflow.getHandle(recoverWorkflowId(plan.name)).terminate('test done');
  });
});
