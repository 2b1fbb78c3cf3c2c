import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CodecSpec } from '../side.js';
import { createDtmfMapper, readTelephoneEvents } from './dtmf.js';
import { g711Encode } from './g711.js';
import { readRtpHeader, writeRtpHeader } from './rtp-header.js';
import { sine } from './testdata/audio.js';
import { createTranscoder } from './transcoder.js';

const TE8: CodecSpec = { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-16' };
const TE48: CodecSpec = { pt: 110, name: 'telephone-event', clockRate: 48000, channels: 1, fmtp: '0-16' };
const PCMU: CodecSpec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 };
const OPUS: CodecSpec = { pt: 111, name: 'opus', clockRate: 48000, channels: 2 };

function rtp(pt: number, seq: number, ts: number, payload: Uint8Array, marker = false, ssrc = 0xcafe0001): Buffer {
  const p = writeRtpHeader(pt, marker, seq, ts, ssrc, payload.length);
  p.set(payload, 12);
  return p;
}

/**
 * The packets of one DTMF digit as RFC 4733's sender procedures (§2.5.1) have a sender write them:
 * the first with the marker bit, every one with the event's start as its timestamp and the
 * duration so far (§2.5.1.2), the last with the E bit, sent three times with the same duration
 * (§2.5.1.4). Digit 9 (event code 9, §3.2) at volume 10 (−10 dBm0), 50 ms updates at 8 kHz,
 * 200 ms long: fields built by these rules, not copied from the RFC's examples.
 */
function digitNine(pt: number, seq0: number, start: number, step: number): Buffer[] {
  const packets: Buffer[] = [];
  const durations = [step, 2 * step, 3 * step];
  durations.forEach((d, i) => packets.push(rtp(pt, seq0 + i, start, Uint8Array.of(9, 10, d >> 8, d & 0xff), i === 0)));
  for (let r = 0; r < 3; r++) packets.push(rtp(pt, seq0 + 3 + r, start, Uint8Array.of(9, 0x80 | 10, (4 * step) >> 8, (4 * step) & 0xff)));
  return packets;
}

describe('createDtmfMapper', () => {
  it('maps only telephone-event to telephone-event', () => {
    assert.equal(createDtmfMapper(PCMU, TE8), undefined);
    assert.equal(createDtmfMapper(TE8, OPUS), undefined);
    assert.ok(createDtmfMapper(TE8, TE48));
  });

  it('8 kHz → 48 kHz: payload type, duration scaled, end bit, volume, marker and the three end packets kept', () => {
    const mapper = createDtmfMapper(TE8, TE48)!;
    const out = digitNine(101, 500, 123_456, 400).map((p) => mapper.map(p)!);
    assert.equal(out.length, 6);
    const hs = out.map((p) => readRtpHeader(p)!);
    const events = out.map((p, i) => readTelephoneEvents(p.subarray(hs[i]!.payloadStart))![0]!);
    assert.deepEqual(
      events.map((e) => [e.event, e.end, e.volume, e.duration]),
      [[9, false, 10, 2400], [9, false, 10, 4800], [9, false, 10, 7200], [9, true, 10, 9600], [9, true, 10, 9600], [9, true, 10, 9600]],
    );
    assert.deepEqual(hs.map((h) => h.payloadType), [110, 110, 110, 110, 110, 110]);
    assert.deepEqual(hs.map((h) => h.marker), [true, false, false, false, false, false]);
    // without a transcoder's stream the packets keep their SSRC and sequence numbers, and one timestamp
    assert.deepEqual(hs.map((h) => h.sequence), [500, 501, 502, 503, 504, 505]);
    assert.ok(hs.every((h) => h.ssrc === 0xcafe0001 && h.timestamp === hs[0]!.timestamp));
    assert.deepEqual(out[4]!.subarray(12), out[3]!.subarray(12));
  });

  it('48 kHz → 8 kHz, and the same clock keeps the timestamp', () => {
    const down = createDtmfMapper(TE48, TE8)!;
    const out = down.map(rtp(110, 7, 960_000, Uint8Array.of(11, 0x80 | 7, 0x25, 0x80)))!; // '#', 9600 units = 200 ms
    const h = readRtpHeader(out)!;
    assert.equal(h.payloadType, 101);
    assert.deepEqual(readTelephoneEvents(out.subarray(12)), [{ event: 11, end: true, reserved: false, volume: 7, duration: 1600 }]);
    const same = createDtmfMapper(TE8, { ...TE8, pt: 96 })!;
    const h2 = readRtpHeader(same.map(rtp(101, 9, 77_777, Uint8Array.of(1, 10, 0, 160)))!)!;
    assert.equal(h2.timestamp, 77_777);
    assert.equal(h2.payloadType, 96);
  });

  it('refuses what is not its payload type or not a telephone-event payload', () => {
    const mapper = createDtmfMapper(TE8, TE48)!;
    assert.equal(mapper.map(rtp(0, 1, 0, new Uint8Array(160))), undefined);
    assert.equal(mapper.map(rtp(101, 1, 0, Uint8Array.of(1, 2, 3))), undefined);
    assert.equal(mapper.map(rtp(101, 1, 0, new Uint8Array(0))), undefined);
    assert.equal(mapper.map(Buffer.from([0x80])), undefined);
  });

  it('in a transcoded call, joins the transcoder’s stream: its SSRC, its next sequence numbers, the audio’s timeline', () => {
    const up = createTranscoder(PCMU, OPUS)!;
    const mapper = createDtmfMapper(TE8, TE48, up)!;
    const ts0 = 80_000;
    const audio: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const codes = new Uint8Array(160);
      g711Encode('PCMU', sine(440, 8000, 160, 4000, i), codes);
      audio.push(rtp(0, 10 + i, ts0 + i * 160, codes));
    }
    const a = audio.flatMap((p) => up.transcode(p)).map((p) => readRtpHeader(p)!);
    // the digit starts where the 6th audio packet would have (ts0 + 800), sequence numbers after the audio
    const d = digitNine(101, 15, ts0 + 800, 400).map((p) => {
      assert.deepEqual(up.transcode(p), []);
      return readRtpHeader(mapper.map(p)!)!;
    });
    assert.ok(d.every((h) => h.ssrc === up.ssrc && h.payloadType === 110));
    assert.equal(d[0]!.sequence, (a[4]!.sequence + 1) & 0xffff);
    for (let i = 1; i < d.length; i++) assert.equal(d[i]!.sequence, (d[i - 1]!.sequence + 1) & 0xffff);
    assert.ok(d.every((h) => h.timestamp === ((a[4]!.timestamp + 960) >>> 0)));
    // audio after the digit goes on on the same stream, after the events' sequence numbers
    const codes = new Uint8Array(160);
    const after = up.transcode(rtp(0, 21, ts0 + 800 + 1600, codes)).map((p) => readRtpHeader(p)!);
    assert.equal(after[0]!.sequence, (d[5]!.sequence + 1) & 0xffff);
    assert.equal(after[0]!.timestamp, (a[4]!.timestamp + 960 + 1600 * 6) >>> 0);
    up.close();
  });
});
