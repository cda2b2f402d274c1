/**
 * The receiver (HTTP) and the Lambda handler: malformed, unauthenticated, oversized, wrong-method
 * requests are rejected with the right status and start nothing; a valid alarm signal-with-starts
 * recover; an alarm that is not the plan's is accepted and ignored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { WorkflowNotFoundError } from '@temporalio/client';
import { recoverWorkflowId } from '../../domain/ids.js';
import { RECEIVER_API_KEY_HEADER, receiverPath } from '../../domain/inbound-events.js';
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
  const res = await fetch(`${r.url}${receiverPath(planName)}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
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
    expect((await post({ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', id: 'x', region: 'eu-west-2', detail: {} })).status).toBe(400);
    expect((await post(alarm(), { [RECEIVER_API_KEY_HEADER]: KEY }, 'POST', 'no-such-plan')).status).toBe(404);
    expect(logs.filter((l) => /→ 4\d\d/.test(l)).length).toBeGreaterThanOrEqual(9);
    expect(await recoverExists()).toBe(false);
  });

  it('accepts and ignores a valid event that is not for this plan (OK state, another alarm)', async () => {
    expect(await post(alarm({ detail: { alarmName: 'recv-errors', state: { value: 'OK' } } }))).toMatchObject({ status: 200, body: { ignored: expect.stringMatching(/not ALARM/) } });
    expect(await post(alarm({ detail: { alarmName: 'someone-elses', state: { value: 'ALARM' } } }))).toMatchObject({ status: 200, body: { ignored: expect.stringMatching(/not one of/) } });
    expect(await recoverExists()).toBe(false);
  });

  it('the Lambda handler validates the same way: a malformed event is a 400 and starts nothing', async () => {
    Object.assign(process.env, { SECRETS_DR_PLAN: `name: ${plan.name}\nprimaryRegion: eu-west-2\ndrRegions: [{ region: eu-west-3 }]\nsecrets: { include: [{ prefix: x/ }] }\nhealth: { alarms: [recv-errors] }\n`, TEMPORAL_ADDRESS: inject('temporalAddress'), SECRETS_DR_TASK_QUEUE_PREFIX: `${h.prefix}-none` });
    const { handler } = await import('../../cli/lambda-handler.js');
    expect((await handler({ source: 'aws.cloudwatch', nonsense: true })).statusCode).toBe(400);
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
