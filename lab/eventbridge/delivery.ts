/**
 * Delivery: a bus accepts an event (logged), every ENABLED rule whose pattern matches hands each target an
 * asynchronous delivery (never inside PutEvents). API destinations get HTTP requests with retries (network
 * errors, timeouts, 401, 407, 409, 429, 5xx; exponential backoff; at most `maxAttempts`, fewer when the
 * target's RetryPolicy says so); event bus targets re-publish the event (cross-Region routing, bounded
 * hops); anything else is recorded 'unsupported-target'. Every attempt is a DeliveryRecord.
 */
import { matchesPattern } from './pattern.js';
import type { BusRecord, DeliveryOutcome, DeliveryRecord, EventBridgeServiceOptions, LoggedEvent, RegionState, RuleRecord, TargetRecord } from './model.js';
import type { Regions } from './regions.js';
import { buildRequest } from './http-request.js';
import { deepCopy, sleep, trim } from './shared.js';

const ANY_ARN = /^arn:aws[\w-]*:([a-z0-9-]+):([a-z0-9-]*):(\d{12}|):(.+)$/;
/** HTTP statuses EventBridge retries for API destinations (plus network errors and timeouts). */
const RETRYABLE_STATUS = new Set([401, 407, 409, 429]);
/** Bus-to-bus hops before an event is dropped (guards against forwarding loops). */
const MAX_HOPS = 5;

/** An event's envelope before a bus accepts it. */
export type Envelope = Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'>;

export class Delivery {
  private readonly servedRegions: readonly string[];
  private readonly log: (line: string) => void;
  private readonly fetchImpl: typeof fetch;
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly maxLogEntries: number;

  events: LoggedEvent[] = [];
  attempts: DeliveryRecord[] = [];
  private inFlight = new Set<Promise<void>>();
  /** Bumped by reset(): deliveries of an older generation stop quietly. */
  private generation = 0;

  constructor(
    private readonly st: Regions,
    opts: EventBridgeServiceOptions,
  ) {
    this.servedRegions = opts.regions;
    this.log = opts.log ?? (() => {});
    this.fetchImpl = opts.fetchImpl ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
    this.maxAttempts = Math.max(1, opts.delivery?.maxAttempts ?? 3);
    this.backoffMs = Math.max(0, opts.delivery?.backoffMs ?? 100);
    this.timeoutMs = Math.max(1, opts.delivery?.timeoutMs ?? 5000);
    this.maxLogEntries = Math.max(1, opts.maxLogEntries ?? 20_000);
  }

  /** Forgets logs and in-flight deliveries; pending retries stop. */
  reset(): void {
    this.generation++;
    this.events = [];
    this.attempts = [];
    this.inFlight.clear();
  }

  /** Resolves once no delivery (HTTP request, retry wait or forwarding) is in flight. */
  async whenIdle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** A bus accepts an event: log it, match every enabled rule, start deliveries. */
  accept(rs: RegionState, bus: BusRecord, envelope: Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'>, hops: number): void {
    const receivedAt = new Date(this.st.clock.now()).toISOString();
    this.events.push({ ...envelope, eventBusName: bus.Name, eventBusArn: bus.Arn, busRegion: rs.region, receivedAt });
    trim(this.events, this.maxLogEntries);
    const event = envelope as unknown as Record<string, unknown>;
    for (const rule of bus.Rules) {
      if (rule.State === 'DISABLED') continue;
      const pattern = this.st.compiled.get(rule);
      if (!pattern || !matchesPattern(pattern, event)) continue;
      for (const target of rule.Targets) {
        this.track(this.deliver(rs, bus, rule, deepCopy(target), envelope, receivedAt, hops));
      }
    }
  }

  private track(p: Promise<void>): void {
    const tracked = p
      .catch((err: unknown) => this.log(`[events] delivery crashed: ${String(err)}`))
      .finally(() => {
        this.inFlight.delete(tracked);
      });
    this.inFlight.add(tracked);
  }

  private record(rec: Omit<DeliveryRecord, 'time'>, generation: number): void {
    if (generation !== this.generation) return;
    const full: DeliveryRecord = { time: new Date(this.st.clock.now()).toISOString(), ...rec };
    this.attempts.push(full);
    trim(this.attempts, this.maxLogEntries);
    const what = full.status !== undefined ? `HTTP ${full.status}` : (full.error ?? '');
    this.log(`[events ${full.eventBusName}] ${full.ruleName} → ${full.targetId} attempt ${full.attempt}: ${full.outcome} ${what}`.trimEnd());
  }

