import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getAttribute, getAttributes } from './attributes.js';
import { parseSdp, SDP_LIMITS } from './parse.js';
import { serializeSdp } from './serialize.js';
import type { SessionDescription } from './session-description.js';
import { BARESIP_DTLS_OFFER, BARESIP_OFFER, BARESIP_SDES_OFFER, CHROMIUM_OFFER, IPV6_OFFER, LINPHONE_OFFER, REAL_SDPS, SDES_OFFER, SIPP_OFFER } from './testdata/real-sdps.js';

function parsed(text: string): SessionDescription {
  const result = parseSdp(text);
  if (!result.ok) assert.fail(result.error.message);
  return result.value;
}

function errorOf(text: string): string {
  const result = parseSdp(text);
  assert.equal(result.ok, false, 'expected an error');
  return result.ok ? '' : result.error.message;
}

const MINIMAL = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 5004 RTP/AVP 0'];

describe('parseSdp: real descriptions', () => {
  it('reads a Chromium offer: BUNDLE, two m-lines, attributes in order, nothing lost', () => {
    const sdp = parsed(CHROMIUM_OFFER);
    assert.equal(sdp.origin.sessionId, '1720219046095758084');
    assert.equal(sdp.origin.sessionVersion, '2');
    assert.equal(sdp.connection, undefined);
    assert.equal(getAttribute(sdp, 'group'), 'BUNDLE 0 1');
    assert.equal(sdp.media.length, 2);
    const [audio, video] = sdp.media;
    assert.equal(audio!.media, 'audio');
    assert.equal(audio!.port, 9);
    assert.equal(audio!.proto, 'UDP/TLS/RTP/SAVPF');
    assert.deepEqual(audio!.formats, ['111', '63', '9', '0', '8', '13', '110', '126']);
    assert.deepEqual(audio!.connection, { netType: 'IN', addrType: 'IP4', address: '0.0.0.0' });
    assert.equal(getAttribute(audio!, 'rtcp-mux'), '');
    assert.equal(getAttributes(audio!, 'extmap').length, 4);
    assert.equal(getAttributes(audio!, 'ssrc').length, 2);
    assert.equal(video!.media, 'video');
    assert.equal(getAttribute(video!, 'ssrc-group'), 'FID 3889758735 1782594669');
    assert.equal(video!.formats.length, 23);
    assert.equal(serializeSdp(sdp), CHROMIUM_OFFER, 'written back byte for byte');
  });

  it('reads baresip (plain, SDES, DTLS), sipp, SDES and IPv6 offers and writes each back unchanged', () => {
    for (const text of [BARESIP_OFFER, BARESIP_SDES_OFFER, BARESIP_DTLS_OFFER, SIPP_OFFER, SDES_OFFER, IPV6_OFFER]) assert.equal(serializeSdp(parsed(text)), text);
    assert.deepEqual(parsed(IPV6_OFFER).media[0]!.connection, { netType: 'IN', addrType: 'IP6', address: '2001:db8::15' });
    assert.equal(getAttributes(parsed(SDES_OFFER).media[0]!, 'crypto').length, 2);
    assert.deepEqual(parsed(BARESIP_OFFER).lines, [{ type: 't', value: '0 0' }, { type: 'a', value: 'tool:baresip 1.0.0' }], 'session-level lines in order');
    const dtls = parsed(BARESIP_DTLS_OFFER);
    assert.equal(getAttribute(dtls, 'ice-ufrag'), '1pQCTzv', 'ICE at session level');
    assert.equal(getAttributes(dtls.media[0]!, 'candidate').length, 4);
  });

  it('reads Linphone with bare LF line ends and writes it with CRLF', () => {
    const sdp = parsed(LINPHONE_OFFER);
    assert.equal(sdp.sessionName, 'Talk');
    assert.equal(getAttribute(sdp.media[0]!, 'rtcp'), '7079');
    assert.equal(serializeSdp(sdp), LINPHONE_OFFER.split('\n').join('\r\n'));
  });

  it('parses every real description, and its serialization parses to the same model', () => {
    for (const [name, text] of Object.entries(REAL_SDPS)) {
      const once = parsed(text);
      assert.deepEqual(parsed(serializeSdp(once)), once, name);
    }
  });
});

