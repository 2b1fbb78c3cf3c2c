import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CaptureReader } from './capture-reader.js';
import type { CaptureRecord } from './capture-record.js';
import {
  Bytes,
  block,
  concat,
  enhancedPacket,
  interfaceDescription,
  obsoletePacket,
  pcapHeader,
  pcapRecord,
  sectionHeader,
  simplePacket,
} from './testdata/capture-bytes.js';

interface Seen {
  offset: number;
  seconds: number;
  nanoseconds: number;
  linkType: number;
  interfaceId: number;
  data: number[];
  originalLength: number;
}

/** Reads `file` pushed in chunks of `chunk` bytes; the records (data copied) and the end's result. */
function read(file: Uint8Array, chunk = file.length || 1): { records: Seen[]; end: ReturnType<CaptureReader['end']> } {
  const records: Seen[] = [];
  const reader = new CaptureReader((r: CaptureRecord) => records.push({ ...r, data: [...r.data] }));
  for (let at = 0; at < file.length; at += chunk) {
    const pushed = reader.push(file.subarray(at, at + chunk));
    if (!pushed.ok) return { records, end: pushed };
  }
  return { records, end: reader.end() };
}

const data = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

describe('CaptureReader: pcap', () => {
  it('reads both byte orders and both resolutions, in chunks of any size', () => {
    for (const le of [true, false]) {
      for (const ns of [false, true]) {
        const file = concat(pcapHeader(le, 1, ns), pcapRecord(le, 1796637601, ns ? 123456789 : 123456, data(60)), pcapRecord(le, 1796637602, 5, data(3, 9), 1514));
        for (let chunk = 1; chunk <= file.length; chunk++) {
          const { records, end } = read(file, chunk);
          assert.ok(end.ok, `${le} ${ns} ${chunk}`);
          assert.deepEqual(end.value, { format: 'pcap', records: 2, bytes: file.length });
          assert.deepEqual(records[0], { offset: 24, seconds: 1796637601, nanoseconds: 123456789 - (ns ? 0 : 789), linkType: 1, interfaceId: 0, data: [...data(60)], originalLength: 60 });
          assert.deepEqual(records[1], { offset: 24 + 76, seconds: 1796637602, nanoseconds: ns ? 5 : 5000, linkType: 1, interfaceId: 0, data: [...data(3, 9)], originalLength: 1514 });
        }
      }
    }
  });

  it('names the offset and what was expected when the file is cut or damaged', () => {
    const file = concat(pcapHeader(true, 1), pcapRecord(true, 1, 0, data(30)));
    const cut = read(file.subarray(0, 24 + 16 + 20));
    assert.ok(!cut.end.ok);
    assert.equal(cut.end.error.message, 'truncated record at offset 24: header says 46 bytes, 36 left');
    const header = read(file.subarray(0, 30));
    assert.ok(!header.end.ok);
    assert.equal(header.end.error.message, 'truncated record header at offset 24: 16 bytes expected, 6 left');
    const fileHeader = read(file.subarray(0, 10));
    assert.ok(!fileHeader.end.ok);
    assert.equal(fileHeader.end.error.message, 'truncated pcap file header at offset 0: 24 bytes expected, 10 left');
    const magic = read(Uint8Array.from([1, 2]));
    assert.ok(!magic.end.ok);
    assert.equal(magic.end.error.message, 'truncated magic number at offset 0: 4 bytes expected, 2 left');

    const foreign = read(new TextEncoder().encode('GIF89a....'));
    assert.ok(!foreign.end.ok);
    assert.equal(foreign.end.error.kind, 'not-a-capture');
    assert.match(foreign.end.error.message, /^not a pcap or pcapng file: magic 0x47494638 at offset 0/);

    const huge = concat(pcapHeader(true, 1), new Bytes(true).u32(0).u32(0).u32(0x7fffffff).u32(60).bytes());
    const tooLarge = read(huge);
    assert.ok(!tooLarge.end.ok);
    assert.equal(tooLarge.end.error.kind, 'too-large');
    assert.equal(tooLarge.end.error.offset, 24);
    assert.equal(tooLarge.end.error.message, 'record at offset 24: captured length 2147483647 is more than the limit 262144 (a damaged file?)');
  });

  it('takes no more input after an error', () => {
    const reader = new CaptureReader(() => assert.fail('no record'));
    const first = reader.push(Uint8Array.from([0, 0, 0, 0, 0]));
    assert.ok(!first.ok);
    const again = reader.push(concat(pcapHeader(true, 1), pcapRecord(true, 1, 0, data(10))));
    assert.ok(!again.ok);
    assert.equal(again.error, first.error);
  });

  it('the record data are views that stay valid until the next push', () => {
    const file = concat(pcapHeader(true, 1), pcapRecord(true, 1, 0, data(100)));
    const views: Uint8Array[] = [];
    const reader = new CaptureReader((r) => views.push(r.data));
    const copy = file.slice();
    assert.ok(reader.push(copy.subarray(0, 50)).ok);
    assert.ok(reader.push(copy.subarray(50)).ok);
    copy.fill(0); // the caller reuses its buffer: the carried record was copied
    assert.deepEqual([...views[0]!], [...data(100)]);
  });
});

