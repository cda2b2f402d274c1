/**
 * ListSecrets answers and filters, replayed from sequences recorded on real AWS with the real SDK:
 * localstack test_secretsmanager.py (aws-validated) and moto tests/test_secretsmanager/
 * test_list_secrets.py (aws_verified). Where no recording exists, the rule is botocore's
 * service model (Filter.Key documentation), and the test says so.
 */
import { describe, expect, it } from 'vitest';
import {
  CreateSecretCommand,
  ListSecretsCommand,
  ReplicateSecretToRegionsCommand,
  type Filter,
  type SecretsManagerClient,
  type Tag,
} from '@aws-sdk/client-secrets-manager';
import type { RunningLab } from '../../lab/server.js';
import { DR, eventually, fieldsOf, labPerTest, sm } from './helpers.js';

let lab: RunningLab;
let c: SecretsManagerClient;
labPerTest((l, client) => ([lab, c] = [l, client]), { maxAttempts: 1 });

async function make(Name: string, Description?: string, Tags?: Tag[]): Promise<void> {
  await c.send(new CreateSecretCommand({ Name, SecretString: 's', Description, Tags }));
}
async function names(...filters: Filter[]): Promise<string[]> {
  return (await c.send(new ListSecretsCommand({ Filters: filters }))).SecretList!.map((s) => s.Name!);
}
const f = (Key: Filter['Key'], ...Values: string[]): Filter => ({ Key, Values });

describe('ListSecrets entries (localstack recordings)', () => {
  it('localstack test_create_multi_secrets / test_call_lists_secrets_multiple_times: entries in creation order with the recorded fields, the same on every call', async () => {
    const created: string[] = [];
    for (const n of ['zz-first', 'aa-second', 'mm-third']) {
      created.push((await c.send(new CreateSecretCommand({ Name: n, SecretString: `my_secret_${n}`, Description: 'Testing secrets creation.' }))).ARN!);
    }
    for (let i = 0; i < 3; i++) {
      const list = (await c.send(new ListSecretsCommand({}))).SecretList!;
      expect(list.map((s) => s.ARN)).toEqual(created);
      for (const s of list) {
        expect(fieldsOf(s)).toEqual(['ARN', 'CreatedDate', 'Description', 'LastChangedDate', 'Name', 'SecretVersionsToStages']);
        expect(Object.values(s.SecretVersionsToStages!)).toEqual([['AWSCURRENT']]);
      }
    }
  });
});

