import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParleyEvent } from '../../../lib/events.js';
import { FakeClock } from '../../../../test/support/fake-clock.js';
import { CallTracker, type CallStart } from './call-tracker.js';

function start(callId: string, tag = 'a1', from = 'sip:alice@example.com', to = 'sip:bob@example.com'): CallStart {
  return {
    callId,
    caller: { uri: from, field: `<${from}>;tag=${tag}`, tag, contact: 'sip:alice@192.0.2.1', flow: { transport: 'udp', remoteAddress: '192.0.2.1', remotePort: 5060 }, cseq: 1 },
    calleeUri: to,
    media: false,
  };
}

function tracker(o: { maxCalls?: number; timeoutMs?: number } = {}) {
  const clock = new FakeClock();
  let wall = 1_700_000_000_000;
  const events: ParleyEvent[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const log = { info: (o: unknown) => lines.push(o as Record<string, unknown>), warn: () => {}, debug: () => {}, error: () => {}, child: () => log } as never;
  const t = new CallTracker({ clock, now: () => wall, events: (e) => events.push(e), log, ...o });
  return { t, clock, events, lines, tick: (ms: number) => { wall += ms; clock.advance(ms); } };
}

describe('CallTracker', () => {
  it('start → answer → end: call.started, call.answered, call.ended with status, reason and the talk time; one info line', () => {
    const { t, events, lines, tick } = tracker();
    const r = t.start(start('c1'))!;
    assert.equal(t.size, 1);
    tick(3000);
    t.ringing(r);
    assert.equal(r.state, 'ringing');
    t.answer(r, 200);
    assert.equal(r.state, 'answered');
    tick(61_400);
    const view = t.query().items[0]!;
    assert.equal(view.duration, 64);
    assert.equal(view.talkTime, 61);
    t.end(r, 'bye', 200);
    t.end(r, 'bye', 200); // once
    assert.equal(t.size, 0);
    assert.deepEqual(events.map((e) => e.type), ['call.started', 'call.answered', 'call.ended']);
    assert.deepEqual({ ...events[2], time: 0 }, { type: 'call.ended', time: 0, callId: 'c1', from: 'sip:alice@example.com', to: 'sip:bob@example.com', status: 200, reason: 'bye', duration: 61 });
    assert.equal(lines.length, 1);
    assert.deepEqual(lines[0], { callId: 'c1', from: 'sip:alice@example.com', to: 'sip:bob@example.com', status: 200, reason: 'bye', duration: 61 });
    assert.deepEqual([t.started, t.answered], [1, 1]);
  });

  it('a call never answered ends with duration 0; a hang-up asked for ends with reason hangup whatever ended it', () => {
    const { t, events } = tracker();
    const r = t.start(start('c2'))!;
    r.hangupRequested = true;
    t.end(r, 'cancel', 487);
    assert.deepEqual(events.at(-1), { ...events.at(-1), status: 487, reason: 'hangup', duration: 0 });
  });

  it('proxy.callTimeout: a call open that long ends with reason timeout', () => {
    const { t, events, tick } = tracker({ timeoutMs: 60_000 });
    const r = t.start(start('c3'))!;
    t.answer(r, 200);
    tick(59_999);
    assert.equal(t.size, 1);
    tick(1);
    assert.equal(t.size, 0);
    assert.deepEqual(events.at(-1), { ...events.at(-1), type: 'call.ended', status: 200, reason: 'timeout', duration: 60 });
  });

  it('proxy.maxCalls: one call more is not tracked (counted); a place frees when a call ends', () => {
    const { t } = tracker({ maxCalls: 2 });
    const a = t.start(start('m1'))!;
    assert.ok(t.start(start('m2')));
    assert.equal(t.start(start('m3')), undefined);
    assert.equal(t.untracked, 1);
    t.end(a, 'bye', 200);
    assert.ok(t.start(start('m4')));
    assert.deepEqual(t.query().items.map((c) => c.callId).sort(), ['m2', 'm4']);
  });

  it('one record per Call-ID and caller tag (an INVITE spiralling back through Parley is the same call); another tag is another call', () => {
    const { t } = tracker();
    assert.ok(t.start(start('s1', 'a1')));
    assert.equal(t.start(start('s1', 'a1')), undefined);
    assert.ok(t.start(start('s1', 'x9')));
    assert.equal(t.size, 2);
    assert.equal(t.untracked, 0);
  });

  it('find: by the caller\'s tag in From (the caller sent it) or in To (the callee), not another dialog\'s tags', () => {
    const { t } = tracker();
    const r = t.start(start('f1', 'a1'))!;
    r.callee.tag = 'b1';
    assert.deepEqual(t.find('f1', 'a1', 'b1'), { record: r, fromCaller: true });
    assert.deepEqual(t.find('f1', 'b1', 'a1'), { record: r, fromCaller: false });
    assert.equal(t.find('f1', 'zz', 'b1'), undefined);
    assert.equal(t.find('f1', 'a1', 'other-fork'), undefined);
    assert.equal(t.find('f2', 'a1', 'b1'), undefined);
  });

  it('query: search over Call-ID, From and To (any case), oldest first, limited, with the total', () => {
    const { t, tick } = tracker();
    t.start(start('q-1', 'a', 'sip:alice@example.com', 'sip:bob@example.com'));
    tick(1000);
    t.start(start('q-2', 'a', 'sip:carol@example.com', 'sip:Bob@example.com'));
    tick(1000);
    t.start(start('Q-3', 'a', 'sip:dave@example.com', 'sip:erin@example.com'));
    assert.deepEqual(t.query({ search: 'BOB' }).items.map((c) => c.callId), ['q-1', 'q-2']);
    assert.deepEqual(t.query({ search: 'q-' }).total, 3);
    assert.deepEqual(t.query({ limit: 2 }), { total: 3, items: t.query().items.slice(0, 2) });
    assert.deepEqual(t.query({ callId: 'q-2' }).items.map((c) => c.caller.uri), ['sip:carol@example.com']);
    assert.deepEqual(t.query({ callId: 'nope' }), { total: 0, items: [] });
  });
});
