/** Targets of a rule: PutTargets (validated like AWS: transforms, HTTP parameters, retry policy), RemoveTargets, listings. */
import { LabError, type RequestContext } from '../types.js';
import type { Input, TargetRecord } from './model.js';
import type { Regions } from './regions.js';
import { parseJsonPath, validateInputTransformer } from './transform.js';
import { clean, deepCopy, paginate, requireString, validation } from './shared.js';

const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_TARGETS_PER_RULE = 5;

export function putTargets(st: Regions, input: Input, ctx: RequestContext): unknown {
  const { rule } = st.requireRule(st.regionOf(ctx), input, 'Rule');
  const targets = input.Targets;
  if (!Array.isArray(targets) || targets.length === 0 || targets.length > 10) {
    throw validation("1 validation error detected: Value at 'targets' failed to satisfy constraint: Member must have length between 1 and 10");
  }
  const failed: Array<{ TargetId: string; ErrorCode: string; ErrorMessage: string }> = [];
  const accepted: TargetRecord[] = [];
  for (const raw of targets as unknown[]) {
    const t = (raw ?? {}) as Input;
    if (typeof t.Id !== 'string' || !TARGET_ID.test(t.Id)) {
      throw validation(
        `1 validation error detected: Value '${String(t.Id)}' at 'targets.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
      );
    }
    if (typeof t.Arn !== 'string' || t.Arn.length === 0 || t.Arn.length > 1600) {
      throw validation(`1 validation error detected: Value at 'targets.member.arn' failed to satisfy constraint: Member must have length between 1 and 1600`);
    }
    const problem = validateTarget(t);
    if (problem) {
      failed.push({ TargetId: t.Id, ErrorCode: 'ValidationException', ErrorMessage: problem });
      continue;
    }
    accepted.push(deepCopy(t) as TargetRecord);
  }
  const ids = new Set([...rule.Targets.map((t) => t.Id), ...accepted.map((t) => t.Id)]);
  if (ids.size > MAX_TARGETS_PER_RULE) {
    throw new LabError('LimitExceededException', 'The requested resource exceeds the maximum number allowed.');
  }
  for (const t of accepted) {
    const i = rule.Targets.findIndex((x) => x.Id === t.Id);
    if (i >= 0) rule.Targets[i] = t;
    else rule.Targets.push(t);
  }
  return { FailedEntryCount: failed.length, FailedEntries: failed };
}

export function removeTargets(st: Regions, input: Input, ctx: RequestContext): unknown {
  const { rule } = st.requireRule(st.regionOf(ctx), input, 'Rule');
  const ids = input.Ids;
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100 || !ids.every((i) => typeof i === 'string')) {
    throw validation("1 validation error detected: Value at 'ids' failed to satisfy constraint: Member must have length between 1 and 100");
  }
  rule.Targets = rule.Targets.filter((t) => !ids.includes(t.Id));
  return { FailedEntryCount: 0, FailedEntries: [] };
}

export function listTargetsByRule(st: Regions, input: Input, ctx: RequestContext): unknown {
  const { rule } = st.requireRule(st.regionOf(ctx), input, 'Rule');
  const page = paginate(rule.Targets, input);
  return clean({ Targets: deepCopy(page.items), NextToken: page.nextToken });
}

export function listRuleNamesByTarget(st: Regions, input: Input, ctx: RequestContext): unknown {
  const arn = requireString(input, 'TargetArn');
  const bus = st.requireBus(st.regionOf(ctx), input);
  const names = bus.Rules.filter((r) => r.Targets.some((t) => t.Arn === arn))
    .map((r) => r.Name)
    .sort();
  const page = paginate(names, input);
  return clean({ RuleNames: page.items, NextToken: page.nextToken });
}

function validateTarget(t: Input): string | undefined {
  const transforms = ['Input', 'InputPath', 'InputTransformer'].filter((k) => t[k] !== undefined && t[k] !== null);
  if (transforms.length > 1) return `Target ${String(t.Id)}: only one of Input, InputPath and InputTransformer may be set.`;
  if (t.Input !== undefined) {
    if (typeof t.Input !== 'string') return 'Input must be a string.';
    try {
      JSON.parse(t.Input);
    } catch {
      return `Target ${String(t.Id)}: Input is not valid JSON text.`;
    }
  }
  if (t.InputPath !== undefined) {
    try {
      parseJsonPath(t.InputPath as string);
    } catch {
      return `Target ${String(t.Id)}: InputPath is not a valid JSONPath: ${String(t.InputPath)}`;
    }
  }
  if (t.InputTransformer !== undefined) {
    const problem = validateInputTransformer(t.InputTransformer);
    if (problem) return `Target ${String(t.Id)}: ${problem}`;
  }
  const http = t.HttpParameters as Input | undefined;
  if (http !== undefined) {
    if (!http || typeof http !== 'object') return 'HttpParameters must be an object.';
    if (http.PathParameterValues !== undefined && (!Array.isArray(http.PathParameterValues) || !http.PathParameterValues.every((v) => typeof v === 'string'))) {
      return 'HttpParameters.PathParameterValues must be a list of strings.';
    }
    for (const key of ['HeaderParameters', 'QueryStringParameters']) {
      const map = http[key];
      if (map !== undefined && (!map || typeof map !== 'object' || Array.isArray(map) || !Object.values(map).every((v) => typeof v === 'string'))) {
        return `HttpParameters.${key} must be a map of strings.`;
      }
    }
  }
  const retry = t.RetryPolicy as Input | undefined;
  if (retry !== undefined) {
    const attempts = retry.MaximumRetryAttempts;
    if (attempts !== undefined && (typeof attempts !== 'number' || attempts < 0 || attempts > 185)) {
      return 'RetryPolicy.MaximumRetryAttempts must be between 0 and 185.';
    }
    const age = retry.MaximumEventAgeInSeconds;
    if (age !== undefined && (typeof age !== 'number' || age < 60 || age > 86400)) {
      return 'RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.';
    }
  }
  return undefined;
}
