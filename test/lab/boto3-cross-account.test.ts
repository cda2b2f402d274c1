/**
 * boto3 1.44.8 (whose botocore has the cross-account model) against the multi-account lab: STS
 * AssumeRole into the recovery account, CreateSecret(CrossAccountPrimaryARN), Associate/
 * DisassociateCrossAccountReplica, DescribeSecret's CrossAccountPrimary/CrossAccountReplicas,
 * StopReplicationToReplica, and the error cases, parsed by botocore's own model.
 *
 * The Python: $SECRETS_DR_BOTO3_PYTHON, else .tools/venv's (scripts/tools.mjs pins boto3 1.44.8
 * there, with checkov kept in a venv of its own so it cannot downgrade it). A botocore without the
 * model fails the test with what to do.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOLS_DIR } from '../../scripts/tools.mjs';
import type { RunningLab } from '../../lab/server.js';
import { labPost, P, withLab } from './helpers.js';

const run = promisify(execFile);
const PRIMARY_ACCOUNT = '111111111111';
const RECOVERY_ACCOUNT = '222222222222';

function python(): string {
  const p = process.env.SECRETS_DR_BOTO3_PYTHON ?? join(TOOLS_DIR, 'venv', 'bin', 'python');
  accessSync(p, constants.X_OK);
  return p;
}

const SCRIPT = `
import json, sys, time, boto3, botocore
url, region = sys.argv[1], sys.argv[2]
P, R = "${PRIMARY_ACCOUNT}", "${RECOVERY_ACCOUNT}"
def sm(key, secret="x", token=None):
    return boto3.client("secretsmanager", endpoint_url=url, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
def err(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return {"code": e.response["Error"]["Code"], "message": e.response["Error"]["Message"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"]}
    return None
out = {"botocore": botocore.__version__}
if not hasattr(sm("x"), "associate_cross_account_replica"):
    print(json.dumps({"missingModel": botocore.__version__})); sys.exit(0)
sts = boto3.client("sts", endpoint_url=url, region_name=region, aws_access_key_id="lab" + P, aws_secret_access_key="x")
role = sts.assume_role(RoleArn="arn:aws:iam::%s:role/secrets-dr-recovery" % R, RoleSessionName="dr", ExternalId="ext-123456")
c = role["Credentials"]
out["expirationIsDate"] = hasattr(c["Expiration"], "year")
out["wrongExternalId"] = err(lambda: sts.assume_role(RoleArn="arn:aws:iam::%s:role/secrets-dr-recovery" % R, RoleSessionName="dr", ExternalId="nope-nope"))
rec = sm(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
out["recoveryIdentity"] = boto3.client("sts", endpoint_url=url, region_name=region, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).get_caller_identity()["Account"]
pri = sm("lab" + P)
primary = pri.create_secret(Name="prod/db", SecretString="v1", KmsKeyId="alias/primary-key")["ARN"]
out["createWithValue"] = err(lambda: rec.create_secret(Name="bad", CrossAccountPrimaryARN=primary, KmsKeyId="alias/recovery-key", SecretString="x"))
replica = rec.create_secret(Name="dr/prod/db", CrossAccountPrimaryARN=primary, KmsKeyId="alias/recovery-key")["ARN"]
out["pending"] = rec.describe_secret(SecretId=replica)["CrossAccountPrimary"]
out["noAcceptance"] = err(lambda: pri.associate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=replica))
rec.put_resource_policy(SecretId=replica, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % P}, "Action": "secretsmanager:AcceptCrossAccountReplication", "Resource": "*"}]}))
a = pri.associate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=replica, ReplicaRestriction="SameOrg")
out["associate"] = {k: a[k] for k in ("ARN", "CrossAccountReplicaARN", "ReplicationStatus")}
for _ in range(200):
    d = pri.describe_secret(SecretId=primary)
    if d["CrossAccountReplicas"][0]["ReplicationStatus"] == "InSync": break
    time.sleep(0.05)
out["primarySide"] = d["CrossAccountReplicas"]
out["replicaSide"] = rec.describe_secret(SecretId=replica)["CrossAccountPrimary"]
out["replicaValue"] = rec.get_secret_value(SecretId=replica)["SecretString"]
out["writeReplica"] = err(lambda: rec.put_secret_value(SecretId=replica, SecretString="no"))
out["deletePrimary"] = err(lambda: pri.delete_secret(SecretId=primary, ForceDeleteWithoutRecovery=True))
other = sm("lab333333333333").create_secret(Name="dr2", CrossAccountPrimaryARN=primary, KmsKeyId="k2")["ARN"]
out["secondReplica"] = err(lambda: pri.associate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=other, ReplicaRestriction="NoRestriction"))
out["again"] = pri.associate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=replica)["CrossAccountReplicaARN"] == replica
dis = pri.disassociate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=replica)
out["disassociate"] = {k: dis[k] for k in ("ARN", "CrossAccountReplicaARN")}
out["detached"] = rec.describe_secret(SecretId=replica)["CrossAccountPrimary"]["ReplicationStatus"]
out["disassociateUnknown"] = err(lambda: pri.disassociate_cross_account_replica(SecretId=primary, CrossAccountReplicaARN=other))
rec.stop_replication_to_replica(SecretId=replica)
out["standalone"] = "CrossAccountPrimary" not in rec.describe_secret(SecretId=replica)
rec.put_secret_value(SecretId=replica, SecretString="promoted")
out["primaryAfterStop"] = pri.describe_secret(SecretId=primary)["CrossAccountReplicas"][0]["ReplicationStatus"]
print(json.dumps(out))
`;

let lab: RunningLab;
beforeAll(async () => {
  lab = await withLab();
  await labPost(lab, '/_lab/roles', {
    accountId: RECOVERY_ACCOUNT,
    roleName: 'secrets-dr-recovery',
    trustedAccounts: [PRIMARY_ACCOUNT],
    externalId: 'ext-123456',
  });
  await labPost(lab, '/_lab/kms/key-policy', {
    accountId: RECOVERY_ACCOUNT,
    region: P,
    keyId: 'alias/recovery-key',
    policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: PRIMARY_ACCOUNT }, Action: 'kms:Encrypt', Resource: '*' }] },
  });
});
afterAll(async () => {
  await lab?.close();
});

describe('boto3 1.44.8 against the multi-account lab', () => {
  it('STS AssumeRole, and every cross-account operation and error case, parsed by botocore', async () => {
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const { stdout } = await run(python(), ['-c', SCRIPT, lab.url, P], { env, timeout: 120_000 });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    if (out.missingModel) {
      throw new Error(
        `botocore ${String(out.missingModel)} has no cross-account operations: run \`node scripts/bootstrap.mjs --tools\` (boto3 1.44.8 in .tools/venv) or set SECRETS_DR_BOTO3_PYTHON`,
      );
    }
    const primaryPrefix = `arn:aws:secretsmanager:${P}:${PRIMARY_ACCOUNT}:secret:prod/db-`;
    const replicaPrefix = `arn:aws:secretsmanager:${P}:${RECOVERY_ACCOUNT}:secret:dr/prod/db-`;
    expect(out.expirationIsDate).toBe(true);
    expect(out.wrongExternalId).toMatchObject({ code: 'AccessDenied', status: 403 });
    expect(out.recoveryIdentity).toBe(RECOVERY_ACCOUNT);
    expect(out.createWithValue).toMatchObject({ code: 'InvalidParameterException', status: 400 });
    expect(out.pending).toEqual({ PrimarySecretARN: expect.stringMatching(new RegExp(`^${primaryPrefix}`)), ReplicationStatus: 'Pending' });
    expect(out.noAcceptance).toMatchObject({ code: 'AccessDeniedException', message: expect.stringContaining('secretsmanager:AcceptCrossAccountReplication') });
    expect(out.associate).toMatchObject({ ReplicationStatus: 'InProgress', CrossAccountReplicaARN: expect.stringMatching(new RegExp(`^${replicaPrefix}`)) });
    expect(out.primarySide).toEqual([{ ReplicaSecretARN: expect.stringMatching(new RegExp(`^${replicaPrefix}`)), ReplicationStatus: 'InSync' }]);
    expect(out.replicaSide).toMatchObject({ ReplicationStatus: 'InSync' });
    expect(out.replicaValue).toBe('v1');
    expect(out.writeReplica).toMatchObject({ code: 'InvalidParameterException' });
    expect(out.deletePrimary).toMatchObject({ code: 'InvalidRequestException', message: expect.stringContaining('DisassociateCrossAccountReplica') });
    expect(out.secondReplica).toMatchObject({ code: 'LimitExceededException' });
    expect(out.again).toBe(true);
    expect(out.disassociate).toMatchObject({ ARN: expect.stringMatching(new RegExp(`^${primaryPrefix}`)) });
    expect(out.detached).toBe('Detached');
    expect(out.disassociateUnknown).toMatchObject({ code: 'InvalidParameterException' });
    expect(out.standalone).toBe(true);
    expect(out.primaryAfterStop).toBe('Detached');
  });
});
