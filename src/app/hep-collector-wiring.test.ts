import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { encodeHep, HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../hep/index.js';
import { configFromObject, keyOnly } from './config.js';
import { startHepCollector } from './hep-collector-wiring.js';
import { StartError } from './start-error.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const dataDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'parley-hep-wiring-'));
  dirs.push(d);
  return d;
};
const log = pino({ level: 'silent' });
const enc = new TextEncoder();

function sip(line: string, callId: string, cseq: string): string {
  return `${line}\r\nVia: SIP/2.0/UDP 192.0.2.1:5062;branch=z9hG4bK-1\r\nFrom: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: ${callId}\r\nCSeq: ${cseq}\r\nContent-Length: 0\r\n\r\n`;
}

function packet(seconds: number, payload: string, from: [string, number], to: [string, number], protocolType: number = HepProtocolType.SIP, correlationId?: string): Uint8Array {
  const p: HepPacket = {
    ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: from[0], sourcePort: from[1], destinationIpv4: to[0], destinationPort: to[1],
    timeSeconds: seconds, timeMicroseconds: 500, protocolType, captureAgentId: 7, payload: enc.encode(payload),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
  return encodeHep(p);
}

describe('the HEP collector of hep.listen', () => {
  it('off without hep.listen.address', async () => {
    assert.equal(await startHepCollector(configFromObject({ dataDir: dataDir() }), keyOnly, log), undefined);
  });

  it('stores what comes over UDP; the captures source lists calls latest first (search by Call-ID part), and a call\'s SIP messages as text', async () => {
    const config = configFromObject({ dataDir: dataDir(), hep: { listen: { address: '127.0.0.1:0', transports: ['udp'] } } });
    const hep = (await startHepCollector(config, keyOnly, log))!;
    try {
      assert.equal(hep.listening.length, 1);
      assert.match(hep.listening[0]!, /^udp:127\.0\.0\.1:\d+$/);
      const port = Number(hep.listening[0]!.split(':')[2]);
      const A: [string, number] = ['192.0.2.1', 5062];
      const P: [string, number] = ['198.51.100.2', 5060];
      const socket = createSocket('udp4');
      const send = (b: Uint8Array): Promise<void> => new Promise((res, rej) => socket.send(b, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
      await send(packet(1_700_000_000, sip('INVITE sip:bob@example.com SIP/2.0', 'Old-Call', '1 INVITE'), A, P));
      await send(packet(1_700_000_010, sip('INVITE sip:bob@example.com SIP/2.0', 'New-Call', '1 INVITE'), A, P));
      await send(packet(1_700_000_011, sip('SIP/2.0 180 Ringing', 'New-Call', '1 INVITE'), P, A));
      // an RTCP report of the call (correlation id): counted with the call, not drawn as SIP
      await send(packet(1_700_000_012, 'not sip', P, A, HepProtocolType.RTCP, 'New-Call'));
      socket.close();
      let page = await hep.source.calls({ offset: 0, limit: 10 });
      for (let i = 0; i < 100 && page.total < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
        page = await hep.source.calls({ offset: 0, limit: 10 });
      }
      for (let i = 0; i < 100 && page.items[0]?.messages !== 3; i++) {
        await new Promise((r) => setTimeout(r, 20));
        page = await hep.source.calls({ offset: 0, limit: 10 });
      }
      assert.deepEqual(
        page.items.map((c) => [c.callId, c.messages, c.from, c.to, c.methods]),
        [
          ['New-Call', 3, 'sip:alice@example.com', 'sip:bob@example.com', ['INVITE']],
          ['Old-Call', 1, 'sip:alice@example.com', 'sip:bob@example.com', ['INVITE']],
        ],
      );
      assert.equal(page.items[0]!.lastAt, 1_700_000_012_000.5);
      assert.deepEqual((await hep.source.calls({ search: 'old', offset: 0, limit: 10 })).items.map((c) => c.callId), ['Old-Call']);
      assert.deepEqual(await hep.source.calls({ offset: 1, limit: 1 }).then((p) => [p.total, p.items.map((c) => c.callId)]), [2, ['Old-Call']]);
      const messages = await hep.source.messages('New-Call');
      assert.deepEqual(
        messages.map((m) => [m.at, m.transport, m.sourceAddress, m.sourcePort, m.destinationAddress, m.destinationPort, m.agentId, m.message.split('\r\n')[0]]),
        [
          [1_700_000_010_000.5, 'udp', '192.0.2.1', 5062, '198.51.100.2', 5060, 7, 'INVITE sip:bob@example.com SIP/2.0'],
          [1_700_000_011_000.5, 'udp', '198.51.100.2', 5060, '192.0.2.1', 5062, 7, 'SIP/2.0 180 Ringing'],
        ],
      );
      assert.deepEqual(await hep.source.messages('None'), []);
    } finally {
      await hep.stop();
    }
  });

  it('an address that is not one, or a port in use: a StartError naming hep.listen.address', async () => {
    const bad = configFromObject({ dataDir: dataDir(), hep: { listen: { address: 'collector.example:9060' } } });
    await assert.rejects(startHepCollector(bad, keyOnly, log), (e: unknown) => e instanceof StartError && e.where === 'hep.listen.address');
    const first = (await startHepCollector(configFromObject({ dataDir: dataDir(), hep: { listen: { address: '127.0.0.1:0', transports: ['tcp'] } } }), keyOnly, log))!;
    try {
      const port = first.listening[0]!.split(':')[2];
      const taken = configFromObject({ dataDir: dataDir(), hep: { listen: { address: `127.0.0.1:${port}`, transports: ['tcp'] } } });
      await assert.rejects(startHepCollector(taken, keyOnly, log), (e: unknown) => e instanceof StartError && e.where === 'hep.listen.address' && /in use/.test(e.message));
    } finally {
      await first.stop();
    }
  });
});
