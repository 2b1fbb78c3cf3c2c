import { EVENT_TYPES, type ParleyEventType } from './events.js';

/** A filter is unknown: the part that is no event type nor prefix of one. */
export class EventFilterError extends Error {
  constructor(readonly part: string) {
    super(`unknown event type "${part}" (types: ${EVENT_TYPES.join(', ')}; or a prefix such as call.*)`);
    this.name = 'EventFilterError';
  }
}

/**
 * The types a filter names: `registration.added,call.ended`, and prefixes `call.*` (every type
 * that starts with `call.`) or `*`. Undefined (every type) for an empty or absent filter. Throws
 * EventFilterError for a part that names none. Read by splitting on commas: no regular expression.
 */
export function parseEventFilter(filter: string | undefined): ReadonlySet<ParleyEventType> | undefined {
  if (filter === undefined) return undefined;
  const parts = filter
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (parts.length === 0) return undefined;
  const types = new Set<ParleyEventType>();
  for (const part of parts) {
    if (part === '*') return undefined;
    if (part.endsWith('.*')) {
      const prefix = part.slice(0, -1);
      const matched = EVENT_TYPES.filter((t) => t.startsWith(prefix));
      if (matched.length === 0) throw new EventFilterError(part);
      for (const t of matched) types.add(t);
    } else if ((EVENT_TYPES as readonly string[]).includes(part)) {
      types.add(part as ParleyEventType);
    } else {
      throw new EventFilterError(part);
    }
  }
  return types;
}
