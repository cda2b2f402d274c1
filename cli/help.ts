/**
 * Help generated from the command specs the parser uses (cli/command.ts): every option with its
 * description, default and placeholder, then examples. Help and parser cannot drift: both read
 * `allOptions(command)`.
 */
import { z } from 'zod';
import { ErrorType, ExitCode, OperatorError } from '../domain/errors.js';
import { allOptions, COMMON_OPTIONS, defineCommand, optionSynopsis, usageLine, type Command, type OptionDef } from './command.js';
import { paint, type Io } from './output.js';

/** Top-level help groups, by a command's first word (a command not listed lands in "other"). */
const GROUPS: Array<{ title: string; first: string[] }> = [
  { title: 'plan and protect', first: ['plan', 'setup', 'status', 'backups'] },
  { title: 'recover', first: ['failover', 'failback', 'watch', 'pause', 'resume', 'cancel', 'approve', 'reject', 'veto'] },
  { title: 'prove and watch', first: ['drill', 'monitor', 'events', 'receiver', 'dashboard'] },
  { title: 'run and deploy', first: ['worker', 'deploy', 'iam-policy'] },
  { title: 'try it locally', first: ['lab', 'demo'] },
  { title: 'this tool', first: ['help', 'completion'] },
];

const name = (c: Pick<Command, 'words'>) => c.words.join(' ');

function optionLines(command: Command, spec: Record<string, OptionDef>, io: Pick<Io, 'color'>): string[] {
  const rows = Object.entries(spec).map(([n, def]) => {
    const flag = `${def.short ? `-${def.short}, ` : '    '}${optionSynopsis(command, n, def)}`;
    const notes = [
      def.multiple ? 'repeatable' : undefined,
      def.default !== undefined && def.type === 'string' ? `default: ${String(def.default)}` : undefined,
    ].filter(Boolean);
    return [flag, `${def.description}${notes.length ? ` (${notes.join('; ')})` : ''}`] as const;
  });
  const width = Math.max(0, ...rows.map(([f]) => f.length));
  return rows.map(([f, d]) => `  ${paint(io, 'cyan', f.padEnd(width))}  ${d}`);
}

/** `secrets-dr COMMAND --help` and `secrets-dr help COMMAND`. */
export function commandHelp(command: Command, io: Pick<Io, 'color'> = {}): string {
  const own = Object.fromEntries(Object.entries(allOptions(command)).filter(([n]) => !(n in COMMON_OPTIONS) || n in command.options));
  const common = Object.fromEntries(Object.entries(COMMON_OPTIONS).filter(([n]) => !(n in command.options)));
  const h = (t: string) => paint(io, 'bold', t);
  const lines = [`${h(`secrets-dr ${name(command)}`)} — ${command.summary}`, '', `${h('usage:')} ${usageLine(command)}`];
  if (Object.keys(own).length) lines.push('', h('options:'), ...optionLines(command, own, io));
  lines.push('', h('common options:'), ...optionLines(command, common, io));
  lines.push('', h('examples:'), ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** `secrets-dr --help`: the commands by group, then what every command shares. */
export function topHelp(commands: readonly Command[], io: Pick<Io, 'color'> = {}): string {
  const h = (t: string) => paint(io, 'bold', t);
  const width = Math.max(...commands.map((c) => name(c).length));
  const lines = [`${h('usage:')} secrets-dr COMMAND [options]      (secrets-dr help COMMAND, or COMMAND --help, lists its options)`];
  const known = new Set(GROUPS.flatMap((g) => g.first));
  const groups = [...GROUPS, { title: 'other', first: [...new Set(commands.map((c) => c.words[0]!).filter((w) => !known.has(w)))] }];
  for (const g of groups) {
    const members = commands.filter((c) => g.first.includes(c.words[0]!)).sort((a, b) => g.first.indexOf(a.words[0]!) - g.first.indexOf(b.words[0]!));
    if (!members.length) continue;
    lines.push('', h(`${g.title}:`));
    for (const c of members) lines.push(`  ${paint(io, 'cyan', name(c).padEnd(width))}  ${c.summary}`);
  }
  lines.push('', h('common options:'), '  -f, --plan FILE (default ./secrets-dr.yaml), --json, --profile NAME, -h/--help; secrets-dr -V/--version');
  lines.push(
    h('environment:'),
    '  TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, AWS_* (standard chain), AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_EVENTBRIDGE, AWS_ENDPOINT_URL_STS, NO_COLOR',
  );
  lines.push(h('exit codes:'), '  0 ok, 1 operation failed, 2 bad input or aborted, 3 some secrets need attention, 4 waiting for approval');
  return lines.join('\n');
}

/** `secrets-dr help [COMMAND...]`; it reads the command list when it runs (the list includes it). */
export function helpCommand(commands: () => readonly Command[]): Command {
  return defineCommand({
    words: ['help'],
    summary: 'help for every command, or for one: its options, defaults and examples',
    args: '[COMMAND...]',
    examples: ['secrets-dr help', 'secrets-dr help failover', 'secrets-dr help lab fault'],
    options: {},
    schema: z.object({ json: z.boolean(), positionals: z.array(z.string()) }),
    async run(opts, io) {
      const words = opts.positionals;
      if (words.length === 0) {
        io.out(topHelp(commands(), io));
        return ExitCode.Ok;
      }
      const found = commands().find((c) => c.words.join(' ') === words.join(' '));
      if (found) {
        io.out(commandHelp(found, io));
        return ExitCode.Ok;
      }
      const under = commands().filter((c) => words.every((w, i) => c.words[i] === w));
      if (under.length) {
        io.out(topHelp(under, io));
        return ExitCode.Ok;
      }
      throw new OperatorError(
        ErrorType.UsageError,
        `no command \`${words.join(' ')}\` (commands: ${[...new Set(commands().map((c) => c.words[0]))].join(', ')})`,
      );
    },
  }) as Command;
}
