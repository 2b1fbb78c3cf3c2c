import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAttribute, getAttributes } from '../sdp/attributes.js';
import { parseSdp } from '../sdp/parse.js';
import type { SessionDescription } from '../sdp/session-description.js';
import {
  BARESIP_DTLS_OFFER,
  BARESIP_OFFER,
  BARESIP_SDES_OFFER,
  CHROMIUM_OFFER,
  HOLD_REOFFER_SENDONLY,
  HOLD_REOFFER_ZERO_ADDRESS,
  IPV6_OFFER,
  LINPHONE_OFFER,
  SDES_OFFER,
  SIPP_OFFER,
} from '../sdp/testdata/real-sdps.js';
import { OriginState, readCandidate, readCrypto, readSdpText, readSide, writeSide, type SdpRefusal } from './sdp-side.js';
import type { LocalSide, RemoteSide } from './side.js';

function sdp(text: string): SessionDescription {
  const r = parseSdp(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.value;
}

function side(text: string): RemoteSide {
  const r = readSide(sdp(text));
  if (!r.ok) assert.fail(`${r.error.warnCode} ${r.error.warning}`);
  return r.value;
}

function refusal(text: string): SdpRefusal {
  const r = readSide(sdp(text));
  assert.equal(r.ok, false, 'expected a refusal');
  return r.ok ? { warnCode: 0, warning: '' } : r.error;
}

describe('readSide: real offers', () => {
  it('Chromium: webrtc, ICE, DTLS, rtcp-mux, codecs in order, ssrc, mid', () => {
    const s = side(CHROMIUM_OFFER);
    assert.equal(s.profile, 'webrtc');
    assert.equal(s.mIndex, 0);
    assert.equal(s.mid, '0');
    assert.equal(s.address, '0.0.0.0');
    assert.equal(s.family, 4);
    assert.equal(s.port, 9);
    assert.equal(s.rtcpMux, true);
    assert.equal(s.rtcpPort, 9);
    assert.equal(s.direction, 'sendrecv', "with ICE, c=IN IP4 0.0.0.0 is no default candidate, not RFC 3264 §8.4's hold");
    assert.deepEqual(
      s.codecs.map((c) => `${c.pt} ${c.name}/${c.clockRate}/${c.channels}`),
      ['111 opus/48000/2', '63 red/48000/2', '9 G722/8000/1', '0 PCMU/8000/1', '8 PCMA/8000/1', '13 CN/8000/1', '110 telephone-event/48000/1', '126 telephone-event/8000/1'],
    );
    assert.equal(s.codecs[0]!.fmtp, 'minptime=10;useinbandfec=1');
    assert.deepEqual(s.ssrcs, [1394844542]);
    assert.equal(s.ice?.ufrag, 'uaVZ');
    assert.equal(s.ice?.pwd, 'CU1LijDC8+C4QxncsZ4iOHro');
    assert.equal(s.ice?.lite, false);
    assert.deepEqual(s.ice?.candidates, [], 'offered before gathering (trickle ICE)');
    assert.equal(s.dtls?.setup, 'actpass');
    assert.deepEqual(s.dtls?.fingerprints, [
      { algorithm: 'sha-256', value: '76:ED:85:61:16:3F:12:2A:AE:D9:F5:62:3C:5A:A7:6F:32:66:45:AC:74:C0:1D:DE:45:5D:CE:B2:87:71:E3:2F' },
    ]);
    assert.equal(s.crypto, undefined);
  });

  it('baresip: rtp, session-level c=, ptime (not minptime), RTCP on port + 1, ssrc', () => {
    const s = side(BARESIP_OFFER);
    assert.equal(s.profile, 'rtp');
    assert.equal(s.address, '192.0.2.2');
    assert.equal(s.port, 17206);
    assert.equal(s.rtcpMux, false);
    assert.equal(s.rtcpPort, 17207);
    assert.equal(s.direction, 'sendrecv');
    assert.equal(s.ptime, 20);
    assert.deepEqual(s.codecs.map((c) => c.name), ['PCMU', 'PCMA', 'opus', 'G722', 'telephone-event']);
    assert.equal(s.codecs[2]!.fmtp, 'stereo=1;sprop-stereo=1');
    assert.equal(s.codecs[4]!.fmtp, '0-15');
    assert.deepEqual(s.ssrcs, [3056721758]);
    assert.equal(s.ice, undefined);
    assert.equal(s.dtls, undefined);
  });

  it('baresip with SDES: sdes, its one crypto line', () => {
    const s = side(BARESIP_SDES_OFFER);
    assert.equal(s.profile, 'sdes');
    assert.deepEqual(s.crypto, [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: 'NkXXoJ9ZeS15n0XYWCS7E9V7TRngMCNh9Ql4vExY' }]);
  });

  it('baresip with DTLS-SRTP and ICE: webrtc from session-level ICE and fingerprint, no rtcp-mux, a=rtcp, both components', () => {
    const s = side(BARESIP_DTLS_OFFER);
    assert.equal(s.profile, 'webrtc');
    assert.equal(s.rtcpMux, false);
    assert.equal(s.rtcpPort, 40789);
    assert.equal(s.ice?.ufrag, '1pQCTzv');
    assert.equal(s.ice?.pwd, '8q1nezn4rB5CPa8zQ6x5Xn5Prhkubqc');
    assert.deepEqual(s.ice?.candidates.map((c) => `${c.component} ${c.protocol} ${c.address} ${c.port} ${c.type}`), [
      '1 udp 192.0.2.2 40788 host',
      '2 udp 192.0.2.2 40789 host',
      '1 udp fd00::2 40788 host',
      '2 udp fd00::2 40789 host',
    ]);
    assert.deepEqual(s.dtls, { setup: 'actpass', fingerprints: [{ algorithm: 'sha-256', value: '92:2C:43:1F:2F:4E:FE:FD:26:1A:AC:C2:45:BB:93:29:13:E2:F8:60:35:A5:99:1C:91:DA:D8:3C:B0:44:5F:10' }] });
  });

  it('sipp: PCMU, RTCP on port + 1', () => {
    const s = side(SIPP_OFFER);
    assert.equal(s.profile, 'rtp');
    assert.deepEqual(s.codecs, [{ pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 }]);
    assert.equal(s.rtcpMux, false);
    assert.equal(s.rtcpPort, 6001);
    assert.equal(s.mid, undefined);
    assert.equal(s.ptime, undefined);
  });

  it('Linphone: a=rtcp (RFC 3605), G.729 without rtpmap filled from RFC 3551, a dynamic type without rtpmap left out', () => {
    const s = side(LINPHONE_OFFER);
    assert.equal(s.rtcpPort, 7079);
    const g729 = s.codecs.find((c) => c.pt === 18);
    assert.deepEqual(g729, { pt: 18, name: 'G729', clockRate: 8000, channels: 1, fmtp: 'annexb=yes' });
    assert.deepEqual(s.codecs.map((c) => c.pt), [96, 97, 98, 0, 8, 18, 101, 99, 100]);
  });

  it('SDES: sdes, both crypto lines, lifetime and MKI kept apart from the key', () => {
    const s = side(SDES_OFFER);
    assert.equal(s.profile, 'sdes');
    assert.deepEqual(s.crypto, [
      { tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR', rest: '|2^20|1:4' },
      { tag: 2, suite: 'AES_CM_128_HMAC_SHA1_32', keySalt: 'NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj' },
    ]);
  });

  it('IPv6: media-level c=, family 6, static types', () => {
    const s = side(IPV6_OFFER);
    assert.equal(s.address, '2001:db8::15');
    assert.equal(s.family, 6);
    assert.deepEqual(s.codecs.map((c) => c.name), ['PCMA', 'PCMU', 'telephone-event']);
  });

  it('hold: c=0.0.0.0 reads as sendonly, a=sendonly as sendonly, recvonly + 0.0.0.0 as inactive', () => {
    assert.equal(side(HOLD_REOFFER_ZERO_ADDRESS).direction, 'sendonly');
    assert.equal(side(HOLD_REOFFER_SENDONLY).direction, 'sendonly');
    assert.equal(side(HOLD_REOFFER_ZERO_ADDRESS.replace('m=audio 6000 RTP/AVP 0\r\n', 'm=audio 6000 RTP/AVP 0\r\na=recvonly\r\n')).direction, 'inactive');
    assert.equal(side(SIPP_OFFER.replace('t=0 0\r\n', 't=0 0\r\na=inactive\r\n')).direction, 'inactive', 'session level');
    assert.equal(side(SIPP_OFFER.replace('t=0 0\r\n', 't=0 0\r\na=inactive\r\n') + 'a=sendrecv\r\n').direction, 'sendrecv', 'media level wins');
  });

  it('the anchored stream is the first audio m-line with a port; a video-first offer reads its audio', () => {
    const videoFirst = SIPP_OFFER.replace('m=audio 6000 RTP/AVP 0', 'm=video 6002 RTP/AVP 31\r\nm=audio 0 RTP/AVP 0\r\nm=audio 6000 RTP/AVP 0');
    const s = side(videoFirst);
    assert.equal(s.mIndex, 2);
    assert.equal(s.port, 6000);
  });
});

describe('readSide: refusals carry the RFC 3261 §20.43 warning code', () => {
  const cases: [string, string, number][] = [
    ['no audio', SIPP_OFFER.replace('m=audio 6000 RTP/AVP 0', 'm=video 6000 RTP/AVP 31'), 304],
    ['audio rejected', SIPP_OFFER.replace('m=audio 6000', 'm=audio 0'), 304],
    ['network type', SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=ATM NSAP 47.0005.80.ffe100.0000.f102.0000.0000.f1.00'), 300],
    ['address type', SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN X25 1234'), 301],
    ['host name', SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 phone.example.com'), 301],
    ['multicast with ttl', SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 224.2.1.1/127'), 301],
    ['IPv6 address in IP4', SIPP_OFFER.replace('c=IN IP4 127.0.0.1', 'c=IN IP4 ::1'), 301],
    ['no c= anywhere', SIPP_OFFER.replace('c=IN IP4 127.0.0.1\r\n', ''), 301],
    ['transport', SIPP_OFFER.replace('RTP/AVP', 'TCP/MSRP'), 302],
    ['DTLS without fingerprint', BARESIP_OFFER.replace('RTP/AVP', 'UDP/TLS/RTP/SAVPF'), 302],
    ['SAVP without crypto', BARESIP_OFFER.replace('RTP/AVP', 'RTP/SAVP'), 302],
    ['crypto that does not read', SDES_OFFER.split('inline:').join('key:'), 302],
    ['DTLS without ICE', CHROMIUM_OFFER.split('a=ice-ufrag:uaVZ\r\n').join(''), 302],
    ['no usable format', SIPP_OFFER.replace('RTP/AVP 0', 'RTP/AVP 96').replace('a=rtpmap:0 PCMU/8000\r\n', ''), 305],
  ];
  for (const [name, text, code] of cases) {
    it(`${name}: ${code}`, () => {
      const r = refusal(text);
      assert.equal(r.warnCode, code, r.warning);
      assert.ok(r.warning.length > 0);
    });
  }
});

describe('readSdpText', () => {
  it('parses and reads; a body that does not parse is a 399 with the line', () => {
    const read = readSdpText(SIPP_OFFER);
    assert.ok(read.ok);
    assert.equal(read.value.side.port, 6000);
    assert.equal(read.value.sdp.media.length, 1);
    assert.deepEqual(readSdpText('v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4\r\n'), {
      ok: false,
      error: { warnCode: 399, warning: 'bad SDP: line 4: c= needs "IN IP4|IP6 <address>"' },
    });
    const refused = readSdpText(SIPP_OFFER.replace('RTP/AVP', 'TCP/MSRP'));
    assert.ok(!refused.ok && refused.error.warnCode === 302);
  });
});

describe('attribute readers', () => {
  it('readCandidate takes RFC 8839 lines and skips what does not read', () => {
    assert.deepEqual(readCandidate('1 1 UDP 2130706431 192.0.2.1 5000 typ host'), { foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, address: '192.0.2.1', port: 5000, type: 'host' });
    assert.equal(readCandidate('1 1 udp 1 192.0.2.1 70000 typ host'), undefined);
    assert.equal(readCandidate('1 1 sctp 1 192.0.2.1 5000 typ host'), undefined);
    assert.equal(readCandidate('1 1 udp 1 192.0.2.1 5000 type host'), undefined);
    assert.equal(readCandidate('1 1 udp'), undefined);
  });
  it('readCrypto takes the first key of RFC 4568 key-params', () => {
    assert.deepEqual(readCrypto('7 AES_CM_128_HMAC_SHA1_80 inline:abcd|2^31;inline:efgh|2^31 KDR=1'), { tag: 7, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: 'abcd', rest: '|2^31' });
    assert.equal(readCrypto('x AES_CM_128_HMAC_SHA1_80 inline:abcd'), undefined);
    assert.equal(readCrypto('1 AES_CM_128_HMAC_SHA1_80 inline:'), undefined);
  });
});

const WEBRTC_LOCAL: LocalSide = {
  profile: 'webrtc',
  address: '127.0.0.1',
  family: 4,
  port: 40000,
  rtcpPort: 40000,
  rtcpMux: true,
  direction: 'sendrecv',
  codecs: [
    { pt: 111, name: 'opus', clockRate: 48000, channels: 2 },
    { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
    { pt: 126, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' },
  ],
  ice: { ufrag: 'prly', pwd: 'abcdefghijklmnopqrstuvwx', candidates: [], lite: true },
  dtls: { setup: 'passive', fingerprints: [{ algorithm: 'sha-256', value: 'AA:BB' }] },
  ssrc: 0x1234abcd,
};

const RTP_LOCAL: LocalSide = {
  profile: 'rtp',
  address: '127.0.0.1',
  family: 4,
  port: 40002,
  rtcpPort: 40003,
  rtcpMux: false,
  direction: 'sendrecv',
  codecs: [
    { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1 },
    { pt: 8, name: 'PCMA', clockRate: 8000, channels: 1 },
    { pt: 101, name: 'telephone-event', clockRate: 8000, channels: 1, fmtp: '0-15' },
  ],
  ssrc: 1,
};

function lines(text: string): string[] {
  return text.split('\r\n');
}

describe('writeSide', () => {
  const origin = new OriginState('127.0.0.1', 4, '42').next(false);

  it('answers a Chromium offer: the audio m-line anchored, video rejected with its proto and formats, BUNDLE of the audio mid only', () => {
    const text = writeSide(WEBRTC_LOCAL, { kind: 'answer', origin, offer: sdp(CHROMIUM_OFFER), mIndex: 0 });
    assert.ok(text.endsWith('\r\n'));
    const answer = sdp(text);
    assert.equal(answer.media.length, 2, 'RFC 3264 §6: as many m-lines as the offer');
    assert.equal(getAttribute(answer, 'ice-lite'), '');
    assert.equal(getAttribute(answer, 'group'), 'BUNDLE 0');
    assert.equal(getAttribute(answer, 'msid-semantic'), ' WMS parley');
    const [audio, video] = answer.media;
    assert.equal(audio!.port, 40000);
    assert.equal(audio!.proto, 'UDP/TLS/RTP/SAVPF');
    assert.deepEqual(audio!.formats, ['111', '0', '126']);
    assert.equal(getAttribute(audio!, 'mid'), '0');
    assert.equal(getAttribute(audio!, 'ice-ufrag'), 'prly');
    assert.equal(getAttribute(audio!, 'ice-pwd'), 'abcdefghijklmnopqrstuvwx');
    assert.deepEqual(getAttributes(audio!, 'candidate'), ['1 1 udp 2130706431 127.0.0.1 40000 typ host']);
    assert.equal(getAttribute(audio!, 'end-of-candidates'), '');
    assert.equal(getAttribute(audio!, 'fingerprint'), 'sha-256 AA:BB');
    assert.equal(getAttribute(audio!, 'setup'), 'passive');
    assert.equal(getAttribute(audio!, 'rtcp-mux'), '');
    assert.equal(getAttribute(audio!, 'rtcp'), '40000 IN IP4 127.0.0.1');
    assert.equal(getAttribute(audio!, 'sendrecv'), '');
    assert.deepEqual(getAttributes(audio!, 'rtpmap'), ['111 opus/48000/2', '0 PCMU/8000', '126 telephone-event/8000']);
    assert.deepEqual(getAttributes(audio!, 'fmtp'), ['111 minptime=10;useinbandfec=1', '126 0-15']);
    // no a=ssrc: relayed packets keep their source's SSRC, and a browser plays only what matches a signalled one
    assert.deepEqual(getAttributes(audio!, 'ssrc'), []);
    assert.equal(getAttribute(audio!, 'msid'), 'parley parley-audio');
    assert.equal(video!.port, 0);
    assert.equal(video!.proto, 'UDP/TLS/RTP/SAVPF');
    assert.equal(video!.formats.length, 23);
    assert.equal(video!.formats[0], '96');
    assert.equal(getAttribute(video!, 'mid'), '1');
    // and Parley reads its own answer as the webrtc side it described
    const back = readSide(answer, 'answer');
    assert.ok(back.ok);
    assert.equal(back.value.profile, 'webrtc');
    assert.equal(back.value.ice?.lite, true);
    assert.equal(back.value.dtls?.setup, 'passive');
  });

  it('no BUNDLE group in an answer to an offer that had none (RFC 8843)', () => {
    const unbundled = CHROMIUM_OFFER.replace('a=group:BUNDLE 0 1\r\n', '');
    const answer = sdp(writeSide(WEBRTC_LOCAL, { kind: 'answer', origin, offer: sdp(unbundled), mIndex: 0 }));
    assert.equal(getAttribute(answer, 'group'), undefined);
    assert.equal(getAttribute(answer.media[0]!, 'mid'), '0');
  });

  it('offers to a browser: one audio m-line with mid 0, actpass', () => {
    const local = { ...WEBRTC_LOCAL, dtls: { setup: 'actpass' as const, fingerprints: WEBRTC_LOCAL.dtls!.fingerprints } };
    const text = writeSide(local, { kind: 'offer', origin });
    const offer = sdp(text);
    assert.equal(offer.media.length, 1);
    assert.equal(offer.media[0]!.proto, 'UDP/TLS/RTP/SAVPF');
    assert.equal(getAttribute(offer.media[0]!, 'mid'), '0');
    assert.equal(getAttribute(offer, 'group'), 'BUNDLE 0');
    assert.equal(getAttribute(offer.media[0]!, 'setup'), 'actpass');
    assert.equal(lines(text)[0], 'v=0');
    assert.equal(lines(text)[1], 'o=parley 42 1 IN IP4 127.0.0.1');
  });

  it('offers to a phone: RTP/AVP, c=, a=rtcp port + 1, rtpmap of every codec, ptime 20, direction', () => {
    const text = writeSide({ ...RTP_LOCAL, direction: 'sendonly' }, { kind: 'offer', origin });
    assert.deepEqual(lines(text), [
      'v=0',
      'o=parley 42 1 IN IP4 127.0.0.1',
      's=parley',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 40002 RTP/AVP 0 8 101',
      'a=rtcp:40003 IN IP4 127.0.0.1',
      'a=sendonly',
      'a=rtpmap:0 PCMU/8000',
      'a=rtpmap:8 PCMA/8000',
      'a=rtpmap:101 telephone-event/8000',
      'a=fmtp:101 0-15',
      'a=ptime:20',
      '',
    ]);
    const back = readSide(sdp(text));
    assert.ok(back.ok);
    assert.equal(back.value.profile, 'rtp');
    assert.equal(back.value.rtcpPort, 40003);
    assert.equal(back.value.direction, 'sendonly');
  });

  it('answers baresip (RTP/AVP with rtcp-mux) keeping its proto, and an IPv6 phone in IP6', () => {
    const answer = sdp(writeSide({ ...RTP_LOCAL, rtcpMux: true, rtcpPort: 40002 }, { kind: 'answer', origin, offer: sdp(BARESIP_OFFER), mIndex: 0 }));
    assert.equal(answer.media[0]!.proto, 'RTP/AVP');
    assert.equal(getAttribute(answer.media[0]!, 'rtcp-mux'), '');
    assert.equal(getAttribute(answer.media[0]!, 'mid'), undefined);
    assert.equal(getAttribute(answer, 'group'), undefined);
    const v6 = sdp(writeSide({ ...RTP_LOCAL, address: '::1', family: 6 }, { kind: 'answer', origin: new OriginState('::1', 6, '7').next(false), offer: sdp(IPV6_OFFER), mIndex: 0 }));
    assert.deepEqual(v6.connection, { netType: 'IN', addrType: 'IP6', address: '::1' });
    assert.equal(v6.origin.addrType, 'IP6');
  });

  it('answers an SDES offer with RTP/SAVP and a=crypto', () => {
    const local: LocalSide = { ...RTP_LOCAL, profile: 'sdes', crypto: [{ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk' }] };
    const answer = sdp(writeSide(local, { kind: 'answer', origin, offer: sdp(SDES_OFFER), mIndex: 0 }));
    assert.equal(answer.media[0]!.proto, 'RTP/SAVP');
    assert.deepEqual(getAttributes(answer.media[0]!, 'crypto'), ['1 AES_CM_128_HMAC_SHA1_80 inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk']);
    const back = readSide(answer);
    assert.ok(back.ok);
    assert.equal(back.value.profile, 'sdes');
  });

  it('a browser offer answered towards rtp would keep no DTLS lines (profile decides), an rtp answer rejects other streams', () => {
    const withVideo = SIPP_OFFER + 'm=video 6002 RTP/AVP 31\r\n';
    const answer = sdp(writeSide(RTP_LOCAL, { kind: 'answer', origin, offer: sdp(withVideo), mIndex: 0 }));
    assert.equal(answer.media[1]!.port, 0);
    assert.equal(answer.media[1]!.media, 'video');
    assert.deepEqual(answer.media[1]!.formats, ['31']);
    assert.equal(getAttribute(answer.media[0]!, 'fingerprint'), undefined);
  });
});

describe('OriginState (RFC 3264 §8)', () => {
  it('the version moves by one on each change and stays when the description is unchanged', () => {
    const state = new OriginState('192.0.2.1', 4, '123', 5);
    assert.equal(state.next(true).version, 5, 'the first description takes the initial version');
    assert.equal(state.next(false).version, 5);
    assert.equal(state.next(true).version, 6);
    assert.equal(state.next(true).version, 7);
    assert.deepEqual(state.next(false), { username: 'parley', sessionId: '123', version: 7, address: '192.0.2.1', family: 4 });
  });
  it('a session id of digits, different between states', () => {
    const a = new OriginState('::1', 6).sessionId;
    const b = new OriginState('::1', 6).sessionId;
    assert.match(a, /^[1-9][0-9]*$/);
    assert.notEqual(a, b);
  });
});

describe('readSide and writeSide on mutated descriptions', () => {
  /** mulberry32, seeded: a failure repeats. */
  function random(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it('never throw; what Parley answers parses and mirrors the m-lines (5,000 seeded mutations)', () => {
    const next = random(0x3264);
    const texts = [CHROMIUM_OFFER, BARESIP_OFFER, BARESIP_SDES_OFFER, BARESIP_DTLS_OFFER, SIPP_OFFER, LINPHONE_OFFER, SDES_OFFER, IPV6_OFFER];
    const alphabet = [' ', ':', '/', '0', '9', 'a', '\r\n', '\t', '-', '.'];
    let read = 0;
    let refused = 0;
    for (let round = 0; round < 5000; round++) {
      let text = texts[round % texts.length]!;
      for (let e = 0; e < 1 + Math.floor(next() * 3); e++) {
        const at = Math.floor(next() * text.length);
        const pick = alphabet[Math.floor(next() * alphabet.length)]!;
        text = next() < 0.5 ? text.slice(0, at) + pick + text.slice(at + 1) : text.slice(0, at) + text.slice(at + 1 + Math.floor(next() * 8));
      }
      const parsed = parseSdp(text);
      if (!parsed.ok) continue;
      const remote = readSide(parsed.value);
      if (!remote.ok) {
        refused++;
        assert.ok([300, 301, 302, 304, 305, 399].includes(remote.error.warnCode));
        continue;
      }
      read++;
      const answer = parseSdp(writeSide({ ...WEBRTC_LOCAL, profile: remote.value.profile }, { kind: 'answer', origin: new OriginState('127.0.0.1', 4, '1').next(false), offer: parsed.value, mIndex: remote.value.mIndex }));
      assert.ok(answer.ok, `round ${round}`);
      assert.equal(answer.value.media.length, parsed.value.media.length);
    }
    assert.ok(read > 0 && refused > 0, `both outcomes reached (${read} read, ${refused} refused)`);
  });
});
