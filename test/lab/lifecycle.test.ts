/**
 * Lab lifecycle: rotation schedules on the lab clock (with a lab rotation function; the rest is in
 * rotation.test.ts), the state file across restarts, and the
 * EventBridge lab routes wired through the same server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { EventBridgeClient, ListRulesCommand, PutRuleCommand } from '@aws-sdk/client-eventbridge';
import type { RunningLab } from '../../lab/server.js';
import { LabClient } from '../../lab/client.js';
import { DR, eventually, labGet, labPost, P, sm, withLab } from './helpers.js';

const ROTATE = `arn:aws:lambda:${P}:123456789012:function:rotate`;

const labs: RunningLab[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const l of labs.splice(0)) await l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function lab(opts: Parameters<typeof withLab>[0] = {}): Promise<RunningLab> {
  const l = await withLab(opts);
  labs.push(l);
  return l;
}

describe('rotation schedules on the lab clock', () => {
  it('a rate(1 days) schedule fires when a day passes at high clock speed, and the new version replicates', async () => {
    const l = await lab();
    const c = sm(l, P);
    await new LabClient(l.url).createFunction({ region: P, name: 'rotate' });
    await c.send(new CreateSecretCommand({ Name: 'sched', SecretString: '{"password":"p0"}', AddReplicaRegions: [{ Region: DR }] }));
    await c.send(
      new RotateSecretCommand({
        SecretId: 'sched',
        RotationLambdaARN: ROTATE,
        RotationRules: { ScheduleExpression: 'rate(1 days)' },
        RotateImmediately: false,
      }),
    );
    const d0 = await c.send(new DescribeSecretCommand({ SecretId: 'sched' }));
    expect(d0.RotationEnabled).toBe(true);
    expect(d0.NextRotationDate!.getTime() - Date.now()).toBeGreaterThan(86_000_000);
    expect(d0.LastRotatedDate).toBeUndefined();

    const speed = await labPost(l, '/_lab/clock', { speed: 200_000 }); // a day in ~0.43 s
    expect((speed.json as { speed: number }).speed).toBe(200_000);
    const d1 = await eventually(async () => {
      const d = await c.send(new DescribeSecretCommand({ SecretId: 'sched' }));
      return d.LastRotatedDate &&
        Object.values(d.VersionIdsToStages ?? {})
          .flat()
          .includes('AWSPREVIOUS')
        ? d
        : undefined;
    });
    await labPost(l, '/_lab/clock', { speed: 1 });
    const current = d1.VersionIdsToStages!;
    expect(Object.values(current).flat()).toContain('AWSPREVIOUS');
    const value = JSON.parse((await c.send(new GetSecretValueCommand({ SecretId: 'sched' }))).SecretString!) as { password: string };
    expect(value.password).not.toBe('p0');
    const dr = sm(l, DR);
    await eventually(async () => {
      const r = await dr.send(new GetSecretValueCommand({ SecretId: 'sched' }));
      return r.SecretString === JSON.stringify(value);
    });
    const events = JSON.stringify(await labGet(l, `/_lab/events?region=${P}`));
    expect(events).toContain('RotationSucceeded');
    expect(events).not.toContain(value.password);
    c.destroy();
    dr.destroy();
  });

  it('a cron() schedule computes the next window in UTC (NextRotationDate: its last second), and advanceMs jumps the clock', async () => {
    const l = await lab();
    const c = sm(l, P);
    await new LabClient(l.url).createFunction({ region: P, name: 'rotate' });
    await c.send(new CreateSecretCommand({ Name: 'cron', SecretString: 'plain' }));
    await c.send(
      new RotateSecretCommand({
        SecretId: 'cron',
        RotationLambdaARN: ROTATE,
        RotationRules: { ScheduleExpression: 'cron(0 3 ? * SAT *)', Duration: '2h' },
        RotateImmediately: false,
      }),
    );
    const d = await c.send(new DescribeSecretCommand({ SecretId: 'cron' }));
    const next = d.NextRotationDate!;
    expect(next.getUTCDay()).toBe(6);
    expect(next.getUTCHours()).toBe(4);
    expect(next.getUTCMinutes()).toBe(59);
    expect(next.getUTCSeconds()).toBe(59);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(7 * 86_400_000);
    await labPost(l, '/_lab/clock', { advanceMs: next.getTime() - Date.now() - 60_000 });
    const after = await eventually(async () => {
      const x = await c.send(new DescribeSecretCommand({ SecretId: 'cron' }));
      return x.LastRotatedDate && x.NextRotationDate!.getTime() > next.getTime() ? x : undefined;
    });
    expect(after.NextRotationDate!.getTime() - next.getTime()).toBe(7 * 86_400_000);
    expect((await c.send(new GetSecretValueCommand({ SecretId: 'cron' }))).SecretString).not.toBe('plain');
    c.destroy();
  });
});

describe('state file', () => {
  it('survives a restart: secrets, versions, replicas, ARNs and EventBridge rules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-state-'));
    dirs.push(dir);
    const statePath = join(dir, 'state.json');
    const first = await withLab({ statePath });
    const c = sm(first, P);
    const created = await c.send(new CreateSecretCommand({ Name: 'keep', SecretString: 'v1', AddReplicaRegions: [{ Region: DR }] }));
    const put = await c.send(new PutSecretValueCommand({ SecretId: 'keep', SecretString: 'v2' }));
    await eventually(async () => (await c.send(new DescribeSecretCommand({ SecretId: 'keep' }))).ReplicationStatus?.[0]?.Status === 'InSync');
    const eb = new EventBridgeClient({ region: P, endpoint: first.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await eb.send(new PutRuleCommand({ Name: 'r1', EventPattern: JSON.stringify({ source: ['aws.secretsmanager'] }) }));
    eb.destroy();
    c.destroy();
    await first.close();
    expect(JSON.parse(readFileSync(statePath, 'utf8'))).toHaveProperty('secretsManager');

    const second = await lab({ statePath });
    const c2 = sm(second, P);
    const d = await c2.send(new DescribeSecretCommand({ SecretId: 'keep' }));
    expect(d.ARN).toBe(created.ARN);
    expect(d.VersionIdsToStages![put.VersionId!]).toEqual(['AWSCURRENT']);
    expect((await c2.send(new GetSecretValueCommand({ SecretId: 'keep' }))).SecretString).toBe('v2');
    const dr = sm(second, DR);
    expect((await dr.send(new GetSecretValueCommand({ SecretId: 'keep' }))).VersionId).toBe(put.VersionId);
    const eb2 = new EventBridgeClient({ region: P, endpoint: second.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    expect((await eb2.send(new ListRulesCommand({}))).Rules!.map((r) => r.Name)).toEqual(['r1']);
    eb2.destroy();
    c2.destroy();
    dr.destroy();
  });
});

describe('EventBridge behind the same port', () => {
  it('routes AWSEvents.* to the EventBridge emulator and exposes inject/events/deliveries', async () => {
    const l = await lab();
    const eb = new EventBridgeClient({ region: P, endpoint: l.url, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await eb.send(new PutRuleCommand({ Name: 'alarms', EventPattern: JSON.stringify({ source: ['aws.cloudwatch'] }) }));
    const r = await labPost(l, '/_lab/inject/alarm', { region: P, alarmName: 'payments-sm-errors', state: 'ALARM' });
    expect(r.status).toBe(200);
    const h = await labPost(l, '/_lab/inject/health', { eventRegion: P, deliverTo: [P] });
    expect(h.status).toBe(200);
    const events = (await labGet(l, `/_lab/events?region=${P}&source=aws.cloudwatch`)) as unknown[];
    expect(events.length).toBe(1);
    expect(JSON.stringify(events)).toContain('payments-sm-errors');
    expect(((await labGet(l, `/_lab/events?source=aws.health`)) as unknown[]).length).toBe(1);
    expect(Array.isArray(await labGet(l, '/_lab/deliveries'))).toBe(true);
    const counters = (await labGet(l, '/_lab/counters')) as Record<string, Record<string, unknown>>;
    expect(counters[P]!['events:PutRule']).toEqual({ calls: 1, throttled: 0, failed: 0 });
    eb.destroy();
  });
});
