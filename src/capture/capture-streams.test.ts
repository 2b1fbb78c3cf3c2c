import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaptureRecord } from '../pcap/capture-record.js';
import { LinkType } from '../pcap/link-layer.js';
import { tcpFrame, udpFrame, type FrameEndpoints } from '../pcap/pcap-writer.js';
import { CaptureStreams } from './capture-streams.js';
import { RtpStreams, type UdpDatagram } from './rtp-streams.js';
import { rtpPacket as rtp } from './testdata/rtp-packet.js';

const T0 = 1_765_000_000;

function record(ns: number, data: Uint8Array, linkType: number = LinkType.RAW): CaptureRecord {
  const seconds = T0 + Math.floor(ns / 1e9);
  return { offset: 0, seconds, nanoseconds: ns % 1e9, linkType, interfaceId: 0, data, originalLength: data.length };
}

const etherType = (ipFrame: Uint8Array): string => (ipFrame[0]! >> 4 === 4 ? '0800' : '86dd');

function ethernet(ipFrame: Uint8Array, vlan?: number): Uint8Array {
  const tag = vlan === undefined ? '' : `81000${vlan.toString(16).padStart(3, '0')}`;
  const head = Buffer.from(`000000000001000000000002${tag}${etherType(ipFrame)}`, 'hex');
  return Buffer.concat([head, ipFrame]);
}

function sll(ipFrame: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`000000010006000000000000${'0000'}${etherType(ipFrame)}`, 'hex'), ipFrame]);
}

/** An IPv4 frame cut into two fragments (RFC 791 §3.2), the first `firstBytes` (a multiple of 8) of its payload in the first. */
function fragments(frame: Uint8Array, firstBytes: number): [Uint8Array, Uint8Array] {
  const header = frame.subarray(0, 20);
  const payload = frame.subarray(20);
  const make = (part: Uint8Array, offset: number, more: boolean): Uint8Array => {
    const f = Buffer.concat([header, part]);
    f.writeUInt16BE(f.length, 2);
    f.writeUInt16BE(0x1234, 4);
    f.writeUInt16BE((more ? 0x2000 : 0) | (offset / 8), 6);
    return f;
  };
  return [make(payload.subarray(0, firstBytes), 0, true), make(payload.subarray(firstBytes), firstBytes, false)];
}

const A: FrameEndpoints = { src: '192.0.2.10', srcPort: 40000, dst: '198.51.100.20', dstPort: 50000 };
const B: FrameEndpoints = { src: '198.51.100.20', srcPort: 50000, dst: '192.0.2.10', dstPort: 40000 };
const V6: FrameEndpoints = { src: '2001:db8::10', srcPort: 41000, dst: '2001:db8::20', dstPort: 51000 };
const OTHER: FrameEndpoints = { src: '192.0.2.99', srcPort: 30000, dst: '192.0.2.98', dstPort: 30002 };

/** Packets every 20 ms with some jitter, a loss and a late one: the same on every path. */
function traffic(): Array<{ ns: number; ends: FrameEndpoints; payload: Uint8Array }> {
  const out: Array<{ ns: number; ends: FrameEndpoints; payload: Uint8Array }> = [];
  const jitter = [0, 3.1, 0.2, 7.9, 1.4, 0.03, 2.5, 4.444, 0.9, 1.1];
  for (let i = 0; i < 40; i++) {
    if (i === 11) continue; // lost
    const ns = Math.round((i * 20 + jitter[i % jitter.length]!) * 1e6);
    const seq = i === 21 ? 19 : i; // a late/duplicate number
    out.push({ ns, ends: A, payload: rtp(0, 65530 + seq, 1000 + i * 160, 0x11111111, i === 0) });
    out.push({ ns: ns + 1_500_000, ends: B, payload: rtp(8, 100 + i, 5000 + i * 160, 0x22222222) });
    out.push({ ns: ns + 2_000_000, ends: V6, payload: rtp(96, 7 + i, 9 + i * 960, 0x33333333) });
    out.push({ ns: ns + 2_500_000, ends: OTHER, payload: rtp(0, i, i * 160, 0x44444444) });
  }
  return out;
}

/** The reference: RtpStreams (whose figures are tshark's), fed the same datagrams. */
function reference(): RtpStreams {
  const r = new RtpStreams({ origin: BigInt(T0) * 1_000_000_000n });
  for (const p of traffic()) {
    const d: UdpDatagram = { time: BigInt(T0) * 1_000_000_000n + BigInt(p.ns), ...p.ends, payload: p.payload };
    r.add(d);
  }
  return r;
}

