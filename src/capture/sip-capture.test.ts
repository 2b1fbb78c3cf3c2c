import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TCP_ACK, TCP_FIN, TCP_SYN, type TransportSegment } from '../pcap/index.js';
import { pcapFileHeader, pcapRecord, tcpFrame, udpFrame } from '../pcap/pcap-writer.js';
import { looksLikeSip, readSipMessages, SipCapture, type CapturedSipMessage } from './sip-capture.js';
import { sipInvite, sipResponse, wsFrame } from './testdata/frames.js';

const C = { src: '192.0.2.1', srcPort: 40000, dst: '192.0.2.2', dstPort: 5060 };
const S = { src: '192.0.2.2', srcPort: 5060, dst: '192.0.2.1', dstPort: 40000 };

function tcp(ends: typeof C, seq: number, data: string | Uint8Array, flags = TCP_ACK): TransportSegment {
  return {
    protocol: 'tcp', ipVersion: 4, ...ends, payload: typeof data === 'string' ? Buffer.from(data) : data,
    tcp: { seq, ack: 0, flags, window: 1000 }, vlanIds: [], truncated: false, reassembled: false,
  };
}

function udp(ends: typeof C, data: string): TransportSegment {
  return { protocol: 'udp', ipVersion: 4, ...ends, payload: Buffer.from(data), tcp: undefined, vlanIds: [], truncated: false, reassembled: false };
}

function collect() {
  const out: CapturedSipMessage[] = [];
  const cap = new SipCapture((m) => out.push(m));
  const summary = () => out.map((m) => `${m.transport} ${m.src}:${m.srcPort} ${m.message.isRequest ? m.message.method : m.message.status} ${m.message.callId} t=${m.time}`);
  return { cap, out, summary };
}

describe('SipCapture', () => {
  it('UDP: one message per datagram; other datagrams and keepalives are left', () => {
    const { cap, summary } = collect();
    cap.add(udp(C, sipInvite('u1')), 10n, 24);
    cap.add(udp(C, '\r\n\r\n'), 11n, 100);
    cap.add(udp(C, '\x80\x00\x00\x01rtp'), 12n, 200);
    cap.add(udp(S, sipResponse('u1', 180, 'Ringing')), 13n, 300);
    assert.deepEqual(summary(), ['udp 192.0.2.1:40000 INVITE u1 t=10', 'udp 192.0.2.2:5060 180 u1 t=13']);
  });

  it('TCP: a message split across segments seen out of order, two messages in one segment', () => {
    const { cap, out, summary } = collect();
    const invite = sipInvite('t1', 'v=0\r\n');
    const two = sipResponse('t1', 100, 'Trying') + sipResponse('t1', 180, 'Ringing');
    cap.add(tcp(C, 999, '', TCP_SYN), 1n, 0);
    cap.add(tcp(C, 1000 + 40, invite.slice(40)), 2n, 1);
    assert.equal(out.length, 0);
    cap.add(tcp(C, 1000, invite.slice(0, 40)), 3n, 2);
    cap.add(tcp(S, 5000, two), 4n, 3);
    cap.add(tcp(S, 5000, two), 5n, 4); // retransmitted
    assert.deepEqual(summary(), ['tcp 192.0.2.1:40000 INVITE t1 t=3', 'tcp 192.0.2.2:5060 100 t1 t=4', 'tcp 192.0.2.2:5060 180 t1 t=4']);
    assert.equal(Buffer.from(out[0]!.bytes).toString(), invite);
    assert.equal(new TextDecoder().decode(out[0]!.message.body), 'v=0\r\n');
  });

  it('TCP: after a gap the stream finds the next message', () => {
    const { cap, summary } = collect();
    const first = sipInvite('g1');
    cap.add(tcp(C, 1, first.slice(0, 30)), 1n, 0);
    cap.add(tcp(C, 1 + first.length, sipInvite('g2')), 2n, 0); // held: the rest of g1 is never seen
    cap.finish();
    assert.deepEqual(summary(), ['tcp 192.0.2.1:40000 INVITE g2 t=2']);
  });

  it('WebSocket: the handshake, then masked and fragmented frames carrying SIP (RFC 7118)', () => {
    const { cap, summary } = collect();
    const get = 'GET / HTTP/1.1\r\nHost: 192.0.2.2\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n';
    const ok = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: sip\r\n\r\n';
    const invite = sipInvite('w1').replace('Content-Length: 0\r\n', ''); // optional over WS
    const mask = [1, 2, 3, 4];
    const client = Buffer.concat([Buffer.from(get), wsFrame(1, invite.slice(0, 50), false, mask), wsFrame(0, invite.slice(50), true, mask)]);
    cap.add(tcp(C, 1, client.subarray(0, 70)), 1n, 0);
    cap.add(tcp(C, 71, client.subarray(70)), 2n, 0);
    cap.add(tcp(S, 1, Buffer.concat([Buffer.from(ok), wsFrame(1, sipResponse('w1', 200, 'OK'))])), 3n, 0);
    assert.deepEqual(summary(), ['ws 192.0.2.1:40000 INVITE w1 t=2', 'ws 192.0.2.2:5060 200 w1 t=3']);
    assert.equal(cap.counts.webSocketFlows, 2);
  });

  it('TLS is counted and left opaque; other protocols too', () => {
    const { cap, out } = collect();
    cap.add(tcp(C, 1, Buffer.from([22, 3, 1, 0, 5, 1, 0, 0, 1, 0])), 1n, 0);
    cap.add(tcp(C, 11, sipInvite('hidden')), 2n, 0);
    cap.add(tcp(S, 1, 'SSH-2.0-OpenSSH\r\n'), 3n, 0);
    assert.equal(out.length, 0);
    assert.equal(cap.counts.tlsFlows, 1);
    assert.equal(cap.counts.otherFlows, 1);
  });

  it('a message that looks like SIP and does not parse is counted with its place', () => {
    const { cap, out } = collect();
    cap.add(udp(C, 'INVITE sip:x SIP/2.0\r\nVia: nonsense\r\n\r\n'), 7n, 1234);
    assert.equal(out.length, 0);
    assert.equal(cap.counts.malformed, 1);
    assert.equal(cap.faults[0]!.offset, 1234);
  });
});

