import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../pcap/index.js';
import { TcpReassembler, type TcpHalfFlow, type TcpReassemblyOptions } from './tcp-reassembly.js';

const A: TcpHalfFlow = { src: '192.0.2.1', srcPort: 40000, dst: '192.0.2.2', dstPort: 5060 };
const B: TcpHalfFlow = { src: '192.0.2.2', srcPort: 5060, dst: '192.0.2.1', dstPort: 40000 };

function harness(options: TcpReassemblyOptions = {}) {
  const streams = new Map<string, string>();
  const gaps: string[] = [];
  const ended: string[] = [];
  const r = new TcpReassembler(
    {
      data: (_f, key, bytes, _t, gap) => {
        if (gap) gaps.push(key);
        streams.set(key, (streams.get(key) ?? '') + Buffer.from(bytes).toString('latin1'));
      },
      end: (key) => ended.push(key),
    },
    options,
  );
  const seg = (flow: TcpHalfFlow, seq: number, text: string, flags = TCP_ACK, time = 0n) =>
    r.add(flow, { seq: seq >>> 0, ack: 0, flags, window: 1000 }, Buffer.from(text, 'latin1'), time);
  const text = (flow: TcpHalfFlow) => streams.get(`${flow.src} ${flow.srcPort} ${flow.dst} ${flow.dstPort}`) ?? '';
  return { r, seg, text, gaps, ended };
}

describe('TcpReassembler', () => {
  it('puts segments seen out of order back in order, after the SYN', () => {
    const h = harness();
    h.seg(A, 1000, '', TCP_SYN);
    h.seg(A, 1011, 'world', TCP_ACK);
    h.seg(A, 1006, ' big ', TCP_ACK);
    assert.equal(h.text(A), '');
    h.seg(A, 1001, 'hello', TCP_ACK);
    assert.equal(h.text(A), 'hello big world');
    assert.equal(h.r.counts.outOfOrder, 2);
    assert.equal(h.r.heldBytes, 0);
  });

  it('drops retransmissions and keeps only the new bytes of an overlapping segment', () => {
    const h = harness();
    h.seg(A, 1000, '', TCP_SYN);
    h.seg(A, 1001, 'abcdef');
    h.seg(A, 1001, 'abcdef');
    h.seg(A, 1004, 'defghi');
    h.seg(A, 1013, 'mn'); // held
    h.seg(A, 1013, 'mn'); // a retransmission of a held segment
    h.seg(A, 1010, 'jkl');
    assert.equal(h.text(A), 'abcdefghijklmn');
    assert.equal(h.r.counts.retransmissions, 2);
  });

  it('keeps the two directions apart', () => {
    const h = harness();
    h.seg(A, 1, 'request');
    h.seg(B, 99, 'response');
    assert.equal(h.text(A), 'request');
    assert.equal(h.text(B), 'response');
  });

  it('compares sequence numbers modulo 2^32', () => {
    const h = harness();
    h.seg(A, 0xfffffffa, '', TCP_SYN);
    h.seg(A, 0xfffffffb + 5 - 2 ** 32, '67890'); // wrapped, out of order
    h.seg(A, 0xfffffffb, '12345');
    assert.equal(h.text(A), '1234567890');
  });

  it('starts mid-connection at the first segment seen', () => {
    const h = harness();
    h.seg(A, 5_000_000, 'middle');
    h.seg(A, 5_000_006, ' end');
    assert.equal(h.text(A), 'middle end');
  });

  it('skips a gap once a direction holds more than its bound, and says so', () => {
    const h = harness({ maxHeldPerFlow: 8 });
    h.seg(A, 1, 'first');
    h.seg(A, 100, 'abcd'); // 95 bytes missing before it
    assert.deepEqual(h.gaps, []);
    h.seg(A, 104, 'efghi'); // now 9 held: past the bound
    assert.equal(h.text(A), 'firstabcdefghi');
    assert.equal(h.gaps.length, 1);
    assert.equal(h.r.counts.gaps, 1);
    assert.equal(h.r.heldBytes, 0);
  });

  it('bounds what all flows hold together, taking from the fullest', () => {
    const h = harness({ maxHeldPerFlow: 1000, maxHeldTotal: 10 });
    h.seg(A, 1, 'a');
    h.seg(B, 1, 'b');
    h.seg(A, 50, 'AAAAAA');
    h.seg(B, 50, 'BBB');
    assert.equal(h.r.heldBytes, 9);
    h.seg(B, 53, 'BB'); // 11 held: A (6 bytes) is the fullest and skips its gap
    assert.ok(h.r.heldBytes <= 10);
    assert.equal(h.text(A), 'aAAAAAA');
  });

  it('ends a direction at its FIN, after the bytes missing before it arrive', () => {
    const h = harness();
    h.seg(A, 1, 'abc');
    h.seg(A, 7, '', TCP_FIN | TCP_ACK); // FIN seen before "def"
    assert.deepEqual(h.ended, []);
    h.seg(A, 4, 'def');
    assert.equal(h.text(A), 'abcdef');
    assert.equal(h.ended.length, 1);
    assert.equal(h.r.flowCount, 0);
  });

  it('ends a direction at RST, delivering what it held after the gap', () => {
    const h = harness();
    h.seg(A, 1, 'abc');
    h.seg(A, 10, 'xyz');
    h.seg(A, 13, '', TCP_RST);
    assert.equal(h.text(A), 'abcxyz');
    assert.equal(h.gaps.length, 1);
    assert.equal(h.ended.length, 1);
  });

  it('forgets directions idle for longer than the time-out, in capture time', () => {
    const h = harness({ idleTimeoutNs: 10_000_000_000n });
    h.seg(A, 1, 'a', TCP_ACK, 1_000_000_000n);
    h.seg(B, 1, 'b', TCP_ACK, 5_000_000_000n);
    h.seg(B, 2, 'c', TCP_ACK, 12_000_000_000n);
    assert.equal(h.r.counts.timedOut, 1);
    assert.equal(h.ended.length, 1);
    assert.equal(h.r.flowCount, 1);
  });

  it('evicts the least recently used direction past maxFlows', () => {
    const h = harness({ maxFlows: 2 });
    h.seg(A, 1, 'a');
    h.seg(B, 1, 'b');
    h.seg(A, 2, 'a');
    h.seg({ ...A, srcPort: 1 }, 1, 'c');
    assert.equal(h.r.counts.evicted, 1);
    assert.deepEqual(h.ended, [`${B.src} ${B.srcPort} ${B.dst} ${B.dstPort}`]);
  });

  it('an ignored direction holds nothing', () => {
    const h = harness();
    h.seg(A, 1, 'a');
    h.r.ignore(`${A.src} ${A.srcPort} ${A.dst} ${A.dstPort}`);
    h.seg(A, 10, 'zzz');
    h.seg(A, 2, 'bcdefghi');
    assert.equal(h.r.heldBytes, 0);
    assert.equal(h.text(A), 'a');
  });
});
