/**
 * SECRETS_DR_LOG_FORMAT=json: the formatter (worker/log.ts) and the CLI's error output. Here
 * "every line" is every line the built CLI writes to stderr for an error (usage, configuration,
 * unreachable Temporal); the worker's and receiver's streams are parsed line by line in
 * test/integration/metrics.test.ts. Stdout (tables, the demo's story) is for humans and not JSON.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-run.js';
import { formatLog } from '../../worker/log.js';
import { loadEnv } from '../../worker/config.js';

function run(args: string[], env: Record<string, string>) {
  if (!existsSync(new URL('../../dist/cli/run.js', import.meta.url))) throw new Error('dist/ is missing: run `npm run build` (npm test does it for you)');
  return runCli(args, { env: { SECRETS_DR_LOG_FORMAT: 'json', ...env } });
}

/** Every non-empty line parsed as one JSON log object with the four fields. */
function jsonLines(text: string): Array<{ ts: string; level: string; msg: string; fields: Record<string, unknown> }> {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((l) => {
    const o = JSON.parse(l) as { ts: string; level: string; msg: string; fields: Record<string, unknown> };
    expect(Object.keys(o).sort()).toEqual(['fields', 'level', 'msg', 'ts']);
    expect(Number.isNaN(Date.parse(o.ts))).toBe(false);
    return o;
  });
}

describe('JSON log lines', () => {
  it('one object per line: ts, level, msg, fields; errors keep name, message and type', async () => {
    const err = Object.assign(new Error('boom'), { type: 'RegionUnreachable' });
    const line = formatLog('json', 'warn', 'activity failed', { error: err, n: 10n, region: 'r1' }, new Date('2026-01-01T00:00:00Z'));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      ts: '2026-01-01T00:00:00.000Z',
      level: 'warn',
      msg: 'activity failed',
      fields: { error: { name: 'Error', message: 'boom', type: 'RegionUnreachable' }, n: '10', region: 'r1' },
    });
    expect(formatLog('text', 'info', 'hello', {}, new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z [INFO] hello');
  });

  it('SECRETS_DR_LOG_FORMAT accepts text and json only, naming the variable otherwise', async () => {
    expect(loadEnv({ SECRETS_DR_LOG_FORMAT: 'JSON' }).SECRETS_DR_LOG_FORMAT).toBe('json');
    expect(() => loadEnv({ SECRETS_DR_LOG_FORMAT: 'yaml' })).toThrow(
      expect.objectContaining({ problems: [expect.objectContaining({ path: 'SECRETS_DR_LOG_FORMAT' })] }),
    );
  });

  it(
    "the CLI's errors on stderr: a usage error, a bad configuration and an unreachable Temporal are JSON lines, exit codes kept",
    { timeout: 90_000 },
    async () => {
      const usage = await run(['worker'], {});
      expect(usage.code).toBe(2);
      expect(jsonLines(usage.err)[0]).toMatchObject({
        level: 'error',
        msg: expect.stringContaining('say which Regions'),
        fields: { type: 'UsageError', exitCode: 2 },
      });

      const config = await run(['worker', '--regions', 'us-east-1'], { SECRETS_DR_METRICS_PORT: 'ninety' });
      expect(config.code).toBe(2);
      expect(jsonLines(config.err)[0]).toMatchObject({
        level: 'error',
        fields: { type: 'ConfigInvalid', problems: [expect.objectContaining({ path: 'SECRETS_DR_METRICS_PORT' })] },
      });

      const down = await run(['status', '-f', new URL('../fixtures/canonical-plan.yaml', import.meta.url).pathname], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(down.code).toBe(1);
      expect(jsonLines(down.err)[0]).toMatchObject({
        level: 'error',
        msg: expect.stringContaining('cannot reach the Temporal server'),
        fields: { type: 'TemporalUnreachable' },
      });
    },
  );

  it('a metrics port already in use is a configuration error naming the port and what to do, not a crash', { timeout: 60_000 }, async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '0.0.0.0', () => r()));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await run(['worker', '--regions', 'us-east-1', '--metrics-port', String(port)], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
      expect(r.code).toBe(2);
      expect(jsonLines(r.err)[0]).toMatchObject({
        level: 'error',
        msg: expect.stringMatching(new RegExp(`metrics port ${port}: cannot serve metrics .*in use.*--metrics-port or SECRETS_DR_METRICS_PORT`)),
        fields: { type: 'ConfigInvalid' },
      });
    } finally {
      busy.close();
    }
  });
});
