import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../cli/plan-file.js';
import { recoveryAccount } from '../../domain/plan.js';

const minimal = `name: payments\nprimaryRegion: ap-northeast-1\ndrRegions: [{ region: ap-northeast-3 }]\nsecrets: { include: [{ prefix: prod/ }] }\n`;
const withAccounts = (accounts: string, extra = '') => `${minimal}${extra}recoveryAccounts:\n${accounts}`;

function problemsOf(text: string) {
  const { plan, problems } = parsePlanText(text);
  expect(plan).toBeUndefined();
  return Object.fromEntries(problems.map((p) => [p.path, p.message]));
}

describe('plan: recoveryAccounts (account DR)', () => {
  it('defaults to none, and combines with drRegions when given', () => {
    expect(parsePlanText(minimal).plan?.recoveryAccounts).toEqual([]);
    const { plan, problems } = parsePlanText(
      withAccounts(`  - accountId: "210987654321"
    roleArn: arn:aws:iam::210987654321:role/secrets-dr-recovery
    externalId: payments-dr-7f3a
    kmsKeyId: arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab
    replicaRestriction: NoRestriction
`),
    );
    expect(problems).toEqual([]);
    expect(plan?.drRegions).toEqual([{ region: 'ap-northeast-3' }]);
    expect(plan && recoveryAccount(plan, '210987654321')).toEqual({
      accountId: '210987654321',
      roleArn: 'arn:aws:iam::210987654321:role/secrets-dr-recovery',
      externalId: 'payments-dr-7f3a',
      kmsKeyId: 'arn:aws:kms:ap-northeast-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      replicaRestriction: 'NoRestriction',
    });
    expect(plan && recoveryAccount(plan, '999999999999')).toBeUndefined();
  });

  it('names every bad field: id not 12 digits, role of another account, key of another account or Region, restriction, missing key', () => {
    const problems = problemsOf(
      withAccounts(`  - accountId: "21098765432"
    roleArn: arn:aws:iam::210987654321:role/r
    kmsKeyId: alias/recovery
  - accountId: "210987654321"
    roleArn: arn:aws:iam::111111111111:role/r
    kmsKeyId: arn:aws:kms:ap-northeast-1:111111111111:key/k
  - accountId: "333333333333"
    roleArn: not-an-arn
    kmsKeyId: alias/k
  - accountId: "444444444444"
    roleArn: arn:aws:iam::444444444444:role/r
  - { accountId: "555555555555", roleArn: "arn:aws:iam::555555555555:role/r", kmsKeyId: alias/k, replicaRestriction: Anyone }
`),
    );
    expect(problems).toEqual({
      'recoveryAccounts[0].accountId': 'expected the recovery account id: 12 digits, got "21098765432"',
      'recoveryAccounts[1].roleArn': expect.stringMatching(/^expected a role of the recovery account 210987654321, got one of account 111111111111/),
      'recoveryAccounts[1].kmsKeyId': expect.stringMatching(/^expected a key of the recovery account 210987654321, got one of account 111111111111/),
      'recoveryAccounts[4].replicaRestriction': expect.stringMatching(/SameOrg or NoRestriction/),
      'recoveryAccounts[2].roleArn': expect.stringMatching(/^expected an IAM role ARN "arn:aws:iam::<account id>:role\/<name>", got "not-an-arn"/),
      'recoveryAccounts[3].kmsKeyId': expect.stringMatching(/customer managed KMS key of the recovery account.*refuses a cross-account replica without one/),
    });
  });

  it('refuses the primary account itself, a duplicate account, the AWS managed key, and an unquoted account number', () => {
    const problems = problemsOf(
      withAccounts(
        `  - { accountId: "123456789012", roleArn: "arn:aws:iam::123456789012:role/r", kmsKeyId: alias/k }
  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/r", kmsKeyId: alias/aws/secretsmanager }
  - { accountId: "210987654321", roleArn: "arn:aws:iam::210987654321:role/r", kmsKeyId: alias/k }
`,
        'primaryAccountId: "123456789012"\n',
      ),
    );
    expect(problems['recoveryAccounts[0].accountId']).toMatch(/is primaryAccountId: an account cannot be its own recovery account/);
    expect(problems['recoveryAccounts[1].kmsKeyId']).toMatch(/customer managed key: AWS refuses .* aws\/secretsmanager/);
    expect(problems['recoveryAccounts[2].accountId']).toBe('recovery account 210987654321 is listed twice');
    expect(Object.keys(problems)).toHaveLength(3);
    const unquoted = problemsOf(withAccounts(`  - { accountId: 555555555555, roleArn: "arn:aws:iam::555555555555:role/r", kmsKeyId: alias/k }\n`));
    expect(unquoted['recoveryAccounts[0].accountId']).toMatch(/12-digit AWS account id.*quote it/);
  });

  it('refuses a replica key of another Region: the cross-account replica lives in primaryRegion', () => {
    const problems = problemsOf(
      withAccounts(`  - { accountId: "333333333333", roleArn: "arn:aws:iam::333333333333:role/r", kmsKeyId: "arn:aws:kms:us-east-1:333333333333:key/k" }\n`),
    );
    expect(problems).toEqual({
      'recoveryAccounts[0].kmsKeyId': expect.stringMatching(/^the replica key must be a key of primaryRegion ap-northeast-1: the key .* lives in us-east-1/),
    });
  });
});
