import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSdp } from '../sdp/parse.js';
import { BARESIP_OFFER, CHROMIUM_OFFER, IPV6_OFFER, LINPHONE_OFFER, SDES_OFFER, SIPP_OFFER } from '../sdp/testdata/real-sdps.js';
import { answerCodecs, bridgeCodecs, offerCodecs, sameCodec, type Bridge } from './codec-plan.js';
import { readSide } from './sdp-side.js';
import type { CodecSpec } from './side.js';

function codecs(text: string): CodecSpec[] {
  const parsed = parseSdp(text);
  assert.ok(parsed.ok);
  const side = readSide(parsed.value);
  if (!side.ok) assert.fail(side.error.warning);
  return [...side.value.codecs];
}

const names = (list: readonly CodecSpec[]): string[] => list.map((c) => `${c.pt} ${c.name}/${c.clockRate}`);

const chromium = codecs(CHROMIUM_OFFER);
const baresip = codecs(BARESIP_OFFER);
const sipp = codecs(SIPP_OFFER);
const OPUS_ONLY: CodecSpec[] = [
  { pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: 'minptime=10;useinbandfec=1' },
  { pt: 126, name: 'telephone-event', clockRate: 48000, channels: 1 },
];

function bridge(result: Bridge | { warnCode: number; warning: string }): Bridge {
  if ('warnCode' in result) assert.fail(`${result.warnCode} ${result.warning}`);
  return result;
}

describe('offerCodecs', () => {
  it('towards a browser: only what Chromium takes (Opus, G.722, G.711, telephone-event), in the order offered', () => {
    assert.deepEqual(names(offerCodecs(baresip, 'webrtc')), ['0 PCMU/8000', '8 PCMA/8000', '96 opus/48000', '9 G722/8000', '101 telephone-event/8000']);
    assert.deepEqual(names(offerCodecs(chromium, 'webrtc')), ['111 opus/48000', '9 G722/8000', '0 PCMU/8000', '8 PCMA/8000', '110 telephone-event/48000', '126 telephone-event/8000'], 'not red, not CN');
    assert.deepEqual(names(offerCodecs(codecs(LINPHONE_OFFER), 'webrtc')), ['96 opus/48000', '0 PCMU/8000', '8 PCMA/8000', '101 telephone-event/48000', '100 telephone-event/8000']);
  });
  it('towards a browser from a G.711-only phone: nothing added (Chromium speaks PCMU)', () => {
    assert.deepEqual(names(offerCodecs(sipp, 'webrtc')), ['0 PCMU/8000']);
  });
  it('towards a phone from Chromium: every codec offered, G.711 already there so none added', () => {
    assert.deepEqual(offerCodecs(chromium, 'rtp'), chromium);
  });
  it('towards a phone from an Opus-only browser: PCMU and PCMA added as transcoding targets, telephone-event/8000 added', () => {
    assert.deepEqual(names(offerCodecs(OPUS_ONLY, 'rtp')), ['111 opus/48000', '0 PCMU/8000', '8 PCMA/8000', '126 telephone-event/48000', '101 telephone-event/8000']);
    assert.deepEqual(names(offerCodecs(OPUS_ONLY, 'sdes')), names(offerCodecs(OPUS_ONLY, 'rtp')));
  });
  it('no transcoder for Opus: nothing added', () => {
    assert.deepEqual(names(offerCodecs(OPUS_ONLY, 'rtp', new Set())), ['111 opus/48000', '126 telephone-event/48000', '101 telephone-event/8000']);
  });
  it('an added telephone-event takes a free payload type when 101 is taken', () => {
    const taken: CodecSpec[] = [{ pt: 101, name: 'opus', clockRate: 48000, channels: 2 }, { pt: 110, name: 'telephone-event', clockRate: 48000, channels: 1 }];
    assert.deepEqual(names(offerCodecs(taken, 'rtp')), ['101 opus/48000', '0 PCMU/8000', '8 PCMA/8000', '110 telephone-event/48000', '96 telephone-event/8000']);
  });
});