describe('looksLikeSip', () => {
  it('request lines ending in SIP/2.0 and status lines', () => {
    assert.ok(looksLikeSip(Buffer.from('OPTIONS sip:a SIP/2.0\r\n')));
    assert.ok(looksLikeSip(Buffer.from('\r\nSIP/2.0 200 OK\r\n')));
    assert.ok(!looksLikeSip(Buffer.from('GET / HTTP/1.1\r\n')));
    assert.ok(!looksLikeSip(Buffer.from('hello')));
  });
});

describe('readSipMessages', () => {
  it('reads a pcap file built with the writer: UDP and TCP, times to the nanosecond, offsets', async () => {
    const t0 = 1_700_000_000_000_000_123n;
    const inv = sipInvite('f1');
    const records = [
      pcapRecord(t0, udpFrame(C, Buffer.from(inv))!),
      pcapRecord(t0 + 1n, tcpFrame(S, { seq: 100 }, Buffer.from(sipResponse('f1', 486, 'Busy Here').slice(0, 20)))!),
      pcapRecord(t0 + 2n, tcpFrame(S, { seq: 120, flags: TCP_ACK | TCP_FIN }, Buffer.from(sipResponse('f1', 486, 'Busy Here').slice(20)))!),
    ];
    const file = Buffer.concat([pcapFileHeader(), ...records]);
    async function* chunks() {
      for (let i = 0; i < file.length; i += 7) yield file.subarray(i, i + 7);
    }
    const got: CapturedSipMessage[] = [];
    const r = await readSipMessages(chunks(), (m) => got.push(m));
    assert.equal(r.error, undefined);
    assert.deepEqual(got.map((m) => [m.transport, m.time, m.offset]), [['udp', t0, 24], ['tcp', t0 + 2n, 24 + records[0]!.length + records[1]!.length]]);
    assert.equal(got[1]!.message.isRequest ? 0 : got[1]!.message.status, 486);
  });

  it('a truncated file: the messages before the cut, and the error with its offset', async () => {
    const rec = pcapRecord(5n, udpFrame(C, Buffer.from(sipInvite('cut')))!);
    const file = Buffer.concat([pcapFileHeader(), rec, rec.subarray(0, 30)]);
    async function* one() {
      yield file;
    }
    const got: CapturedSipMessage[] = [];
    const r = await readSipMessages(one(), (m) => got.push(m));
    assert.equal(got.length, 1);
    assert.equal(r.error?.offset, 24 + rec.length);
  });
});
