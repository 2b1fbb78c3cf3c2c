import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wsFrame } from './testdata/frames.js';
import { isWebSocketHandshake, WebSocketFrameReader, type WebSocketEvent } from './websocket-stream.js';

const MASK = [0x37, 0xfa, 0x21, 0x3d];

function messages(events: WebSocketEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'message' ? [Buffer.from(e.message.payload).toString()] : e.kind === 'close' ? ['<close>'] : [`<error ${e.reason}>`]));
}

describe('WebSocketFrameReader', () => {
  it('unmasks a client frame: RFC 6455 §5.7 "A single-frame masked text message"', () => {
    const r = new WebSocketFrameReader();
    const events = r.push(Buffer.from('818537fa213d7f9f4d5158', 'hex'));
    assert.deepEqual(messages(events), ['Hello']);
  });

  it('joins a fragmented message across a ping, at every split of the bytes', () => {
    const stream = Buffer.concat([
      wsFrame(1, 'INVITE sip:b', false, MASK),
      wsFrame(9, 'ping', true, MASK),
      wsFrame(0, 'ob@example.com', false, MASK),
      wsFrame(0, ' SIP/2.0', true, MASK),
      wsFrame(2, 'x'.repeat(300)),
      wsFrame(8, ''),
      wsFrame(1, 'after close'),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = new WebSocketFrameReader();
      const events = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))];
      assert.deepEqual(messages(events), ['INVITE sip:bob@example.com SIP/2.0', 'x'.repeat(300), '<close>'], `cut at ${cut}`);
    }
  });

  it('reads 16- and 64-bit lengths', () => {
    const r = new WebSocketFrameReader(200_000);
    const big = 'y'.repeat(70_000);
    assert.deepEqual(messages(r.push(Buffer.concat([wsFrame(1, big, true, MASK), wsFrame(1, 'z'.repeat(200))]))), [big, 'z'.repeat(200)]);
  });

  it('refuses a message past its bound, a continuation out of place, a reserved opcode', () => {
    const small = new WebSocketFrameReader(10);
    assert.deepEqual(messages(small.push(Buffer.concat([wsFrame(1, '123456', false), wsFrame(0, '789012')]))), ['<error a message of more than 10 bytes>']);
    assert.equal(small.buffered, 0);
    assert.deepEqual(small.push(wsFrame(1, 'ok')), []);
    assert.deepEqual(messages(new WebSocketFrameReader().push(wsFrame(0, 'lost'))), ['<error a continuation frame outside a fragmented message>']);
    assert.deepEqual(messages(new WebSocketFrameReader().push(wsFrame(3, 'x'))), ['<error reserved opcode 3>']);
    assert.deepEqual(messages(new WebSocketFrameReader(100).push(Buffer.from([0x81, 0x7e, 0x10, 0x00]))), ['<error a frame of 4096 bytes, more than 100>']);
  });
});

describe('isWebSocketHandshake', () => {
  it('a GET with Upgrade: websocket (any case), or a 101', () => {
    assert.ok(isWebSocketHandshake('GET / HTTP/1.1\r\nHost: x\r\nupgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n'));
    assert.ok(isWebSocketHandshake('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'));
    assert.ok(!isWebSocketHandshake('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.ok(!isWebSocketHandshake('HTTP/1.1 200 OK\r\n\r\n'));
  });
});