describe('ListSecrets filters (recordings)', () => {
  it('localstack test_list_secrets_filtering: name is a case-sensitive prefix of the whole name; description matches words', async () => {
    const [n1, n2, n3, n4] = ['testing1/one-12345', '/testing2/two-12345', 'testing3/three-12345', '/testing4/four-12345'];
    await make(n1!, 'a secret');
    await make(n2!, 'an secret');
    await make(n3!, 'asecret');
    await make(n4!, 'thesecret');
    expect(await names(f('name', '/'))).toEqual([n2, n4]);
    expect(await names(f('name', '!/'))).toEqual([n1, n3]);
    expect(await names(f('name', 'testing1 one'))).toEqual([]);
    expect(await names(f('description', 'a'))).toEqual([n1, n2, n3]);
    expect(await names(f('description', '!a'))).toEqual([n4]);
    expect(await names(f('description', 'a secret'))).toEqual([n1, n2]);
    expect(await names(f('description', 'a'), f('name', 'secret'))).toEqual([]);
    expect(await names(f('description', 'a'), f('name', 'an'))).toEqual([]);
    expect(await names(f('description', '!c'))).toEqual([n1, n2, n3, n4]);
  });

  it('moto test_with_all_filter (aws_verified): all breaks the value into words, each must start a word of the name, description or tags, any case', async () => {
    const u = '3f9a1c';
    const [first, second, third, fooKey, fooVal, none] = [
      `SecretOne${u}`,
      `SecretTwo${u}`,
      `Thirdsecret${u}`,
      `SecretFTag${u}`,
      `SecretFValue${u}`,
      `none${u}`,
    ];
    await make(first);
    await make(second, 'DescTwo');
    await make(third);
    await make(fooKey, undefined, [{ Key: '1', Value: 'foo' }]);
    await make(fooVal, undefined, [{ Key: 'foo', Value: 'v' }]);
    await make(none);
    expect(await names(f('all', 'SecretOne'))).toEqual([first]);
    expect(await names(f('all', 'foo'))).toEqual([fooKey, fooVal]);
    expect(await names(f('all', 'Secret'))).toEqual([first, second, fooKey, fooVal]);
    expect(await names(f('all', 'secret'))).toEqual([first, second, fooKey, fooVal]);
    expect(await names(f('all', 'ret'))).toEqual([]);
    expect(await names(f('all', 'sec'))).toEqual([first, second, fooKey, fooVal]);
    expect(await names(f('all', 'SomeSecret'))).toEqual([]);
    expect(await names(f('all', 'd'))).toEqual([second]);
    expect(await names(f('all', 'd t'))).toEqual([second]);
    expect(await names(f('all', 't'))).toEqual([second, third, fooKey]);
  });

  it('moto test_with_all_filter_special_characters (aws_verified): punctuation separates words and is never a word; upper-case runs split before their last letter', async () => {
    const u = '3f9a1c';
    const special = ['/', '_', '+', '=', '.', '@', '-'].map((ch) => `prod${ch}AppBeta${ch}${u}`);
    const [full, partial] = [`uat/COMPANY/${u}`, `uat/COMPANYthings/${u}`];
    for (const n of [...special, full, partial]) await make(n!);
    expect(await names(f('all', 'AppBeta'))).toEqual(special);
    expect(await names(f('all', 'Beta'))).toEqual(special);
    expect(await names(f('all', 'AppBeta', 'prod'))).toEqual(special);
    expect(await names(f('all', '+'))).toEqual([]);
    expect(await names(f('all', u))).toEqual([...special, full, partial]);
    expect(await names(f('all', 'company'))).toEqual([full]);
    expect(await names(f('all', 'things'))).toEqual([]);
    expect(await names(f('all', 'Ythings'))).toEqual([partial]);
    expect(await names(f('all', 'N'))).toEqual([]);
    expect(await names(f('all', 'pany'))).toEqual([]);
  });

  it('moto test_with_duplicate_filter_keys (aws_verified): a key given twice means both must hold', async () => {
    await make('foo', 'one two');
    await make('bar', 'one');
    await make('baz', 'two');
    await make('qux', 'unrelated');
    expect(await names(f('description', 'one'), f('description', 'two'))).toEqual(['foo']);
  });

  it('moto test_with_filter_with_value_with_multiple_words (aws_verified): every word of a description value must start a word of the description', async () => {
    await make('foo', 'one two');
    await make('bar', 'one and two');
    await make('baz', 'one');
    await make('qux', 'two');
    await make('none', 'unrelated');
    expect(await names(f('description', 'one two'))).toEqual(['foo', 'bar']);
    expect(await names(f('description', 'o t'))).toEqual(['foo', 'bar']);
    expect(await names(f('description', 't'))).toEqual(['foo', 'bar', 'qux']);
    expect(await names(f('description', 'ONE'))).toEqual(['foo', 'bar', 'baz']);
  });

  it('botocore Filter.Key: tag-key, tag-value and primary-region are case-sensitive prefixes; owning-service matches no customer secret', async () => {
    await make('a', undefined, [{ Key: 'dr-tier', Value: 'Gold plan' }]);
    await make('b', undefined, [{ Key: 'Dr-Tier', Value: 'gold' }]);
    await make('replicated');
    await c.send(new ReplicateSecretToRegionsCommand({ SecretId: 'replicated', AddReplicaRegions: [{ Region: DR }] }));
    expect(await names(f('tag-key', 'dr-'))).toEqual(['a']);
    expect(await names(f('tag-value', 'Gold p'))).toEqual(['a']);
    expect(await names(f('tag-value', 'gold'))).toEqual(['b']);
    expect(await names(f('primary-region', 'ap-northeast-1'))).toEqual(['replicated']);
    expect(await names(f('primary-region', 'AP-'))).toEqual([]);
    expect(await names(f('owning-service', 'rds'))).toEqual([]);
    const dr = sm(lab, DR, { maxAttempts: 1 });
    const replicaList = await eventually(async () => {
      const l = (await dr.send(new ListSecretsCommand({ Filters: [f('primary-region', 'ap-northeast-1')] }))).SecretList!;
      return l.length > 0 && l;
    });
    expect(replicaList.map((s) => s.Name)).toEqual(['replicated']);
    dr.destroy();
  });
});
