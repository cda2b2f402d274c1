/**
 * Rotation in the lab runs Lambda functions, as on AWS (issue 12, part 2). Expected answers come
 * from LocalStack's recordings on real AWS (test_secretsmanager.snapshot.json: rotate without a
 * Lambda, with an invalid Lambda ARN, with a Lambda, several times) and AWS's API reference.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  StopReplicationToReplicaCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LabClient } from '../../lab/client.js';
import type { RunningLab } from '../../lab/server.js';
import { ROTATION_STEPS } from '../../lab/secrets-manager/rotation-runner.js';
import { DR, eventually, labGet, labPost, P, rejection, sm, withLab } from './helpers.js';

const ACCOUNT = '123456789012';
const fnArn = (region: string, name: string) => `arn:aws:lambda:${region}:${ACCOUNT}:function:${name}`;
const NO_FUNCTION = 'No Lambda rotation function ARN is associated with this secret.';
const CANNOT_INVOKE =
  'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.';
const PREVIOUS_ROTATION = "A previous rotation isn't complete. That rotation will be reattempted.";
const DAY = 86_400_000;
const HOUR = 3_600_000;

const labs: RunningLab[] = [];
const clients: SecretsManagerClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const l of labs.splice(0)) await l.close();
});
async function setup(): Promise<{ l: RunningLab; c: SecretsManagerClient; lab: LabClient }> {
  const l = await withLab();
  labs.push(l);
  const c = sm(l, P);
  clients.push(c);
  return { l, c, lab: new LabClient(l.url) };
}
const token = () => crypto.randomUUID();
const describe_ = (c: SecretsManagerClient, id: string) => c.send(new DescribeSecretCommand({ SecretId: id }));
const stagesOf = async (c: SecretsManagerClient, id: string) => (await describe_(c, id)).VersionIdsToStages ?? {};
const current = async (c: SecretsManagerClient, id: string) => c.send(new GetSecretValueCommand({ SecretId: id }));
/** Waits until the rotation with this token has finished (its version is AWSCURRENT). */
const rotated = (c: SecretsManagerClient, id: string, versionId: string) =>
  eventually(async () => (await stagesOf(c, id))[versionId]?.includes('AWSCURRENT'), 10_000);
const inFlight = (l: RunningLab) => l.secretsManager.rotationsInFlight();

describe('RotateSecret needs a rotation function (recorded on AWS)', () => {
  it('without any Lambda ARN: InvalidRequestException, and no rotation settings are kept', async () => {
    const { c } = await setup();
    const v1 = await c.send(new CreateSecretCommand({ Name: 'nolambda', SecretString: 'init' }));
    const e = await rejection(c.send(new RotateSecretCommand({ SecretId: 'nolambda', RotationRules: { AutomaticallyAfterDays: 1 } })));
    expect(e.name).toBe('InvalidRequestException');
    expect(e.message).toBe(NO_FUNCTION);
    const d = await describe_(c, 'nolambda');
    expect(d.RotationEnabled).not.toBe(true);
    expect(d.RotationLambdaARN).toBeUndefined();
    expect(d.RotationRules).toBeUndefined();
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'] });
  });

  it('with a function that does not exist (or lives in another Region): AccessDeniedException, and no settings kept', async () => {
    const { c, lab } = await setup();
    const v1 = await c.send(new CreateSecretCommand({ Name: 'badlambda', SecretString: 'init' }));
    await lab.createFunction({ region: DR, name: 'rotate' }); // same name, another Region
    for (const arn of [fnArn(P, 'rotate_secret_invalid_lambda_arn'), fnArn(DR, 'rotate'), fnArn(P, 'rotate')]) {
      const e = await rejection(
        c.send(new RotateSecretCommand({ SecretId: 'badlambda', RotationLambdaARN: arn, RotationRules: { AutomaticallyAfterDays: 1 } })),
      );
      expect(e.name, arn).toBe('AccessDeniedException');
      expect(e.message).toBe(CANNOT_INVOKE);
    }
    const d = await describe_(c, 'badlambda');
    expect(d.RotationEnabled).not.toBe(true);
    expect(d.RotationLambdaARN).toBeUndefined();
    expect(d.RotationRules).toBeUndefined();
    expect(d.NextRotationDate).toBeUndefined();
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'] });
  });

  it('a deleted function can no longer be invoked', async () => {
    const { c, lab } = await setup();
    await c.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'init' }));
    await lab.createFunction({ region: P, name: 'short-lived' });
    expect((await lab.listFunctions(P)).map((f) => f.arn)).toEqual([fnArn(P, 'short-lived')]);
    await lab.deleteFunction(P, 'short-lived');
    expect(await lab.listFunctions()).toEqual([]);
    const e = await rejection(c.send(new RotateSecretCommand({ SecretId: 'gone', RotationLambdaARN: fnArn(P, 'short-lived') })));
    expect(e.name).toBe('AccessDeniedException');
  });
});

