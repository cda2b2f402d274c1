/** The monitor's messages: its health (from memory, no AWS call) and the stop request. Names from domain/. */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { MONITOR_HEALTH_QUERY, MONITOR_STOP_SIGNAL, type MonitorHealth } from '../domain/health.js';

export const monitorHealthQuery = defineQuery<MonitorHealth>(MONITOR_HEALTH_QUERY);
export const monitorStopSignal = defineSignal<[{ by?: string; reason?: string }?]>(MONITOR_STOP_SIGNAL);
