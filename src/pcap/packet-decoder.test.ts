import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CaptureRecord } from './capture-record.js';
import { PacketDecoder, type Decoded } from './packet-decoder.js';

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [...u16(v >>> 16), ...u16(v & 0xffff)];
const udp = (sport: number, dport: number, data: number[]): number[] => [...u16(sport), ...u16(dport), ...u16(8 + data.length), 0, 0, ...data];
function ipv4(proto: number, payload: number[], opts: { id?: number; offset?: number; more?: boolean; total?: number; ihl?: number } = {}): number[] {
  const flags = (opts.more === true ? 0x2000 : 0) | ((opts.offset ?? 0) / 8);
  return [0x40 | (opts.ihl ?? 5), 0, ...u16(opts.total ?? 20 + payload.length), ...u16(opts.id ?? 1), ...u16(flags), 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, ...payload];
}
const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 1];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 2];
const ipv6 = (next: number, payload: number[]): number[] => [0x60, 0, 0, 0, ...u16(payload.length), next, 64, ...V6_SRC, ...V6_DST, ...payload];
const ether = (type: number, payload: number[]): number[] => [...Array<number>(12).fill(2), ...u16(type), ...payload];

function record(linkType: number, bytes: number[], seconds = 1000, originalLength = bytes.length): CaptureRecord {
  return { offset: 99, seconds, nanoseconds: 0, linkType, interfaceId: 0, data: Uint8Array.from(bytes), originalLength };
}
function segment(d: Decoded) {
  assert.equal(d.kind, 'segment', JSON.stringify(d));
  if (d.kind !== 'segment') throw new Error('unreachable');
  return { ...d.segment, payload: [...d.segment.payload] };
}