describe("a rotation runs the function's four steps after RotateSecret answers", () => {
  it('single user: an empty AWSPENDING version under the token at once, then createSecret..finishSecret; the answers match the recording', async () => {
    const { l, c, lab } = await setup();
    // Steps 800 ms apart (lab clock = real time here), so the state before createSecret is observable.
    await lab.createFunction({ region: P, name: 'rotate-single', kind: 'rotation-single-user', stepDelayMs: 800 });
    const v1 = await c.send(
      new CreateSecretCommand({
        Name: 'app/db',
        SecretString: JSON.stringify({ username: 'app', password: 'p0', host: 'db' }),
        Description: 'testing rotation of secrets',
      }),
    );
    const t = token();
    const r = await c.send(
      new RotateSecretCommand({
        SecretId: 'app/db',
        ClientRequestToken: t,
        RotationLambdaARN: fnArn(P, 'rotate-single'),
        RotationRules: { AutomaticallyAfterDays: 1 },
      }),
    );
    expect(inFlight(l)).toMatchObject([{ region: P, token: t, nextStep: 'createSecret' }]);
    expect(r).toMatchObject({ ARN: v1.ARN, Name: 'app/db', VersionId: t });
    // Before createSecret has run: AWSPENDING on an empty version (no value to read yet).
    expect(await stagesOf(c, 'app/db')).toEqual({ [v1.VersionId!]: ['AWSCURRENT'], [t]: ['AWSPENDING'] });
    expect((await rejection(c.send(new GetSecretValueCommand({ SecretId: 'app/db', VersionStage: 'AWSPENDING' })))).name).toBe('ResourceNotFoundException');
    expect((await current(c, 'app/db')).VersionId).toBe(v1.VersionId);

    await rotated(c, 'app/db', t);
    const d = await describe_(c, 'app/db');
    expect(d).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: fnArn(P, 'rotate-single'),
      RotationRules: { AutomaticallyAfterDays: 1 },
      VersionIdsToStages: { [v1.VersionId!]: ['AWSPREVIOUS'], [t]: ['AWSCURRENT'] },
    });
    expect(d.LastRotatedDate).toBeInstanceOf(Date);
    // NextRotationDate: the last second of the UTC day one day after the rotation.
    const next = d.NextRotationDate!.getTime();
    expect(next).toBe(Math.floor(d.LastRotatedDate!.getTime() / DAY) * DAY + 2 * DAY - 1000);
    const versions = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'app/db' }));
    expect(versions.Versions!.map((v) => [v.VersionId, v.VersionStages]).sort()).toEqual(
      [
        [v1.VersionId, ['AWSPREVIOUS']],
        [t, ['AWSCURRENT']],
      ].sort(),
    );
    const now = JSON.parse((await current(c, 'app/db')).SecretString!) as Record<string, string>;
    expect(now).toMatchObject({ username: 'app', host: 'db' });
    expect(now.password).not.toBe('p0');
    expect(inFlight(l)).toEqual([]);
    // The function acted through Secrets Manager's own operations, in the templates' order.
    const names = ((await labGet(l, `/_lab/events?region=${P}`)) as Array<{ detail: { eventName: string; requestParameters: { secretId?: string } } }>)
      .filter((e) => e.detail.requestParameters.secretId !== undefined)
      .map((e) => e.detail.eventName);
    expect(names).toEqual(['RotateSecret', 'PutSecretValue', 'UpdateSecretVersionStage', 'UpdateSecretVersionStage', 'RotationSucceeded']);
  });

  it('alternating users: the username switches between user and user_clone; a second RotateSecret without parameters reuses the function', async () => {
    const { c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate-alt', kind: 'rotation-alternating-users' });
    const v1 = await c.send(new CreateSecretCommand({ Name: 'app/alt', SecretString: JSON.stringify({ username: 'app', password: 'p0' }) }));
    const first = await c.send(
      new RotateSecretCommand({ SecretId: 'app/alt', RotationLambdaARN: fnArn(P, 'rotate-alt'), RotationRules: { AutomaticallyAfterDays: 1 } }),
    );
    await rotated(c, 'app/alt', first.VersionId!);
    const a = JSON.parse((await current(c, 'app/alt')).SecretString!) as Record<string, string>;
    expect(a.username).toBe('app_clone');
    expect(a.password).not.toBe('p0');

    const second = await c.send(new RotateSecretCommand({ SecretId: 'app/alt' }));
    expect(second.VersionId).not.toBe(first.VersionId);
    await rotated(c, 'app/alt', second.VersionId!);
    const b = JSON.parse((await current(c, 'app/alt')).SecretString!) as Record<string, string>;
    expect(b.username).toBe('app');
    expect(b.password).not.toBe(a.password);
    // As recorded: the previous rotation's version is AWSPREVIOUS, the first one unlabelled.
    expect(await stagesOf(c, 'app/alt')).toEqual({ [first.VersionId!]: ['AWSPREVIOUS'], [second.VersionId!]: ['AWSCURRENT'] });
    const all = await c.send(new ListSecretVersionIdsCommand({ SecretId: 'app/alt', IncludeDeprecated: true }));
    expect(all.Versions!.map((v) => v.VersionId)).toContain(v1.VersionId);
  });

  it('a plain-text secret gets a new random string', async () => {
    const { c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    await c.send(new CreateSecretCommand({ Name: 'token', SecretString: 'plain-old-token' }));
    const r = await c.send(new RotateSecretCommand({ SecretId: 'token', RotationLambdaARN: fnArn(P, 'rotate') }));
    await rotated(c, 'token', r.VersionId!);
    const v = (await current(c, 'token')).SecretString!;
    expect(v).not.toBe('plain-old-token');
    expect(v.length).toBeGreaterThanOrEqual(24);
  });

  it('RotateImmediately=false records the settings and the next window; no version is created', async () => {
    const { c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    const v1 = await c.send(new CreateSecretCommand({ Name: 'later', SecretString: 'x' }));
    const r = await c.send(
      new RotateSecretCommand({
        SecretId: 'later',
        RotationLambdaARN: fnArn(P, 'rotate'),
        RotationRules: { ScheduleExpression: 'rate(10 days)' },
        RotateImmediately: false,
      }),
    );
    expect(r.VersionId).toBeUndefined();
    const d = await describe_(c, 'later');
    expect(d.RotationEnabled).toBe(true);
    // AWS reports AutomaticallyAfterDays calculated from the ScheduleExpression.
    expect(d.RotationRules).toEqual({ AutomaticallyAfterDays: 10, ScheduleExpression: 'rate(10 days)' });
    expect(d.LastRotatedDate).toBeUndefined();
    expect(d.NextRotationDate!.getTime()).toBe(Math.floor(Date.now() / DAY) * DAY + 11 * DAY - 1000);
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'] });
  });
});

describe('rotation-stall: a rotation cut off between steps', () => {
  for (const step of ROTATION_STEPS) {
    it(`stalled before ${step}: AWSPENDING sits on a non-current version, RotateSecret fails; after the fault is cleared the lab reattempts it`, async () => {
      const { l, c, lab } = await setup();
      await lab.createFunction({ region: P, name: 'rotate' });
      const v1 = await c.send(new CreateSecretCommand({ Name: 'stall', SecretString: JSON.stringify({ username: 'u', password: 'p0' }) }));
      await lab.fault('rotation-stall', { region: P, step });
      const r = await c.send(
        new RotateSecretCommand({ SecretId: 'stall', RotationLambdaARN: fnArn(P, 'rotate'), RotationRules: { AutomaticallyAfterDays: 30 } }),
      );
      const t = r.VersionId!;
      await eventually(async () => inFlight(l).find((x) => x.token === t && x.nextStep === step && x.waiting?.includes('rotation-stall')));

      const stages = await stagesOf(c, 'stall');
      expect(stages[t]).toEqual(['AWSPENDING']);
      expect(stages[v1.VersionId!]).toEqual(['AWSCURRENT']);
      const pending = c.send(new GetSecretValueCommand({ SecretId: 'stall', VersionStage: 'AWSPENDING' }));
      if (step === 'createSecret')
        expect((await rejection(pending)).name).toBe('ResourceNotFoundException'); // the empty version
      else expect(JSON.parse((await pending).SecretString!).password).not.toBe('p0');
      expect(JSON.parse((await current(c, 'stall')).SecretString!).password).toBe('p0');

      const again = await rejection(c.send(new RotateSecretCommand({ SecretId: 'stall' })));
      expect(again.name).toBe('InvalidRequestException');
      expect(again.message).toBe(PREVIOUS_ROTATION);

      await lab.fault('clear', { region: P });
      await rotated(c, 'stall', t); // the same rotation, reattempted from where it stopped
      expect((await stagesOf(c, 'stall'))[v1.VersionId!]).toEqual(['AWSPREVIOUS']);
      const next = await c.send(new RotateSecretCommand({ SecretId: 'stall' }));
      await rotated(c, 'stall', next.VersionId!);
    });
  }

  it('without --step the rotation stops before its next step', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate', stepDelayMs: 300 });
    await c.send(new CreateSecretCommand({ Name: 'next', SecretString: 'x' }));
    const r = await c.send(new RotateSecretCommand({ SecretId: 'next', RotationLambdaARN: fnArn(P, 'rotate') }));
    // createSecret done (the pending version has a value), then stall whatever comes next.
    await eventually(async () => (await c.send(new GetSecretValueCommand({ SecretId: 'next', VersionStage: 'AWSPENDING' }))).VersionId === r.VersionId);
    await lab.fault('rotation-stall', { region: P });
    const held = await eventually(async () => inFlight(l).find((x) => x.waiting?.includes('rotation-stall')), 3000);
    expect(['setSecret', 'testSecret', 'finishSecret']).toContain(held.nextStep);
    expect((await stagesOf(c, 'next'))[r.VersionId!]).toEqual(['AWSPENDING']);
  });

  it('a Region outage stops the rotation where it is; it resumes when the Region answers again', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate', stepDelayMs: 400 });
    await c.send(new CreateSecretCommand({ Name: 'outage', SecretString: 'x' }));
    const r = await c.send(new RotateSecretCommand({ SecretId: 'outage', RotationLambdaARN: fnArn(P, 'rotate') }));
    await eventually(async () => (await c.send(new GetSecretValueCommand({ SecretId: 'outage', VersionStage: 'AWSPENDING' }))).VersionId === r.VersionId);
    await lab.fault('outage', { region: P, mode: 'error' });
    const held = await eventually(async () => inFlight(l).find((x) => x.waiting?.includes('outage')), 3000);
    expect(held.token).toBe(r.VersionId);
    const pendingVersion = l.secretsManager.snapshot() as {
      regions: Record<string, Array<{ name: string; versions: Array<{ id: string; stages: string[] }> }>>;
    };
    expect(pendingVersion.regions[P]!.find((s) => s.name === 'outage')!.versions.find((v) => v.id === r.VersionId)!.stages).toEqual(['AWSPENDING']);
    await lab.fault('clear', { region: P });
    await rotated(c, 'outage', r.VersionId!);
  });

  it('CancelRotateSecret cancels a stalled rotation: rotation off, labels left where they were', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    await c.send(new CreateSecretCommand({ Name: 'cancel', SecretString: 'x' }));
    await lab.fault('rotation-stall', { region: P, step: 'finishSecret' });
    const r = await c.send(
      new RotateSecretCommand({ SecretId: 'cancel', RotationLambdaARN: fnArn(P, 'rotate'), RotationRules: { AutomaticallyAfterDays: 7 } }),
    );
    await eventually(async () => inFlight(l).find((x) => x.nextStep === 'finishSecret'));
    const cancelled = await c.send(new CancelRotateSecretCommand({ SecretId: 'cancel' }));
    expect(cancelled.VersionId).toBe(r.VersionId);
    expect(inFlight(l)).toEqual([]);
    await lab.fault('clear', { region: P });
    const d = await describe_(c, 'cancel');
    expect(d.RotationEnabled).toBe(false);
    expect(d.NextRotationDate).toBeUndefined();
    expect(d.RotationLambdaARN).toBe(fnArn(P, 'rotate'));
    expect(d.VersionIdsToStages![r.VersionId!]).toEqual(['AWSPENDING']);
    expect((await rejection(c.send(new RotateSecretCommand({ SecretId: 'cancel' })))).message).toBe(PREVIOUS_ROTATION);
  });

  it('a rotation cut off in the primary Region blocks rotation in the DR Region after promotion', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    await lab.createFunction({ region: DR, name: 'rotate' });
    const v1 = await c.send(
      new CreateSecretCommand({ Name: 'cutoff', SecretString: JSON.stringify({ username: 'u', password: 'p0' }), AddReplicaRegions: [{ Region: DR }] }),
    );
    await lab.fault('rotation-stall', { region: P, step: 'finishSecret' });
    const r = await c.send(new RotateSecretCommand({ SecretId: 'cutoff', RotationLambdaARN: fnArn(P, 'rotate') }));
    const dr = sm(l, DR);
    clients.push(dr);
    // setSecret ran (the database may already use the pending password); the pending version replicated.
    await eventually(async () => (await dr.send(new GetSecretValueCommand({ SecretId: 'cutoff', VersionStage: 'AWSPENDING' }))).VersionId === r.VersionId);
    await lab.fault('outage', { region: P, mode: 'refuse' });
    await dr.send(new StopReplicationToReplicaCommand({ SecretId: 'cutoff' }));
    const d = await describe_(dr, 'cutoff');
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'], [r.VersionId!]: ['AWSPENDING'] });
    const e = await rejection(dr.send(new RotateSecretCommand({ SecretId: 'cutoff', RotationLambdaARN: fnArn(DR, 'rotate') })));
    expect(e.name).toBe('InvalidRequestException');
    expect(e.message).toBe(PREVIOUS_ROTATION);
    await lab.fault('clear', { region: P });
  });

  it('the lab API checks the step', async () => {
    const { l } = await setup();
    const bad = await labPost(l, '/_lab/fault/rotation-stall', { region: P, step: 'finish' });
    expect(bad.status).toBe(400);
    expect(String((bad.json as { error: string }).error)).toContain('createSecret, setSecret, testSecret, finishSecret');
  });
});

