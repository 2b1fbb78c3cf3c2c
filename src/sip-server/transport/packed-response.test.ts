import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packSentResponse, unpackSentResponse, type PathSentResponse } from './packed-response.js';

const BYTES = Buffer.from('SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx\r\nContent-Length: 0\r\n\r\n');

function sent(overrides: Partial<PathSentResponse> = {}): PathSentResponse {
  return {
    sentResponse: true,
    bytes: BYTES,
    target: { transport: 'udp', host: '192.0.2.1', port: 5060, localAddress: '127.0.0.1', localPort: 5070, rule: 'rport' },
    message: undefined,
    method: 'REGISTER',
    status: 200,
    ...overrides,
  };
}

function pack(s: PathSentResponse): Uint8Array | number {
  const into = new Uint8Array(4096).fill(0xee);
  const needed = packSentResponse(s, into, 0, 0);
  if (needed >= 0) return needed;
  const written = packSentResponse(s, into, 100, -needed);
  assert.equal(written, -needed, 'writes as many bytes as it said it needs');
  return into.subarray(100, 100 + written);
}

test('packSentResponse and unpackSentResponse give back the bytes, target, method and status', () => {
  for (const s of [
    sent(),
    sent({ target: { transport: 'udp', host: '2001:db8::1', port: 5062, localAddress: '::1', localPort: 5060, rule: 'received' }, method: 'OPTIONS', status: 486 }),
    sent({ target: { transport: 'tcp', connectionId: 4_000_000_000, host: 'pc33.atlanta.com', port: 5060, rule: 'connection' } }),
  ]) {
    const record = pack(s);
    assert.ok(record instanceof Uint8Array);
    const back = unpackSentResponse(record);
    assert.deepEqual(back.target, s.target);
    assert.equal(back.method, s.method);
    assert.equal(back.status, s.status);
    assert.deepEqual(Buffer.from(back.bytes), BYTES);
    // a copy: the record may be overwritten once read
    (record as Uint8Array).fill(0);
    assert.deepEqual(Buffer.from(back.bytes), BYTES);
  }
});

test('packSentResponse leaves a response with its message (an observer), or non-ASCII strings, as an object', () => {
  assert.equal(pack(sent({ message: {} as PathSentResponse['message'] })), 0);
  assert.equal(pack(sent({ target: { transport: 'udp', host: 'b\u00fccher.example', port: 5060, rule: 'sent-by' } })), 0);
});
