/** Reading the plan file: YAML syntax errors with line numbers, schema problems with paths. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ErrorType, OperatorError, type Problem } from '../domain/errors.js';
import { validatePlan, type Plan } from '../domain/plan.js';

const DEFAULT_PLAN_FILE = 'secrets-dr.yaml';
/** Alias expansions allowed in a plan (the yaml package's default): far more than a plan needs, far less than a bomb. */
const MAX_ALIAS_COUNT = 100;

interface LoadedPlan {
  path: string;
  plan: Plan;
}

/** Reads and validates a plan; throws OperatorError (exit 2) listing every problem. */
export function loadPlanFile(file: string = DEFAULT_PLAN_FILE): LoadedPlan {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message;
    throw new OperatorError(ErrorType.PlanInvalid, `cannot read plan file ${path}: ${why} (pass another with -f/--plan FILE)`);
  }
  const { plan, problems } = parsePlanText(text);
  if (!plan) throw new OperatorError(ErrorType.PlanInvalid, `plan file ${path} is invalid`, problems);
  return { path, plan };
}

export function parsePlanText(text: string): { plan?: Plan; problems: Problem[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}:${e.linePos[0].col}` : '(yaml)',
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package refuses to expand an alias bomb ("Excessive alias count ...") with a
    // ReferenceError: that is the plan's fault, not ours.
    const why = (err as Error).message.split('\n')[0] ?? String(err);
    return {
      problems: [
        { path: '(yaml)', message: `the YAML cannot be expanded: ${why}; a plan needs no aliases (&name / *name) nested this deep: write the values out` },
      ],
    };
  }
  const result = validatePlan(data ?? {});
  return result.ok ? { plan: result.plan, problems: [] } : { problems: result.problems };
}
