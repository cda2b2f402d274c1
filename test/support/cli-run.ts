/**
 * Runs the built CLI (`bin/secrets-dr.mjs`) as a user does, asynchronously: a test file that
 * spawns it dozens of times must not block its vitest worker's event loop (spawnSync did, and
 * under load the worker missed vitest's own RPC deadline).
 */
import { spawn } from 'node:child_process';

export const CLI_BIN = new URL('../../bin/secrets-dr.mjs', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_BIN, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
