import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { MachineDriver, runMachine } from '../../workflows/kit/run-machine.js';
import { chunk, runBatches, staggeredChunk, type ControlState, type Wait } from '../../workflows/kit/batch-loop.js';
import { ApprovalGate, decisionEvent } from '../../workflows/kit/approval-gate.js';

/** Outside a workflow: wait by polling the event loop (stands in for Temporal's `condition`). */
const poll: Wait = async (ready) => {
  for (let i = 0; i < 10_000 && !ready(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!ready()) throw new Error('wait never became ready');
};

const toy = setup({
  types: { context: {} as { n: number; log: string[] }, events: {} as { type: 'STEPPED'; by: number } | { type: 'NUDGE' }, input: {} as { start: number } },
  actions: { step: () => undefined, finish: () => undefined, note: assign({ log: ({ context }) => [...context.log, 'noted'] }) },
}).createMachine({
  context: ({ input }) => ({ n: input.start, log: [] }),
  initial: 'stepping',
  on: { NUDGE: { actions: 'note' } },
  states: {
    stepping: {
      entry: 'step',
      on: {
        STEPPED: [
          { guard: ({ event }) => event.by >= 2, target: 'finishing', actions: assign({ n: ({ context, event }) => context.n + event.by }) },
          { target: 'stepping', reenter: true },
        ],
      },
    },
    finishing: { entry: 'finish', always: 'over' },
    over: { type: 'final' },
  },
  output: ({ context }) => ({ outcome: context.n > 10 ? 'big' : 'small', log: context.log }),
});

describe('runMachine: one driver for every machine', () => {
  it('runs each named effect in order, feeds its answer back, and returns the machine output', async () => {
    // Prepare
    const calls: string[] = [];
    let tries = 0;
    // Act
    const { output, driver } = await runMachine(
      toy,
      { start: 9 },
      {
        step: () => (calls.push('step'), { type: 'STEPPED' as const, by: ++tries }),
        finish: async () => void calls.push('finish'),
      },
      poll,
    );
    // Assess
    expect(calls).toEqual(['step', 'step', 'finish']);
    expect(output).toEqual({ outcome: 'big', log: [] });
    expect(driver.done).toBe(true);
    expect(driver.state).toBe('over');
  });

  it('applies events sent by handlers while an effect runs (xstate assigns need no effect)', async () => {
    const driver = new MachineDriver(toy, { start: 0 }, poll);
    const output = await driver.run({
      step: async () => {
        driver.send({ type: 'NUDGE' });
        return { type: 'STEPPED', by: 2 };
      },
      finish: () => undefined,
    });
    expect(output).toEqual({ outcome: 'small', log: ['noted'] });
  });

  it('drain runs only what is queued now and returns without waiting for a final state (a machine fed by a loop)', async () => {
    // Prepare
    const driver = new MachineDriver(toy, { start: 0 }, () => Promise.reject(new Error('drain must not wait')));
    const calls: string[] = [];
    // Act
    await driver.drain({ step: () => void calls.push('step'), finish: () => void calls.push('finish') });
    // Assess: the initial `step` ran, nothing answered it, so the machine still waits in `stepping`
    expect(calls).toEqual(['step']);
    expect(driver.state).toBe('stepping');
    expect(driver.done).toBe(false);
  });

  it('take hands over the queued named actions (a fleet batching effects across machines) and resumes from a snapshot', async () => {
    const driver = new MachineDriver(toy, { start: 3 }, poll);
    expect(driver.take().map((a) => a.type)).toEqual(['step']);
    expect(driver.take()).toEqual([]);
    driver.send({ type: 'STEPPED', by: 9 });
    expect(driver.take().map((a) => a.type)).toEqual(['finish']);
    expect(driver.done).toBe(true);
    const resumed = new MachineDriver(toy, { start: 0 }, poll, driver.snapshot);
    expect(resumed.take()).toEqual([]);
    expect(resumed.context.n).toBe(12);
    expect(await resumed.run({ step: () => undefined, finish: () => undefined })).toEqual({ outcome: 'big', log: [] });
  });

  it('refuses a named action the workflow does not implement (machine and workflow out of step)', async () => {
    const driver = new MachineDriver(toy, { start: 0 }, poll);
    await expect(driver.run({ step: () => ({ type: 'STEPPED', by: 5 }) } as never)).rejects.toThrow(/asked for "finish"/);
  });
});

describe('runBatches: the pausable, cancellable batch loop', () => {
  it('keeps batch order in its results with several lanes', async () => {
    const out = await runBatches(
      { batches: chunk([1, 2, 3, 4, 5, 6, 7], 2), inFlight: 2, run: async (b) => (await new Promise((r) => setTimeout(r, 5 * (4 - b.length))), b.join('+')) },
      poll,
    );
    expect(out).toEqual(['1+2', '3+4', '5+6', '7']);
  });

  it('starts no batch while paused, and runs the rest after resume', async () => {
    const control = { paused: true, cancelRequested: false };
    const started: number[] = [];
    const loop = runBatches({ batches: [0, 1, 2], inFlight: 1, control: () => control, run: async (b) => (started.push(b), b), skip: () => -1 }, poll);
    await new Promise((r) => setTimeout(r, 30));
    expect(started).toEqual([]);
    control.paused = false;
    expect(await loop).toEqual([0, 1, 2]);
  });

  it('after cancel, skips what has not started; what ran stays done', async () => {
    const control: ControlState & { cancelRequested: boolean } = { paused: false, cancelRequested: false };
    const out = await runBatches(
      {
        batches: [0, 1, 2, 3],
        inFlight: 1,
        control: () => control,
        run: async (b) => {
          if (b === 1) control.cancelRequested = true; // cancel arrives while batch 1 runs
          return `done ${b}`;
        },
        skip: (b) => `skipped ${b}`,
      },
      poll,
    );
    expect(out).toEqual(['done 0', 'done 1', 'skipped 2', 'skipped 3']);
  });

  it('a cancel requested while paused releases the pause and skips the rest', async () => {
    const control = { paused: true, cancelRequested: false };
    const loop = runBatches({ batches: [0, 1], inFlight: 2, control: () => control, run: async () => 'ran', skip: () => 'skipped' }, poll);
    setTimeout(() => (control.cancelRequested = true), 10);
    expect(await loop).toEqual(['skipped', 'skipped']);
  });

  it('a loop without skip ignores cancel (it must finish what it started)', async () => {
    const out = await runBatches({ batches: [0, 1], inFlight: 1, control: () => ({ paused: false, cancelRequested: true }), run: async (b) => b }, poll);
    expect(out).toEqual([0, 1]);
  });
});

describe('staggeredChunk: two batches in flight never end together', () => {
  const names = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);

  it('keeps every item once and in order; the first slice is half a batch when there are more than two', () => {
    for (const n of [0, 1, 99, 100, 150, 200, 201, 250, 999, 1_000]) {
      const slices = staggeredChunk(names(n), 100);
      expect(slices.flat()).toEqual(names(n));
      expect(slices.every((s) => s.length > 0 && s.length <= 100)).toBe(true);
      if (n > 200) expect(slices[0]).toHaveLength(50);
      else expect(slices).toEqual(chunk(names(n), 100));
    }
    expect(staggeredChunk(names(1_000), 100).map((s) => s.length)).toEqual([50, 100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
  });

  it('two lanes at the same pace: a batch ends only when the other lane is half a batch away from its own end (even slices end together)', () => {
    // Each lane takes the next slice when its current one ends; both process one item per tick.
    const endTimes = (slices: string[][]) => {
      const lanes = [0, 0];
      const ends: number[][] = [[], []];
      for (const s of slices) {
        const lane = lanes[0]! <= lanes[1]! ? 0 : 1;
        lanes[lane]! += s.length;
        ends[lane]!.push(lanes[lane]!);
      }
      return ends;
    };
    const closest = (ends: number[][]) => Math.min(...ends[0]!.slice(0, -1).flatMap((a) => ends[1]!.slice(0, -1).map((b) => Math.abs(a - b))));
    expect(closest(endTimes(chunk(names(1_000), 100)))).toBe(0);
    expect(closest(endTimes(staggeredChunk(names(1_000), 100)))).toBe(50);
  });
});

describe('approval gate', () => {
  it('turns a decision into the machine event it stands for', () => {
    expect(decisionEvent({ decision: 'approve', by: 'sre' })).toEqual({ type: 'APPROVED', by: 'sre' });
    expect(decisionEvent({ decision: 'reject', reason: 'not now' })).toEqual({ type: 'REJECTED', reason: 'not now' });
  });

  /** Outside a workflow: `condition` with a timeout, by polling the event loop (false when the time is up). */
  const timedPoll = async (ready: () => boolean, timeoutMs: number) => {
    const until = Date.now() + timeoutMs;
    while (!ready() && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
    return ready();
  };
  const request = { step: 'awaitingApproval', timeoutMs: 5_000 };

  it('accepts an approval that arrives while a slow announce is still running (the gate opens before announcing)', async () => {
    // Prepare: an announce (the Approval Requested event) that takes a while; the operator answers meanwhile
    const gate = new ApprovalGate(timedPoll);
    let releaseAnnounce!: () => void;
    const announce = () => new Promise<void>((r) => (releaseAnnounce = r));
    // Act
    const waiting = gate.wait(request, () => true, announce);
    await new Promise((r) => setTimeout(r, 5)); // the announce is still running
    expect(gate.pending).toMatchObject({ step: 'awaitingApproval', timeoutMs: 5_000 });
    expect(() => gate.validate({ decision: 'approve', by: 'sre' }, 'step: awaitingApproval')).not.toThrow();
    expect(gate.accept({ decision: 'approve', by: 'sre' })).toEqual({ accepted: true, decision: 'approve' });
    releaseAnnounce();
    // Assess: the early answer is the gate's answer; the gate is closed again and refuses a second one
    expect(await waiting).toEqual({ type: 'APPROVED', by: 'sre' });
    expect(gate.pending).toBeNull();
    expect(() => gate.validate({ decision: 'reject', reason: 'late' }, 'step: promoting')).toThrow('not waiting for approval (step: promoting)');
  });

  it('refuses a second answer once one is taken, and a rejection without a reason', async () => {
    const gate = new ApprovalGate(timedPoll);
    const waiting = gate.wait(request);
    expect(() => gate.validate({ decision: 'reject' }, 'step: awaitingApproval')).toThrow('a rejection needs a reason');
    gate.accept({ decision: 'reject', reason: 'not now', by: 'sre' });
    expect(() => gate.validate({ decision: 'approve' }, 'step: awaitingApproval')).toThrow('not waiting for approval');
    expect(await waiting).toEqual({ type: 'REJECTED', reason: 'not now', by: 'sre' });
  });

  it('answers APPROVAL_TIMEOUT when nobody answers in time, and nothing when the machine no longer wants the answer', async () => {
    const gate = new ApprovalGate(timedPoll);
    expect(await gate.wait({ ...request, timeoutMs: 20 })).toEqual({ type: 'APPROVAL_TIMEOUT' });
    expect(gate.waitedMs).toBeGreaterThanOrEqual(15);
    let wanted = true;
    const waiting = gate.wait(request, () => wanted);
    wanted = false; // e.g. cancelled while waiting
    expect(await waiting).toBeUndefined();
    expect(gate.pending).toBeNull();
  });

  it('refuses, synchronously, an answer when no approval is pending', () => {
    expect(() => new ApprovalGate().validate({ decision: 'approve' }, 'step: promoting')).toThrow('not waiting for approval (step: promoting)');
  });
});

describe('failures', () => {
  it('reads the root message and the innermost ApplicationFailure type through the cause chain', async () => {
    const { ActivityFailure, ApplicationFailure, RetryState } = await import('@temporalio/common');
    const { failureMessage, failureType, isPermanent } = await import('../../workflows/kit/failures.js');
    const root = ApplicationFailure.nonRetryable('access denied to ap-northeast-1', 'AwsRejected');
    const wrapped = new ActivityFailure('activity failed', 'promoteBatch', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', root);
    expect(failureMessage(wrapped)).toBe('access denied to ap-northeast-1');
    expect(failureType(wrapped)).toBe('AwsRejected');
    expect(isPermanent(wrapped)).toBe(true);
    expect(isPermanent(new ActivityFailure('x', 'a', '1', RetryState.TIMEOUT, 'w', ApplicationFailure.retryable('slow', 'RegionUnreachable')))).toBe(false);
  });
});
