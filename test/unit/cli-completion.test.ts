/**
 * `secrets-dr completion bash|zsh|fish`, generated from COMMANDS: each script is loaded by its real
 * shell and asked what it completes (bash: COMPREPLY from the completion function).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/main.js';
import { allOptions } from '../../cli/command.js';
import { bashScript, fishScript, zshScript } from '../../cli/completion.js';

const dir = mkdtempSync(join(tmpdir(), 'secrets-dr-completion-'));
const has = (shell: string) => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const files = { bash: join(dir, 'c.bash'), zsh: join(dir, 'c.zsh'), fish: join(dir, 'c.fish') };

beforeAll(() => {
  writeFileSync(files.bash, bashScript(COMMANDS));
  writeFileSync(files.zsh, zshScript(COMMANDS));
  writeFileSync(files.fish, fishScript(COMMANDS));
});

/** What bash completes for the words typed so far (the last one is the word under the cursor). */
function bash(...words: string[]): string[] {
  const script = `source ${files.bash}
COMP_WORDS=(secrets-dr ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; COMPREPLY=(); _secrets_dr
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return r.stdout.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  it('completes top-level commands, sub-words, positional values, options and option values', () => {
    expect(bash('fa')).toEqual(['failover', 'failback']);
    expect(bash('lab', '')).toEqual(expect.arrayContaining(['up', 'down', 'fault', 'lambda']));
    expect(bash('lab', 'lambda', 'c')).toEqual(['create']);
    expect(bash('lab', 'fault', 're')).toEqual(['replication-lag', 'replication-pause', 'replica-delete-delay']);
    expect(bash('lab', 'fault', 'outage', '--re')).toEqual(['--region']);
    expect(bash('failover', '--mode', '')).toEqual(['planned', 'unplanned']);
    expect(bash('failover', '--to', '')).toEqual([]);
    expect(bash('iam-policy', '--role', 'w')).toEqual(['worker']);
    expect(bash('completion', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(bash('help', 'backups', 'r')).toEqual(['restore']);
    expect(bash('-')).toEqual(['--help', '-h', '--version', '-V']);
  });

  it('offers a file for a FILE option', () => {
    writeFileSync(join(dir, 'payments.yaml'), 'name: x\n');
    expect(bash('setup', '-f', join(dir, 'pay'))).toEqual([join(dir, 'payments.yaml')]);
  });

  it.each(COMMANDS.map((c) => [c.words.join(' '), c] as const))('%s: its last word and every option it takes', (_n, c) => {
    expect(bash(...c.words.slice(0, -1), c.words.at(-1)!)).toContain(c.words.at(-1));
    const flags = bash(...c.words, '-');
    for (const [name, def] of Object.entries(allOptions(c))) {
      expect(flags).toContain(`--${name}`);
      if (def.short) expect(flags).toContain(`-${def.short}`);
    }
  });
});

describe.skipIf(!has('zsh'))('zsh completion (zsh installed)', () => {
  /** Stubs the completion system's builtins and records what the function offers. */
  function zsh(...words: string[]): string {
    const script = `compdef() { :; }
_describe() { shift 3; local -a arr; arr=("\${(@P)1}"); print -l -- "\${arr[@]}"; }
compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
_files() { print -- FILES "$@"; }
_message() { print -- MESSAGE "$@"; }
source ${files.zsh}
words=(secrets-dr ${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length + 1}; PREFIX='${words.at(-1)}'
_secrets_dr`;
    const r = spawnSync('zsh', ['-f', '-c', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return r.stdout;
  }

  it('offers sub-words with their summaries, options with descriptions, and enum values', () => {
    expect(zsh('lab', '')).toContain('fault:inject a fault');
    expect(zsh('failover', '--')).toContain('--to:the DR Region whose replicas become standalone secrets');
    expect(zsh('failover', '--mode', '').split('\n')).toEqual(expect.arrayContaining(['planned', 'unplanned']));
    expect(zsh('setup', '-f', '')).toContain('FILES');
  });
});

describe.skipIf(!has('fish'))('fish completion (fish installed)', () => {
  function fish(line: string): string[] {
    const r = spawnSync('fish', ['--no-config', '-c', `source ${files.fish}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[0]!);
  }

  it('completes commands, sub-words, options and enum values', () => {
    expect(fish('secrets-dr fa')).toEqual(['failback', 'failover']);
    expect(fish('secrets-dr lab lambda ')).toEqual(['create', 'delete', 'list']);
    expect(fish('secrets-dr failover --t')).toEqual(['--to']);
    expect(fish('secrets-dr failover --mode ')).toEqual(['planned', 'unplanned']);
    expect(fish('secrets-dr lab fault o')).toEqual(['outage']);
  });
});

describe('the scripts are generated from every command', () => {
  it.each([
    ['bash', bashScript],
    ['zsh', zshScript],
    ['fish', fishScript],
  ] as const)('%s names every command word and option', (_shell, script) => {
    const text = script(COMMANDS);
    for (const c of COMMANDS) {
      for (const w of c.words) expect(text).toContain(w);
      for (const name of Object.keys(allOptions(c))) expect(text).toMatch(new RegExp(`(--|-l )${name}\\b`));
    }
  });
});
