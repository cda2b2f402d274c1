/** /_lab/fault/...: outage, latency, replication lag and pause, throttling, fail-next, rotation stall, replica delete delay, deny, clear. */
import type { LabCore } from '../core.js';
import { OUTAGE_MODES, type OutageMode } from '../faults.js';
import { INCIDENT_ERRORS, isIncidentError, type IncidentError } from '../incident-errors.js';
import { QUOTA_GROUP_NAMES } from '../quotas.js';
import { ROTATION_STEPS, type RotationStep } from '../secrets-manager/rotation-runner.js';
import { BadLabRequest, labArgs, type LabRoutes } from './lab-request.js';

export function faultRoutes(core: Pick<LabCore, 'regions' | 'regionSet' | 'faults' | 'log'>): LabRoutes {
  const { faults, log } = core;
  const { requireRegion, num } = labArgs(core.regions, core.regionSet);
  return {
    'POST /_lab/fault/outage': (b) => {
      const region = requireRegion(b);
      const mode = (b.mode ?? 'error') as OutageMode;
      if (!OUTAGE_MODES.includes(mode)) throw new BadLabRequest(`"mode" must be one of ${OUTAGE_MODES.join(', ')}`);
      faults.setOutage(region, mode);
      log(`lab: outage (${mode}) in ${region}`);
      return { ok: true, region, mode };
    },
    'POST /_lab/fault/latency': (b) => {
      const region = requireRegion(b);
      faults.setLatency(region, num(b, 'ms', true)!, num(b, 'jitter', false) ?? 0);
      return { ok: true };
    },
    'POST /_lab/fault/replication-lag': (b) => {
      faults.setReplicationLag(requireRegion(b), num(b, 'ms', true)!);
      return { ok: true };
    },
    'POST /_lab/fault/replication-pause': (b) => {
      faults.setReplicationPause(requireRegion(b), b.paused !== false);
      return { ok: true };
    },
    'POST /_lab/fault/throttle': (b) => {
      const region = requireRegion(b);
      const group = typeof b.group === 'string' ? b.group : 'write';
      if (group !== 'all' && !QUOTA_GROUP_NAMES.includes(group)) {
        throw new BadLabRequest(`"group" must be one of ${[...QUOTA_GROUP_NAMES, 'all'].join(', ')}`);
      }
      const tps = num(b, 'tps', true)!;
      if (tps <= 0) throw new BadLabRequest('"tps" must be > 0');
      faults.setThrottle(region, group, tps);
      return { ok: true };
    },
    'POST /_lab/fault/fail-next': (b) => {
      const region = requireRegion(b);
      if (typeof b.op !== 'string' || b.op === '') throw new BadLabRequest('"op" is required (e.g. PutSecretValue, events:PutEvents, Replication)');
      const count = num(b, 'count', false) ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new BadLabRequest('"count" must be a positive integer');
      if (b.error !== undefined && (typeof b.error !== 'string' || !/^[A-Za-z]+$/.test(b.error))) throw new BadLabRequest('"error" must be an error type name');
      if (b.secretIdPrefix !== undefined && typeof b.secretIdPrefix !== 'string') throw new BadLabRequest('"secretIdPrefix" must be a string');
      faults.addFailNext(region, {
        op: b.op,
        count,
        ...(typeof b.error === 'string' ? { error: b.error } : {}),
        ...(typeof b.secretIdPrefix === 'string' ? { secretIdPrefix: b.secretIdPrefix } : {}),
      });
      return { ok: true };
    },
    'POST /_lab/fault/rotation-stall': (b) => {
      const region = requireRegion(b);
      if (b.step !== undefined && !(ROTATION_STEPS as readonly unknown[]).includes(b.step)) {
        throw new BadLabRequest(`"step" must be one of ${ROTATION_STEPS.join(', ')} (or left out: before the next step)`);
      }
      faults.setRotationStall(region, b.step as RotationStep | undefined);
      log(`lab: rotation-stall in ${region}${b.step ? ` before ${String(b.step)}` : ''}`);
      return { ok: true, region, step: b.step ?? 'next' };
    },
    'POST /_lab/fault/replica-delete-delay': (b) => {
      const region = requireRegion(b);
      faults.setReplicaDeleteDelay(region, num(b, 'ms', true)!);
      return { ok: true, region, ms: b.ms };
    },
    'POST /_lab/fault/deny': (b) => {
      const region = requireRegion(b);
      if (b.op !== undefined && (typeof b.op !== 'string' || b.op === ''))
        throw new BadLabRequest('"op" must be an operation name (e.g. GetSecretValue, events:PutEvents, ssm:GetParameter), or left out for every operation');
      const error = (b.error ?? 'AccessDeniedException') as IncidentError;
      if (!isIncidentError(error)) throw new BadLabRequest(`"error" must be one of ${INCIDENT_ERRORS.join(', ')}`);
      faults.setDeny(region, { ...(typeof b.op === 'string' ? { op: b.op } : {}), error });
      log(`lab: deny ${typeof b.op === 'string' ? b.op : 'every operation'} in ${region} with ${error}`);
      return { ok: true, region, op: b.op ?? null, error };
    },
    'POST /_lab/fault/clear': (b) => {
      if (b.region !== undefined) faults.clear(requireRegion(b));
      else faults.clear();
      return { ok: true };
    },
  };
}
