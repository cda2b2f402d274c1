/**
 * `secrets-dr deploy synth` on the canonical plan, offline: one CloudFormation template per plan
 * Region, each linted by cfn-lint and checked by checkov (PyPI, each in a venv of its own under .tools/) with zero findings;
 * the worker's task role is exactly the IAM table's policy; no HTTP endpoint anywhere; the
 * receiver's bundled Lambda handler answers an invalid event with 400.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTools } from '../../scripts/tools.mjs';
import { parsePlanText } from '../../cli/plan-file.js';
import { policyFor } from '../../domain/iam.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAN = join(ROOT, 'test/fixtures/canonical-plan.yaml');
const plan = parsePlanText(readFileSync(PLAN, 'utf8')).plan!;

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}
function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0, stdout, stderr });
    });
  });
}

type Template = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }> };
let out: string;
let stacks: Array<{ region: string; stackName: string; template: string }>;
const templates = new Map<string, Template>();
let tools: ReturnType<typeof ensureTools>;

beforeAll(async () => {
  tools = ensureTools({ cfnLint: true, checkov: true }, () => {});
  out = mkdtempSync(join(tmpdir(), 'secrets-dr-cdk-'));
  const r = await exec(process.execPath, [
    join(ROOT, 'bin/secrets-dr.mjs'),
    'deploy',
    'synth',
    '-f',
    PLAN,
    '--json',
    '--out',
    out,
    '--image',
    '123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/secrets-dr:0.1.0',
    '--temporal-address',
    'payments.a1b2c.tmprl.cloud:7233',
    '--temporal-namespace',
    'payments.a1b2c',
  ]);
  expect(r.code, r.stderr).toBe(0);
  stacks = (JSON.parse(r.stdout) as { stacks: typeof stacks }).stacks;
  for (const s of stacks) templates.set(s.region, JSON.parse(readFileSync(s.template, 'utf8')) as Template);
}, 300_000);

const ofType = (t: Template, type: string) => Object.values(t.Resources).filter((r) => r.Type === type);

describe('deploy synth (AWS CDK, offline)', () => {
  it('writes one template per plan Region', () => {
    expect(stacks.map((s) => s.region)).toEqual(['ap-northeast-1', 'ap-northeast-3']);
  });

  it("runs the worker on ECS Fargate in private subnets with the IAM table's policy and its Temporal key from Secrets Manager", () => {
    for (const [region, t] of templates) {
      const [service] = ofType(t, 'AWS::ECS::Service');
      expect(service?.Properties).toMatchObject({ LaunchType: 'FARGATE', NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } } });
      const [task] = ofType(t, 'AWS::ECS::TaskDefinition');
      const container = (task!.Properties!.ContainerDefinitions as Array<Record<string, unknown>>)[0]!;
      expect(container.Command).toEqual(['--regions', region]);
      expect(container.User).toBe('1000:1000');
      // An init as PID 1 forwards SIGTERM (Node as PID 1 ignores one that comes before its handler), and the worker's
      // own limit ends before ECS's SIGKILL.
      expect(container.LinuxParameters).toMatchObject({ InitProcessEnabled: true });
      const env = Object.fromEntries((container.Environment as Array<{ Name: string; Value: string }>).map((e) => [e.Name, e.Value]));
      expect(Number(env.SECRETS_DR_SHUTDOWN_TIMEOUT_MS)).toBeLessThan(Number(container.StopTimeout) * 1000);
      expect(JSON.stringify(container.Secrets)).toContain('TEMPORAL_API_KEY');
      expect(JSON.stringify(container.Environment)).not.toMatch(/API_KEY"/);
      const workerRole = ofType(t, 'AWS::IAM::Role').find((r) => JSON.stringify(r.Properties).includes('secrets-dr-worker'))!;
      const doc = (workerRole.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<{ Sid: string; Action: string[] }> } }>)[0]!.PolicyDocument;
      const expected = policyFor('worker', plan);
      expect(doc.Statement.map((s) => [s.Sid, [s.Action].flat().sort()])).toEqual(expected.Statement.map((s) => [s.Sid, [...s.Action].sort()]));
    }
  });

  it('feeds recover through alarm and AWS Health rules to the receiver Lambda, with no HTTP endpoint anywhere', () => {
    for (const t of templates.values()) {
      const types = new Set(Object.values(t.Resources).map((r) => r.Type));
      for (const http of [
        'AWS::Events::ApiDestination',
        'AWS::Events::Connection',
        'AWS::Lambda::Url',
        'AWS::ElasticLoadBalancingV2::LoadBalancer',
        'AWS::ApiGateway::RestApi',
        'AWS::ApiGatewayV2::Api',
      ]) {
        expect(types.has(http), http).toBe(false);
      }
      const rules = ofType(t, 'AWS::Events::Rule');
      expect(rules.map((r) => (r.Properties!.EventPattern as { source: string[] }).source[0]).sort()).toEqual(['aws.cloudwatch', 'aws.health']);
      for (const r of rules) expect(JSON.stringify(r.Properties!.Targets)).toMatch(/Receiver.*Arn/);
      for (const sg of ofType(t, 'AWS::EC2::SecurityGroup')) expect(sg.Properties!.SecurityGroupIngress ?? []).toEqual([]);
    }
  });

  it('passes cfn-lint with no finding', async () => {
    const r = await exec(tools.cfnLint!, ['--format', 'json', ...stacks.map((s) => s.template)]);
    expect(JSON.parse(r.stdout || '[]')).toEqual([]);
    expect(r.code).toBe(0);
  }, 300_000);

  it('passes checkov with no failed check, and every skip says why next to its resource', async () => {
    const r = await exec(
      tools.checkov!,
      ['--skip-download', '--framework', 'cloudformation', '-o', 'json', '--quiet', ...stacks.flatMap((s) => ['-f', s.template])],
      { BC_SKIP_MAPPING: 'TRUE' },
    );
    const reports = [JSON.parse(r.stdout)].flat() as Array<{
      summary: { failed: number; passed: number };
      results: { failed_checks: Array<{ check_id: string; resource: string }> };
    }>;
    expect(reports.flatMap((x) => x.results.failed_checks.map((c) => `${c.check_id} ${c.resource}`))).toEqual([]);
    expect(reports.every((x) => x.summary.passed > 50)).toBe(true);
    for (const t of templates.values()) {
      for (const res of Object.values(t.Resources)) {
        const skips = (res.Metadata?.checkov as { skip?: Array<{ id: string; comment: string }> } | undefined)?.skip ?? [];
        for (const s of skips) expect(s.comment.length, s.id).toBeGreaterThan(20);
      }
    }
  }, 300_000);

  it('bundles the receiver handler into one file that answers an invalid event with 400 and no lab advice', async () => {
    const mod = (await import(pathToFileURL(join(out, '.receiver', 'index.mjs')).href)) as {
      handler(e: unknown): Promise<{ statusCode: number; body: string }>;
    };
    process.env.SECRETS_DR_PLAN = readFileSync(PLAN, 'utf8');
    process.env.TEMPORAL_ADDRESS = '127.0.0.1:1'; // nothing listens: an invalid event must not need Temporal
    const res = await mod.handler({ hello: 'world' });
    expect(res.statusCode).toBe(400);
    expect(res.body).not.toMatch(/lab up/);
  }, 60_000);
});
