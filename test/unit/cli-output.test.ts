/** Colour and symbols only on a terminal; NO_COLOR respected; --json never coloured. */
import { describe, expect, it } from 'vitest';
import { colorAllowed, paint, symbol } from '../../cli/output.js';
import { commandHelp } from '../../cli/help.js';
import { COMMANDS } from '../../cli/main.js';

describe('colour', () => {
  it.each([
    ['a terminal', { isTTY: true }, false, {}, true],
    ['a pipe or file', { isTTY: false }, false, {}, false],
    ['--json on a terminal', { isTTY: true }, true, {}, false],
    ['NO_COLOR=1 on a terminal', { isTTY: true }, false, { NO_COLOR: '1' }, false],
    ['NO_COLOR empty (unset by the convention)', { isTTY: true }, false, { NO_COLOR: '' }, true],
  ] as const)('%s', (_what, stream, json, env, expected) => {
    expect(colorAllowed(stream, json, env)).toBe(expected);
  });

  it('paints and uses symbols only when colour is on', () => {
    expect(paint({ color: true }, 'red', 'x')).toBe('\u001b[31mx\u001b[39m');
    expect(paint({ color: false }, 'red', 'x')).toBe('x');
    expect(symbol({ color: true }, 'ok')).toContain('✓');
    expect(symbol({ color: false }, 'ok')).toBe('ok');
  });

  it('help is coloured on a colour terminal and plain otherwise', () => {
    const failover = COMMANDS.find((c) => c.words.join(' ') === 'failover')!;
    expect(commandHelp(failover, { color: true })).toContain('\u001b[1musage:\u001b[22m');
    expect(commandHelp(failover, { color: false })).not.toContain('\u001b[');
  });
});
