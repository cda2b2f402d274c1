/** Publishing secrets-dr's own events (PutEvents on the plan's bus in this Region). */
import { EVENT_SOURCE, EventDetails, type EventDetailType, type OutgoingEvent } from '../domain/events.js';
import type { RegionClients } from './clients.js';
import { toFailure } from './aws-errors.js';

export function createEventActivities({ region, eventBridge }: RegionClients) {
  return {
    /** Validates the detail against its schema (so a value cannot sneak in as an unknown field) and publishes it. */
    async publishEvent(input: { bus: string; event: OutgoingEvent }): Promise<{ eventId?: string }> {
      const schema = EventDetails[input.event.detailType as EventDetailType];
      if (!schema) throw new Error(`unknown event detail-type ${input.event.detailType}`);
      const detail = schema.strict().parse(input.event.detail);
      try {
        const out = await eventBridge.putEvents({
          Entries: [{ Source: EVENT_SOURCE, DetailType: input.event.detailType, Detail: JSON.stringify(detail), EventBusName: input.bus }],
        });
        const entry = out.Entries?.[0];
        if (out.FailedEntryCount) throw new Error(`PutEvents refused the event: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
        return { eventId: entry?.EventId };
      } catch (err) {
        throw toFailure(err, `PutEvents (${input.event.detailType})`, region);
      }
    },
  };
}

export type EventActivities = ReturnType<typeof createEventActivities>;