describe('bridgeCodecs', () => {
  it('Chromium → baresip, baresip answers Opus: passed through, payload types renumbered', () => {
    const b = bridge(bridgeCodecs(chromium, [baresip[2]!, baresip[4]!]));
    assert.equal(b.kind, 'pass');
    if (b.kind !== 'pass') return;
    assert.deepEqual([...b.aToB], [[111, 96], [126, 101]]);
    assert.deepEqual([...b.bToA], [[96, 111], [101, 126]]);
    assert.equal(b.dtmf.a?.pt, 110, "A's telephone-event at Opus's clock");
    assert.equal(b.dtmf.b?.pt, 101);
  });
  it('Chromium → sipp (PCMU): passed through', () => {
    const b = bridge(bridgeCodecs(chromium, sipp));
    assert.equal(b.kind, 'pass');
    if (b.kind === 'pass') assert.deepEqual([...b.aToB], [[0, 0]]);
    assert.deepEqual(b.dtmf, { a: chromium.find((c) => c.pt === 126) });
  });
  it('Opus-only browser → PCMU-only phone: transcoded', () => {
    const b = bridge(bridgeCodecs(OPUS_ONLY, [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }, { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1 }]));
    assert.equal(b.kind, 'transcode');
    if (b.kind !== 'transcode') return;
    assert.equal(b.a.name, 'opus');
    assert.equal(b.b.name, 'PCMU');
    assert.equal(b.dtmf.a?.pt, 126);
    assert.equal(b.dtmf.b?.pt, 101);
  });
  it('a PCMA phone offers, an Opus-only browser answers: transcoded the other way', () => {
    const b = bridge(bridgeCodecs(codecs(IPV6_OFFER), [OPUS_ONLY[0]!]));
    assert.equal(b.kind, 'transcode');
    if (b.kind === 'transcode') assert.equal(b.a.name, 'PCMA', "A's first G.711");
  });
  it('the first voice codec of the answer decides, not CN or telephone-event', () => {
    const b = bridge(bridgeCodecs(sipp, [{ pt: 13, name: 'CN', clockRate: 8000, channels: 1 }, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }]));
    assert.equal(b.kind, 'pass');
  });
  it('nothing fits: 305', () => {
    const g729: CodecSpec[] = [{ pt: 18, name: 'G729', clockRate: 8000, channels: 1 }];
    const r = bridgeCodecs(OPUS_ONLY, g729);
    assert.ok('warnCode' in r && r.warnCode === 305, JSON.stringify(r));
    const noVoice = bridgeCodecs(sipp, [{ pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1 }]);
    assert.ok('warnCode' in noVoice && noVoice.warnCode === 305);
    const noTranscoder = bridgeCodecs(OPUS_ONLY, sipp, new Set());
    assert.ok('warnCode' in noTranscoder && noTranscoder.warnCode === 305);
  });
});

describe('answerCodecs', () => {
  it("lists A's codecs (A's payload types and fmtp) matching the chosen ones, in the chosen order", () => {
    const chosen = [baresip[0]!, baresip[2]!, baresip[4]!]; // PCMU, opus, telephone-event/8000
    const answer = answerCodecs(chromium, chosen);
    assert.deepEqual(names(answer), ['0 PCMU/8000', '111 opus/48000', '126 telephone-event/8000']);
    assert.equal(answer[1]!.fmtp, 'minptime=10;useinbandfec=1');
  });
  it("a transcoded call: A's Opus and A's own telephone-event for the phone's", () => {
    const answer = answerCodecs(OPUS_ONLY, [OPUS_ONLY[0]!, { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1 }]);
    assert.deepEqual(names(answer), ['111 opus/48000', '126 telephone-event/48000']);
  });
  it('nothing matching: empty', () => {
    assert.deepEqual(answerCodecs(codecs(SDES_OFFER), [OPUS_ONLY[0]!]), []);
  });
  it('sameCodec: by name (any case) and clock rate, channels for all but Opus', () => {
    assert.ok(sameCodec({ pt: 0, name: 'pcmu', clockRate: 8000, channels: 1 }, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }));
    assert.ok(!sameCodec({ pt: 96, name: 'L16', clockRate: 44100, channels: 1 }, { pt: 97, name: 'L16', clockRate: 44100, channels: 2 }));
    assert.ok(sameCodec({ pt: 96, name: 'opus', clockRate: 48000, channels: 2 }, { pt: 111, name: 'opus', clockRate: 48000, channels: 1 }));
  });
});
