/**
 * `secrets-dr completion bash|zsh|fish`: a completion script generated from the command specs
 * (words, sub-words, options, enum values), so completion knows exactly what the parser accepts.
 * The scripts walk the words typed so far to a command path, then offer its sub-words,
 * positional values, options, or an option's values (files for FILE/DIR placeholders).
 */
import { z } from 'zod';
import { ExitCode } from '../domain/errors.js';
import { allOptions, defineCommand, optionChoices, positionalChoices, type Command, type OptionDef } from './command.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface Word {
  word: string;
  description: string;
}
interface Node {
  /** Words that extend the command path (`lab` → `fault`). */
  next: Word[];
  /** Values of the first positional argument (`lab fault` → `outage`); offered, not walked. */
  args: string[];
  command?: Command;
}
type ValueKind = { choices: string[] } | 'file' | 'dir' | 'free';

/** Every command path (`''`, `lab`, `lab fault`, `help lab`, ...) with what may follow it. */
function completionTree(commands: readonly Command[]): Map<string, Node> {
  const tree = new Map<string, Node>();
  const node = (path: string) => tree.get(path) ?? tree.set(path, { next: [], args: [] }).get(path)!;
  const add = (words: readonly string[], c: Command | undefined) => {
    words.forEach((w, i) => {
      const at = node(words.slice(0, i).join(' '));
      const description = i === words.length - 1 && c ? c.summary : '';
      if (!at.next.some((n) => n.word === w)) at.next.push({ word: w, description });
      else if (description) at.next.find((n) => n.word === w)!.description = description;
    });
    const full = node(words.join(' '));
    if (c) {
      full.command = c;
      full.args = positionalChoices(c) ?? [];
    }
  };
  for (const c of commands) add(c.words, c);
  // `secrets-dr help lab fault`: the help command's arguments are command paths.
  if (commands.some((c) => c.words.join(' ') === 'help')) for (const c of commands) if (c.words[0] !== 'help') add(['help', ...c.words], undefined);
  for (const [path, n] of tree) {
    for (const w of n.next)
      if (!w.description)
        w.description = `${path ? `${path} ` : ''}${w.word}: ${tree
          .get(path ? `${path} ${w.word}` : w.word)
          ?.next.map((x) => x.word)
          .join(', ')}`;
  }
  return tree;
}

const flagsOf = (name: string, def: OptionDef) => [`--${name}`, ...(def.short ? [`-${def.short}`] : [])];
const TOP_FLAG_HELP: Record<string, string> = { '--help': 'show help', '-h': 'show help', '--version': 'print the version', '-V': 'print the version' };
const TOP_FLAGS = Object.keys(TOP_FLAG_HELP);

function valueKind(c: Command, name: string, def: OptionDef): ValueKind {
  const choices = optionChoices(c, name);
  if (choices) return { choices };
  if (def.placeholder === 'FILE') return 'file';
  if (def.placeholder === 'DIR') return 'dir';
  return 'free';
}

