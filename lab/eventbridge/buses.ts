/** Event buses: CreateEventBus, DescribeEventBus, DeleteEventBus, ListEventBuses. */
import { LabError, type RequestContext } from '../types.js';
import type { BusRecord, Input } from './model.js';
import { BUS_NAME, type Regions } from './regions.js';
import { clean, epochSeconds, optionalString, listByName, parseTags, requireString, validation } from './shared.js';

export function createEventBus(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const name = requireString(input, 'Name', BUS_NAME);
  if (st.findBus(rs, name)) throw new LabError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`);
  if (name.includes('/') && !name.startsWith('aws.partner/')) {
    throw validation(`Event bus name ${name} is not valid: '/' is only allowed in partner event bus names.`);
  }
  const now = st.clock.now();
  const bus: BusRecord = clean({
    Name: name,
    Arn: `arn:aws:events:${rs.region}:${rs.accountId}:event-bus/${name}`,
    Description: optionalString(input, 'Description'),
    CreationTime: now,
    LastModifiedTime: now,
    Tags: parseTags(input.Tags),
    Rules: [],
  });
  rs.buses.push(bus);
  return clean({ EventBusArn: bus.Arn, Description: bus.Description });
}

export function describeEventBus(st: Regions, input: Input, ctx: RequestContext): unknown {
  const bus = st.requireBus(st.regionOf(ctx), input, 'Name');
  return describeBusOutput(bus);
}

export function deleteEventBus(st: Regions, input: Input, ctx: RequestContext): unknown {
  const rs = st.regionOf(ctx);
  const name = st.busName(rs, input, 'Name');
  if (name === 'default') throw validation('Cannot delete event bus default.');
  rs.buses = rs.buses.filter((b) => b.Name !== name);
  return {};
}

export function listEventBuses(st: Regions, input: Input, ctx: RequestContext): unknown {
  return listByName(st.regionOf(ctx).buses, input, 'EventBuses', describeBusOutput);
}

function describeBusOutput(bus: BusRecord): unknown {
  return clean({
    Name: bus.Name,
    Arn: bus.Arn,
    Description: bus.Description,
    CreationTime: epochSeconds(bus.CreationTime),
    LastModifiedTime: epochSeconds(bus.LastModifiedTime),
  });
}