describe('rotation schedules, validated as AWS does', () => {
  const cases: Array<[string, Record<string, unknown>, string, RegExp | string]> = [
    [
      'both rules',
      { AutomaticallyAfterDays: 7, ScheduleExpression: 'rate(7 days)' },
      'InvalidParameterException',
      'You cannot specify both rotation frequency and schedule expression together.',
    ],
    ['0 days', { AutomaticallyAfterDays: 0 }, 'ValidationException', /automaticallyAfterDays.*greater than or equal to 1/],
    ['1001 days', { AutomaticallyAfterDays: 1001 }, 'ValidationException', /less than or equal to 1000/],
    ['minutes not 0', { ScheduleExpression: 'cron(15 3 * * ? *)' }, 'InvalidParameterException', /Minutes field must be 0/],
    ['a year', { ScheduleExpression: 'cron(0 3 * * ? 2030)' }, 'InvalidParameterException', /Year field must be \*/],
    ['no ?', { ScheduleExpression: 'cron(0 3 * * * *)' }, 'InvalidParameterException', /Day-of-month and Day-of-week/],
    ['5 fields', { ScheduleExpression: 'cron(0 3 * * ?)' }, 'InvalidParameterException', /6 fields/],
    ['hour 24', { ScheduleExpression: 'cron(0 24 * * ? *)' }, 'InvalidParameterException', /Hours value 24/],
    ['every 2 hours (cron)', { ScheduleExpression: 'cron(0 */2 * * ? *)' }, 'InvalidParameterException', /every four hours/],
    ['rate(2 hours)', { ScheduleExpression: 'rate(2 hours)' }, 'InvalidParameterException', /between 4 and 23 hours/],
    ['rate(1000 days)', { ScheduleExpression: 'rate(1000 days)' }, 'InvalidParameterException', /between 1 and 999 days/],
    ['words', { ScheduleExpression: 'every tuesday' }, 'InvalidParameterException', /Invalid ScheduleExpression/],
    ['bad characters', { ScheduleExpression: 'rate(1 day);' }, 'ValidationException', /scheduleExpression.*regular expression pattern/],
    ['Duration 1d', { ScheduleExpression: 'rate(1 day)', Duration: '1d' }, 'ValidationException', /duration.*\[0-9\]\+h/],
    ['Duration 25h', { ScheduleExpression: 'rate(1 day)', Duration: '25h' }, 'InvalidParameterException', /between 1h and 24h/],
    ['Duration 0h', { ScheduleExpression: 'rate(1 day)', Duration: '0h' }, 'InvalidParameterException', /between 1h and 24h/],
    ['window into the next day', { ScheduleExpression: 'cron(0 22 * * ? *)', Duration: '4h' }, 'InvalidParameterException', /next UTC day/],
    ['window into the next window', { ScheduleExpression: 'rate(4 hours)', Duration: '5h' }, 'InvalidParameterException', /next rotation window/],
  ];
  it.each(cases)('%s: %s', async (label, rules, type, message) => {
    const { c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    await c.send(new CreateSecretCommand({ Name: 's', SecretString: 'x' }));
    const e = await rejection(
      c.send(new RotateSecretCommand({ SecretId: 's', RotationLambdaARN: fnArn(P, 'rotate'), RotationRules: rules, RotateImmediately: false })),
    );
    expect(e.name, label).toBe(type);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
    const d = await describe_(c, 's');
    expect(d.RotationRules).toBeUndefined();
    expect(d.RotationLambdaARN).toBeUndefined();
  });

  it('valid expressions (L, #, ranges, names, hour rates) are accepted, with NextRotationDate the last second of the next window', async () => {
    const { c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    const expectations: Array<[Record<string, string>, (next: Date) => void]> = [
      [
        { ScheduleExpression: 'cron(0 16 L * ? *)' },
        (n) => {
          expect(n.getUTCHours()).toBe(23);
          expect(new Date(n.getTime() + 1000).getUTCDate()).toBe(1);
        },
      ],
      [
        { ScheduleExpression: 'cron(0 0 ? * SUN#1 *)', Duration: '3h' },
        (n) => {
          expect(n.getUTCDay()).toBe(0);
          expect(n.getUTCDate()).toBeLessThanOrEqual(7);
          expect(n.getUTCHours()).toBe(2);
        },
      ],
      [
        { ScheduleExpression: 'cron(0 3 ? JAN-DEC MON-FRI *)', Duration: '2h' },
        (n) => {
          expect([1, 2, 3, 4, 5]).toContain(n.getUTCDay());
          expect(n.getUTCHours()).toBe(4);
          expect(n.getUTCMinutes()).toBe(59);
        },
      ],
      [
        { ScheduleExpression: 'rate(10 hours)' },
        (n) => {
          expect([0, 10, 20]).toContain(n.getUTCHours());
          expect(n.getUTCMinutes()).toBe(59);
        },
      ],
    ];
    for (const [i, [rules, check]] of expectations.entries()) {
      await c.send(new CreateSecretCommand({ Name: `ok${i}`, SecretString: 'x' }));
      await c.send(new RotateSecretCommand({ SecretId: `ok${i}`, RotationLambdaARN: fnArn(P, 'rotate'), RotationRules: rules, RotateImmediately: false }));
      const d = await describe_(c, `ok${i}`);
      expect(d.RotationRules).toMatchObject(rules);
      expect(d.RotationRules!.AutomaticallyAfterDays).toBeGreaterThanOrEqual(1);
      expect(d.NextRotationDate!.getTime()).toBeGreaterThan(Date.now());
      expect(d.NextRotationDate!.getUTCSeconds()).toBe(59);
      check(d.NextRotationDate!);
    }
  });
});

describe('scheduled rotations start inside their window (sped-up lab clock)', () => {
  it('cron(0 */6 * * ? *) with a 2h window: the rotation runs in that window, the new version replicates, the next window follows', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    await c.send(
      new CreateSecretCommand({ Name: 'sched', SecretString: JSON.stringify({ username: 'u', password: 'p0' }), AddReplicaRegions: [{ Region: DR }] }),
    );
    await c.send(
      new RotateSecretCommand({
        SecretId: 'sched',
        RotationLambdaARN: fnArn(P, 'rotate'),
        RotationRules: { ScheduleExpression: 'cron(0 */6 * * ? *)', Duration: '2h' },
        RotateImmediately: false,
      }),
    );
    const d0 = await describe_(c, 'sched');
    const windowEnd = d0.NextRotationDate!.getTime() + 1000;
    const windowStart = windowEnd - 2 * HOUR;
    expect(new Date(windowStart).getUTCHours() % 6).toBe(0);
    expect(d0.LastRotatedDate).toBeUndefined();

    // Jump to a minute before the window opens, then run the clock at an hour per second.
    const now = (await labGet(l, '/_lab/clock')) as { nowMs: number };
    await labPost(l, '/_lab/clock', { advanceMs: windowStart - 60_000 - now.nowMs, speed: 3600 });
    const d1 = await eventually(async () => {
      const d = await describe_(c, 'sched');
      return d.LastRotatedDate && d.VersionIdsToStages && Object.values(d.VersionIdsToStages).flat().includes('AWSPREVIOUS') ? d : undefined;
    }, 15_000);
    await labPost(l, '/_lab/clock', { speed: 1 });
    const rotatedAt = d1.LastRotatedDate!.getTime();
    expect(rotatedAt).toBeGreaterThanOrEqual(windowStart);
    expect(rotatedAt).toBeLessThan(windowEnd);
    expect(d1.NextRotationDate!.getTime()).toBe(windowEnd + 6 * HOUR - 1000);
    const value = (await current(c, 'sched')).SecretString!;
    expect(JSON.parse(value).password).not.toBe('p0');
    const dr = sm(l, DR);
    clients.push(dr);
    await eventually(async () => (await dr.send(new GetSecretValueCommand({ SecretId: 'sched' }))).SecretString === value);
    const events = JSON.stringify(await labGet(l, `/_lab/events?region=${P}`));
    expect(events).toContain('RotationSucceeded');
    expect(events).not.toContain(JSON.parse(value).password);
  });

  it('a scheduled window whose function was deleted: no version is created, RotationFailed is logged, the next window is set', async () => {
    const { l, c, lab } = await setup();
    await lab.createFunction({ region: P, name: 'rotate' });
    const v1 = await c.send(new CreateSecretCommand({ Name: 'nofn', SecretString: 'x' }));
    await c.send(
      new RotateSecretCommand({
        SecretId: 'nofn',
        RotationLambdaARN: fnArn(P, 'rotate'),
        RotationRules: { AutomaticallyAfterDays: 1 },
        RotateImmediately: false,
      }),
    );
    const before = (await describe_(c, 'nofn')).NextRotationDate!.getTime();
    await lab.deleteFunction(P, 'rotate');
    const now = (await labGet(l, '/_lab/clock')) as { nowMs: number };
    await labPost(l, '/_lab/clock', { advanceMs: before + 1000 - now.nowMs });
    await eventually(async () => JSON.stringify(await labGet(l, `/_lab/events?region=${P}`)).includes('RotationFailed'));
    const d = await describe_(c, 'nofn');
    expect(d.VersionIdsToStages).toEqual({ [v1.VersionId!]: ['AWSCURRENT'] });
    expect(d.NextRotationDate!.getTime()).toBeGreaterThan(before);
  });
});

describe('the lab API for functions', () => {
  it('creates, lists and deletes functions, with clear errors', async () => {
    const { l, lab } = await setup();
    const f = await lab.createFunction({ region: DR, name: 'rotate-payments', kind: 'rotation-alternating-users', stepDelayMs: 10 });
    expect(f).toMatchObject({ arn: fnArn(DR, 'rotate-payments'), region: DR, name: 'rotate-payments', kind: 'rotation-alternating-users', stepDelayMs: 10 });
    expect((await lab.listFunctions()).map((x) => x.arn)).toEqual([f.arn]);
    expect(await lab.listFunctions(P)).toEqual([]);
    const errors: Array<[Record<string, unknown>, RegExp]> = [
      [{ region: 'mars-1', name: 'x' }, /"region" must be one of/],
      [{ region: P, name: 'bad name' }, /"name" must be 1-64/],
      [{ region: P, name: 'x', kind: 'rotation-magic' }, /"kind" must be one of rotation-single-user, rotation-alternating-users/],
      [{ region: P, name: 'x', stepDelayMs: -1 }, /stepDelayMs/],
      [{ region: DR, name: 'rotate-payments' }, /already exists/],
    ];
    for (const [body, msg] of errors) {
      const r = await labPost(l, '/_lab/lambda', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.json as { error: string }).error).toMatch(msg);
    }
    await expect(lab.deleteFunction(P, 'rotate-payments')).rejects.toThrow(/no function rotate-payments in ap-northeast-1/);
    await lab.deleteFunction(DR, 'rotate-payments');
    expect(await lab.listFunctions()).toEqual([]);
    expect(((await labGet(l, '/_lab/status')) as { lambdaFunctions: number }).lambdaFunctions).toBe(0);
  });
});
