import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeHep, HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../../hep/index.js';
import { configFromObject } from '../config.js';
import { HepCapture } from './hep-capture.js';
import type { HepCounts } from './hep-counts.js';
import type { HepOutlet } from './hep-outlet.js';
import { MethodSampling } from './method-sampling.js';

const te = new TextEncoder();
const td = new TextDecoder();
const msg = (method: string): Uint8Array => te.encode(`${method} sip:a@example.com SIP/2.0\r\nCall-ID: c1\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`);

class FakeOutlet implements HepOutlet {
  readonly batches: HepPacket[][] = [];
  closed = false;
  send(batch: readonly Uint8Array[]): void {
    this.batches.push(
      batch.map((b) => {
        const r = decodeHep(b);
        assert.ok(r.ok);
        return r.value;
      }),
    );
  }
  close(): void {
    this.closed = true;
  }
}

function setup(hep: Record<string, unknown>, outlets = 1) {
  const config = configFromObject({ hep: { collectors: ['udp:127.0.0.1:9060'], ...hep } }).hep;
  const fakes = Array.from({ length: outlets }, () => new FakeOutlet());
  const counts: HepCounts = { sent: 0, dropped: 0, sampledOut: 0 };
  let fns: (() => void)[] = [];
  let t = 0;
  const sampling = MethodSampling.parse(config.sampling);
  assert.ok(sampling.ok);
  const capture = new HepCapture({
    config,
    outlets: fakes,
    sampling: sampling.value,
    counts,
    clock: () => ({ seconds: 1_700_000_000, microseconds: ++t }),
    schedule: (fn) => fns.push(fn),
  });
  const turn = (): void => {
    const run = fns;
    fns = [];
    for (const f of run) f();
  };
  return { capture, fakes, counts, turn };
}

describe('HepCapture (one thread\'s HEP agent)', () => {
  it('turns a message a socket read into a HEP SIP packet: addresses, ports, transport, time, agent id, auth key', () => {
    const { capture, fakes, turn } = setup({ captureId: 77, authKey: 'secret', nodeName: 'parley-1' });
    capture.sip(msg('REGISTER'), 'udp', '::ffff:192.0.2.1', 5062, '198.51.100.2', 5060);
    capture.sip(msg('INVITE'), 'tls', '2001:db8::1', 40000, '2001:db8::2', 5061);
    turn();
    const [a, b] = fakes[0]!.batches[0]!;
    assert.equal(a!.ipFamily, HepIpFamily.IPV4);
    assert.equal(a!.sourceIpv4, '192.0.2.1');
    assert.equal(a!.sourcePort, 5062);
    assert.equal(a!.destinationIpv4, '198.51.100.2');
    assert.equal(a!.destinationPort, 5060);
    assert.equal(a!.ipProtocol, HepIpProtocol.UDP);
    assert.equal(a!.protocolType, HepProtocolType.SIP);
    assert.equal(a!.captureAgentId, 77);
    assert.equal(a!.authKey, 'secret');
    assert.equal(a!.nodeName, 'parley-1');
    assert.deepEqual([a!.timeSeconds, a!.timeMicroseconds], [1_700_000_000, 1]);
    assert.equal(td.decode(a!.payload), td.decode(msg('REGISTER')));
    assert.equal(b!.ipFamily, HepIpFamily.IPV6);
    assert.equal(b!.sourceIpv6, '2001:db8::1');
    assert.equal(b!.ipProtocol, HepIpProtocol.TCP);
    assert.equal(b!.timeMicroseconds, 2);
  });

  it('sends nothing until the turn ends, then one batch to every collector', () => {
    const { capture, fakes, turn } = setup({}, 2);
    for (let i = 0; i < 5; i++) capture.sip(msg('OPTIONS'), 'udp', '127.0.0.1', 1, '127.0.0.1', 2);
    assert.equal(fakes[0]!.batches.length, 0);
    turn();
    assert.deepEqual(fakes.map((f) => f.batches.map((x) => x.length)), [[5], [5]]);
  });

  it('leaves out sampled methods and CRLF keepalives, counting the sampled ones', () => {
    const { capture, fakes, counts, turn } = setup({ sampling: ['OPTIONS:0'] });
    capture.sip(msg('OPTIONS'), 'udp', '127.0.0.1', 1, '127.0.0.1', 2);
    capture.sip(te.encode('\r\n\r\n'), 'tcp', '127.0.0.1', 1, '127.0.0.1', 2);
    capture.sip(msg('REGISTER'), 'udp', '127.0.0.1', 1, '127.0.0.1', 2);
    turn();
    assert.equal(counts.sampledOut, 1);
    assert.deepEqual(fakes[0]!.batches.map((b) => b.map((p) => td.decode(p.payload).split(' ')[0])), [['REGISTER']]);
  });

  it('drops what is past the queue bound, or too big for HEP, and counts it per collector', () => {
    const { capture, fakes, counts, turn } = setup({ queue: 3 }, 2);
    for (let i = 0; i < 5; i++) capture.sip(msg('MESSAGE'), 'udp', '127.0.0.1', 1, '127.0.0.1', 2);
    capture.sip(new Uint8Array(70_000).fill(0x41), 'tcp', '127.0.0.1', 1, '127.0.0.1', 2);
    turn();
    assert.equal(counts.dropped, 2 * 2 + 2);
    assert.equal(fakes[0]!.batches[0]!.length, 3);
  });

  it('RTCP goes as protocol type 5 with the Call-ID as correlation id', () => {
    const { capture, fakes, turn } = setup({});
    const rtcp = Uint8Array.of(0x81, 0xc9, 0x00, 0x07, 1, 2, 3, 4);
    capture.media(rtcp, HepProtocolType.RTCP, 'call-1@x', '192.0.2.1', 40001, '192.0.2.2', 30001);
    turn();
    const p = fakes[0]!.batches[0]![0]!;
    assert.equal(p.protocolType, 5);
    assert.equal(p.correlationId, 'call-1@x');
    assert.equal(p.ipProtocol, HepIpProtocol.UDP);
    assert.deepEqual([...p.payload!], [...rtcp]);
  });

  it('close() sends what waits and closes the collectors', () => {
    const { capture, fakes } = setup({});
    capture.sip(msg('BYE'), 'udp', '127.0.0.1', 1, '127.0.0.1', 2);
    capture.close();
    assert.equal(fakes[0]!.batches.length, 1);
    assert.equal(fakes[0]!.closed, true);
  });
});
