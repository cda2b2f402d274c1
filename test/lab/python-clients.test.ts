/**
 * Smoke test: the Python AWS clients that operators use (boto3 and the AWS CLI v1, pinned in
 * scripts/tools.mjs and installed into .tools/venv with moto) work against the lab unchanged:
 * create, get, list, put and describe through each, against an in-process lab.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTools, TOOLS_DIR } from '../../scripts/tools.mjs';
import type { RunningLab } from '../../lab/server.js';
import { P, withLab } from './helpers.js';

const run = promisify(execFile);

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** .tools/venv's python and aws, installing them (with moto) on a fresh clone. */
function pythonClients(): { python: string; aws: string } {
  const python = join(TOOLS_DIR, 'venv', 'bin', 'python');
  const aws = join(TOOLS_DIR, 'venv', 'bin', 'aws');
  if (executable(python) && executable(aws)) return { python, aws };
  const t = ensureTools({ moto: true }, () => undefined);
  return { python: t.python!, aws: t.awsCli! };
}

let lab: RunningLab;
let tools: { python: string; aws: string };
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  tools = pythonClients();
  lab = await withLab();
  // Only the lab: no profile, config or credentials of the machine.
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: P,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}, 300_000);
afterAll(async () => {
  await lab?.close();
});

const BOTO3_SCRIPT = `
import json, sys, boto3
c = boto3.client("secretsmanager", endpoint_url=sys.argv[1])
created = c.create_secret(Name="py/app", SecretString="one", Description="from boto3", Tags=[{"Key": "k", "Value": "v"}])
got = c.get_secret_value(SecretId="py/app")
put = c.put_secret_value(SecretId=created["ARN"], SecretString="two")
listed = c.get_paginator("list_secrets").paginate(Filters=[{"Key": "name", "Values": ["py/"]}]).build_full_result()
described = c.describe_secret(SecretId="py/app")
try:
    c.get_secret_value(SecretId="py/missing")
    missing = None
except c.exceptions.ResourceNotFoundException as e:
    missing = e.response["Error"]["Message"]
print(json.dumps({
    "arn": created["ARN"], "first": got["SecretString"], "put": put["VersionStages"],
    "listed": [s["Name"] for s in listed["SecretList"]],
    "stages": sorted(sum(described["VersionIdsToStages"].values(), [])),
    "tags": described["Tags"], "description": described["Description"], "missing": missing,
    "now": c.get_secret_value(SecretId="py/app")["SecretString"],
}))
`;

describe('Python AWS clients against the lab', () => {
  it('boto3: create, get, put, list (paginated, filtered), describe, and a modelled error', async () => {
    const { stdout } = await run(tools.python, ['-c', BOTO3_SCRIPT, lab.url], { env, timeout: 120_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out).toEqual({
      arn: expect.stringMatching(/^arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:py\/app-[A-Za-z0-9]{6}$/) as unknown,
      first: 'one',
      put: ['AWSCURRENT'],
      listed: ['py/app'],
      stages: ['AWSCURRENT', 'AWSPREVIOUS'],
      tags: [{ Key: 'k', Value: 'v' }],
      description: 'from boto3',
      missing: "Secrets Manager can't find the specified secret.",
      now: 'two',
    });
  }, 180_000);

  it('AWS CLI v1: create-secret, get-secret-value, put-secret-value, list-secrets, describe-secret', async () => {
    const aws = async (...args: string[]): Promise<Record<string, unknown>> => {
      const { stdout } = await run(tools.aws, ['--endpoint-url', lab.url, '--output', 'json', 'secretsmanager', ...args], { env, timeout: 120_000 });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const created = await aws('create-secret', '--name', 'cli/app', '--secret-string', 'one');
    expect(created.Name).toBe('cli/app');
    expect((await aws('get-secret-value', '--secret-id', 'cli/app')).SecretString).toBe('one');
    const put = await aws('put-secret-value', '--secret-id', String(created.ARN), '--secret-string', 'two');
    expect(put.VersionStages).toEqual(['AWSCURRENT']);
    const listed = await aws('list-secrets', '--filters', 'Key=name,Values=cli/');
    expect((listed.SecretList as { Name: string }[]).map((s) => s.Name)).toEqual(['cli/app']);
    const described = await aws('describe-secret', '--secret-id', 'cli/app');
    expect(described.VersionIdsToStages).toEqual({ [String(created.VersionId)]: ['AWSPREVIOUS'], [String(put.VersionId)]: ['AWSCURRENT'] });
    const failed = await run(tools.aws, ['--endpoint-url', lab.url, 'secretsmanager', 'describe-secret', '--secret-id', 'cli/missing'], {
      env,
      timeout: 120_000,
    }).then(
      () => undefined,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failed?.code).toBe(255); // AWS CLI v1: 255 for a service error
    expect(failed?.stderr).toMatch(/ResourceNotFoundException.*Secrets Manager can't find the specified secret\./);
  }, 180_000);
});
