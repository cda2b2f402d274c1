/** Help is generated from the option specs the parser uses: every option described, every command with examples. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMANDS, main } from '../../cli/main.js';
import { allOptions, optionChoices, parserOptions, usageLine } from '../../cli/command.js';
import { commandHelp } from '../../cli/help.js';

/** Runs the CLI in-process and captures what it prints. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

const name = (words: string[]) => words.join(' ');

describe('command specs', () => {
  it.each(COMMANDS.map((c) => [name(c.words), c] as const))('%s: every option has a one-line description, string options a placeholder or choices', (_n, c) => {
    for (const [option, def] of Object.entries(allOptions(c))) {
      expect(def.description, `${name(c.words)} --${option}: description`).toMatch(/\S/);
      expect(def.description, `${name(c.words)} --${option}: one line`).not.toContain('\n');
      if (def.type === 'string') expect(def.placeholder ?? optionChoices(c, option), `${name(c.words)} --${option}: placeholder`).toBeDefined();
    }
  });

  it.each(COMMANDS.map((c) => [name(c.words), c] as const))('%s: 1–3 examples that run this command', (_n, c) => {
    expect(c.examples.length).toBeGreaterThanOrEqual(1);
    expect(c.examples.length).toBeLessThanOrEqual(3);
    for (const e of c.examples) expect(e).toContain(`secrets-dr ${name(c.words)}`);
  });
});

describe('generated help', () => {
  it.each(COMMANDS.map((c) => [name(c.words), c] as const))(
    '%s --help lists every option the parser accepts, its examples and its usage line',
    async (_n, c) => {
      const r = await cli([...c.words, '--help']);
      expect(r.code).toBe(0);
      for (const [option, def] of Object.entries(parserOptions(allOptions(c)))) {
        expect(r.out).toContain(`--${option}`);
        if (def.short) expect(r.out).toContain(`-${def.short}, --${option}`);
        expect(r.out).toContain(allOptions(c)[option]!.description);
      }
      for (const e of c.examples) expect(r.out).toContain(e);
      expect(r.out).toContain(`usage: ${usageLine(c)}`);
      // `secrets-dr help WORDS` prints the same page.
      expect((await cli(['help', ...c.words])).out).toBe(r.out);
    },
  );

  it('shows defaults, placeholders and enum values, and puts required options in the usage line', () => {
    const failover = COMMANDS.find((c) => name(c.words) === 'failover')!;
    const text = commandHelp(failover);
    expect(text).toMatch(/-f, --plan FILE\s+the plan file \(default: secrets-dr\.yaml\)/);
    expect(text).toMatch(/--mode planned\|unplanned\s+planned: fence/);
    expect(usageLine(failover)).toBe('secrets-dr failover (--to REGION | --to-account ACCOUNT_ID) [options]');
    expect(usageLine(COMMANDS.find((c) => name(c.words) === 'deploy synth')!)).toBe(
      'secrets-dr deploy synth --image URI --temporal-address HOST:PORT --temporal-namespace NS [options]',
    );
    expect(usageLine(COMMANDS.find((c) => name(c.words) === 'backups restore')!)).toBe('secrets-dr backups restore BACKUP_NAME [options]');
  });

  it('top-level help lists every command, grouped', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${name(c.words)}\\s+\\S`, 'm'));
    expect(r.out).toMatch(/^recover:\n {2}failover /m);
    expect((await cli(['help'])).out).toBe(r.out);
  });

  it('help of a command group lists its commands; an unknown one is exit 2', async () => {
    const lab = await cli(['help', 'lab']);
    expect(lab.code).toBe(0);
    expect(lab.out).toContain('lab fault');
    expect(lab.out).not.toContain('failover ');
    const nope = await cli(['help', 'frobnicate']);
    expect(nope.code).toBe(2);
    expect(nope.err).toContain('no command `frobnicate`');
  });

  it('a usage error points at the generated usage line and --help', async () => {
    const r = await cli(['failover', '--frob']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('usage: secrets-dr failover (--to REGION | --to-account ACCOUNT_ID) [options]   (secrets-dr failover --help lists every option)');
  });

  it('help is plain text off a terminal (no escape codes)', async () => {
    const r = await cli(['failover', '--help']);
    expect(r.out).not.toContain('\u001b[');
  });
});
