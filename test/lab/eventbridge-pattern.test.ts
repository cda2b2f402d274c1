/**
 * The lab's event-pattern matcher against the documented EventBridge semantics. Cases are taken
 * from (or modelled on) the examples of "Content filtering in Amazon EventBridge event patterns",
 * "Comparison operators for use in event patterns", and the README of AWS's Event Ruler.
 */
import { describe, expect, it } from 'vitest';
import { EventPatternError, matchesPattern, parseEventPattern } from '../../lab/eventbridge/pattern.js';

/** The EC2 state-change event the AWS docs use throughout. */
const EC2_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

const withDetail = (detail: Record<string, unknown>) => ({ ...EC2_EVENT, detail });

interface Case {
  name: string;
  /** Pattern as JSON text (so number spellings like 3.018e2 survive). */
  pattern: string;
  event: unknown;
  match: boolean;
}

const cases: Record<string, Case[]> = {
  'exact values': [
    { name: 'string equal', pattern: '{"source":["aws.ec2"]}', event: EC2_EVENT, match: true },
    { name: 'string different', pattern: '{"source":["aws.s3"]}', event: EC2_EVENT, match: false },
    { name: 'case-sensitive', pattern: '{"source":["AWS.EC2"]}', event: EC2_EVENT, match: false },
    { name: 'array of alternatives is OR', pattern: '{"source":["aws.s3","aws.ec2"]}', event: EC2_EVENT, match: true },
    { name: 'fields are ANDed (one fails)', pattern: '{"source":["aws.ec2"],"detail":{"state":["stopped"]}}', event: EC2_EVENT, match: false },
    {
      name: 'docs example: detail-type + resources + state',
      pattern: JSON.stringify({
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
        detail: { state: ['initializing', 'running'] },
      }),
      event: EC2_EVENT,
      match: true,
    },
    {
      name: 'event array matches if any element does',
      pattern: '{"resources":["arn:x","arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"]}',
      event: EC2_EVENT,
      match: true,
    },
    { name: 'event array with no matching element', pattern: '{"resources":["arn:x"]}', event: EC2_EVENT, match: false },
    { name: 'number equal', pattern: '{"detail":{"c-count":[5]}}', event: EC2_EVENT, match: true },
    { name: 'number equal in another spelling', pattern: '{"detail":{"x-limit":[3.018e2]}}', event: EC2_EVENT, match: true },
    { name: 'number written as string does not match', pattern: '{"detail":{"c-count":["5"]}}', event: EC2_EVENT, match: false },
    { name: 'string value is not a number', pattern: '{"detail":{"state":[5]}}', event: EC2_EVENT, match: false },
    { name: 'true', pattern: '{"detail":{"flag":[true]}}', event: withDetail({ flag: true }), match: true },
    { name: 'true vs "true"', pattern: '{"detail":{"flag":["true"]}}', event: withDetail({ flag: true }), match: false },
    { name: 'false vs true', pattern: '{"detail":{"flag":[false]}}', event: withDetail({ flag: true }), match: false },
    { name: 'null matches null', pattern: '{"detail":{"v":[null]}}', event: withDetail({ v: null }), match: true },
    { name: 'null does not match an absent field', pattern: '{"detail":{"v":[null]}}', event: withDetail({}), match: false },
    { name: 'empty string matches empty string', pattern: '{"detail":{"v":[""]}}', event: withDetail({ v: '' }), match: true },
    { name: 'empty string does not match null', pattern: '{"detail":{"v":[""]}}', event: withDetail({ v: null }), match: false },
    { name: 'number inside an event array', pattern: '{"detail":{"codes":[404]}}', event: withDetail({ codes: [200, 404] }), match: true },
    {
      name: 'IP literal matches another spelling of the same IPv6 address',
      pattern: '{"detail":{"ip":["2001:db8::1"]}}',
      event: withDetail({ ip: '2001:0db8:0:0:0:0:0:1' }),
      match: true,
    },
    { name: 'matches envelope fields (account, region)', pattern: '{"account":["012345679012"],"region":["us-east-1"]}', event: EC2_EVENT, match: true },
    { name: 'absent top-level field', pattern: '{"nope":["x"]}', event: EC2_EVENT, match: false },
  ],
  'nested objects and arrays of objects': [
    { name: 'nested object', pattern: '{"detail":{"a":{"b":["x"]}}}', event: withDetail({ a: { b: 'x' } }), match: true },
    { name: 'nested object, wrong value', pattern: '{"detail":{"a":{"b":["x"]}}}', event: withDetail({ a: { b: 'y' } }), match: false },
    { name: 'pattern object vs scalar in event', pattern: '{"detail":{"a":{"b":["x"]}}}', event: withDetail({ a: 'x' }), match: false },
    {
      name: 'array of objects: any element (Event Ruler README)',
      pattern: '{"detail":{"employees":{"firstName":["Anna"]}}}',
      event: withDetail({
        employees: [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
          { firstName: 'Peter', lastName: 'Jones' },
        ],
      }),
      match: true,
    },
    {
      name: 'array of objects: fields from one element',
      pattern: '{"detail":{"employees":{"firstName":["Anna"],"lastName":["Smith"]}}}',
      event: withDetail({
        employees: [
          { firstName: 'John', lastName: 'Doe' },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
      }),
      match: true,
    },
    {
      name: 'array of objects: never mixes elements (array consistency)',
      pattern: '{"detail":{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}}',
      event: withDetail({
        employees: [
          { firstName: 'Anna', lastName: 'Smith' },
          { firstName: 'Peter', lastName: 'Jones' },
        ],
      }),
      match: false,
    },
    {
      name: 'multi-level arrays are crushed',
      pattern: '{"detail":{"employees":{"firstName":["Peter"]}}}',
      event: withDetail({ employees: [[{ firstName: 'John' }], [{ firstName: 'Peter' }]] }),
      match: true,
    },
    { name: 'nested scalar arrays are crushed', pattern: '{"detail":{"m":["c"]}}', event: withDetail({ m: [['a', 'b'], ['c']] }), match: true },
  ],
  prefix: [
    { name: 'docs: time starts with 2017-10-02', pattern: '{"time":[{"prefix":"2017-10-02"}]}', event: EC2_EVENT, match: true },
    { name: 'different prefix', pattern: '{"time":[{"prefix":"2017-10-03"}]}', event: EC2_EVENT, match: false },
    { name: 'case-sensitive', pattern: '{"source":[{"prefix":"AWS."}]}', event: EC2_EVENT, match: false },
    { name: 'never matches numbers', pattern: '{"detail":{"c-count":[{"prefix":"5"}]}}', event: EC2_EVENT, match: false },
    { name: 'any element of an event array', pattern: '{"resources":[{"prefix":"arn:aws:ec2:"}]}', event: EC2_EVENT, match: true },
    {
      name: 'docs: prefix equals-ignore-case (EventB)',
      pattern: '{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}',
      event: withDetail({ service: 'eventbridge' }),
      match: true,
    },
    {
      name: 'prefix equals-ignore-case, upper-case value',
      pattern: '{"detail":{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}}',
      event: withDetail({ service: 'EVENTBRIDGE' }),
      match: true,
    },
    {
      name: 'prefix equals-ignore-case, other value',
      pattern: '{"detail":{"service":[{"prefix":{"equals-ignore-case":"EventB"}}]}}',
      event: withDetail({ service: 'Lambda' }),
      match: false,
    },
  ],
  suffix: [
    {
      name: 'docs: FileName ends with .png',
      pattern: '{"detail":{"FileName":[{"suffix":".png"}]}}',
      event: withDetail({ FileName: 'image.png' }),
      match: true,
    },
    { name: 'case-sensitive', pattern: '{"detail":{"FileName":[{"suffix":".png"}]}}', event: withDetail({ FileName: 'image.PNG' }), match: false },
    { name: 'other suffix', pattern: '{"detail":{"FileName":[{"suffix":".png"}]}}', event: withDetail({ FileName: 'image.jpg' }), match: false },
    {
      name: 'docs: suffix equals-ignore-case',
      pattern: '{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}',
      event: withDetail({ FileName: 'image.PNG' }),
      match: true,
    },
    {
      name: 'suffix equals-ignore-case, other suffix',
      pattern: '{"detail":{"FileName":[{"suffix":{"equals-ignore-case":".png"}}]}}',
      event: withDetail({ FileName: 'image.jpg' }),
      match: false,
    },
    { name: 'Event Ruler README: source ends with ec2', pattern: '{"source":[{"suffix":"ec2"}]}', event: EC2_EVENT, match: true },
  ],
  'equals-ignore-case': [
    { name: 'Event Ruler README: EC2 vs aws.ec2 is not equal', pattern: '{"source":[{"equals-ignore-case":"EC2"}]}', event: EC2_EVENT, match: false },
    { name: 'same letters, other case', pattern: '{"source":[{"equals-ignore-case":"AWS.EC2"}]}', event: EC2_EVENT, match: true },
    {
      name: 'docs: detail-type ignoring case',
      pattern: '{"detail-type":[{"equals-ignore-case":"ec2 instance state-change notification"}]}',
      event: EC2_EVENT,
      match: true,
    },
    { name: 'never matches numbers', pattern: '{"detail":{"c-count":[{"equals-ignore-case":"5"}]}}', event: EC2_EVENT, match: false },
  ],
  wildcard: [
    {
      name: 'Event Ruler README: Simple*Service',
      pattern: '{"detail":{"s":[{"wildcard":"Simple*Service"}]}}',
      event: withDetail({ s: 'SimpleQueueService' }),
      match: true,
    },
    { name: '* matches zero characters', pattern: '{"detail":{"s":[{"wildcard":"Simple*Service"}]}}', event: withDetail({ s: 'SimpleService' }), match: true },
    {
      name: 'must match the whole value',
      pattern: '{"detail":{"s":[{"wildcard":"Simple*Service"}]}}',
      event: withDetail({ s: 'SimpleQueueServices' }),
      match: false,
    },
    { name: 'docs: dir/*.png', pattern: '{"detail":{"f":[{"wildcard":"dir/*.png"}]}}', event: withDetail({ f: 'dir/sub/file.png' }), match: true },
    { name: 'several wildcards', pattern: '{"detail":{"f":[{"wildcard":"*/lib/*"}]}}', event: withDetail({ f: 'usr/lib/x.so' }), match: true },
    { name: 'regex characters are literal', pattern: '{"detail":{"f":[{"wildcard":"a.c*"}]}}', event: withDetail({ f: 'abcd' }), match: false },
    { name: 'escaped \\* is a literal asterisk', pattern: '{"detail":{"f":[{"wildcard":"a\\\\*b"}]}}', event: withDetail({ f: 'a*b' }), match: true },
    { name: 'escaped \\* is not a wildcard', pattern: '{"detail":{"f":[{"wildcard":"a\\\\*b"}]}}', event: withDetail({ f: 'axxb' }), match: false },
    { name: 'escaped backslash', pattern: '{"detail":{"f":[{"wildcard":"a\\\\\\\\*"}]}}', event: withDetail({ f: 'a\\anything' }), match: true },
    {
      name: 'escaped backslash requires the backslash',
      pattern: '{"detail":{"f":[{"wildcard":"a\\\\\\\\*"}]}}',
      event: withDetail({ f: 'abc' }),
      match: false,
    },
    { name: 'never matches numbers', pattern: '{"detail":{"c-count":[{"wildcard":"*"}]}}', event: EC2_EVENT, match: false },
    { name: 'arn wildcard', pattern: '{"resources":[{"wildcard":"arn:aws:ec2:*:instance/*"}]}', event: EC2_EVENT, match: true },
  ],
  'anything-but': [
    { name: 'docs: state is not initializing', pattern: '{"detail":{"state":[{"anything-but":"initializing"}]}}', event: EC2_EVENT, match: true },
    { name: 'state is initializing', pattern: '{"detail":{"state":[{"anything-but":"running"}]}}', event: EC2_EVENT, match: false },
    { name: 'docs: number x-limit anything-but 123', pattern: '{"detail":{"x-limit":[{"anything-but":123}]}}', event: EC2_EVENT, match: true },
    { name: 'number equal', pattern: '{"detail":{"c-count":[{"anything-but":5}]}}', event: EC2_EVENT, match: false },
    { name: 'docs: string list', pattern: '{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}', event: EC2_EVENT, match: true },
    { name: 'string list containing the value', pattern: '{"detail":{"state":[{"anything-but":["stopped","running"]}]}}', event: EC2_EVENT, match: false },
    { name: 'docs: number list', pattern: '{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}', event: EC2_EVENT, match: true },
    { name: 'number list containing the value', pattern: '{"detail":{"d-count":[{"anything-but":[1,2,3]}]}}', event: EC2_EVENT, match: false },
    { name: 'never matches an absent field', pattern: '{"detail":{"nope":[{"anything-but":"x"}]}}', event: EC2_EVENT, match: false },
    { name: 'event array: some other element', pattern: '{"detail":{"tags":[{"anything-but":"a"}]}}', event: withDetail({ tags: ['a', 'b'] }), match: true },
    {
      name: 'event array: only excluded elements',
      pattern: '{"detail":{"tags":[{"anything-but":["a","b"]}]}}',
      event: withDetail({ tags: ['a', 'b'] }),
      match: false,
    },
    {
      name: 'docs: anything-but prefix (excluded)',
      pattern: '{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}',
      event: withDetail({ state: 'initializing' }),
      match: false,
    },
    { name: 'anything-but prefix (kept)', pattern: '{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}', event: EC2_EVENT, match: true },
    {
      name: 'docs: anything-but suffix (excluded)',
      pattern: '{"detail":{"FileName":[{"anything-but":{"suffix":".png"}}]}}',
      event: withDetail({ FileName: 'a.png' }),
      match: false,
    },
    {
      name: 'anything-but suffix (kept)',
      pattern: '{"detail":{"FileName":[{"anything-but":{"suffix":".png"}}]}}',
      event: withDetail({ FileName: 'a.jpg' }),
      match: true,
    },
    {
      name: 'docs: anything-but equals-ignore-case (excluded)',
      pattern: '{"detail":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}',
      event: withDetail({ state: 'INITIALIZING' }),
      match: false,
    },
    {
      name: 'anything-but equals-ignore-case (kept)',
      pattern: '{"detail":{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}}',
      event: EC2_EVENT,
      match: true,
    },
    {
      name: 'anything-but equals-ignore-case list',
      pattern: '{"detail":{"state":[{"anything-but":{"equals-ignore-case":["Stopped","RUNNING"]}}]}}',
      event: EC2_EVENT,
      match: false,
    },
    {
      name: 'docs: anything-but wildcard (excluded)',
      pattern: '{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}',
      event: withDetail({ FilePath: 'usr/lib/x' }),
      match: false,
    },
    {
      name: 'anything-but wildcard (kept)',
      pattern: '{"detail":{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}}',
      event: withDetail({ FilePath: 'usr/bin/x' }),
      match: true,
    },
    {
      name: 'anything-but wildcard list',
      pattern: '{"detail":{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}}',
      event: withDetail({ FilePath: 'usr/bin/x' }),
      match: false,
    },
  ],
  numeric: [
    { name: 'docs: > 0, <= 5 (upper bound inclusive)', pattern: '{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}]}}', event: EC2_EVENT, match: true },
    { name: '> 0, < 5 (upper bound exclusive)', pattern: '{"detail":{"c-count":[{"numeric":[">",0,"<",5]}]}}', event: EC2_EVENT, match: false },
    { name: '> 5 (lower bound exclusive)', pattern: '{"detail":{"c-count":[{"numeric":[">",5]}]}}', event: EC2_EVENT, match: false },
    { name: '>= 5 (lower bound inclusive)', pattern: '{"detail":{"c-count":[{"numeric":[">=",5]}]}}', event: EC2_EVENT, match: true },
    { name: 'docs: d-count < 10', pattern: '{"detail":{"d-count":[{"numeric":["<",10]}]}}', event: EC2_EVENT, match: true },
    { name: 'docs: x-limit = 3.018e2', pattern: '{"detail":{"x-limit":[{"numeric":["=",3.018e2]}]}}', event: EC2_EVENT, match: true },
    { name: '= other value', pattern: '{"detail":{"x-limit":[{"numeric":["=",301.9]}]}}', event: EC2_EVENT, match: false },
    { name: 'negative range', pattern: '{"detail":{"t":[{"numeric":[">=",-10,"<",-1]}]}}', event: withDetail({ t: -5 }), match: true },
    { name: 'decimal precision', pattern: '{"detail":{"t":[{"numeric":["<=",0.000001]}]}}', event: withDetail({ t: 0.000002 }), match: false },
    { name: 'never matches a numeric string', pattern: '{"detail":{"t":[{"numeric":[">",0]}]}}', event: withDetail({ t: '5' }), match: false },
    { name: 'any element of an event array', pattern: '{"detail":{"t":[{"numeric":[">",10]}]}}', event: withDetail({ t: [1, 20] }), match: true },
    { name: 'OR with another range', pattern: '{"detail":{"t":[{"numeric":["<",0]},{"numeric":[">",100]}]}}', event: withDetail({ t: 50 }), match: false },
  ],
  exists: [
    { name: 'docs: exists true on a present leaf', pattern: '{"detail":{"c-count":[{"exists":true}]}}', event: EC2_EVENT, match: true },
    { name: 'exists true on an absent field', pattern: '{"detail":{"nope":[{"exists":true}]}}', event: EC2_EVENT, match: false },
    { name: 'docs: exists false on an absent field', pattern: '{"detail":{"nope":[{"exists":false}]}}', event: EC2_EVENT, match: true },
    { name: 'exists false on a present leaf', pattern: '{"detail":{"c-count":[{"exists":false}]}}', event: EC2_EVENT, match: false },
    {
      name: 'README: exists true does not see an object (leaves only)',
      pattern: '{"detail":{"c-count":[{"exists":true}]}}',
      event: withDetail({ 'c-count': { c1: 100 } }),
      match: false,
    },
    {
      name: 'README: exists false matches an object-valued field',
      pattern: '{"detail":{"c-count":[{"exists":false}]}}',
      event: withDetail({ 'c-count': { c1: 100 } }),
      match: true,
    },
    { name: 'null is a value', pattern: '{"detail":{"v":[{"exists":true}]}}', event: withDetail({ v: null }), match: true },
    { name: 'an empty array holds no value', pattern: '{"detail":{"v":[{"exists":false}]}}', event: withDetail({ v: [] }), match: true },
    { name: 'exists false when the parent is absent', pattern: '{"detail":{"a":{"b":[{"exists":false}]}}}', event: EC2_EVENT, match: true },
    {
      name: 'exists false combined with another field',
      pattern: '{"source":["aws.ec2"],"detail":{"error":[{"exists":false}]}}',
      event: EC2_EVENT,
      match: true,
    },
  ],
  cidr: [
    { name: 'docs: 10.0.0.0/24 contains 10.0.0.33', pattern: '{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}', event: EC2_EVENT, match: true },
    {
      name: '10.0.0.0/24 does not contain 10.0.1.1',
      pattern: '{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}',
      event: withDetail({ 'source-ip': '10.0.1.1' }),
      match: false,
    },
    { name: '/8 block', pattern: '{"detail":{"source-ip":[{"cidr":"10.0.0.0/8"}]}}', event: withDetail({ 'source-ip': '10.255.1.1' }), match: true },
    { name: 'IPv6 block', pattern: '{"detail":{"ip":[{"cidr":"2001:db8::/32"}]}}', event: withDetail({ ip: '2001:db8:1::1' }), match: true },
    { name: 'IPv6 outside the block', pattern: '{"detail":{"ip":[{"cidr":"2001:db8::/32"}]}}', event: withDetail({ ip: '2001:db9::1' }), match: false },
    { name: 'IPv4 block vs IPv6 address', pattern: '{"detail":{"ip":[{"cidr":"0.0.0.0/0"}]}}', event: withDetail({ ip: '::1' }), match: false },
    { name: 'not an IP address', pattern: '{"detail":{"ip":[{"cidr":"10.0.0.0/8"}]}}', event: withDetail({ ip: 'ten.zero' }), match: false },
    {
      name: 'any element of an event array',
      pattern: '{"detail":{"ip":[{"cidr":"192.168.0.0/16"}]}}',
      event: withDetail({ ip: ['10.0.0.1', '192.168.3.4'] }),
      match: true,
    },
  ],
  $or: [
    {
      name: 'README: source AND (metricName OR namespace), first branch',
      pattern: '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}',
      event: { source: 'aws.cloudwatch', metricName: 'CPUUtilization' },
      match: true,
    },
    {
      name: 'second branch',
      pattern: '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}',
      event: { source: 'aws.cloudwatch', namespace: 'AWS/ES' },
      match: true,
    },
    {
      name: 'no branch',
      pattern: '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}',
      event: { source: 'aws.cloudwatch', namespace: 'AWS/S3' },
      match: false,
    },
    {
      name: 'branch matches but the AND part does not',
      pattern: '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}]}',
      event: { source: 'aws.ec2', metricName: 'CPUUtilization' },
      match: false,
    },
    {
      name: 'nested inside detail',
      pattern: '{"detail":{"$or":[{"c-count":[{"numeric":[">",0,"<=",5]}]},{"d-count":[{"numeric":["<",10]}]}]}}',
      event: withDetail({ 'd-count': 3 }),
      match: true,
    },
    {
      name: 'nested $or inside a branch (README)',
      pattern:
        '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]}]}',
      event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 },
      match: true,
    },
    {
      name: 'nested $or, inner OR fails',
      pattern:
        '{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]}]}',
      event: { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1 },
      match: false,
    },
    {
      name: 'two parallel $or groups',
      pattern: '{"$or":[{"a":["1"]},{"b":["1"]}],"detail":{"$or":[{"c":["1"]},{"d":["1"]}]}}',
      event: { b: '1', detail: { c: '1' } },
      match: true,
    },
    {
      name: '$or with an exists:false branch',
      pattern: '{"$or":[{"detail":{"error":[{"exists":false}]}},{"detail":{"error":["retryable"]}}]}',
      event: withDetail({ error: 'fatal' }),
      match: false,
    },
  ],
};