describe('CaptureReader: pcapng', () => {
  it('reads enhanced, simple and obsolete packet blocks, skips unknown blocks, in both byte orders and in chunks of any size', () => {
    for (const le of [true, false]) {
      const file = concat(
        sectionHeader(le),
        interfaceDescription(le, 1, 64),
        block(le, 0x00000004, data(10)), // a Name Resolution Block: skipped
        enhancedPacket(le, 0, 1796637601123456n, data(60)),
        simplePacket(le, data(100), 100), // cut to the interface's snapshot length, 64
        obsoletePacket(le, 0, 1796637602000001n, data(5)),
        block(le, 0x00000bad, new Uint8Array(0)),
      );
      for (let chunk = 1; chunk <= file.length; chunk += chunk < 40 ? 1 : 13) {
        const { records, end } = read(file, chunk);
        assert.ok(end.ok, end.ok ? '' : end.error.message);
        assert.equal(end.value.format, 'pcapng');
        assert.equal(records.length, 3);
        assert.deepEqual(
          records.map((r) => [r.seconds, r.nanoseconds, r.linkType, r.interfaceId, r.data.length, r.originalLength]),
          [
            [1796637601, 123456000, 1, 0, 60, 60],
            [0, 0, 1, 0, 64, 100],
            [1796637602, 1000, 1, 0, 5, 5],
          ],
        );
        assert.deepEqual(records[0]!.data, [...data(60)]);
      }
    }
  });

  it('applies if_tsresol (powers of 10 and of 2) and if_tsoffset, exactly past 2^53 units', () => {
    const le = true;
    const opt = (code: number, bytes: number[]): { code: number; value: Uint8Array } => ({ code, value: Uint8Array.from(bytes) });
    const file = concat(
      sectionHeader(le),
      interfaceDescription(le, 1, 0, [opt(9, [9])]), // nanoseconds
      interfaceDescription(le, 101, 0, [opt(9, [0x80 | 10])]), // 1/1024 s
      interfaceDescription(le, 113, 0, [opt(9, [3]), opt(14, [...new Bytes(true).u64(100n).bytes()])]), // ms, +100 s
      enhancedPacket(le, 0, 1796637601123456789n, data(1)),
      enhancedPacket(le, 1, 5n * 1024n + 512n, data(1)),
      enhancedPacket(le, 2, 1500n, data(1)),
    );
    const { records, end } = read(file);
    assert.ok(end.ok);
    assert.deepEqual(
      records.map((r) => [r.seconds, r.nanoseconds, r.linkType, r.interfaceId]),
      [
        [1796637601, 123456789, 1, 0],
        [5, 500000000, 101, 1],
        [101, 500000000, 113, 2],
      ],
    );
  });

  it('a new section starts its own interfaces and may change the byte order', () => {
    const file = concat(sectionHeader(true), interfaceDescription(true, 1, 0), enhancedPacket(true, 0, 1n, data(2)), sectionHeader(false), interfaceDescription(false, 101, 0), enhancedPacket(false, 0, 2n, data(2)));
    const { records, end } = read(file, 5);
    assert.ok(end.ok);
    assert.deepEqual(
      records.map((r) => [r.linkType, r.interfaceId]),
      [
        [1, 0],
        [101, 0],
      ],
    );
    const orphan = read(concat(sectionHeader(true), interfaceDescription(true, 1, 0), sectionHeader(true), enhancedPacket(true, 0, 1n, data(2))));
    assert.ok(!orphan.end.ok);
    assert.equal(orphan.end.error.message, 'enhanced packet block at offset 76: interface 0, but the section describes 0');
  });

  it('names the offset of a damaged block', () => {
    const shb = sectionHeader(true);
    const idb = interfaceDescription(true, 1, 0);
    const at = shb.length + idb.length;
    const epb = enhancedPacket(true, 0, 1n, data(8));
    const withLength = (n: number): Uint8Array => {
      const b = epb.slice();
      new DataView(b.buffer).setUint32(4, n, true);
      return b;
    };
    const cases: [Uint8Array, string][] = [
      [withLength(42), `enhanced packet block at offset ${at}: total length 42, expected a multiple of 4 of at least 12`],
      [withLength(epb.length + 4), `truncated enhanced packet block at offset ${at}: header says ${epb.length + 4} bytes, ${epb.length} left`],
      // the last 4 bytes of the shortened block are packet data (data(8)'s last four, as a little-endian number)
      [withLength(epb.length - 4), `enhanced packet block at offset ${at}: total length ${epb.length - 4} at its start but ${new DataView(data(8).buffer).getUint32(4, true)} at its end`],
      [withLength(0x7ffffffc), `enhanced packet block at offset ${at}: total length 2147483644 is more than the limit 16777216 (a damaged file?)`],
      [enhancedPacket(true, 3, 1n, data(8)), `enhanced packet block at offset ${at}: interface 3, but the section describes 1`],
    ];
    for (const [bad, message] of cases) {
      const r = read(concat(shb, idb, bad), 7);
      assert.ok(!r.end.ok, message);
      assert.equal(r.end.error.message, message);
      assert.equal(r.end.error.offset, at);
    }
    const bom = sectionHeader(true).slice();
    bom[8] = 0x99;
    const r = read(bom);
    assert.ok(!r.end.ok);
    assert.match(r.end.error.message, /^section header block at offset 0: byte-order magic 0x993c2b1a, expected 0x1a2b3c4d in either byte order$/);
    const cutInside = enhancedPacket(true, 0, 1n, data(8)).slice();
    new DataView(cutInside.buffer).setUint32(20, 400, true); // captured length past the block
    const c = read(concat(shb, idb, cutInside));
    assert.ok(!c.end.ok);
    assert.equal(c.end.error.message, `enhanced packet block at offset ${at}: captured length 400 does not fit its total length 40`);
  });
});
