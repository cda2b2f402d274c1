/**
 * The shape of a command: its words (`plan validate`), options (node:util parseArgs), a zod schema
 * that turns raw options into typed ones first thing, and `run`, which returns the exit code.
 * The usage line and `--help` are generated from the same spec (cli/help.ts), so they cannot drift.
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
export type OptionDef = ParseArgsOption & { description: string; placeholder?: string };
type OptionSpec = Record<string, OptionDef>;

/** The parser's view of a spec: the same options without the help-only fields. */
export function parserOptions(spec: OptionSpec): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(Object.entries(spec).map(([name, { description: _d, placeholder: _p, ...o }]) => [name, o]));
}

export interface Command<S extends z.ZodType = z.ZodType> {
  words: string[];
  summary: string;
  /** The positional arguments in the usage line, e.g. `WORKFLOW_ID` (none when absent). */
  args?: string;
  /** 1–3 example invocations, shown by `--help`. */
  examples: string[];
  options: OptionSpec;
  /** Validates the parsed options (+ `positionals`). */
  schema: S;
  run(opts: z.output<S>, io: Io): Promise<ExitCode>;
}

export function defineCommand<S extends z.ZodType>(c: Command<S>): Command<S> {
  return c;
}

/** Options every command takes. */
export const COMMON_OPTIONS: OptionSpec = {
  json: { type: 'boolean', default: false, description: 'machine-readable output: one JSON document (or JSON lines while following progress)' },
  help: { type: 'boolean', short: 'h', default: false, description: 'show this help' },
  profile: { type: 'string', placeholder: 'NAME', description: 'AWS named profile (sets AWS_PROFILE for this run)' },
};

export const PLAN_OPTION: OptionSpec = {
  plan: { type: 'string', short: 'f', default: 'secrets-dr.yaml', placeholder: 'FILE', description: 'the plan file' },
};

/** Every option a command's parser accepts: the common ones, then its own (its own win on a name clash). */
export function allOptions(command: Pick<Command, 'options'>): OptionSpec {
  return { ...COMMON_OPTIONS, ...command.options };
}

type Def = { type?: string; innerType?: z.ZodType; in?: z.ZodType; entries?: Record<string, string>; shape?: Record<string, z.ZodType> };
const defOf = (t: z.ZodType | undefined): Def | undefined => (t as unknown as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The schema field that validates option `name`, when the schema is an object (refinements keep it one). */
function fieldOf(schema: z.ZodType, name: string): z.ZodType | undefined {
  return (schema as unknown as { shape?: Record<string, z.ZodType> }).shape?.[name];
}

/** The values an option takes, when its schema field is an enum (`--mode planned|unplanned`). */
export function optionChoices(command: Pick<Command, 'schema'>, name: string): string[] | undefined {
  return choicesOf(fieldOf(command.schema, name));
}

function choicesOf(field: z.ZodType | undefined): string[] | undefined {
  let t = field;
  for (let i = 0; t && i < 8; i++) {
    const d = defOf(t);
    if (d?.type === 'enum' && d.entries) return Object.values(d.entries);
    t = d?.innerType ?? d?.in;
  }
  return undefined;
}

/** A string option the command cannot run without: no default, and its schema field rejects "absent". */
function isRequiredOption(command: Pick<Command, 'schema' | 'options'>, name: string): boolean {
  const o = command.options[name];
  if (!o || o.type !== 'string' || o.default !== undefined) return false;
  const field = fieldOf(command.schema, name);
  return field !== undefined && !field.safeParse(undefined).success;
}

/** How an option is written in usage and help: `-f, --plan FILE`, `--mode planned|unplanned`. */
export function optionSynopsis(command: Pick<Command, 'schema' | 'options'>, name: string, def: OptionDef = allOptions(command)[name]!): string {
  const value = def.type === 'string' ? ` ${optionChoices(command, name)?.join('|') ?? def.placeholder ?? name.toUpperCase()}` : '';
  return `--${name}${value}`;
}

/** The usage line, generated from the spec: required options in full, then `[options]`. */
export function usageLine(command: Pick<Command, 'words' | 'args' | 'schema' | 'options'>): string {
  const required = Object.keys(command.options)
    .filter((n) => isRequiredOption(command, n))
    .map((n) => optionSynopsis(command, n));
  return ['secrets-dr', ...command.words, ...(command.args ? [command.args] : []), ...required, '[options]'].join(' ');
}

export function parseCommandArgs<S extends z.ZodType>(command: Command<S>, argv: string[]): { opts: z.output<S>; help: boolean; json: boolean } {
  const usage = `usage: ${usageLine(command)}   (secrets-dr ${command.words.join(' ')} --help lists every option)`;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: parserOptions(allOptions(command)), allowPositionals: true, strict: true });
  } catch (err) {
    throw new OperatorError(ErrorType.UsageError, `${(err as Error).message.replace(/\. To specify.*$/s, '')}\n${usage}`);
  }
  const values = parsed.values as Record<string, unknown>;
  if (values.profile) process.env.AWS_PROFILE = String(values.profile);
  if (values.help) return { opts: undefined as z.output<S>, help: true, json: Boolean(values.json) };
  const result = command.schema.safeParse({ ...values, positionals: parsed.positionals });
  if (!result.success) {
    const problems = issuesToProblems(result.error.issues).map((p) => ({ ...p, path: p.path === '(plan)' ? '(arguments)' : `--${p.path}` }));
    throw new OperatorError(ErrorType.UsageError, `invalid arguments for \`secrets-dr ${command.words.join(' ')}\` (${usage})`, problems);
  }
  return { opts: result.data, help: false, json: Boolean(values.json) };
}

/** The options of a command that takes a plan and nothing else. */
export const PLAN_ONLY_SCHEMA = z.object({
  plan: z.string(),
  json: z.boolean(),
  positionals: z.array(z.string()).max(0, { error: 'this command takes no arguments' }),
});

/** The values the first positional argument takes, when the schema says so (`lab fault outage|latency|...`). */
export function positionalChoices(command: Pick<Command, 'schema'>): string[] | undefined {
  const d = defOf(fieldOf(command.schema, 'positionals')) as (Def & { items?: z.ZodType[] }) | undefined;
  const first = d?.type === 'tuple' ? d.items?.[0] : undefined;
  return first ? choicesOf(first) : undefined;
}