  private async deliver(
    rs: RegionState,
    bus: BusRecord,
    rule: RuleRecord,
    target: TargetRecord,
    envelope: Omit<LoggedEvent, 'eventBusName' | 'eventBusArn' | 'busRegion' | 'receivedAt'>,
    receivedAt: string,
    hops: number,
  ): Promise<void> {
    const generation = this.generation;
    await new Promise<void>((resolve) => setImmediate(resolve)); // never deliver inside PutEvents
    const base = {
      eventId: envelope.id,
      ruleArn: rule.Arn,
      ruleName: rule.Name,
      eventBusName: bus.Name,
      targetId: target.Id,
      targetArn: target.Arn,
    };
    const arn = ANY_ARN.exec(target.Arn);
    const service = arn?.[1];
    const region = arn?.[2] ?? '';
    const account = arn?.[3] ?? '';
    const resource = arn?.[4] ?? '';
    if (service === 'events' && resource.startsWith('event-bus/')) {
      const name = resource.slice('event-bus/'.length);
      const known = this.servedRegions.includes(region) || this.st.state.has(`${account}|${region}`);
      const destRs = known ? this.st.regionState(account, region) : undefined;
      const destBus = destRs && this.st.findBus(destRs, name);
      if (!destRs || !destBus) {
        this.record(
          { ...base, kind: 'event-bus', attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: Event bus ${target.Arn} does not exist.` },
          generation,
        );
        return;
      }
      if (hops + 1 > MAX_HOPS) {
        this.record(
          { ...base, kind: 'event-bus', attempt: 1, outcome: 'failed', error: `Event ${envelope.id} dropped after ${MAX_HOPS} bus-to-bus hops` },
          generation,
        );
        return;
      }
      if (generation !== this.generation) return;
      this.record({ ...base, kind: 'event-bus', attempt: 1, outcome: 'forwarded' }, generation);
      this.accept(destRs, destBus, deepCopy(envelope), hops + 1);
      return;
    }
    if (service === 'events' && resource.startsWith('api-destination/')) {
      await this.deliverHttp(rs, rule, target, envelope, receivedAt, base, generation, region, account);
      return;
    }
    this.record({ ...base, kind: 'unsupported', attempt: 1, outcome: 'unsupported-target' }, generation);
  }

  private async deliverHttp(
    rs: RegionState,
    rule: RuleRecord,
    target: TargetRecord,
    envelope: object,
    receivedAt: string,
    base: Omit<DeliveryRecord, 'time' | 'kind' | 'attempt' | 'outcome'>,
    generation: number,
    region: string,
    account: string,
  ): Promise<void> {
    const kind = 'api-destination' as const;
    const destRs = this.st.state.get(`${account}|${region}`);
    const dest = destRs?.apiDestinations.find((d) => d.Arn === target.Arn || target.Arn.startsWith(`${d.Arn}/`) || d.Arn.startsWith(`${target.Arn}/`));
    if (!dest || region !== rs.region || account !== rs.accountId) {
      this.record(
        { ...base, kind, attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: API destination ${target.Arn} does not exist in ${rs.region}.` },
        generation,
      );
      return;
    }
    const conn = destRs!.connections.find((c) => c.Arn === dest.ConnectionArn);
    if (!conn) {
      this.record(
        { ...base, kind, attempt: 1, outcome: 'failed', error: `ResourceNotFoundException: Connection ${dest.ConnectionArn} does not exist.` },
        generation,
      );
      return;
    }
    const event = envelope as Record<string, unknown>;
    let request: { url: string; method: string; headers: Record<string, string>; body?: string };
    try {
      request = buildRequest(dest, conn, target, event, {
        ruleArn: rule.Arn,
        ruleName: rule.Name,
        ingestionTime: receivedAt,
      });
    } catch (err) {
      this.record({ ...base, kind, attempt: 1, outcome: 'failed', error: (err as Error).message }, generation);
      return;
    }
    const retryCap = target.RetryPolicy?.MaximumRetryAttempts;
    const maxAttempts = typeof retryCap === 'number' ? Math.min(this.maxAttempts, 1 + Math.max(0, retryCap)) : this.maxAttempts;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (generation !== this.generation) return;
      let status: number | undefined;
      let error: string | undefined;
      try {
        const res = await this.fetchImpl(request.url, {
          method: request.method,
          headers: request.headers,
          ...(request.body !== undefined ? { body: request.body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => undefined);
      } catch (err) {
        const e = err as Error;
        error = e.name === 'TimeoutError' ? `timeout after ${this.timeoutMs} ms` : `${e.name}: ${e.message}${causeOf(e)}`;
      }
      const ok = status !== undefined && status >= 200 && status < 300;
      const retryable = !ok && (status === undefined || status >= 500 || RETRYABLE_STATUS.has(status));
      const last = attempt === maxAttempts;
      const outcome: DeliveryOutcome = ok ? 'delivered' : retryable && !last ? 'retrying' : 'failed';
      this.record(
        { ...base, kind, attempt, outcome, method: request.method, url: request.url, ...(status !== undefined ? { status } : {}), ...(error ? { error } : {}) },
        generation,
      );
      if (outcome !== 'retrying') return;
      await sleep(this.backoffMs * 2 ** (attempt - 1));
    }
  }
}

function causeOf(e: Error): string {
  const cause = (e as { cause?: unknown }).cause;
  if (cause instanceof Error) return ` (${cause.message})`;
  return '';
}
