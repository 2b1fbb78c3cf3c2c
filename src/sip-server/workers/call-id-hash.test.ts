import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage } from '../../sip/index.js';
import { readdirSync, readFileSync } from 'node:fs';
import { callIdHash, workerOf } from './call-id-hash.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function request(callIdLine: string, extra = ''): Uint8Array {
  return enc(
    'INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nInfo-Extra: i:not-this\r\n' +
      `${extra}${callIdLine}\r\nCSeq: 1 INVITE\r\n\r\nbody i: nope`,
  );
}

describe('callIdHash', () => {
  it('gives the same value for every spelling of one Call-ID (long, compact, case, whitespace)', () => {
    const h = callIdHash(request('Call-ID: a84b4c76e66710@pc33.example.com'));
    assert.notEqual(h, 0);
    for (const line of ['call-id:a84b4c76e66710@pc33.example.com', 'CALL-ID \t:  a84b4c76e66710@pc33.example.com  ', 'i: a84b4c76e66710@pc33.example.com', 'I :a84b4c76e66710@pc33.example.com']) {
      assert.equal(callIdHash(request(line)), h, line);
    }
  });

  it('tells different Call-IDs apart and ignores look-alike header names', () => {
    assert.notEqual(callIdHash(request('Call-ID: one@x')), callIdHash(request('Call-ID: two@x')));
    assert.equal(callIdHash(request('Call-ID: one@x', 'Call-Info: <http://x>\r\nI-Am: header\r\n')), callIdHash(request('Call-ID: one@x')));
  });

  it('reads responses and bare-LF messages, and gives 0 without a Call-ID', () => {
    const r = enc('SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\nCall-ID: same@x\nCSeq: 1 INVITE\n\n');
    assert.equal(callIdHash(r), callIdHash(request('Call-ID: same@x')));
    assert.equal(callIdHash(enc('OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\nCall-ID: in-the-body\r\n')), 0);
    assert.equal(callIdHash(enc('garbage')), 0);
    assert.equal(callIdHash(new Uint8Array(0)), 0);
  });

  it('agrees with the parser on the Call-ID of every valid RFC 4475 message', () => {
    const byCallId = new Map<string, number>();
    const dir = new URL('../../sip/message/testdata/rfc4475/', import.meta.url);
    for (const name of readdirSync(dir).filter((f) => f.startsWith('3.1.1.'))) {
      const bytes = readFileSync(new URL(name, dir));
      const parsed = parseMessage(bytes, { datagram: true });
      if (!parsed.ok) continue;
      const h = callIdHash(bytes);
      const id = parsed.message.callId;
      const seen = byCallId.get(id);
      if (seen !== undefined) assert.equal(h, seen, `${name}: same Call-ID, other hash`);
      byCallId.set(id, h);
      assert.notEqual(h, 0, `${name}: Call-ID not found`);
    }
    assert.ok(byCallId.size > 10);
  });

  it('spreads Call-IDs evenly over workers', () => {
    const counts = [0, 0];
    for (let k = 0; k < 2000; k++) counts[workerOf(request(`Call-ID: ${k}-${k * 7919}@host`), 2)]!++;
    assert.ok(counts[0]! > 850 && counts[1]! > 850, `uneven: ${counts.join('/')}`);
    assert.equal(workerOf(request('Call-ID: x'), 1), 0);
  });
});
