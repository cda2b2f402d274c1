/**
 * The worker's bounded shutdown (worker/shutdown.ts), on fake timers: the limit is its own timer (not a progress
 * tick), progress names what it waits for, a repeated Ctrl-C is one signal, a second signal exits at once, a signal
 * during the start shuts down once the workers exist, and nothing exits after the drain.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedShutdown } from '../../worker/shutdown.js';
import { InFlightActivities } from '../../worker/in-flight.js';
import { loadEnv } from '../../worker/config.js';

function setup(limitMs: number) {
  const lines: Array<{ level: string; msg: string; fields?: Record<string, unknown> }> = [];
  const exits: number[] = [];
  const s = new BoundedShutdown(
    limitMs,
    (level, msg, fields) => void lines.push({ level, msg, ...(fields ? { fields } : {}) }),
    (code) => void exits.push(code),
  );
  const running = { shutdown: vi.fn(async () => undefined), shutdownStage: () => 'the worker of eu-west-1', inFlight: new InFlightActivities() };
  return { s, lines, exits, running };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the worker's bounded shutdown", () => {
  it('exits 1 at the limit exactly (15 s: not at the next 10-s progress tick), after one progress line', () => {
    vi.useFakeTimers();
    const { s, lines, exits, running } = setup(15_000);
    s.attach(running);
    s.onSignal('SIGTERM');
    expect(running.shutdown).toHaveBeenCalledTimes(1);
    expect(lines[0]?.msg).toContain(
      'shutting down on SIGTERM (finishing running activities: no activity running; they are cancelled after 7500 ms; the process exits after at most 15000 ms',
    );
    vi.advanceTimersByTime(14_999);
    expect(exits).toEqual([]);
    expect(lines.filter((l) => l.msg.includes('still shutting down after 10 s: waiting for the worker of eu-west-1'))).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(exits).toEqual([1]);
    expect(lines.at(-1)).toMatchObject({ level: 'error', fields: { activities: [] } });
    expect(lines.at(-1)?.msg).toContain('shutdown did not finish in 15000 ms');
    vi.advanceTimersByTime(60_000);
    expect(exits).toEqual([1]); // no second exit, no more progress
  });

  it('takes a signal repeated within a second as the same one; a later second signal exits at once', () => {
    vi.useFakeTimers();
    const { s, exits, running } = setup(60_000);
    s.attach(running);
    s.onSignal('SIGINT');
    vi.advanceTimersByTime(200);
    s.onSignal('SIGINT'); // npm/npx forwards the terminal's Ctrl-C: the same one
    expect(exits).toEqual([]);
    vi.advanceTimersByTime(3_000);
    s.onSignal('SIGTERM');
    expect(exits).toEqual([1]);
    expect(running.shutdown).toHaveBeenCalledTimes(1);
  });

  it('a signal during the start shuts the workers down once they exist; the limit counts from the signal', () => {
    vi.useFakeTimers();
    const { s, lines, exits, running } = setup(5_000);
    s.onSignal('SIGTERM');
    expect(lines[0]?.msg).toContain('the workers are still starting');
    vi.advanceTimersByTime(2_000);
    s.attach(running);
    expect(running.shutdown).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(3_000);
    expect(exits).toEqual([1]);
  });

  it('after the drain (disposed) neither the limit nor a signal exits', () => {
    vi.useFakeTimers();
    const { s, exits, running } = setup(1_000);
    s.attach(running);
    s.onSignal('SIGTERM');
    s.dispose();
    vi.advanceTimersByTime(5_000);
    s.onSignal('SIGTERM');
    expect(exits).toEqual([]);
  });

  it('0 exits at once; an empty SECRETS_DR_SHUTDOWN_TIMEOUT_MS is the default, not 0', () => {
    vi.useFakeTimers();
    const { s, exits, running } = setup(0);
    s.attach(running);
    s.onSignal('SIGTERM');
    vi.advanceTimersByTime(0);
    expect(exits).toEqual([1]);
    expect(loadEnv({ SECRETS_DR_SHUTDOWN_TIMEOUT_MS: '' }).SECRETS_DR_SHUTDOWN_TIMEOUT_MS).toBe(60_000);
    expect(loadEnv({ SECRETS_DR_SHUTDOWN_TIMEOUT_MS: '0' }).SECRETS_DR_SHUTDOWN_TIMEOUT_MS).toBe(0);
  });
});
