/**
 * The one machine driver of every workflow with a machine. The machine decides (pure xstate
 * `initialTransition`/`transition`, no actors in the sandbox); the workflow runs the named effects
 * it returns, one at a time, in order, and feeds each effect's answer back as an event. Signals and
 * updates feed events with `send` at any time; the effects they trigger are queued behind the
 * running one. The outcome is the machine's `output` (decided once, in the machine).
 */
import { condition } from '@temporalio/workflow';
import type { Wait } from './batch-loop.js';
import {
  initialTransition,
  transition,
  type AnyStateMachine,
  type ContextFrom,
  type EventFromLogic,
  type ExecutableActionsFrom,
  type InputFrom,
  type OutputFrom,
  type SnapshotFrom,
} from 'xstate';

/** The machine's named actions (xstate's own built-ins excluded: `transition` applies them). */
type ActionName<M extends AnyStateMachine> = Exclude<ExecutableActionsFrom<M>['type'], `xstate.${string}`>;

/** One effect: does the work of a named action, may answer with the event that moves the machine on. */
type Effect<M extends AnyStateMachine, K extends ActionName<M> = ActionName<M>> = (
  action: Extract<ExecutableActionsFrom<M>, { type: K }>,
) => Promise<EventFromLogic<M> | undefined | void> | EventFromLogic<M> | undefined | void;

/** The named effects a workflow implements for machine M: exactly the names in E. */
type Effects<M extends AnyStateMachine, E extends ActionName<M>> = { [K in E]: Effect<M, K> };

export class MachineDriver<M extends AnyStateMachine> {
  #snapshot: SnapshotFrom<M>;
  readonly #queue: ExecutableActionsFrom<M>[] = [];

  constructor(
    readonly machine: M,
    input: InputFrom<M>,
    /** How the driver waits for queued effects (Temporal's `condition`; a unit test passes its own). */
    readonly wait: Wait = condition,
    /** A snapshot to resume from instead of starting (one carried through continue-as-new): `input` is then unused. */
    resumeFrom?: SnapshotFrom<M>,
  ) {
    if (resumeFrom) {
      this.#snapshot = resumeFrom;
      return;
    }
    const [snapshot, actions] = (initialTransition as (m: M, i: InputFrom<M>) => [SnapshotFrom<M>, ExecutableActionsFrom<M>[]])(machine, input);
    this.#snapshot = snapshot;
    this.#queue.push(...actions);
  }

  /** Feeds one event to the machine; the actions it returns run after the effects already queued. */
  send(event: EventFromLogic<M>): void {
    const [snapshot, actions] = transition(this.machine, this.#snapshot, event);
    this.#snapshot = snapshot;
    this.#queue.push(...actions);
  }

  get snapshot(): SnapshotFrom<M> {
    return this.#snapshot;
  }

  get context(): ContextFrom<M> {
    return (this.#snapshot as { context: ContextFrom<M> }).context;
  }

  /** The state value as a string ("promoting"); nested states joined with dots. */
  get state(): string {
    const flat = (v: unknown): string =>
      typeof v === 'string'
        ? v
        : Object.entries(v as Record<string, unknown>)
            .map(([k, sub]) => `${k}.${flat(sub)}`)
            .join(',');
    return flat((this.#snapshot as { value: unknown }).value);
  }

  get done(): boolean {
    return (this.#snapshot as { status: string }).status === 'done';
  }

  /**
   * Runs the queued effects until the machine reaches a final state and nothing is queued; returns
   * the machine's output. An action without an effect is a bug (a machine and its workflow out of
   * step): it throws a plain Error, which fails the workflow task until the code is fixed.
   */
  async run<E extends ActionName<M>>(effects: Effects<M, E>): Promise<OutputFrom<M>> {
    for (;;) {
      await this.wait(() => this.#queue.length > 0 || this.done);
      const action = this.#queue.shift();
      if (!action) break;
      const effect = this.#effectFor(action, effects);
      if (!effect) continue;
      const event = await effect(action as never);
      if (event) this.send(event);
    }
    return (this.#snapshot as { output: OutputFrom<M> }).output;
  }

  /**
   * Runs the effects queued now, in order, without waiting for more (nor for a final state): for a
   * machine a loop feeds one event at a time and that never ends by itself (the monitor's Regions).
   */
  async drain<E extends ActionName<M>>(effects: Effects<M, E>): Promise<void> {
    for (let action = this.#queue.shift(); action; action = this.#queue.shift()) {
      const effect = this.#effectFor(action, effects);
      const event = effect && (await effect(action as never));
      if (event) this.send(event);
    }
  }

  /** The effect of one action; none for xstate's built-ins (`transition` applied them). */
  #effectFor<E extends ActionName<M>>(action: ExecutableActionsFrom<M>, effects: Effects<M, E>): Effect<M> | undefined {
    if (action.type.startsWith('xstate.')) return undefined;
    const effect = (effects as unknown as Record<string, Effect<M> | undefined>)[action.type];
    if (!effect) throw new Error(`the machine "${this.machine.id}" asked for "${action.type}", which the workflow does not implement`);
    return effect;
  }

  /**
   * Hands over the named actions queued now instead of running them: for a fleet of machines whose
   * effects run batched across machines (replicateBatch: one activity for many secrets). Whoever
   * takes them answers each with `send`.
   */
  take(): Array<Exclude<ExecutableActionsFrom<M>, { type: `xstate.${string}` }>> {
    return this.#queue.splice(0).filter((a) => !a.type.startsWith('xstate.')) as Array<Exclude<ExecutableActionsFrom<M>, { type: `xstate.${string}` }>>;
  }
}

/**
 * Starts the machine, lets `wire` install message handlers that send it events, then runs the
 * effects until the machine is done. Returns the machine's output and the driver (for the report).
 */
export async function runMachine<M extends AnyStateMachine, E extends ActionName<M>>(
  machine: M,
  input: InputFrom<M>,
  effects: Effects<M, E> | ((driver: MachineDriver<M>) => Effects<M, E>),
  wait: Wait = condition,
): Promise<{ output: OutputFrom<M>; driver: MachineDriver<M> }> {
  const driver = new MachineDriver(machine, input, wait);
  const table = typeof effects === 'function' ? effects(driver) : effects;
  const output = await driver.run(table);
  return { output, driver };
}
