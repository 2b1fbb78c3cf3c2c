import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../hep/index.js';
import { messageLabel, summariseHep, type CapturedMessage } from './captured-message.js';

const enc = new TextEncoder();
const OK = [
  'SIP/2.0 486 Busy Here', 'Via: SIP/2.0/TLS 192.0.2.10:5061;branch=z9hG4bK1', 'From: <sip:alice@example.com>;tag=a', 'To: "Bob" <sip:bob@example.com>;tag=b',
  'Call-ID: c-486', 'CSeq: 2 INVITE', 'Content-Length: 0', '', '',
].join('\r\n');

const base: HepPacket = {
  ipFamily: HepIpFamily.IPV6, ipProtocol: HepIpProtocol.TCP, sourceIpv6: '2001:db8::10', destinationIpv6: '2001:db8::20', sourcePort: 5061,
  destinationPort: 40000, timeSeconds: 1_700_000_000, timeMicroseconds: 7, protocolType: HepProtocolType.SIP, payload: enc.encode(OK),
};

function summary(p: HepPacket): CapturedMessage {
  const m = summariseHep(p, 42);
  assert.equal(typeof m, 'object', String(m));
  return m as CapturedMessage;
}

describe('summariseHep', () => {
  it('a response: status, reason, CSeq, From and To with tags, IPv6 addresses; TLS from the top Via over TCP', () => {
    const { payload, ...m } = summary(base);
    assert.deepEqual(m, {
      timeUs: 1_700_000_000_000_007, receivedUs: 42, callId: 'c-486', srcAddr: '2001:db8::10', srcPort: 5061, dstAddr: '2001:db8::20', dstPort: 40000,
      transport: 'tls', protocolType: 1, status: 486, reason: 'Busy Here', cseq: '2 INVITE', fromUri: 'sip:alice@example.com', fromTag: 'a',
      toUri: 'sip:bob@example.com', toTag: 'b',
    });
    assert.equal(Buffer.from(payload).toString(), OK);
    assert.equal(messageLabel(summary(base)), '486 Busy Here');
  });

  it('a Via naming WebSocket over UDP changes nothing: HEP says UDP', () => {
    assert.equal(summary({ ...base, ipProtocol: HepIpProtocol.UDP, payload: enc.encode(OK.replace('SIP/2.0/TLS', 'SIP/2.0/WSS')) }).transport, 'udp');
    assert.equal(summary({ ...base, payload: enc.encode(OK.replace('SIP/2.0/TLS', 'SIP/2.0/WS')) }).transport, 'ws');
    assert.equal(summary({ ...base, payload: enc.encode(OK.replace('SIP/2.0/TLS', 'SIP/2.0/TCP')) }).transport, 'tcp');
    assert.equal(summary({ ...base, ipProtocol: HepIpProtocol.SCTP }).transport, 'sctp');
  });

  it('no time chunks: the arrival time; microseconds past a second are cut to 999999', () => {
    const { timeSeconds: _s, timeMicroseconds: _u, ...untimed } = base;
    assert.equal(summary(untimed).timeUs, 42);
    assert.equal(summary({ ...base, timeMicroseconds: 5_000_000 }).timeUs, 1_700_000_000_999_999);
  });

  it('a compressed payload (gzip or deflate) is inflated; one that does not inflate, or past 65,535 bytes, is refused', () => {
    const { payload: _p, ...bare } = base;
    for (const z of [gzipSync, deflateSync]) {
      const m = summary({ ...bare, compressedPayload: z(enc.encode(OK)) });
      assert.equal(m.callId, 'c-486');
      assert.equal(Buffer.from(m.payload).toString(), OK);
    }
    assert.equal(summariseHep({ ...bare, compressedPayload: enc.encode('not compressed') }, 0), 'bad-compressed-payload');
    assert.equal(summariseHep({ ...bare, compressedPayload: gzipSync(new Uint8Array(70_000)) }, 0), 'bad-compressed-payload');
    assert.equal(summariseHep(bare, 0), 'no-payload');
  });

  it('what is not SIP goes under its correlation ID; SIP without the protocol chunk is still read; unreadable SIP keeps what can be read', () => {
    const rtcp = summary({ ...base, protocolType: HepProtocolType.RTCP, correlationId: 'c-486', payload: Uint8Array.of(0x80, 0xc8, 0, 6) });
    assert.deepEqual([rtcp.callId, rtcp.method, rtcp.status, messageLabel(rtcp)], ['c-486', undefined, undefined, 'proto 5']);
    const { protocolType: _t, ...untyped } = base;
    assert.equal(summary(untyped).status, 486);
    const noCallId = summary({ ...base, correlationId: 'corr', payload: enc.encode(OK.replace('Call-ID: c-486\r\n', '')) });
    assert.deepEqual([noCallId.callId, noCallId.status, noCallId.cseq], ['corr', 486, '2 INVITE']);
    const junk = summary({ ...base, payload: enc.encode('\x00\x01 not SIP') });
    assert.deepEqual([junk.callId, junk.method, junk.status, messageLabel(junk)], ['', undefined, undefined, 'SIP?']);
  });
});
