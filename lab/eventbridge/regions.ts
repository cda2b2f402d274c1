/**
 * The lab EventBridge's state: per account and Region, the event buses (each with its rules and their
 * targets), connections and API destinations; every Region has a `default` bus. Lookups that answer
 * like AWS when something is missing (ResourceNotFoundException, ValidationException).
 */
import type { LabClock, RequestContext } from '../types.js';
import { parseEventPattern, type CompiledPattern } from './pattern.js';
import type { BusRecord, Input, RegionState, RuleRecord, Snapshot } from './model.js';
import { deepCopy, lowerFirst, notFound, requireString, RULE_NAME, validation } from './shared.js';

export const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const BUS_ARN = /^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):event-bus\/([/.\-_A-Za-z0-9]+)$/;

export class Regions {
  readonly state = new Map<string, RegionState>();
  /** Each rule's compiled pattern (not part of the JSON-plain state). */
  compiled = new WeakMap<RuleRecord, CompiledPattern>();

  constructor(
    readonly accountId: string,
    readonly clock: LabClock,
  ) {}

  reset(): void {
    this.state.clear();
    this.compiled = new WeakMap();
  }

  snapshot(): Snapshot {
    return { version: 1, regions: deepCopy([...this.state.values()]) };
  }

  restore(state: unknown): void {
    const snap = state as Partial<Snapshot> | undefined;
    if (!snap || !Array.isArray(snap.regions)) return;
    for (const rs of deepCopy(snap.regions)) {
      this.state.set(`${rs.accountId}|${rs.region}`, rs);
      for (const bus of rs.buses) {
        for (const rule of bus.Rules) if (rule.EventPattern) this.compiled.set(rule, parseEventPattern(rule.EventPattern));
      }
    }
  }

  regionState(accountId: string, region: string): RegionState {
    const key = `${accountId}|${region}`;
    let rs = this.state.get(key);
    if (!rs) {
      const now = this.clock.now();
      rs = {
        accountId,
        region,
        buses: [
          {
            Name: 'default',
            Arn: `arn:aws:events:${region}:${accountId}:event-bus/default`,
            CreationTime: now,
            LastModifiedTime: now,
            Tags: [],
            Rules: [],
          },
        ],
        connections: [],
        apiDestinations: [],
      };
      this.state.set(key, rs);
    }
    return rs;
  }

  regionOf(ctx: RequestContext): RegionState {
    return this.regionState(ctx.accountId || this.accountId, ctx.region);
  }

  findBus(rs: RegionState, name: string): BusRecord | undefined {
    return rs.buses.find((b) => b.Name === name);
  }

  /**
   * EventBusName as a name or an ARN; default 'default'. An ARN of another account or Region is
   * returned whole, so that no bus of this Region matches it (ResourceNotFoundException, or a
   * dropped PutEvents entry).
   */
  busName(rs: RegionState, input: Input, field = 'EventBusName'): string {
    const raw = input[field];
    if (raw === undefined || raw === null || raw === '') return 'default';
    if (typeof raw !== 'string') throw validation(`${field} must be a string`);
    const arn = BUS_ARN.exec(raw);
    if (arn) return arn[1] === rs.region && arn[2] === rs.accountId ? (arn[3] as string) : raw;
    if (!BUS_NAME.test(raw)) {
      throw validation(
        `1 validation error detected: Value '${raw}' at '${lowerFirst(field)}' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+`,
      );
    }
    return raw;
  }

  requireBus(rs: RegionState, input: Input, field = 'EventBusName'): BusRecord {
    const name = this.busName(rs, input, field);
    const bus = this.findBus(rs, name);
    if (!bus) throw notFound(`Event bus ${name} does not exist.`);
    return bus;
  }

  requireRule(rs: RegionState, input: Input, field = 'Name'): { bus: BusRecord; rule: RuleRecord } {
    const bus = this.requireBus(rs, input);
    const name = requireString(input, field, RULE_NAME);
    const rule = bus.Rules.find((r) => r.Name === name);
    if (!rule) throw notFound(`Rule ${name} does not exist on EventBus ${bus.Name}.`);
    return { bus, rule };
  }

  ruleArn(rs: RegionState, bus: string, name: string): string {
    const path = bus === 'default' ? name : `${bus}/${name}`;
    return `arn:aws:events:${rs.region}:${rs.accountId}:rule/${path}`;
  }
}
