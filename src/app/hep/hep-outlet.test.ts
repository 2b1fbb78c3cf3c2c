import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { decodeHep, encodeHep, HepStreamFramer, type HepPacket } from '../../hep/index.js';
import { silentLogger } from '../../lib/logger.js';
import type { HepCounts } from './hep-counts.js';
import { openOutlet, type HepOutlet } from './hep-outlet.js';

const packet = (i: number, size = 20): Uint8Array => encodeHep({ captureAgentId: i, payload: new Uint8Array(size).fill(0x41) });
/** Send a batch with its true byte count (what HepQueue hands an outlet). */
const send = (outlet: HepOutlet, batch: Uint8Array[]): void => outlet.send(batch, batch.reduce((n, p) => n + p.length, 0));
const counts = (): HepCounts => ({ sent: 0, dropped: 0, sampledOut: 0 });

/** Poll until `ok`, at most `tries` × 20 ms (no timing is asserted: only that it happens). */
async function until(ok: () => boolean, tries = 250): Promise<void> {
  for (let i = 0; i < tries && !ok(); i++) await sleep(20);
  assert.ok(ok(), 'condition not reached');
}

describe('HEP outlets (a thread\'s socket to a collector)', () => {
  it('UDP: one packet per datagram', async () => {
    const collector = createSocket('udp4');
    await new Promise<void>((r) => collector.bind(0, '127.0.0.1', r));
    const got: HepPacket[] = [];
    collector.on('message', (m) => {
      const r = decodeHep(m);
      assert.ok(r.ok);
      got.push(r.value);
    });
    const c = counts();
    const outlet = openOutlet({ transport: 'udp', host: '127.0.0.1', port: collector.address().port }, c, 1 << 20, silentLogger);
    try {
      await sleep(20); // connect() resolves the name
      send(outlet, [packet(1), packet(2), packet(3)]);
      await until(() => got.length === 3);
      assert.deepEqual(got.map((p) => p.captureAgentId), [1, 2, 3]);
      assert.equal(c.sent, 3);
    } finally {
      outlet.close();
      collector.close();
    }
  });

  it('TCP: batches back to back on one connection; reconnects after the collector went away', async () => {
    const got: number[] = [];
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      const framer = new HepStreamFramer((bytes) => {
        const r = decodeHep(bytes);
        assert.ok(r.ok);
        got.push(r.value.captureAgentId!);
      });
      s.on('data', (d) => framer.push(d));
      s.on('error', () => undefined);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = counts();
    const outlet = openOutlet({ transport: 'tcp', host: '127.0.0.1', port: (server.address() as AddressInfo).port }, c, 1 << 20, silentLogger);
    try {
      await until(() => sockets.length === 1);
      await until(() => {
        send(outlet, [packet(1)]);
        return got.includes(1);
      });
      const before = c.sent;
      send(outlet, [packet(7), packet(8), packet(9)]);
      await until(() => got.includes(9));
      assert.deepEqual(got.slice(-3), [7, 8, 9]);
      assert.equal(c.sent, before + 3);
      sockets[0]!.destroy();
      // the outlet dials again (after 0.2 s); batches sent meanwhile are dropped and counted
      await until(() => {
        send(outlet, [packet(10)]);
        return got.includes(10);
      });
      assert.equal(sockets.length, 2);
      assert.ok(c.dropped > 0, 'batches sent while the connection was down are counted as dropped');
    } finally {
      outlet.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('TCP: a collector that never reads costs drops, counted, and never a wait', async () => {
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      s.pause(); // never reads
      sockets.push(s);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const c = counts();
    const outlet = openOutlet({ transport: 'tcp', host: '127.0.0.1', port: (server.address() as AddressInfo).port }, c, 64 * 1024, silentLogger);
    try {
      await until(() => sockets.length === 1);
      await sleep(20);
      const batch = Array.from({ length: 64 }, (_, i) => packet(i, 1000));
      const bytes = batch.reduce((n, p) => n + p.length, 0);
      // bounded: at most 2000 batches of 64 KB (the kernel buffers a few MB on loopback)
      for (let i = 0; i < 2000 && c.dropped === 0; i++) {
        outlet.send(batch, bytes);
        await sleep(1);
      }
      assert.ok(c.dropped >= 64, `dropped ${c.dropped}`);
      assert.ok(c.sent > 0);
    } finally {
      outlet.close();
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});
