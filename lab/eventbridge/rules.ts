/** Rules: PutRule, DescribeRule, ListRules, DeleteRule, EnableRule/DisableRule, TestEventPattern. */
import type { RequestContext } from '../types.js';
import { matchesPattern, type CompiledPattern } from './pattern.js';
import type { Input, RuleRecord } from './model.js';
import type { Regions } from './regions.js';
import { clean, compilePatternOrThrow, optionalString, listByName, parseTags, requireString, RULE_NAME, validation } from './shared.js';

const RULE_STATES = new Set(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']);
const MAX_EVENT_PATTERN_LENGTH = 4096;

export function putRule(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const name = requireString(input, 'Name', RULE_NAME);
  const bus = st.requireBus(rs, input);
  const eventPattern = optionalString(input, 'EventPattern');
  const schedule = optionalString(input, 'ScheduleExpression');
  const state = optionalString(input, 'State') ?? 'ENABLED';
  if (!eventPattern && !schedule) throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
  if (!RULE_STATES.has(state)) {
    throw validation(
      `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]`,
    );
  }
  if (schedule !== undefined) {
    if (bus.Name !== 'default') throw validation('ScheduleExpression is supported only on the default event bus.');
    if (!/^(rate\(\s*\d+\s+(minute|minutes|hour|hours|day|days)\s*\)|cron\(.+\))$/.test(schedule)) {
      throw validation('Parameter ScheduleExpression is not valid.');
    }
  }
  let compiled: CompiledPattern | undefined;
  if (eventPattern !== undefined) {
    if (eventPattern.length > MAX_EVENT_PATTERN_LENGTH) {
      throw validation(
        `1 validation error detected: Value at 'eventPattern' failed to satisfy constraint: Member must have length less than or equal to ${MAX_EVENT_PATTERN_LENGTH}`,
      );
    }
    compiled = compilePatternOrThrow(eventPattern);
  }
  const tags = parseTags(input.Tags);
  const existing = bus.Rules.find((r) => r.Name === name);
  const rule: RuleRecord = clean({
    Name: name,
    Arn: st.ruleArn(rs, bus.Name, name),
    EventBusName: bus.Name,
    EventPattern: eventPattern,
    ScheduleExpression: schedule,
    State: state,
    Description: optionalString(input, 'Description'),
    RoleArn: optionalString(input, 'RoleArn'),
    CreatedBy: rs.accountId,
    // Tags are only applied when the rule is created (AWS ignores them on update).
    Tags: existing ? existing.Tags : tags,
    Targets: existing ? existing.Targets : [],
  });
  if (existing) bus.Rules[bus.Rules.indexOf(existing)] = rule;
  else bus.Rules.push(rule);
  if (compiled) st.compiled.set(rule, compiled);
  return { RuleArn: rule.Arn };
}

export function describeRule(st: Regions, input: Input, ctx: RequestContext): unknown {
  const { rule } = st.requireRule(st.regionOf(ctx), input);
  return describeRuleOutput(rule);
}

export function listRules(st: Regions, input: Input, ctx: RequestContext): unknown {
  const bus = st.requireBus(st.regionOf(ctx), input);
  return listByName(bus.Rules, input, 'Rules', describeRuleOutput);
}

export function deleteRule(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const bus = st.requireBus(rs, input);
  const name = requireString(input, 'Name', RULE_NAME);
  const rule = bus.Rules.find((r) => r.Name === name);
  if (!rule) return {}; // DeleteRule is idempotent
  if (rule.Targets.length > 0 && input.Force !== true) throw validation("Rule can't be deleted since it has targets.");
  bus.Rules.splice(bus.Rules.indexOf(rule), 1);
  return {};
}

export function setRuleState(st: Regions, input: Input, ctx: RequestContext, state: 'ENABLED' | 'DISABLED'): unknown {
  const { rule } = st.requireRule(st.regionOf(ctx), input);
  rule.State = state;
  return {};
}

export function testEventPattern(input: Input): unknown {
  const patternText = requireString(input, 'EventPattern');
  const eventText = requireString(input, 'Event');
  const pattern = compilePatternOrThrow(patternText);
  let event: unknown;
  try {
    event = JSON.parse(eventText);
  } catch {
    throw validation('Parameter Event is not valid.');
  }
  if (!event || typeof event !== 'object' || Array.isArray(event)) throw validation('Parameter Event is not valid.');
  for (const field of ['id', 'account', 'source', 'time', 'region', 'detail-type']) {
    if (!(field in event)) throw validation(`Parameter Event is not valid. Reason: Event is missing the mandatory field ${field}.`);
  }
  return { Result: matchesPattern(pattern, event) };
}

function describeRuleOutput(rule: RuleRecord): unknown {
  return clean({
    Name: rule.Name,
    Arn: rule.Arn,
    EventPattern: rule.EventPattern,
    ScheduleExpression: rule.ScheduleExpression,
    State: rule.State,
    Description: rule.Description,
    RoleArn: rule.RoleArn,
    EventBusName: rule.EventBusName,
    CreatedBy: rule.CreatedBy,
  });
}
