/**
 * Damaged files never make the reader or the decoder throw, and memory stays bounded: valid files
 * with random bytes changed, cut, or pushed in random chunks (a seeded generator: a failure is
 * reproducible); and a long file read in chunks keeps at most one record between them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../lib/testdata/seeded-random.js';
import { CaptureReader } from './capture-reader.js';
import { PacketDecoder } from './packet-decoder.js';
import { concat, enhancedPacket, interfaceDescription, pcapHeader, pcapRecord, sectionHeader, simplePacket } from './testdata/capture-bytes.js';

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const udp = (data: number[]): number[] => [...u16(5060), ...u16(5060), ...u16(8 + data.length), 0, 0, ...data];
const ipv4 = (payload: number[], flags = 0): number[] => [0x45, 0, ...u16(20 + payload.length), 0, 9, ...u16(flags), 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...payload];
const ipv6 = (next: number, payload: number[]): number[] => [0x60, 0, 0, 0, ...u16(payload.length), next, 64, ...Array<number>(32).fill(1), ...payload];
const ether = (type: number, payload: number[]): number[] => [...Array<number>(12).fill(2), ...u16(type), ...payload];
const vlan = (payload: number[]): number[] => [...Array<number>(12).fill(2), 0x81, 0, 0, 5, 0x08, 0, ...payload];

const FRAMES: Uint8Array[] = [
  ether(0x0800, ipv4(udp([1, 2, 3, 4]))),
  ether(0x0800, ipv4(udp(Array<number>(24).fill(5)), 0x2000)),
  ether(0x0800, ipv4(Array<number>(16).fill(6), 3)),
  ether(0x86dd, ipv6(0, [44, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 1, 0, 0, 0, 7, ...udp([1])])),
  vlan(ipv4(udp([9, 9]))),
].map((f) => Uint8Array.from(f));

function files(): Uint8Array[] {
  const pcap = concat(pcapHeader(true, 1), ...FRAMES.map((f, i) => pcapRecord(true, 1000 + i, i, f)));
  const pcapBe = concat(pcapHeader(false, 1, true), ...FRAMES.map((f, i) => pcapRecord(false, 1000 + i, i, f)));
  const ng = concat(sectionHeader(true), interfaceDescription(true, 1, 0), ...FRAMES.map((f, i) => enhancedPacket(true, 0, BigInt(i) * 1_000_000n, f)), simplePacket(true, FRAMES[0]!));
  return [pcap, pcapBe, ng];
}

/** Reads `file` in random chunks; decodes each record. Throws only if the code under test does. */
function readAll(file: Uint8Array, next: () => number): void {
  const decoder = new PacketDecoder({ maxPending: 4 });
  const reader = new CaptureReader((r) => void decoder.decode(r), { maxBlock: 4096 });
  let at = 0;
  while (at < file.length) {
    const n = 1 + Math.floor(next() * 40);
    if (!reader.push(file.subarray(at, at + n)).ok) return;
    at += n;
  }
  reader.end();
}

describe('capture reader and decoder on damaged input', () => {
  it('never throw on valid files with bytes changed or cut short, read in random chunks', () => {
    const next = seededRandom(19);
    let runs = 0;
    for (const file of files()) {
      for (let round = 0; round < 1500; round++) {
        const bad = file.slice();
        const changes = 1 + Math.floor(next() * 4);
        for (let c = 0; c < changes; c++) bad[Math.floor(next() * bad.length)] = Math.floor(next() * 256);
        const cut = next() < 0.3 ? bad.subarray(0, Math.floor(next() * bad.length)) : bad;
        assert.doesNotThrow(() => readAll(cut, next), `seed 19, round ${round}`);
        runs++;
      }
    }
    assert.equal(runs, 4500);
  });

  it('keeps at most one record between chunks of a long file', () => {
    const record = pcapRecord(true, 1, 0, FRAMES[0]!);
    const file = concat(pcapHeader(true, 1), ...Array.from({ length: 2000 }, () => record));
    let records = 0;
    const reader = new CaptureReader(() => records++);
    let most = 0;
    for (let at = 0; at < file.length; at += 333) {
      assert.ok(reader.push(file.subarray(at, at + 333)).ok);
      most = Math.max(most, reader.pendingBytes);
    }
    assert.ok(reader.end().ok);
    assert.equal(records, 2000);
    assert.ok(most < record.length, `${most} bytes kept`);
  });
});
