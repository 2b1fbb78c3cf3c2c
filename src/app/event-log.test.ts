import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ParleyEvent } from '../lib/events.js';
import { LOGGED_EVENT_TYPES, logEvent } from './event-log.js';

function recorder() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: unknown, msg?: string) => {
    lines.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
  };
  return { lines, log: { info: at('info'), debug: at('debug') } as never };
}

describe('the event lines of the log', () => {
  it('one info line per registration change and auth failure; refreshes at debug; other types not here', () => {
    const r = recorder();
    const events: ParleyEvent[] = [
      { type: 'registration.added', time: 1, aor: 'alice@example.com', contact: 'sip:alice@192.0.2.7:5060', expires: 3600, source: 'udp:192.0.2.7:5060', userAgent: 'phone/1' },
      { type: 'registration.refreshed', time: 2, aor: 'alice@example.com', contact: 'sip:alice@192.0.2.7:5060', expires: 3600, source: 'udp:192.0.2.7:5060' },
      { type: 'registration.removed', time: 3, aor: 'alice@example.com', contact: 'sip:alice@192.0.2.7:5060', expires: 0 },
      { type: 'auth.failed', time: 4, source: '192.0.2.8', username: 'bob', realm: 'example.com', method: 'REGISTER' },
      { type: 'source.blocked', time: 5, source: '192.0.2.8', seconds: 300 },
      { type: 'call.ended', time: 6, callId: 'c', from: 'sip:a@x', to: 'sip:b@x', status: 200, reason: 'bye', duration: 3 },
    ];
    for (const e of events) logEvent(r.log, e);
    assert.deepEqual(
      r.lines.map((l) => [l.level, l.fields.event, l.msg]),
      [
        ['info', 'registration.added', 'registered alice@example.com at sip:alice@192.0.2.7:5060 for 3600 s'],
        ['debug', 'registration.refreshed', 'registration of alice@example.com at sip:alice@192.0.2.7:5060 refreshed for 3600 s'],
        ['info', 'registration.removed', 'unregistered alice@example.com at sip:alice@192.0.2.7:5060'],
        ['info', 'auth.failed', 'authentication failed for bob@example.com from 192.0.2.8 (REGISTER)'],
      ],
    );
    assert.equal(r.lines[0]!.fields.userAgent, 'phone/1');
    assert.equal(r.lines[0]!.fields.time, undefined, 'the log line has its own time');
    assert.ok(!LOGGED_EVENT_TYPES.has('source.blocked'));
  });
});
