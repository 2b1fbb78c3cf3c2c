/**
 * Random truncations and byte flips of the RFC 5769 vectors and of built messages: parsing and
 * every reader never throw, and a failed parse names an offset inside the input.
 * Seeded, so that a failure can be replayed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xorshift32 } from '../lib/testdata/seeded-random.js';
import { readAddress, readXorAddress } from './address.js';
import { StunAttr } from './attribute-types.js';
import { StunMessageBuilder } from './builder.js';
import { readErrorCode } from './error-code.js';
import { verifyFingerprint } from './fingerprint.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from './integrity.js';
import { parseChannelData } from './channel-data.js';
import { parseStunMessage, StunMethod } from './message.js';
import { StunStreamFramer } from './stream-framer.js';
import { readAddressErrorCode, readText, readUnknownAttributes } from './attribute-values.js';
import { readPasswordAlgorithms, nonceFeatures } from './credentials.js';
import { hex, SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE, SAMPLE_LONG_TERM_REQUEST, SAMPLE_REQUEST } from './testdata/rfc5769.js';

const key = new TextEncoder().encode('key');
const built = new StunMessageBuilder(StunMethod.Allocate, 'error', hex('0102030405060708090a0b0c'))
  .addErrorCode(401, 'Unauthenticated')
  .addXorAddress(StunAttr.XOR_RELAYED_ADDRESS, { family: 6, address: '2001:db8::5', port: 49152 })
  .addAddress(StunAttr.ALTERNATE_SERVER, { family: 4, address: '192.0.2.9', port: 3478 })
  .addMessageIntegrity(key)
  .addMessageIntegritySha256(key)
  .addFingerprint()
  .build();
const SEEDS = [SAMPLE_REQUEST, SAMPLE_IPV4_RESPONSE, SAMPLE_IPV6_RESPONSE, SAMPLE_LONG_TERM_REQUEST, built];

function exercise(bytes: Uint8Array): void {
  const r = parseStunMessage(bytes);
  if (!r.ok) {
    assert.ok(r.error.offset >= 0 && r.error.offset <= bytes.length, `offset ${r.error.offset} of ${bytes.length}`);
    return;
  }
  const m = r.value;
  for (const a of m.attributes) {
    readAddress(a);
    readXorAddress(a, m.transactionId);
    readErrorCode(a);
    readAddressErrorCode(a);
    readUnknownAttributes(a);
    readText(a);
    readPasswordAlgorithms(a);
    nonceFeatures(a.value);
  }
  verifyMessageIntegrity(m, key);
  verifyMessageIntegritySha256(m, key);
  verifyFingerprint(m);
}

describe('fuzz: truncations and byte flips of valid messages', () => {
  it('never throws (20 000 inputs)', () => {
    const next = xorshift32(0x5eed);
    let parsedCount = 0;
    for (let i = 0; i < 20_000; i++) {
      const seed = SEEDS[next() % SEEDS.length]!;
      let bytes = seed.slice(0, next() % 4 === 0 ? next() % (seed.length + 1) : seed.length);
      const flips = next() % 4;
      for (let f = 0; f < flips && bytes.length > 0; f++) bytes[next() % bytes.length] = next() & 0xff;
      if (next() % 8 === 0 && bytes.length > 0) bytes = Uint8Array.from([...bytes, ...bytes.subarray(0, next() % bytes.length)]);
      exercise(bytes);
      if (parseStunMessage(bytes).ok) parsedCount++;
    }
    assert.ok(parsedCount > 1000, `only ${parsedCount} inputs parsed: the fuzz would not reach the readers`);
  });
});

describe('fuzz: ChannelData and the stream framer', () => {
  it('never throw on random bytes cut at random (2 000 streams)', () => {
    const next = xorshift32(0xc0ffee);
    for (let i = 0; i < 2000; i++) {
      // mostly plausible frames: a STUN vector, or a header with a channel number, then noise
      const seed = SEEDS[next() % SEEDS.length]!;
      const noise = new Uint8Array(next() % 300).map(() => next() & 0xff);
      if (noise.length >= 2 && next() % 2 === 0) noise[0] = 0x40 | (next() & 0x0f);
      const stream = Uint8Array.from([...(next() % 2 === 0 ? seed : []), ...noise]);
      parseChannelData(noise);
      const framer = new StunStreamFramer({ onStun: (b) => exercise(b), onChannelData: () => {} });
      let pos = 0;
      while (pos < stream.length) {
        const n = 1 + (next() % 64);
        const e = framer.push(stream.subarray(pos, pos + n));
        if (e) assert.ok(e.offset >= 0 && e.offset <= stream.length, `offset ${e.offset} of ${stream.length}`);
        pos += n;
      }
    }
  });
});
