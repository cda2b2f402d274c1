/** A control signal as the machine event it stands for (machines with PAUSE/RESUME/CANCEL). */
import type { ControlRequest } from '../../domain/control.js';
import type { ControlKind } from './control.js';

type ControlEvent = { type: 'PAUSE' } | { type: 'RESUME' } | { type: 'CANCEL'; reason?: string };

export function controlEvent(kind: ControlKind, req?: ControlRequest): ControlEvent {
  if (kind === 'pause') return { type: 'PAUSE' };
  if (kind === 'resume') return { type: 'RESUME' };
  return { type: 'CANCEL', ...(req?.reason ? { reason: req.reason } : {}) };
}