describe('parseSdp: what it keeps', () => {
  it('keeps unknown line types and attributes in their places; c= goes back where RFC 8866 puts it', () => {
    const text = [
      'v=0',
      'o=- 1 1 IN IP4 127.0.0.1',
      's=-',
      'i=a session',
      'c=IN IP4 127.0.0.1',
      'b=CT:128',
      't=0 0',
      'k=prompt',
      'y=0110000001',
      'a=x-custom:1',
      'm=audio 5004/2 RTP/AVP 0',
      'i=voice',
      'c=IN IP4 127.0.0.2',
      'b=AS:64',
      'a=x-other',
      '',
    ].join('\r\n');
    const sdp = parsed(text);
    assert.deepEqual(sdp.lines.map((l) => l.type), ['i', 'b', 't', 'k', 'y', 'a']);
    assert.equal(sdp.media[0]!.portCount, 2);
    assert.deepEqual(sdp.media[0]!.lines.map((l) => `${l.type}=${l.value}`), ['i=voice', 'b=AS:64', 'a=x-other']);
    assert.equal(serializeSdp(sdp), text);
  });

  it('accepts a rejected m-line without formats, and blank lines between lines', () => {
    const sdp = parsed([...MINIMAL, 'm=video 0 RTP/AVP', '', 'a=inactive'].join('\r\n'));
    assert.deepEqual(sdp.media[1]!.formats, []);
    assert.equal(serializeSdp(sdp).includes('m=video 0 RTP/AVP\r\n'), true);
  });
});

describe('parseSdp: errors name the line', () => {
  const replaced = (index: number, line: string): string => MINIMAL.map((l, i) => (i === index ? line : l)).join('\r\n');

  it('a c= line with too few fields', () => {
    assert.equal(errorOf(replaced(3, 'c=IN IP4')), 'line 4: c= needs "IN IP4|IP6 <address>"');
  });
  it('an o= line with a non-numeric session id', () => {
    assert.match(errorOf(replaced(1, 'o=- abc 1 IN IP4 127.0.0.1')), /^line 2: o= needs/);
  });
  it('an m= line with a bad port, a bad count, or no formats', () => {
    assert.equal(errorOf(replaced(5, 'm=audio 70000 RTP/AVP 0')), 'line 6: m= port "70000" is not a port number');
    assert.equal(errorOf(replaced(5, 'm=audio 5004/x RTP/AVP 0')), 'line 6: m= port count "5004/x" is not a number of ports');
    assert.match(errorOf(replaced(5, 'm=audio 5004 RTP/AVP')), /^line 6: m= needs/);
  });
  it('a line that is not <type>=<value>, a space before =, a non-letter type', () => {
    assert.equal(errorOf(replaced(4, 'hello')), 'line 5: not a "<type>=<value>" line');
    assert.equal(errorOf(replaced(4, 't =0 0')), 'line 5: not a "<type>=<value>" line');
    assert.equal(errorOf(replaced(4, '1=0 0')), 'line 5: "1" is not a line type (one letter)');
  });
  it('no v= first, another version, a second v=, missing o= or s=', () => {
    assert.equal(errorOf(MINIMAL.slice(1).join('\r\n')), 'line 1: a description starts with v=');
    assert.equal(errorOf(replaced(0, 'v=1')), 'line 1: v=1: only version 0 exists');
    assert.equal(errorOf([...MINIMAL, 'v=0'].join('\n')), 'line 7: a second v= line');
    assert.equal(errorOf(MINIMAL.filter((_, i) => i !== 1).join('\n')), 'no o= line');
    assert.equal(errorOf(MINIMAL.filter((_, i) => i !== 2).join('\n')), 'no s= line');
    assert.equal(errorOf(''), 'empty description (no v= line)');
  });
  it('two c= in one media description, o= inside a media description', () => {
    assert.equal(errorOf([...MINIMAL, 'c=IN IP4 1.2.3.4', 'c=IN IP4 1.2.3.4'].join('\n')), 'line 8: a second c= in the media description');
    assert.equal(errorOf([...MINIMAL, 'o=- 1 1 IN IP4 127.0.0.1'].join('\n')), 'line 7: o= only once, at session level');
  });
  it('limits: length, lines, m-lines', () => {
    assert.match(errorOf(MINIMAL.join('\n') + '\na=x:' + 'y'.repeat(SDP_LIMITS.maxLength)), /longer than 65536/);
    const manyLines = [...MINIMAL, ...Array.from({ length: SDP_LIMITS.maxLines }, () => 'a=sendrecv')].join('\n');
    assert.equal(errorOf(manyLines), `line ${SDP_LIMITS.maxLines + 1}: more than 1000 lines`);
    const manyMedia = [...MINIMAL, ...Array.from({ length: SDP_LIMITS.maxMedia }, () => 'm=audio 0 RTP/AVP 0')].join('\n');
    assert.equal(errorOf(manyMedia), `line ${MINIMAL.length + SDP_LIMITS.maxMedia}: more than 32 m= lines`);
  });
});
