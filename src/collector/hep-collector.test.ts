import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { encodeHep, HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../hep/index.js';
import type { CapturedMessage } from './captured-message.js';
import { CaptureStore } from './capture-store.js';
import { HepCollector, type DropReason } from './hep-collector.js';

const enc = new TextEncoder();

function sip(callId: string, method = 'INVITE'): string {
  return `${method} sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-${callId}\r\nFrom: "Alice" <sip:alice@example.com>;tag=a1\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${callId}\r\nCSeq: 7 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
}

function hep(callId: string, over: Partial<HepPacket> = {}): Uint8Array {
  return encodeHep({
    ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: '192.0.2.10', destinationIpv4: '198.51.100.20', sourcePort: 5062,
    destinationPort: 5060, timeSeconds: 1_700_000_000, timeMicroseconds: 250_000, protocolType: HepProtocolType.SIP, captureAgentId: 7,
    payload: enc.encode(sip(callId)), ...over,
  });
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `not reached: ${what}`);
}

function tcpClient(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const c = connect(port, '127.0.0.1', () => res(c));
    c.on('error', rej);
  });
}

const closed = (c: Socket): Promise<void> => new Promise((res) => (c.closed ? res() : c.once('close', () => res())));

describe('HepCollector', () => {
  let store: CaptureStore;
  let collector: HepCollector;
  const got: CapturedMessage[] = [];
  const drops: { reason: DropReason; detail: string }[] = [];
  let udpPort = 0;
  let tcpPort = 0;
  const udp = createSocket('udp4');
  const send = (b: Uint8Array): Promise<void> => new Promise((res, rej) => udp.send(b, udpPort, '127.0.0.1', (e) => (e ? rej(e) : res())));

  before(async () => {
    store = CaptureStore.open(':memory:', { flushIntervalMs: 0 });
    collector = new HepCollector({
      udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 }, store, maxPacketSize: 2000, maxConnections: 2,
      onMessage: (m) => got.push(m), onDrop: (reason, detail) => drops.push({ reason, detail }),
    });
    await collector.start();
    udpPort = collector.addresses().udp!.port;
    tcpPort = collector.addresses().tcp!.port;
  });

  after(async () => {
    udp.close();
    await collector.stop();
    store.close();
  });

  it('UDP: a SIP capture is summarised and stored under its Call-ID', async () => {
    await send(hep('call-udp-1'));
    await until('one message', () => got.length === 1);
    const m = got[0]!;
    assert.deepEqual(
      { ...m, payload: Buffer.from(m.payload).toString() },
      {
        timeUs: 1_700_000_000_250_000, receivedUs: m.receivedUs, callId: 'call-udp-1', srcAddr: '192.0.2.10', srcPort: 5062, dstAddr: '198.51.100.20',
        dstPort: 5060, transport: 'udp', protocolType: 1, captureAgentId: 7, method: 'INVITE', cseq: '7 INVITE', fromUri: 'sip:alice@example.com',
        fromTag: 'a1', toUri: 'sip:bob@example.com', payload: sip('call-udp-1'),
      },
    );
    assert.deepEqual(store.messagesOfCall('call-udp-1').map((s) => s.method), ['INVITE']);
  });

  it('bad packets are counted and skipped, and what follows is kept', async () => {
    const before = collector.stats;
    await send(enc.encode('not HEP at all'));
    await send(hep('x').subarray(0, 40)); // truncated: the total length says more
    await send(Uint8Array.of(0x48, 0x45, 0x50, 0x33, 0x00, 0x03)); // a total length under the header
    await send(hep('big', { payload: new Uint8Array(2100).fill(0x41) })); // over maxPacketSize
    await send(encodeHep({ ipFamily: 2, sourceIpv4: '192.0.2.1', destinationIpv4: '192.0.2.2', protocolType: 1 })); // no payload
    await send(hep('call-udp-2', { protocolType: HepProtocolType.LOG, correlationId: 'call-udp-1', payload: enc.encode('a log line') }));
    await send(hep('call-udp-3', { payload: enc.encode('INVITE garbage\r\n\r\n') }));
    await until('two more kept', () => collector.stats.kept === before.kept + 2);
    const s = collector.stats;
    assert.equal(s.badPacket - before.badPacket, 3);
    assert.equal(s.tooLarge - before.tooLarge, 1);
    assert.equal(s.noPayload - before.noPayload, 1);
    assert.equal(s.datagrams - before.datagrams, 7);
    assert.deepEqual(drops.slice(-5).map((d) => d.reason), ['badPacket', 'badPacket', 'badPacket', 'tooLarge', 'noPayload']);
    assert.match(drops.at(-5)!.detail, /no "HEP3" magic/);
    // a log line joins the call its correlation ID names; a payload that is not SIP lands under ''
    assert.deepEqual(store.messagesOfCall('call-udp-1').map((m) => m.protocolType), [1, 100]);
    assert.equal(store.messagesOfCall('').length, 1);
  });

  it('TCP: packets cut anywhere are framed; a stream that loses its framing is closed, the others go on', async () => {
    const before = collector.stats;
    const a = hep('call-tcp-1', { ipProtocol: HepIpProtocol.TCP });
    const b = hep('call-tcp-2', { ipProtocol: HepIpProtocol.TCP, payload: enc.encode(sip('call-tcp-2').replace('SIP/2.0/UDP', 'SIP/2.0/WSS')) });
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const c = await tcpClient(tcpPort);
    // cut inside the first header, inside the first packet, one byte into the second
    const cuts = [0, 3, 50, a.length + 1, both.length];
    for (let i = 1; i < cuts.length; i++) {
      c.write(both.subarray(cuts[i - 1], cuts[i]));
      await new Promise((r) => setTimeout(r, 5));
    }
    await until('two over TCP', () => collector.stats.kept === before.kept + 2);
    assert.deepEqual(got.slice(-2).map((m) => [m.callId, m.transport]), [['call-tcp-1', 'tcp'], ['call-tcp-2', 'wss']]);
    c.write('GET / HTTP/1.1\r\n\r\n');
    await closed(c);
    assert.equal(collector.stats.framingError - before.framingError, 1);
    const d = await tcpClient(tcpPort);
    d.write(hep('call-tcp-3', { ipProtocol: HepIpProtocol.TCP }));
    await until('a new connection is served', () => got.at(-1)?.callId === 'call-tcp-3');
    d.destroy();
  });

  it('TCP: one connection over maxConnections is closed at once', async () => {
    const before = collector.stats;
    const c1 = await tcpClient(tcpPort);
    const c2 = await tcpClient(tcpPort);
    await until('two accepted', () => collector.stats.tcpConnections === before.tcpConnections + 2);
    const c3 = await tcpClient(tcpPort);
    await closed(c3);
    assert.equal(collector.stats.tcpRejected - before.tcpRejected, 1);
    c1.destroy();
    c2.destroy();
  });
});

describe('HepCollector with an auth key and an idle timeout', () => {
  it('keeps only packets with the key; closes an idle TCP connection', async () => {
    const drops: string[] = [];
    const collector = new HepCollector({
      udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port: 0 }, authKey: 's3cret', idleTimeoutMs: 50,
      onDrop: (reason, detail) => drops.push(`${reason}: ${detail}`),
    });
    await collector.start();
    const udp = createSocket('udp4');
    try {
      const port = collector.addresses().udp!.port;
      for (const p of [hep('k1'), hep('k2', { authKey: 'wrong' }), hep('k3', { authKey: 's3cret' })]) {
        await new Promise<void>((res) => udp.send(p, port, '127.0.0.1', () => res()));
      }
      await until('three datagrams', () => collector.stats.datagrams === 3);
      assert.deepEqual(drops, ['authFailed: no auth key chunk', 'authFailed: wrong auth key']);
      assert.equal(collector.stats.kept, 1);
      const c = await tcpClient(collector.addresses().tcp!.port);
      await closed(c);
      assert.equal(collector.stats.tcpIdleClosed, 1);
    } finally {
      udp.close();
      await collector.stop();
    }
  });

  it('a port in use: start rejects and leaves nothing open', async () => {
    const first = new HepCollector({ tcp: { host: '127.0.0.1', port: 0 } });
    await first.start();
    const port = first.addresses().tcp!.port;
    // UDP opens first, then TCP fails: the UDP socket is closed again
    const second = new HepCollector({ udp: { host: '127.0.0.1', port: 0 }, tcp: { host: '127.0.0.1', port } });
    await assert.rejects(second.start(), /EADDRINUSE/);
    assert.deepEqual(second.addresses(), {});
    await first.stop();
  });
});
