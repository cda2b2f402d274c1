/**
 * The shape of a command: its words (`plan validate`), options (node:util parseArgs), a zod schema
 * that turns raw options into typed ones first thing, and `run`, which returns the exit code.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { z } from 'zod';
import { ErrorType, OperatorError, type ExitCode } from '../domain/errors.js';
import { issuesToProblems } from '../domain/plan.js';
import type { Io } from './output.js';

type ParseArgsOption = NonNullable<ParseArgsConfig['options']>[string];
/**
 * One option: what node:util parseArgs needs, plus what help is generated from: a one-line
 * `description` and, for a string option, the `placeholder` shown for its value (`--to REGION`).
 */
type OptionDef = ParseArgsOption & { description?: string; placeholder?: string };
type OptionSpec = Record<string, OptionDef>;

/** The parser's view of a spec: the same options without the help-only fields. */
function parserOptions(spec: OptionSpec): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries(spec).map(([name, { description: _d, placeholder: _p, ...o }]) => [name, o]));
}

export interface Command<S extends z.ZodType = z.ZodType> {
  words: string[];
  summary: string;
  usage: string;
  /** 1–3 example invocations, shown by `--help`. */
  examples?: string[];
  options: OptionSpec;
  /** Validates the parsed options (+ `positionals`). */
  schema: S;
  run(opts: z.output<S>, io: Io): Promise<ExitCode>;
}

export function defineCommand<S extends z.ZodType>(c: Command<S>): Command<S> {
  return c;
}

/** Options every command takes. */
const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  profile: { type: 'string' },
};

export const PLAN_OPTION: OptionSpec = { plan: { type: 'string', short: 'f', default: 'secrets-dr.yaml' } };

export function parseCommandArgs<S extends z.ZodType>(command: Command<S>, argv: string[]): { opts: z.output<S>; help: boolean; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parserOptions({ ...COMMON_OPTIONS, ...command.options }), allowPositionals: true, strict: true });
  } catch (err) {
    throw new OperatorError(ErrorType.UsageError, `${(err as Error).message.replace(/\. To specify.*$/s, '')}\nusage: ${command.usage}`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.profile) process.env.AWS_PROFILE = String(values.profile);
  if (values.help) return { opts: undefined as z.output<S>, help: true, json: Boolean(values.json) };
  const result = command.schema.safeParse({ ...values, positionals: parsed.positionals });
  if (!result.success) {
    const problems = issuesToProblems(result.error.issues).map((p) => ({ ...p, path: p.path === '(plan)' ? '(arguments)' : `--${p.path}` }));
    throw new OperatorError(ErrorType.UsageError, `invalid arguments for \`secrets-dr ${command.words.join(' ')}\` (usage: ${command.usage})`, problems);
  }
  return { opts: result.data, help: false, json: Boolean(values.json) };
}

/** The options of a command that takes a plan and nothing else. */
export const PLAN_ONLY_SCHEMA = z.object({ plan: z.string(), json: z.boolean(), positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }) });
