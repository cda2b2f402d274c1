/**
 * The demo with SECRETS_DR_LOG_FORMAT=json (`node dist/cli/run.js demo`, its own embedded lab and
 * Temporal dev server, as a user runs it). "Every line" here is every line the demo process writes
 * to stderr (the progress bars and notices of the steps it runs) and every line of the worker log
 * it keeps beside its reports (`demo-worker.log`: its in-process worker's SDK and Core logs, kept
 * out of the story). Each must parse as one JSON object {ts, level, msg, fields}. Its stdout is the
 * story for humans (headings, tables, the report) and stays text.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_ONLY, onAws } from '../support/integration.js';
import { CLI_RUN, requireBuilt } from '../support/worker-process.js';

const cwd = mkdtempSync(join(tmpdir(), 'secrets-dr-demo-json-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe.skipIf(onAws)(`the demo's log stream with SECRETS_DR_LOG_FORMAT=json (${LAB_ONLY})`, () => {
  it('every stderr line of a full demo run is one JSON log object; the story stays on stdout', { timeout: 400_000 }, async () => {
    requireBuilt();
    const child = spawn(process.execPath, [CLI_RUN, 'demo', '--reports', join(cwd, 'reports')], {
      cwd,
      env: { ...process.env, SECRETS_DR_LOG_FORMAT: 'json', SECRETS_DR_HOME: join(cwd, 'home'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code, `${out}\n${err}`).toBe(0);
    expect(out).toContain('demo finished');
    const stderrLines = err.split('\n').filter((l) => l.trim() !== '');
    const workerLines = readFileSync(join(cwd, 'reports', 'demo-worker.log'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const lines = [...stderrLines, ...workerLines];
    expect(stderrLines.length + workerLines.length).toBeGreaterThan(0);
    for (const l of lines) {
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON log line (demo stderr or demo-worker.log): ${l.slice(0, 300)}`);
      }
      expect(Object.keys(o).sort(), l).toEqual(['fields', 'level', 'msg', 'ts']);
      expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(o.level);
    }
  });
});
