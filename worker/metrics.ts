/**
 * Domain metrics on the Temporal runtime's meter: one activity interceptor turns each completed
 * activity into updates (domain/metrics.ts), and the write governors report every wait and
 * throttle. Everything comes out of the runtime's Prometheus endpoint (`worker --metrics-port`),
 * next to the SDK's own `temporal_*` metrics. Activity code stays free of metric calls.
 */
import type { MetricCounter, MetricGauge, MetricHistogram, MetricMeter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { activityMetrics, METRIC_HELP, Metric, type MetricName, type MetricUpdate } from '../domain/metrics.js';
import { observeGovernors } from '../activities/write-governor.js';

interface MetricsRecorder {
  apply(updates: readonly MetricUpdate[]): void;
}

export function createMetricsRecorder(meter: MetricMeter): MetricsRecorder {
  const counters = new Map<MetricName, MetricCounter>();
  const gauges = new Map<MetricName, MetricGauge>();
  const counterOf = (name: MetricName) => counters.get(name) ?? counters.set(name, meter.createCounter(name, undefined, METRIC_HELP[name])).get(name)!;
  const gaugeOf = (name: MetricName) => gauges.get(name) ?? gauges.set(name, meter.createGauge(name, 'float', undefined, METRIC_HELP[name])).get(name)!;
  return {
    apply(updates) {
      for (const u of updates) {
        if (u.kind === 'counter') counterOf(u.name).add(u.value, u.tags);
        else gaugeOf(u.name).set(u.value, u.tags);
      }
    },
  };
}

/** The activity interceptor of one Region's worker: metrics from each result, never from a failed attempt. */
export function metricsInterceptor(recorder: MetricsRecorder, region: string): ActivityInterceptorsFactory {
  return (ctx) => ({
    inbound: {
      async execute(input, next) {
        const result = await next(input);
        try {
          recorder.apply(activityMetrics(ctx.info.activityType, region, input.args[0], result));
        } catch (err) {
          ctx.log.warn('metrics not recorded', { error: (err as Error).message });
        }
        return result;
      },
    },
  });
}

/** Governor keys are `region` (Secrets Manager writes) or `region/bucket` (tagging, policy, rotation). */
function governorTags(key: string): { region: string; bucket: string } {
  const [region = 'unknown', bucket = 'write'] = key.split('/');
  return { region, bucket };
}

/** Reports every governor wait (histogram, seconds) and throttle (counter) of this process to `meter`. */
export function meterGovernors(meter: MetricMeter): void {
  const wait: MetricHistogram = meter.createHistogram(Metric.governorWait, 'float', undefined, METRIC_HELP[Metric.governorWait]);
  const throttles: MetricCounter = meter.createCounter(Metric.throttles, undefined, METRIC_HELP[Metric.throttles]);
  observeGovernors({
    waited: (key, ms) => wait.record(ms / 1000, governorTags(key)),
    throttled: (key) => throttles.add(1, governorTags(key)),
  });
}