describe('PacketDecoder', () => {
  it('drops Ethernet padding after the IPv4 total length', () => {
    const frame = [...ether(0x0800, ipv4(17, udp(5060, 5061, [1, 2, 3]))), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const s = segment(new PacketDecoder().decode(record(1, frame)));
    assert.deepEqual([s.protocol, s.src, s.dst, s.srcPort, s.dstPort, s.payload, s.truncated], ['udp', '192.0.2.1', '192.0.2.2', 5060, 5061, [1, 2, 3], false]);
    // TCP has no length of its own: a bare ACK padded to Ethernet's 60 bytes carries no data
    const ack = [...u16(5060), ...u16(40000), ...u32(1), ...u32(2), 0x50, 0x10, ...u16(512), 0, 0, 0, 0];
    const padded = [...ether(0x0800, ipv4(6, ack)), 0, 0, 0, 0, 0, 0];
    assert.equal(padded.length, 60);
    assert.deepEqual(segment(new PacketDecoder().decode(record(1, padded))).payload, []);
  });

  it('gives a cut packet as truncated, with what was captured', () => {
    const frame = ether(0x0800, ipv4(17, udp(5060, 5061, Array<number>(100).fill(7))));
    const s = segment(new PacketDecoder().decode(record(1, frame.slice(0, 14 + 20 + 8 + 10), 1000, frame.length)));
    assert.equal(s.truncated, true);
    assert.deepEqual(s.payload, Array<number>(10).fill(7));
  });

  it('reads the BSD loopback family in either byte order, and skips what is not IP, UDP or TCP', () => {
    const d = new PacketDecoder();
    const ip = ipv4(17, udp(1, 2, [9]));
    assert.equal(segment(d.decode(record(0, [0, 0, 0, 2, ...ip]))).src, '192.0.2.1');
    assert.equal(segment(d.decode(record(0, [2, 0, 0, 0, ...ip]))).src, '192.0.2.1');
    assert.equal(segment(d.decode(record(108, [0, 0, 0, 24, ...ipv6(17, udp(1, 2, [9]))]))).src, '2001:db8::1');
    assert.deepEqual(d.decode(record(1, ether(0x0806, Array<number>(28).fill(0)))), { kind: 'skipped', reason: 'EtherType 0x0806' });
    assert.deepEqual(d.decode(record(1, ether(0x0800, ipv4(1, [8, 0, 0, 0])))), { kind: 'skipped', reason: 'IP protocol 1' });
    assert.deepEqual(d.decode(record(147, [1, 2, 3])), { kind: 'skipped', reason: 'link type 147' });
    assert.deepEqual(d.decode(record(113, [...Array<number>(14).fill(0), ...u16(0x0806)])), { kind: 'skipped', reason: 'EtherType 0x0806' });
  });

  it('names the record and the fault of a malformed packet', () => {
    const d = new PacketDecoder();
    assert.deepEqual(d.decode(record(1, ether(0x0800, ipv4(17, udp(1, 2, [1]), { ihl: 4 })))), {
      kind: 'malformed',
      offset: 99,
      message: 'packet at offset 99: IPv4 header: header length 16, expected at least 20',
    });
    assert.deepEqual(d.decode(record(101, [0x45, 0, 0])), { kind: 'malformed', offset: 99, message: 'packet at offset 99: IPv4 header: 20 bytes expected, 3 captured' });
    const shortUdp = ipv4(17, [0, 1, 0, 2, 0, 200, 0, 0, 1]);
    assert.deepEqual(d.decode(record(101, shortUdp)), { kind: 'malformed', offset: 99, message: 'packet at offset 99: UDP header: length 200, but the IP payload holds 9 bytes' });
    assert.deepEqual(d.decode(record(1, [1, 2, 3])), { kind: 'malformed', offset: 99, message: 'packet at offset 99: Ethernet header: 14 bytes expected, 3 captured' });
  });

  it('walks IPv6 extension headers, and reads TCP', () => {
    const tcp = [...u16(40000), ...u16(5060), ...u32(0xfffffff0), ...u32(7), 0x60, 0x12, ...u16(1024), 0, 0, 0, 0, 2, 4, 5, 180, 0x41];
    // Hop-by-Hop (8 bytes) then Destination Options (16 bytes) then TCP with a 4-byte option
    const packet = ipv6(0, [60, 0, 1, 4, 0, 0, 0, 0, 6, 1, 1, 12, ...Array<number>(12).fill(0), ...tcp]);
    const s = segment(new PacketDecoder().decode(record(229, packet)));
    assert.deepEqual([s.protocol, s.ipVersion, s.src, s.dst, s.srcPort, s.dstPort, s.payload], ['tcp', 6, '2001:db8::1', '2001:db8::2', 40000, 5060, [0x41]]);
    assert.deepEqual(s.tcp, { seq: 0xfffffff0, ack: 7, flags: 0x12, window: 1024 });
  });

  it('reassembles IPv4 fragments, and IPv6 fragments whose fragmentable part starts with an extension header', () => {
    const d = new PacketDecoder();
    const datagram = udp(5060, 5060, Array.from({ length: 40 }, (_, i) => i));
    assert.deepEqual(d.decode(record(101, ipv4(17, datagram.slice(24), { id: 5, offset: 24 }))), { kind: 'held' });
    assert.deepEqual(d.decode(record(101, ipv4(17, datagram.slice(0, 24), { id: 5, more: true }))).kind, 'segment');
    assert.equal(d.reassembler.counts.reassembled, 1);
    assert.equal(d.reassembler.size, 0);

    const fragmentable = [17, 0, 1, 4, 0, 0, 0, 0, ...udp(7, 8, Array.from({ length: 30 }, (_, i) => 100 + i))]; // Destination Options, then UDP
    const frag = (offset: number, more: boolean, bytes: number[]): number[] => ipv6(44, [60, 0, ...u16(offset | (more ? 1 : 0)), ...u32(77), ...bytes]);
    assert.deepEqual(d.decode(record(229, frag(0, true, fragmentable.slice(0, 16)))), { kind: 'held' });
    const s = segment(d.decode(record(229, frag(16, false, fragmentable.slice(16)))));
    assert.deepEqual([s.srcPort, s.dstPort, s.payload.length, s.payload[0], s.reassembled], [7, 8, 30, 100, true]);
  });
});
