/**
 * Property tests: random and mutated bytes never make the parser throw or hang, and every message
 * that parses survives serialize → parse with the same typed values. Seeded, so a failure is
 * reproducible (the seed and iteration are in the message); bounded in count and time.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMessage, serialize, StreamFramer, SipParseError, type AnySipMessage } from '../index.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const corpusDir = new URL('./testdata/rfc4475/', import.meta.url);
const corpus: Uint8Array[] = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.sip'))
  .map((f) => new Uint8Array(readFileSync(new URL(f, corpusDir))));

const SPECIAL = [';', ',', '"', '<', '>', ':', '\r\n', '\r\n ', ' ', '%', '=', '\\', '@', '[', ']', '\x00', '\xff', '?', '*', '0', '9999999999'];
const enc = new TextEncoder();

function mutate(src: Uint8Array, rnd: () => number): Uint8Array {
  let b = Array.from(src);
  const ops = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 5)) {
      case 0:
        if (b.length) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
        break;
      case 1:
        b.splice(at, 0, ...enc.encode(SPECIAL[Math.floor(rnd() * SPECIAL.length)]!));
        break;
      case 2:
        b.splice(at, Math.floor(rnd() * 20));
        break;
      case 3: {
        const len = Math.floor(rnd() * 40);
        b.splice(at, 0, ...b.slice(at, at + len));
        break;
      }
      default:
        b = b.slice(0, at);
    }
  }
  return new Uint8Array(b);
}

/** Everything a server might touch on a parsed message: must throw nothing but SipParseError. */
function touch(m: AnySipMessage): void {
  const err = m.validate();
  if (err !== undefined) assert.ok(err instanceof SipParseError);
  if (m.isRequest) {
    try {
      void m.requestUri;
    } catch (e) {
      assert.ok(e instanceof SipParseError);
    }
  }
}

function roundTrip(m: AnySipMessage, what: string): void {
  const again = parseMessage(serialize(m));
  assert.ok(again.ok, `${what}: re-parse failed: ${again.ok ? '' : again.error.message}`);
  if (!again.ok) return;
  assert.equal(again.message.callId, m.callId, what);
  assert.deepEqual(again.message.cseq, m.cseq, what);
  assert.equal(again.message.topVia?.branch, m.topVia?.branch, what);
  assert.deepEqual(Buffer.from(again.message.body), Buffer.from(m.body), what);
}

describe('parser fuzzing', () => {
  it('mutated RFC 4475 messages never throw and round-trip when they parse', () => {
    const seed = 4475;
    const rnd = prng(seed);
    const deadline = Date.now() + 8000;
    let parsedOk = 0;
    let i = 0;
    for (; i < 20000 && Date.now() < deadline; i++) {
      const input = mutate(corpus[Math.floor(rnd() * corpus.length)]!, rnd);
      let r;
      try {
        r = parseMessage(input);
      } catch (e) {
        assert.fail(`seed ${seed} iteration ${i}: parseMessage threw ${(e as Error).stack}`);
      }
      if (r.ok) {
        parsedOk++;
        touch(r.message);
        if (r.message.validate() === undefined) roundTrip(r.message, `seed ${seed} iteration ${i}`);
      }
    }
    assert.ok(i >= 1000, `ran ${i} iterations`);
    if (process.env.FUZZ_VERBOSE) console.log(`fuzz: ${i} iterations, ${parsedOk} parsed`);
    assert.ok(parsedOk > 0, 'some mutations still parse');
  });

  it('random bytes and random text never throw', () => {
    const rnd = prng(7);
    for (let i = 0; i < 5000; i++) {
      const len = Math.floor(rnd() * 300);
      const bytes = new Uint8Array(len);
      for (let j = 0; j < len; j++) bytes[j] = rnd() < 0.7 ? 32 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256);
      const prefix = enc.encode(rnd() < 0.5 ? 'INVITE sip:a@b SIP/2.0\r\nVia: ' : 'SIP/2.0 200 OK\r\n');
      const input = new Uint8Array(prefix.length + bytes.length + 4);
      input.set(prefix);
      input.set(bytes, prefix.length);
      input.set(enc.encode('\r\n\r\n'), prefix.length + bytes.length);
      const r = parseMessage(rnd() < 0.5 ? input : new TextDecoder().decode(input));
      if (r.ok) touch(r.message);
    }
  });

  it('the stream framer never throws and never holds more than the limit', () => {
    const rnd = prng(99);
    for (let i = 0; i < 300; i++) {
      const f = new StreamFramer({ maxMessageSize: 4096 });
      for (let k = 0; k < 20; k++) {
        const src = mutate(corpus[Math.floor(rnd() * corpus.length)]!, rnd);
        const cut = Math.floor(rnd() * src.length);
        for (const e of [...f.push(src.subarray(0, cut)), ...f.push(src.subarray(cut))]) {
          if (e.type === 'message') parseMessage(e.bytes, { datagram: false });
        }
        assert.ok(f.buffered <= 4096 + src.length);
      }
    }
  });
});
