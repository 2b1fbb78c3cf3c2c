import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aLawDecode, aLawEncode, g711Convert, g711Decode, g711Encode, G711_SILENCE, muLawDecode, muLawEncode } from './g711.js';
import { db, rms, sine } from './testdata/audio.js';

describe('G.711', () => {
  it('decodes the end points of ITU-T G.711 Tables 1 and 2 (at 16 bits)', () => {
    // µ-law: 0xFF and 0x7F are the two zeros, 0x80 / 0x00 the largest magnitudes (8031 in 14 bits × 4).
    assert.equal(muLawDecode(0xff), 0);
    assert.equal(muLawDecode(0x7f), 0);
    assert.equal(muLawDecode(0x80), 32124);
    assert.equal(muLawDecode(0x00), -32124);
    // A-law: 0xD5 / 0x55 the smallest (±1 in 13 bits, × 8 = ±8), 0xAA / 0x2A the largest (4032 × 8).
    assert.equal(aLawDecode(0xd5), 8);
    assert.equal(aLawDecode(0x55), -8);
    assert.equal(aLawDecode(0xaa), 32256);
    assert.equal(aLawDecode(0x2a), -32256);
    assert.equal(G711_SILENCE.PCMU, 0xff);
    assert.equal(G711_SILENCE.PCMA, 0xd5);
  });

  it('encodes each decoded code back to itself (µ-law: but the negative zero)', () => {
    for (let code = 0; code < 256; code++) {
      if (code !== 0x7f) assert.equal(muLawEncode(muLawDecode(code)), code, `µ-law ${code.toString(16)}`);
      assert.equal(aLawEncode(aLawDecode(code)), code, `A-law ${code.toString(16)}`);
    }
  });

  it('clips the extremes and keeps the sign', () => {
    assert.equal(muLawEncode(32767), 0x80);
    assert.equal(muLawEncode(-32768), 0x00);
    assert.equal(aLawEncode(32767), 0xaa);
    assert.equal(aLawEncode(-32768), 0x2a);
    assert.ok(muLawDecode(muLawEncode(1000)) > 0 && muLawDecode(muLawEncode(-1000)) < 0);
  });

  it('keeps a sine within the law’s quantisation noise (SNR above 30 dB for a −12 dBFS tone)', () => {
    for (const law of ['PCMU', 'PCMA'] as const) {
      const pcm = sine(1000, 8000, 800, 8000);
      const codes = new Uint8Array(800);
      g711Encode(law, pcm, codes);
      const back = new Int16Array(800);
      g711Decode(law, codes, back);
      const noise = new Int16Array(800);
      for (let i = 0; i < 800; i++) noise[i] = back[i]! - pcm[i]!;
      assert.ok(db(rms(pcm) / rms(noise)) > 30, `${law}: SNR ${db(rms(pcm) / rms(noise)).toFixed(1)} dB`);
    }
  });

  it('converts PCMU ↔ PCMA as decode-then-encode would, and a round trip keeps the signal', () => {
    const pcm = sine(440, 8000, 160, 12000);
    const mu = new Uint8Array(160);
    g711Encode('PCMU', pcm, mu);
    const a = new Uint8Array(160);
    g711Convert('PCMU', 'PCMA', mu, a);
    for (let i = 0; i < 160; i++) assert.equal(a[i], aLawEncode(muLawDecode(mu[i]!)));
    const mu2 = new Uint8Array(160);
    g711Convert('PCMA', 'PCMU', a, mu2);
    const back = new Int16Array(160);
    g711Decode('PCMU', mu2, back);
    const noise = new Int16Array(160);
    for (let i = 0; i < 160; i++) noise[i] = back[i]! - pcm[i]!;
    assert.ok(db(rms(pcm) / rms(noise)) > 30);
  });
});
