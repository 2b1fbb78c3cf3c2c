import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamFramer, parseMessage, type FrameEvent } from '../index.js';
import { measureWork } from './testdata/work-meter.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

function message(n: number, body = ''): string {
  return [
    `MESSAGE sip:bob@example.com SIP/2.0`,
    `Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK${n}`,
    'Max-Forwards: 70',
    'To: <sip:bob@example.com>',
    'From: <sip:alice@example.com>;tag=1',
    `Call-ID: call-${n}`,
    `CSeq: ${n} MESSAGE`,
    'Content-Type: text/plain',
    `l: ${enc.encode(body).length}`,
    '',
    body,
  ].join('\r\n');
}

function summarize(events: FrameEvent[]): string[] {
  return events.map((e) => (e.type === 'message' ? `msg:${dec.decode(e.bytes).length}` : e.type));
}

describe('StreamFramer', () => {
  // Two messages (one with a UTF-8 body containing CRLFCRLF), a ping in between, a pong after.
  const stream = enc.encode(message(1, 'hello\r\n\r\nwörld') + '\r\n\r\n' + message(2) + '\r\n' + message(3, 'x'));
  const whole = summarize(new StreamFramer().push(stream));

  it('frames messages by Content-Length and reports keepalive pings', () => {
    assert.deepEqual(whole.map((s) => s.split(':')[0]), ['msg', 'ping', 'msg', 'msg']);
  });

  it('gives the same events for a stream split at every byte offset', () => {
    for (let i = 1; i < stream.length; i++) {
      const f = new StreamFramer();
      const events = [...f.push(stream.subarray(0, i)), ...f.push(stream.subarray(i))];
      assert.deepEqual(summarize(events), whole, `split at ${i}`);
      assert.equal(f.buffered, 0);
    }
  });

  it('gives the same events when fed one byte at a time', () => {
    const f = new StreamFramer();
    const events: FrameEvent[] = [];
    for (let i = 0; i < stream.length; i++) events.push(...f.push(stream.subarray(i, i + 1)));
    assert.deepEqual(summarize(events), whole);
  });

  it('yields messages that parse as stream messages', () => {
    for (const e of new StreamFramer().push(stream)) {
      if (e.type !== 'message') continue;
      const r = parseMessage(e.bytes, { datagram: false });
      assert.ok(r.ok, r.ok ? '' : r.error.message);
    }
  });

  it('fails on a message without Content-Length and then refuses input', () => {
    const f = new StreamFramer();
    const noLength = message(1).replace('l: 0\r\n', '');
    const ev = f.push(enc.encode(noLength));
    assert.deepEqual(summarize(ev), ['error']);
    assert.deepEqual(f.push(enc.encode(message(2))), []);
  });

  it('fails when a header section grows past the size limit without ending', () => {
    const f = new StreamFramer({ maxMessageSize: 1000 });
    const ev: FrameEvent[] = [];
    for (let i = 0; i < 50 && ev.length === 0; i++) ev.push(...f.push(enc.encode('X-Filler: ' + 'a'.repeat(50) + '\r\n')));
    assert.deepEqual(summarize(ev), ['error']);
    assert.equal(f.buffered, 0, 'memory released');
  });

  it('fails on a Content-Length that makes the message too large, before the body arrives', () => {
    const f = new StreamFramer({ maxMessageSize: 2000 });
    const ev = f.push(enc.encode(message(1).replace('l: 0', 'l: 100000')));
    assert.deepEqual(summarize(ev), ['error']);
  });

  it('fails on a malformed or conflicting Content-Length', () => {
    assert.deepEqual(summarize(new StreamFramer().push(enc.encode(message(1).replace('l: 0', 'l: -5')))), ['error']);
    assert.deepEqual(summarize(new StreamFramer().push(enc.encode(message(1).replace('l: 0', 'l: 0\r\nContent-Length: 4')))), ['error']);
  });

  it('gives the header section with a framing error, so that the message can be answered', () => {
    const dec = new TextDecoder();
    const headOf = (ev: FrameEvent[]): string | undefined => {
      const e = ev.find((x) => x.type === 'error');
      return e?.type === 'error' && e.head !== undefined ? dec.decode(e.head) : undefined;
    };
    const noLength = message(1).replace('l: 0\r\n', '');
    const a = new StreamFramer().push(enc.encode(noLength));
    assert.equal(headOf(a), noLength);
    assert.equal(a[0]?.type === 'error' && a[0].error.place, 'header/Content-Length');
    const big = message(1).replace('l: 0', 'l: 100000');
    assert.equal(headOf(new StreamFramer({ maxMessageSize: 2000 }).push(enc.encode(big))), big);
    // a header section that outgrows the limit: its complete lines
    const lines = Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'a'.repeat(40)}\r\n`).join('');
    const head = headOf(new StreamFramer({ maxMessageSize: 1000 }).push(enc.encode(lines)));
    assert.ok(head !== undefined && head.endsWith('\r\n') && head.length <= 1000 && lines.startsWith(head), head);
  });

  it('ignores a single CRLF (pong) and waits on a partial ping', () => {
    const f = new StreamFramer();
    assert.deepEqual(f.push(enc.encode('\r\n')), []);
    assert.deepEqual(summarize(f.push(enc.encode('\r\n'))), ['ping']);
    assert.deepEqual(summarize(f.push(enc.encode('\r\n' + message(1)))), [`msg:${message(1).length}`]);
  });

  it('does linear work on a message that trickles in byte by byte (issue 14: counted, not timed)', () => {
    // a large header section, then a large body, one byte per push: each byte copied and scanned
    // a bounded number of times, not the whole buffer again at every push
    const trickle = (size: number): number => {
      const body = 'b'.repeat(size);
      const bytes = enc.encode(message(1, body).replace('Content-Type: text/plain', `X-Pad: ${'p'.repeat(size)}\r\nContent-Type: text/plain`));
      const f = new StreamFramer();
      const { result, work } = measureWork(() => {
        const events: FrameEvent[] = [];
        for (let i = 0; i < bytes.length; i++) events.push(...f.push(bytes.subarray(i, i + 1)));
        return events;
      });
      assert.deepEqual(summarize(result), [`msg:${bytes.length}`]);
      return work;
    };
    const small = trickle(3000);
    const large = trickle(12_000);
    assert.ok(large <= 5 * small, `${small} units of work for 6 kB, ${large} for 24 kB`);
  });
});
