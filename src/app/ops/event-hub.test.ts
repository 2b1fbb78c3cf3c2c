import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParleyEvent } from '../../lib/events.js';
import { EventHub } from './event-hub.js';
import { OpsError } from '../../api/operations.js';
import { EventQueue } from '../../api/event-queue.js';
import { EventFilterError, parseEventFilter } from '../../lib/event-filter.js';

const added = (aor: string): ParleyEvent => ({ type: 'registration.added', time: 1, aor, contact: `sip:${aor}`, expires: 60 });
const blocked = (source: string): ParleyEvent => ({ type: 'source.blocked', time: 1, source, seconds: 300 });
const ended = (callId: string): ParleyEvent => ({ type: 'call.ended', time: 1, callId, from: 'sip:a@x', to: 'sip:b@x', status: 200, reason: 'bye', duration: 3 });

describe('EventHub', () => {
  it('hands each event to the subscribers whose filter takes its type, numbered from 1', () => {
    const hub = new EventHub();
    const all: Array<[string, number]> = [];
    const calls: string[] = [];
    hub.subscribe(undefined, (e, id) => all.push([e.type, id]));
    const off = hub.subscribe(parseEventFilter('call.*'), (e) => calls.push(e.type));
    hub.publish(added('alice@x'));
    hub.publish(ended('c1'));
    off();
    hub.publish(ended('c2'));
    assert.deepEqual(all, [
      ['registration.added', 1],
      ['call.ended', 2],
      ['call.ended', 3],
    ]);
    assert.deepEqual(calls, ['call.ended']);
  });

  it('keeps the last events in a ring: recent and since (Last-Event-ID) give them oldest first', () => {
    const hub = new EventHub({ ringSize: 3 });
    for (let i = 1; i <= 5; i++) hub.publish(added(`u${i}@x`));
    assert.deepEqual(
      hub.recent().map((e) => (e as { aor: string }).aor),
      ['u3@x', 'u4@x', 'u5@x'],
    );
    assert.deepEqual(
      hub.since(3).map((n) => n.id),
      [4, 5],
    );
    assert.deepEqual(
      hub.since(0).map((n) => n.id),
      [3, 4, 5],
    );
    hub.publish(blocked('192.0.2.1'));
    assert.deepEqual(
      hub.recent(new Set(['source.blocked'])).map((e) => e.type),
      ['source.blocked'],
    );
  });

  it('at most maxStreams subscriptions at once (503 beyond); the server\'s own (listen) are not counted', () => {
    const hub = new EventHub({ maxStreams: 2 });
    hub.listen(undefined, () => {});
    const a = hub.subscribe(undefined, () => {});
    hub.subscribe(undefined, () => {});
    assert.throws(() => hub.subscribe(undefined, () => {}), (e: unknown) => e instanceof OpsError && e.status === 503);
    a();
    a();
    assert.equal(hub.openStreams, 1, 'an unsubscribe counts once');
    hub.subscribe(undefined, () => {});
  });

  it('a listener that throws is dropped; the others still get the event', () => {
    const hub = new EventHub();
    let got = 0;
    hub.subscribe(undefined, () => {
      throw new Error('broken');
    });
    hub.subscribe(undefined, () => got++);
    hub.publish(added('a@x'));
    hub.publish(added('b@x'));
    assert.equal(got, 2);
    assert.equal(hub.subscribers, 1);
  });
});

describe('EventQueue (a slow subscriber)', () => {
  it('is bounded: the oldest go, and the next take says how many', () => {
    const q = new EventQueue(2);
    for (let id = 1; id <= 5; id++) q.push({ id, event: added(`u${id}@x`) });
    assert.equal(q.length, 2);
    const t = q.take();
    assert.deepEqual(
      t.events.map((n) => n.id),
      [4, 5],
    );
    assert.equal(t.dropped, 3);
    q.push({ id: 6, event: added('u6@x') });
    assert.equal(q.take().dropped, 0);
  });
});

describe('parseEventFilter', () => {
  it('reads types and prefixes; nothing or * is every type', () => {
    assert.deepEqual([...parseEventFilter('registration.added, call.ended')!], ['registration.added', 'call.ended']);
    assert.deepEqual([...parseEventFilter('call.*')!].sort(), ['call.answered', 'call.ended', 'call.started']);
    assert.deepEqual([...parseEventFilter('turn.*')!].sort(), ['turn.allocation.created', 'turn.allocation.ended']);
    assert.equal(parseEventFilter(undefined), undefined);
    assert.equal(parseEventFilter(''), undefined);
    assert.equal(parseEventFilter('*'), undefined);
  });

  it('names the part that is no type', () => {
    assert.throws(() => parseEventFilter('registration.added,calls.*'), (e: unknown) => e instanceof EventFilterError && e.part === 'calls.*');
    assert.throws(() => parseEventFilter('call'), EventFilterError);
  });
});
