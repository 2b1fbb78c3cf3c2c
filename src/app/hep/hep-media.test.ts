import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HepCapture } from './hep-capture.js';
import { hepMediaTap, rtpHeaderLength } from './hep-media.js';

describe('hepMediaTap (the media thread\'s packets to HEP)', () => {
  it('rtpHeaderLength: the fixed header, CSRCs and the extension, never past the packet', () => {
    const p = new Uint8Array(100);
    p[0] = 0x80;
    assert.equal(rtpHeaderLength(p), 12);
    p[0] = 0x82; // two CSRCs
    assert.equal(rtpHeaderLength(p), 20);
    p[0] = 0x91; // one CSRC and an extension of 2 words
    p[16 + 3] = 2;
    assert.equal(rtpHeaderLength(p), 12 + 4 + 4 + 8);
    assert.equal(rtpHeaderLength(p.subarray(0, 10)), 10);
    p[19] = 200;
    assert.equal(rtpHeaderLength(p), 100);
  });

  it('RTCP goes as a JSON report (type 5) when rtcp is on, RTP as its header (type 4); what is not RTCP is left out', () => {
    const sent: { type: number; payload: string | number; callId: string }[] = [];
    const capture = { media: (b: Uint8Array, type: number, callId: string) => sent.push({ type, callId, payload: type === 5 ? new TextDecoder().decode(b) : b.length }) } as unknown as HepCapture;
    const rr = Uint8Array.of(0x80, 201, 0, 1, 0, 0, 0, 9);
    const rtp = new Uint8Array(172);
    rtp[0] = 0x80;
    const on = hepMediaTap(capture, { rtcp: true, rtpHeaders: true });
    assert.equal(on.rtp, true);
    on.packet(rr, true, 'c1', '192.0.2.1', 1, '192.0.2.2', 2);
    on.packet(rtp, false, 'c1', '192.0.2.1', 1, '192.0.2.2', 2);
    on.packet(Uint8Array.of(1, 2, 3), true, 'c1', '192.0.2.1', 1, '192.0.2.2', 2);
    assert.deepEqual(sent.map((s) => s.type), [5, 4]);
    assert.equal((JSON.parse(sent[0]!.payload as string) as { ssrc: number }).ssrc, 9);
    assert.equal(sent[1]!.payload, 12);
    const off = hepMediaTap(capture, { rtcp: false, rtpHeaders: false });
    assert.equal(off.rtp, false);
    off.packet(rr, true, 'c1', '192.0.2.1', 1, '192.0.2.2', 2);
    assert.equal(sent.length, 2);
  });
});
