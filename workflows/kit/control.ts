/**
 * Pause/resume/cancel handlers, installed once per workflow. A parent with a machine turns them
 * into machine events and relays them to the children running at the time; a child without a
 * machine keeps its own `ControlState` for the batch loop.
 */
import { setHandler } from '@temporalio/workflow';
import type { ControlRequest } from '../../domain/control.js';
import type { ControlState } from './batch-loop.js';
import { cancelSignal, pauseSignal, resumeSignal, type ControlSignal } from './control.messages.js';

export type ControlKind = 'pause' | 'resume' | 'cancel';

const SIGNALS: Record<ControlKind, ControlSignal> = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal };

/** A running child that takes the same control signals. */
interface Steerable {
  signal(def: ControlSignal, req?: ControlRequest): Promise<void>;
}

/**
 * Installs the three handlers: each calls `apply`, then relays the signal to `children` (read at
 * the time of the signal). A child started while paused or cancelled is told by `tellNewChild`.
 */
export function onControl(apply: (kind: ControlKind, req?: ControlRequest) => void, children?: () => Iterable<Steerable>): void {
  for (const kind of Object.keys(SIGNALS) as ControlKind[]) {
    setHandler(SIGNALS[kind], (req) => {
      apply(kind, req);
      for (const c of children?.() ?? []) void c.signal(SIGNALS[kind], req).catch(() => undefined); // a child that just finished cannot hear it
    });
  }
}

/** Brings a child started just now into the parent's state (it missed the signals sent before it existed). */
export async function tellNewChild(child: Steerable, state: ControlState): Promise<void> {
  if (state.cancelRequested) await child.signal(cancelSignal);
  else if (state.paused) await child.signal(pauseSignal);
}

/** A workflow without a machine (a chunk child): its own state, set by the three signals. */
export function listenForControl(): ControlState {
  const state = { paused: false, cancelRequested: false };
  onControl((kind) => {
    if (kind === 'pause') state.paused = true;
    else if (kind === 'resume') state.paused = false;
    else Object.assign(state, { cancelRequested: true, paused: false });
  });
  return state;
}