function stringOptions(tree: Map<string, Node>): Array<{ path: string; name: string; def: OptionDef; kind: ValueKind }> {
  return [...tree].flatMap(([path, n]) =>
    n.command
      ? Object.entries(allOptions(n.command))
          .filter(([, d]) => d.type === 'string')
          .map(([name, def]) => ({ path, name, def, kind: valueKind(n.command!, name, def) }))
      : [],
  );
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const fq = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;
const optionFlags = (n: Node) => (n.command ? Object.entries(allOptions(n.command)).flatMap(([name, d]) => flagsOf(name, d)) : []);

/** Shared by bash and zsh: one `case` pattern per string option (`'path --flag'|'path -f'`) with the shell's action completing its value. */
function valueCases(
  tree: Map<string, Node>,
  act: { file: string; dir: string; free: (what: string) => string; choices: (choices: readonly string[]) => string },
): Array<[patterns: string, action: string]> {
  return stringOptions(tree).map((o) => [
    flagsOf(o.name, o.def)
      .map((f) => sq(`${o.path} ${f}`))
      .join('|'),
    o.kind === 'file' ? act.file : o.kind === 'dir' ? act.dir : o.kind === 'free' ? act.free(o.def.placeholder ?? o.name) : act.choices(o.kind.choices),
  ]);
}

/** Shared by bash and zsh: which words extend a path, and which flags a path takes. */
function shFunctions(tree: Map<string, Node>): string[] {
  const lines = ['_secrets_dr_next() {', '  case "$1" in'];
  for (const [path, n] of tree) if (n.next.length) lines.push(`    ${sq(path)}) echo ${sq(n.next.map((w) => w.word).join(' '))} ;;`);
  lines.push('  esac', '}', '_secrets_dr_args() {', '  case "$1" in');
  for (const [path, n] of tree) if (n.args.length) lines.push(`    ${sq(path)}) echo ${sq(n.args.join(' '))} ;;`);
  lines.push('  esac', '}', '_secrets_dr_flags() {', '  case "$1" in', `    '') echo ${sq(TOP_FLAGS.join(' '))} ;;`);
  for (const [path, n] of tree) if (n.command) lines.push(`    ${sq(path)}) echo ${sq(optionFlags(n).join(' '))} ;;`);
  lines.push(
    '  esac',
    '}',
    '_secrets_dr_path() {',
    '  local p="" w',
    '  for w in "$@"; do',
    '    if [[ " $(_secrets_dr_next "$p") " == *" $w "* ]]; then p="${p:+$p }$w"; else break; fi',
    '  done',
    '  echo "$p"',
    '}',
  );
  return lines;
}

export function bashScript(commands: readonly Command[]): string {
  const tree = completionTree(commands);
  const lines = [
    '# bash completion for secrets-dr (generated by `secrets-dr completion bash`)',
    '# load it: source <(secrets-dr completion bash)   (or save it under ~/.local/share/bash-completion/completions/secrets-dr)',
    ...shFunctions(tree),
  ];
  lines.push('_secrets_dr_value() {', '  local cur="$3"', '  case "$1 $2" in');
  const values = valueCases(tree, {
    file: 'compgen -f -- "$cur"',
    dir: 'compgen -d -- "$cur"',
    free: () => 'true',
    choices: (c) => `compgen -W ${sq(c.join(' '))} -- "$cur"`,
  });
  for (const [pats, action] of values) lines.push(`    ${pats}) COMPREPLY=($(${action})) ;;`);
  lines.push('    *) return 1 ;;', '  esac', '}');
  lines.push(
    '_secrets_dr() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path',
    '  path="$(_secrets_dr_path "${COMP_WORDS[@]:1:COMP_CWORD-1}")"',
    '  if [[ $COMP_CWORD -gt 1 && "$prev" == -* ]] && _secrets_dr_value "$path" "$prev" "$cur"; then return 0; fi',
    '  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$(_secrets_dr_flags "$path")" -- "$cur")); return 0; fi',
    '  COMPREPLY=($(compgen -W "$(_secrets_dr_next "$path") $(_secrets_dr_args "$path")" -- "$cur"))',
    '}',
    'complete -F _secrets_dr secrets-dr',
  );
  return lines.join('\n') + '\n';
}

export function zshScript(commands: readonly Command[]): string {
  const tree = completionTree(commands);
  const d = (s: string) => s.replace(/\s+/g, ' ').slice(0, 120);
  const lines = [
    '#compdef secrets-dr',
    '# zsh completion for secrets-dr (generated by `secrets-dr completion zsh`)',
    '# load it: source <(secrets-dr completion zsh)   (after compinit), or save it as _secrets-dr in your $fpath',
    ...shFunctions(tree),
  ];
  lines.push('_secrets_dr() {', '  local -a cands', '  local p="$(_secrets_dr_path "${(@)words[2,CURRENT-1]}")" prev="${words[CURRENT-1]}"');
  lines.push('  if (( CURRENT > 2 )) && [[ $prev == -* ]]; then', '    case "$p $prev" in');
  const values = valueCases(tree, {
    file: '_files',
    dir: '_files -/',
    free: (what) => `_message ${sq(what)}`,
    choices: (c) => `compadd -- ${c.map(sq).join(' ')}`,
  });
  for (const [pats, action] of values) lines.push(`      ${pats}) ${action}; return ;;`);
  lines.push(
    '    esac',
    '  fi',
    '  if [[ $PREFIX == -* ]]; then',
    '    case "$p" in',
    `      '') cands=(${TOP_FLAGS.map((f) => sq(`${f}:${TOP_FLAG_HELP[f]}`)).join(' ')}) ;;`,
  );
  for (const [path, n] of tree) {
    if (!n.command) continue;
    const items = Object.entries(allOptions(n.command)).flatMap(([name, def]) => flagsOf(name, def).map((f) => sq(`${f}:${d(def.description)}`)));
    lines.push(`      ${sq(path)}) cands=(${items.join(' ')}) ;;`);
  }
  lines.push('    esac', '  else', '    case "$p" in');
  for (const [path, n] of tree) {
    const items = [...n.next.map((w) => sq(`${w.word}:${d(w.description)}`)), ...n.args.map((a) => sq(a))];
    if (items.length) lines.push(`      ${sq(path)}) cands=(${items.join(' ')}) ;;`);
  }
  lines.push('    esac', '  fi', "  (( ${#cands} )) && _describe -t values 'secrets-dr' cands", '}');
  lines.push('if [[ "${funcstack[1]}" == _secrets_dr ]]; then _secrets_dr "$@"; else compdef _secrets_dr secrets-dr; fi');
  return lines.join('\n') + '\n';
}

export function fishScript(commands: readonly Command[]): string {
  const tree = completionTree(commands);
  const lines = [
    '# fish completion for secrets-dr (generated by `secrets-dr completion fish`)',
    '# load it: secrets-dr completion fish | source   (or save it as ~/.config/fish/completions/secrets-dr.fish)',
  ];
  lines.push('function __secrets_dr_next', '    switch "$argv[1]"');
  for (const [path, n] of tree)
    if (n.next.length) lines.push(`        case ${fq(path)}`, `            printf '%s\\n' ${n.next.map((w) => fq(w.word)).join(' ')}`);
  lines.push('    end', 'end');
  lines.push(
    'function __secrets_dr_path',
    '    set -l p ""',
    '    for t in (commandline -opc)[2..-1]',
    '        if contains -- $t (__secrets_dr_next "$p")',
    '            set p (string trim -- "$p $t")',
    '        else',
    '            break',
    '        end',
    '    end',
    '    echo $p',
    'end',
  );
  lines.push('function __secrets_dr_at', '    set -l p (__secrets_dr_path)', '    test "$p" = "$argv[1]"', 'end');
  lines.push(
    'complete -c secrets-dr -f',
    "complete -c secrets-dr -n '__secrets_dr_at \"\"' -s h -l help -d 'show help'",
    "complete -c secrets-dr -n '__secrets_dr_at \"\"' -s V -l version -d 'print the version'",
  );
  const at = (path: string) => `-n ${fq(`__secrets_dr_at ${JSON.stringify(path)}`)}`;
  for (const [path, n] of tree) {
    for (const w of n.next) lines.push(`complete -c secrets-dr ${at(path)} -a ${fq(w.word)} -d ${fq(w.description)}`);
    if (n.args.length) lines.push(`complete -c secrets-dr ${at(path)} -a ${fq(n.args.join(' '))}`);
    if (!n.command) continue;
    for (const [name, def] of Object.entries(allOptions(n.command))) {
      const kind = def.type === 'string' ? valueKind(n.command, name, def) : undefined;
      const value = kind === undefined ? '' : kind === 'file' || kind === 'dir' ? ' -r -F' : kind === 'free' ? ' -x' : ` -x -a ${fq(kind.choices.join(' '))}`;
      lines.push(`complete -c secrets-dr ${at(path)}${def.short ? ` -s ${def.short}` : ''} -l ${name}${value} -d ${fq(def.description)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const SCRIPTS: Record<Shell, (commands: readonly Command[]) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };

/** The completion command; it reads the command list when it runs (the list includes it). */
export function completionCommand(commands: () => readonly Command[]): Command {
  return defineCommand({
    words: ['completion'],
    summary: 'print a shell completion script (bash, zsh or fish) for every command, sub-command and option',
    args: 'bash|zsh|fish',
    examples: [
      'source <(secrets-dr completion bash)',
      'secrets-dr completion zsh > "${fpath[1]}/_secrets-dr"',
      'secrets-dr completion fish > ~/.config/fish/completions/secrets-dr.fish',
    ],
    options: {},
    schema: z.object({
      json: z.boolean(),
      positionals: z.tuple([z.enum(SHELLS, { error: `expected the shell: ${SHELLS.join(', ')}` })], { error: `expected one shell: ${SHELLS.join(', ')}` }),
    }),
    async run(opts, io) {
      io.out(SCRIPTS[opts.positionals[0]](commands()).trimEnd());
      return ExitCode.Ok;
    },
  }) as Command;
}
