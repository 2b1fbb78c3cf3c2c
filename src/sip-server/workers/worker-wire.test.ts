import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Flow } from '../transport/flow.js';
import type { ResponseTarget } from '../transport/response-target.js';
import type { TransportError } from '../transport/transport-error.js';
import { Batcher } from './batcher.js';
import type { FromWorker } from './worker-messages.js';
import { WorkerWire } from './worker-wire.js';

const BYTES = new TextEncoder().encode('SIP/2.0 200 OK\r\n\r\n');

function target(host: string, transport: ResponseTarget['transport'] = 'udp'): ResponseTarget {
  return { transport, host, port: 5060, rule: 'rport' };
}

/** A wire whose items are collected as they are pushed, and the errors its callbacks got. */
function wire(): { wire: WorkerWire; sent: FromWorker[]; errors: string[]; onError: (tag: string) => (e: TransportError) => void } {
  const sent: FromWorker[] = [];
  const w = new WorkerWire(new Batcher<FromWorker>((items) => sent.push(...items), 0, 1), 32_000);
  const errors: string[] = [];
  return { wire: w, sent, errors, onError: (tag) => (e) => errors.push(`${tag}: ${e.message}`) };
}

function seqOf(item: FromWorker | undefined): number {
  assert.ok(item !== undefined && (item.k === 'send' || item.k === 'reply'));
  return item.s;
}

describe('WorkerWire: error callbacks of sends made in a worker', () => {
  const wires: WorkerWire[] = [];
  after(() => wires.forEach((w) => w.close()));
  const make = (): ReturnType<typeof wire> => {
    const made = wire();
    wires.push(made.wire);
    return made;
  };

  it('numbers sends in order, from 1', () => {
    const { wire: w, sent, onError } = make();
    w.sendToTarget(BYTES, target('192.0.2.1'), onError('a'));
    w.sendBytes(BYTES, { transport: 'udp', remoteAddress: '192.0.2.2', remotePort: 5060 } as Flow, onError('b'));
    assert.deepEqual(sent.map(seqOf), [1, 2]);
  });

  it('UDP to an IP address: a failure reported before "handled" reaches its callback once', () => {
    const { wire: w, sent, errors, onError } = make();
    w.sendToTarget(BYTES, target('192.0.2.1'), onError('a'));
    const seq = seqOf(sent[0]);
    w.failed(seq, 'EPERM');
    w.failed(seq, 'EPERM');
    assert.deepEqual(errors, ['a: EPERM']);
  });

  it('UDP to an IP address (v4, v6, bracketed v6): "handled" drops the callbacks up to its number, not later ones', () => {
    const { wire: w, sent, errors, onError } = make();
    w.sendToTarget(BYTES, target('192.0.2.1'), onError('a'));
    w.sendToTarget(BYTES, target('2001:db8::1'), onError('b'));
    w.sendToTarget(BYTES, target('[2001:db8::2]'), onError('c'));
    w.sendToTarget(BYTES, target('192.0.2.4'), onError('d'));
    const seqs = sent.map(seqOf);
    assert.equal(w.pending, 4);
    w.handled(seqs[2]!);
    assert.equal(w.pending, 1, 'only the send after the handled number keeps its callback');
    for (const s of seqs) w.failed(s, 'late');
    assert.deepEqual(errors, ['d: late']);
    w.handled(seqs[3]!);
    assert.equal(w.pending, 0);
  });

  it('UDP to a name and stream sends keep their callbacks after "handled" (their outcome comes later)', () => {
    const { wire: w, sent, errors, onError } = make();
    w.sendToTarget(BYTES, target('proxy.example.com'), onError('dns'));
    w.sendToTarget(BYTES, { ...target('192.0.2.1', 'tcp'), connectionId: 7 }, onError('tcp'));
    w.sendBytes(BYTES, { transport: 'tls', remoteAddress: '192.0.2.9', remotePort: 5061 } as Flow, onError('tls'));
    const seqs = sent.map(seqOf);
    w.handled(seqs[2]!);
    assert.equal(w.pending, 3);
    for (const s of seqs) w.failed(s, 'refused');
    assert.deepEqual(errors, ['dns: refused', 'tcp: refused', 'tls: refused']);
    assert.equal(w.pending, 0);
  });

  it('a failure in the middle of a queue of prompt callbacks finds its own, and "handled" goes on past it', () => {
    const { wire: w, sent, errors, onError } = make();
    for (let i = 0; i < 3000; i++) w.sendToTarget(BYTES, target('192.0.2.1'), onError(`#${i}`));
    const seqs = sent.map(seqOf);
    w.handled(seqs[1499]!);
    w.failed(seqs[2000]!, 'EMSGSIZE');
    w.failed(seqs[10]!, 'too late');
    assert.deepEqual(errors, ['#2000: EMSGSIZE']);
    w.handled(seqs[2999]!);
    assert.equal(w.pending, 0);
  });

  it('without "handled" (the socket thread is not answering), prompt callbacks are bounded: the oldest go', () => {
    const { wire: w, sent, errors, onError } = make();
    for (let i = 0; i < 70_000; i++) w.sendToTarget(BYTES, target('192.0.2.1'), onError(`#${i}`));
    assert.equal(w.pending, 65_536);
    w.failed(seqOf(sent[0]), 'x');
    w.failed(seqOf(sent[69_999]), 'y');
    assert.deepEqual(errors, ['#69999: y']);
  });
});