describe('event pattern matching', () => {
  for (const [operator, table] of Object.entries(cases)) {
    describe(operator, () => {
      it.each(table)('$name', ({ pattern, event, match }) => {
        expect(matchesPattern(parseEventPattern(pattern), event)).toBe(match);
      });
    });
  }
});

/** Malformed patterns are refused with InvalidEventPatternException (moto accepts many of these). */
const invalidPatterns: Array<[string, string]> = [
  ['empty text', ''],
  ['not JSON', '{source: aws.ec2}'],
  ['an array', '["aws.ec2"]'],
  ['a string', '"aws.ec2"'],
  ['empty pattern', '{}'],
  ['empty nested object', '{"detail":{}}'],
  ['leaf value not in an array', '{"source":"aws.ec2"}'],
  ['number leaf not in an array', '{"detail":{"n":5}}'],
  ['empty array', '{"source":[]}'],
  ['nested array', '{"source":[["aws.ec2"]]}'],
  ['misspelled operator (prefixx)', '{"source":[{"prefixx":"aws."}]}'],
  ['unknown operator (contains)', '{"source":[{"contains":"ec2"}]}'],
  ['empty match expression', '{"source":[{}]}'],
  ['two operators in one expression', '{"source":[{"prefix":"a","suffix":"b"}]}'],
  ['prefix of a number', '{"source":[{"prefix":1}]}'],
  ['prefix with an unsupported inner operator', '{"source":[{"prefix":{"wildcard":"a*"}}]}'],
  ['prefix equals-ignore-case of a number', '{"source":[{"prefix":{"equals-ignore-case":1}}]}'],
  ['suffix of a list', '{"source":[{"suffix":["a"]}]}'],
  ['equals-ignore-case of a list', '{"source":[{"equals-ignore-case":["a"]}]}'],
  ['exists with a string', '{"x":[{"exists":"true"}]}'],
  ['exists with a number', '{"x":[{"exists":1}]}'],
  ['numeric not an array', '{"n":[{"numeric":5}]}'],
  ['numeric with a string bound', '{"n":[{"numeric":[">","5"]}]}'],
  ['numeric with an unknown operator', '{"n":[{"numeric":["!=",5]}]}'],
  ['numeric with two lower bounds', '{"n":[{"numeric":[">",5,">",6]}]}'],
  ['numeric with upper bound first', '{"n":[{"numeric":["<",5,">",1]}]}'],
  ['numeric with too many terms', '{"n":[{"numeric":[">",1,"<",5,"<",6]}]}'],
  ['numeric = with a range', '{"n":[{"numeric":["=",1,"<",5]}]}'],
  ['numeric with an empty array', '{"n":[{"numeric":[]}]}'],
  ['numeric out of range', '{"n":[{"numeric":[">",1e10]}]}'],
  ['numeric with bottom above top', '{"n":[{"numeric":[">",10,"<",5]}]}'],
  ['anything-but boolean', '{"x":[{"anything-but":true}]}'],
  ['anything-but null', '{"x":[{"anything-but":null}]}'],
  ['anything-but mixed list', '{"x":[{"anything-but":["a",1]}]}'],
  ['anything-but empty list', '{"x":[{"anything-but":[]}]}'],
  ['anything-but empty prefix', '{"x":[{"anything-but":{"prefix":""}}]}'],
  ['anything-but prefix of a number', '{"x":[{"anything-but":{"prefix":1}}]}'],
  ['anything-but numeric', '{"x":[{"anything-but":{"numeric":[">",1]}}]}'],
  ['anything-but equals-ignore-case of numbers', '{"x":[{"anything-but":{"equals-ignore-case":[1]}}]}'],
  ['cidr without a mask', '{"x":[{"cidr":"10.0.0.0"}]}'],
  ['cidr with an IPv4 mask of 33', '{"x":[{"cidr":"10.0.0.0/33"}]}'],
  ['cidr with a non-numeric mask', '{"x":[{"cidr":"10.0.0.0/x"}]}'],
  ['cidr of a hostname', '{"x":[{"cidr":"example.com/8"}]}'],
  ['cidr of a number', '{"x":[{"cidr":10}]}'],
  ['wildcard with consecutive stars', '{"x":[{"wildcard":"a**b"}]}'],
  ['wildcard escaping a letter', '{"x":[{"wildcard":"a\\\\b"}]}'],
  ['wildcard of a number', '{"x":[{"wildcard":5}]}'],
  ['$or with one branch', '{"$or":[{"a":["x"]}]}'],
  ['$or with an object', '{"$or":{"a":["x"]}}'],
  ['$or with strings', '{"$or":["a","b"]}'],
  ['$or branch using an operator name as a field', '{"$or":[{"prefix":["a"]},{"b":["c"]}]}'],
  ['$or with an empty branch', '{"$or":[{},{"b":["c"]}]}'],
];

describe('invalid event patterns', () => {
  it.each(invalidPatterns)('refuses %s', (_name, pattern) => {
    expect(() => parseEventPattern(pattern)).toThrow(EventPatternError);
  });

  it('names the problem in the message', () => {
    expect(() => parseEventPattern('{"source":[{"prefixx":"aws."}]}')).toThrow(/Unrecognized match type prefixx/);
  });

  it('accepts the documented valid spellings', () => {
    for (const p of [
      '{"detail":{"state":[{"anything-but":{"equals-ignore-case":"x"}}]}}',
      '{"x":[{"prefix":""}]}',
      '{"x":[{"wildcard":"a\\\\*b\\\\\\\\c*"}]}',
      '{"x":[{"cidr":"2001:db8::/127"}]}',
      '{"x":["a", 1, true, null, {"prefix":"b"}]}',
      '{"n":[{"numeric":[">=",-5e9,"<=",5e9]}]}',
    ]) {
      expect(() => parseEventPattern(p), p).not.toThrow();
    }
  });
});
