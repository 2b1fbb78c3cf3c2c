/**
 * Nothing the network sends makes parseSdp or serializeSdp throw: truncations at every character
 * of the real descriptions, and seeded random byte flips, deletions and duplications of them.
 * Whatever parses serializes, and what that writes parses again to the same model.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSdp } from './parse.js';
import { serializeSdp } from './serialize.js';
import { REAL_SDPS } from './testdata/real-sdps.js';

/** mulberry32: a small seeded generator, so that a failure repeats. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['\r', '\n', ' ', '=', ':', '/', '0', '9', 'm', 'c', 'v', 'o', 'a', '\t', '\u0000', '\u00e9', '\ud800'];

function roundTrip(text: string, label: string): boolean {
  const first = parseSdp(text);
  if (!first.ok) {
    assert.equal(typeof first.error.message, 'string', label);
    return false;
  }
  const again = parseSdp(serializeSdp(first.value));
  assert.ok(again.ok, `${label}: its serialization parses`);
  assert.deepEqual(again.value, first.value, `${label}: the same model`);
  return true;
}

describe('parseSdp fuzz', () => {
  it('every truncation of every real description', () => {
    let parsedCount = 0;
    for (const [name, text] of Object.entries(REAL_SDPS)) {
      for (let cut = 0; cut <= text.length; cut++) if (roundTrip(text.slice(0, cut), `${name} cut at ${cut}`)) parsedCount++;
    }
    assert.ok(parsedCount > 0, 'some truncations still parse (the test reaches the serializer)');
  });

  it('20,000 seeded mutations (flips, insertions, deletions, duplicated lines)', () => {
    const next = random(0x5d9);
    const texts = Object.values(REAL_SDPS);
    let refused = 0;
    for (let round = 0; round < 20_000; round++) {
      let text = texts[round % texts.length]!;
      const edits = 1 + Math.floor(next() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(next() * text.length);
        const kind = Math.floor(next() * 4);
        if (kind === 0) text = text.slice(0, at) + ALPHABET[Math.floor(next() * ALPHABET.length)]! + text.slice(at + 1);
        else if (kind === 1) text = text.slice(0, at) + ALPHABET[Math.floor(next() * ALPHABET.length)]! + text.slice(at);
        else if (kind === 2) text = text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 20));
        else {
          const lineStart = text.lastIndexOf('\n', at) + 1;
          const lineEnd = text.indexOf('\n', at);
          const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd + 1);
          text = text.slice(0, lineStart) + line.repeat(1 + Math.floor(next() * 40)) + text.slice(lineStart);
        }
      }
      if (!roundTrip(text, `round ${round}`)) refused++;
    }
    assert.ok(refused > 0 && refused < 20_000, `both outcomes reached (${refused} refused)`);
  });
});
