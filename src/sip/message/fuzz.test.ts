/**
 * Property tests: random and mutated bytes never make the parser throw or hang, and every message
 * that parses survives serialize → parse with the same typed values. Seeded, so a failure is
 * reproducible (the seed and iteration are in the message); bounded in count and time.
 *
 * Issue 14 shapes (testdata/pathological.ts): long runs of spaces, tabs, separators, quotes,
 * backslashes, line ends, percent signs and commas in every part of a message, up to the 65,535-
 * byte message limit. Their work is counted (testdata/work-meter.ts: characters scanned, never
 * time): it must stay within a fixed multiple of the input's size, and grow linearly when a run
 * grows fourfold.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDigestCredentials, parseMessage, serialize, StreamFramer, SipParseError, type AnySipMessage } from '../index.js';
import { fuzzMessage, insertRun, RUN_UNITS, seedMessages } from './testdata/pathological.js';
import { measureWork } from './testdata/work-meter.js';
import { prng } from '../../../test/support/prng.js';


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

  describe('issue 14: pathological runs in every part of a message', () => {
    const seeds = seedMessages({ parley: '127.0.0.1:5060', local: '127.0.0.1:5070', id: 'fuzz14' });
    const text = new TextDecoder();

    /** Parse (datagram and stream rules), then read everything a server reads, digest credentials included. */
    function parseAll(input: Uint8Array): void {
      for (const datagram of [true, false]) {
        const r = parseMessage(input, { datagram });
        const m = r.message;
        if (m === undefined) continue;
        if (m.validate() === undefined) {
          for (const v of [...m.authorization, ...m.proxyAuthorization]) parseDigestCredentials(v);
        }
        if (m.isRequest) {
          try {
            void m.requestUri;
          } catch (e) {
            assert.ok(e instanceof SipParseError);
          }
        }
      }
      const framer = new StreamFramer();
      for (const e of framer.push(input)) if (e.type === 'message') parseMessage(e.bytes, { datagram: false });
    }

    /** Work per byte of input that no parse may exceed (a linear parser stays far below it). */
    const WORK_PER_BYTE = 100;
    const WORK_CONSTANT = 20_000;

    it('fuzzed messages up to 65,535 bytes: nothing throws, the work stays within a multiple of the size', () => {
      const seed = 14_2026;
      const rnd = prng(seed);
      const deadline = Date.now() + 10_000;
      let i = 0;
      let worst = 0;
      for (; i < 3000 && Date.now() < deadline; i++) {
        const input = fuzzMessage(seeds, rnd, 65_535);
        let work = 0;
        try {
          work = measureWork(() => parseAll(input)).work;
        } catch (e) {
          assert.fail(`seed ${seed} iteration ${i}: threw ${(e as Error).stack}\ninput: ${JSON.stringify(text.decode(input.subarray(0, 300)))}`);
        }
        worst = Math.max(worst, work / (input.length + 1));
        assert.ok(work <= WORK_PER_BYTE * input.length + WORK_CONSTANT, `seed ${seed} iteration ${i}: ${work} units of work for ${input.length} bytes: ${JSON.stringify(text.decode(input.subarray(0, 300)))}`);
      }
      assert.ok(i >= 300, `ran ${i} iterations`);
      if (process.env.FUZZ_VERBOSE) console.log(`fuzz 14: ${i} messages, worst ${worst.toFixed(1)} units of work per byte`);
    });

    it('a run four times longer costs at most about four times the work, in every line and for every character', () => {
      const slow: string[] = [];
      let cases = 0;
      for (const seed of seeds) {
        const lines = seed.slice(0, seed.indexOf('\r\n\r\n')).split('\r\n');
        for (let li = 0; li < lines.length; li++) {
          const line = lines[li]!;
          // the start of the value (or of the start line's second word) and the end; in the start line the middle too
          const colon = li === 0 ? line.indexOf(' ') + 1 : line.indexOf(':') + 1;
          for (const at of li === 0 ? [colon, Math.floor((colon + line.length) / 2), line.length] : [colon, line.length]) {
            for (const unit of RUN_UNITS) {
              const withRun = (chars: number): Uint8Array => {
                const l = [...lines];
                l[li] = line.slice(0, at) + unit.repeat(Math.ceil(chars / unit.length)) + line.slice(at);
                return new TextEncoder().encode(l.join('\r\n') + seed.slice(seed.indexOf('\r\n\r\n')));
              };
              const small = measureWork(() => parseAll(withRun(1500))).work;
              const large = measureWork(() => parseAll(withRun(6000))).work;
              cases++;
              if (large > 5 * small) slow.push(`line ${li} (${line.slice(0, 30)}…) at ${at}, ${JSON.stringify(unit)}: ${small} → ${large}`);
            }
          }
        }
      }
      assert.ok(cases > 2000, `${cases} cases`);
      assert.deepEqual(slow, [], 'super-linear work');
    });

    it('runs inserted at random keep parsing linear (the shapes of the interop fuzzer)', () => {
      const rnd = prng(4000);
      for (let i = 0; i < 300; i++) {
        const msg = insertRun(insertRun(seeds[i % seeds.length]!, rnd, 20_000), rnd, 20_000);
        const input = new TextEncoder().encode(msg);
        const { work } = measureWork(() => parseAll(input));
        assert.ok(work <= WORK_PER_BYTE * input.length + WORK_CONSTANT, `iteration ${i}: ${work} units for ${input.length} bytes`);
      }
    });
  });
});