describe('CaptureStreams', () => {
  it('finds the streams and figures of RtpStreams, on raw IP, Ethernet (with and without VLAN), SLL, IPv6 and fragments', () => {
    const paths: Array<(frame: Uint8Array, ns: number) => CaptureRecord[]> = [
      (f, ns) => [record(ns, f)],
      (f, ns) => [record(ns, ethernet(f), LinkType.ETHERNET)],
      (f, ns) => [record(ns, ethernet(f, 42), LinkType.ETHERNET)],
      (f, ns) => [record(ns, sll(f), LinkType.LINUX_SLL)],
      (f, ns) => (f[0]! >> 4 === 4 ? fragments(f, 96).map((part, i) => record(ns - 10_000 + i * 10_000, part)) : [record(ns, f)]),
    ];
    const expected = reference().reports();
    for (const [n, path] of paths.entries()) {
      const streams = new CaptureStreams({ anyUdp: true });
      for (const p of traffic()) for (const r of path(udpFrame(p.ends, p.payload)!, p.ns)) streams.add(r);
      const got = streams.reports();
      assert.equal(got.length, 4, `path ${n}`);
      for (const [i, e] of expected.entries()) {
        const { callId, ...rest } = got[i]!;
        assert.equal(callId, undefined);
        // the fragments arrive 10 µs earlier than the whole datagram: the origin moves, the figures too
        if (n === 4) assert.equal(rest.packets, e.packets, `path ${n} stream ${i}`);
        else assert.deepEqual(rest, e, `path ${n} stream ${i}`);
      }
      assert.equal(streams.counts.rtp, traffic().length, `path ${n}`);
    }
  });

  it('reads only the media endpoints SDP announced, each stream with its call and the call’s payload formats', () => {
    const streams = new CaptureStreams();
    const early = traffic().slice(0, 4);
    for (const p of early) streams.add(record(p.ns, udpFrame(p.ends, p.payload)!));
    assert.equal(streams.reports().length, 0, 'nothing announced yet');
    assert.equal(streams.counts.otherUdp, 4);
    streams.addMediaEndpoint('198.51.100.20', 50000, { callId: 'call-1@example.com' }); // A's destination, B's source
    streams.addMediaEndpoint('2001:db8:0:0::20', 51000, { callId: 'call-2@example.com', formats: new Map([[96, { name: 'opus', clockRate: 48000 }]]) });
    for (const p of traffic().slice(4)) streams.add(record(p.ns, udpFrame(p.ends, p.payload)!));
    const got = streams.reports();
    assert.deepEqual(
      got.map((s) => [s.callId, s.src, s.ssrc, s.payloadNames, s.packets]),
      [
        ['call-1@example.com', '192.0.2.10', 0x11111111, 'g711U', 38],
        ['call-1@example.com', '198.51.100.20', 0x22222222, 'g711A', 38],
        ['call-2@example.com', '2001:db8::10', 0x33333333, 'opus', 38],
      ],
    );
    assert.ok(got[2]!.maxJitterMs > 0, 'a clock rate from the rtpmap: jitter is computed');
  });

  it('hands SIP-looking UDP and TCP to onSegment, and never reads them as RTP', () => {
    const seen: string[] = [];
    const streams = new CaptureStreams({ anyUdp: true, onSegment: (s) => seen.push(`${s.protocol} ${Buffer.from(s.payload).toString('latin1').slice(0, 6)}`) });
    const sip = Buffer.from('INVITE sip:bob@example.com SIP/2.0\r\n\r\n');
    streams.add(record(0, udpFrame({ src: '192.0.2.1', srcPort: 5060, dst: '192.0.2.2', dstPort: 5060 }, sip)!));
    streams.add(record(1, tcpFrame({ src: '192.0.2.1', srcPort: 5061, dst: '192.0.2.2', dstPort: 5060 }, { seq: 1 }, Buffer.from('SIP/2.0 200 OK\r\n'))!));
    streams.add(record(2, udpFrame(A, rtp(0, 1, 160, 9))!));
    streams.add(record(3, Buffer.from('0000000000010000000000020806', 'hex'), LinkType.ETHERNET)); // ARP
    assert.deepEqual(seen, ['udp INVITE', 'tcp SIP/2.']);
    assert.equal(streams.reports().length, 1);
    assert.equal(streams.counts.skipped, 1);
  });

  it('counts RTCP and STUN on media flows and damaged packets, with the first damaged one’s offset', () => {
    const streams = new CaptureStreams({ anyUdp: true });
    streams.add(record(0, udpFrame(A, Buffer.from('81c9000711111111', 'hex'))!));
    streams.add(record(1, udpFrame(A, Buffer.from('000100002112a442000000000000000000000000', 'hex'))!));
    const bad = Buffer.from(udpFrame(A, rtp(0, 1, 1, 1))!);
    bad[0] = 0x4f; // a header length of 60 bytes, more than the UDP header leaves
    streams.add({ ...record(2, bad.subarray(0, 40)), offset: 1234 });
    assert.equal(streams.counts.notRtpOnMedia, 2);
    assert.equal(streams.counts.malformed, 1);
    assert.match(streams.firstMalformed!, /^packet at offset 1234: IPv4 header/);
    assert.equal(streams.reports().length, 0);
  });
});
