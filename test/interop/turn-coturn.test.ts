// coturn's clients against coturn's own turnserver: the commands the TURN suites run against
// Parley (test/interop/turn.test.ts), proven here against the reference server first, so that a
// failure against Parley is Parley's. turnutils_stunclient (Binding), turnutils_uclient over UDP,
// TCP and TLS, with channels and with Send indications, to a turnutils_peer echo and client to
// client, with long-term and REST credentials (uclient's own -W, and the credentials of
// src/turn/rest-credentials.ts, so coturn vouches for them); and the failures the harness must
// see: a wrong password, expired REST credentials, a relay to a loopback peer that the server
// refuses, a per-user quota.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRestCredentials } from '../../src/turn/rest-credentials.js';
import { Coturn, readUclient, runStunclient, runUclient, skipWithoutCoturn, startTurnPeer, type TurnPeer, type UclientOptions } from './support/coturn.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);
const skip = skipWithoutCoturn();
const ALICE = { user: 'alice', password: 'secret-alice' };
const SECRETS = ['new-secret', 'old-secret'];
const nowS = (): number => Math.floor(Date.now() / 1000);

/** The relayed addresses are on the server's loopback address, in its relay port range. */
function assertRelayedInRange(relayed: readonly string[], server: Coturn, describe: () => string): void {
  assert.ok(relayed.length > 0, `no relayed address: ${describe()}`);
  for (const r of relayed) {
    const colon = r.lastIndexOf(':');
    const port = Number(r.slice(colon + 1));
    assert.equal(r.slice(0, colon), server.host, describe());
    assert.ok(port >= server.relayRange.min && port <= server.relayRange.max, `${r} outside ${server.relayRange.min}-${server.relayRange.max}`);
  }
}

describe('coturn clients against coturn', { skip }, () => {
  let lt: Coturn;
  let rest: Coturn;
  let peer: TurnPeer;

  before(async () => {
    lt = await Coturn.start({ pool, auth: { kind: 'long-term', users: [ALICE] }, tls: true, relayPorts: 80 });
    rest = await Coturn.start({ pool, auth: { kind: 'rest', secrets: SECRETS } });
    peer = await startTurnPeer(pool);
  });
  after(async () => {
    await Promise.all([lt?.stop(), rest?.stop(), peer?.stop()]);
  });

  const longTerm = (o: Partial<UclientOptions>): UclientOptions => ({
    host: lt.host,
    port: lt.port,
    transport: 'udp',
    ...ALICE,
    peer: { host: peer.host, port: peer.port },
    ...o,
  });

  it('turnutils_stunclient: Binding answered with the reflexive address', async () => {
    const r = await runStunclient({ host: lt.host, port: lt.port });
    assert.equal(r.code, 0, r.describe());
    assert.ok(r.reflexive?.startsWith('127.0.0.1:'), r.describe());
  });

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`uclient over ${transport.toUpperCase()}, long-term credentials, channels: every packet echoed by the peer`, async () => {
      const r = await runUclient(longTerm({ transport, port: transport === 'tls' ? lt.tlsPort! : lt.port }));
      assert.equal(r.code, 0, r.describe());
      assert.ok(r.allEchoed, r.describe());
      assert.equal(r.received, 10, r.describe());
      assert.equal(r.receivedBytes, 10 * 172, r.describe());
      assertRelayedInRange(r.relayed, lt, r.describe);
    });
  }

  it('uclient over UDP with Send and Data indications (no channels)', async () => {
    const r = await runUclient(longTerm({ channels: false }));
    assert.ok(r.allEchoed, r.describe());
  });

  it('uclient client to client (-y): two relays talk to each other', async () => {
    const r = await runUclient(longTerm({ peer: undefined, clients: 2 }));
    assert.ok(r.allEchoed, r.describe());
  });

  it('uclient with several clients and larger packets', async () => {
    const r = await runUclient(longTerm({ clients: 4, messages: 20, length: 1000 }));
    assert.ok(r.allEchoed, r.describe());
    assert.equal(r.received, 80, r.describe());
  });

  it('a wrong password: the Allocate fails, uclient exits non-zero and relays nothing', async () => {
    const r = await runUclient(longTerm({ password: 'wrong' }));
    assert.notEqual(r.code, 0, r.describe());
    assert.ok(r.errors.some((e) => e.includes('Cannot complete Allocation')), r.describe());
    assert.equal(r.relayed.length, 0, r.describe());
    assert.equal(r.allEchoed, false);
  });

  it('REST credentials made by uclient (-W) with the second secret in force (rotation)', async () => {
    const r = await runUclient({ host: rest.host, port: rest.port, transport: 'udp', user: 'bob', secret: SECRETS[1], peer });
    assert.ok(r.allEchoed, r.describe());
  });

  it('REST credentials made by src/turn/rest-credentials.ts are accepted by coturn', async () => {
    const c = makeRestCredentials(SECRETS[0]!, 'bob', 600, nowS());
    const r = await runUclient({ host: rest.host, port: rest.port, transport: 'tcp', user: c.username, password: c.password, peer });
    assert.ok(r.allEchoed, r.describe());
  });

  it('expired REST credentials are refused', async () => {
    const c = makeRestCredentials(SECRETS[0]!, 'bob', 60, nowS() - 3600);
    const r = await runUclient({ host: rest.host, port: rest.port, transport: 'udp', user: c.username, password: c.password, peer });
    assert.notEqual(r.code, 0, r.describe());
    assert.equal(r.relayed.length, 0, r.describe());
  });

  it('REST credentials of a secret not in force are refused', async () => {
    const c = makeRestCredentials('some-other-secret', 'bob', 600, nowS());
    const r = await runUclient({ host: rest.host, port: rest.port, transport: 'udp', user: c.username, password: c.password, peer });
    assert.notEqual(r.code, 0, r.describe());
  });
});

describe('coturn refusing: what the harness sees', { skip }, () => {
  it('without --allow-loopback-peers a loopback peer is refused (403) and gets nothing', async () => {
    const server = await Coturn.start({ pool, auth: { kind: 'long-term', users: [ALICE] }, allowLoopbackPeers: false, relayPorts: 30 });
    const peer = await startTurnPeer(pool);
    try {
      const r = await runUclient({ host: server.host, port: server.port, transport: 'udp', ...ALICE, peer, messages: 5 });
      assert.equal(r.allEchoed, false, r.describe());
      assert.equal(r.received ?? 0, 0, r.describe());
      assert.ok(r.errors.some((e) => e.includes('403')), r.describe());
    } finally {
      await Promise.all([server.stop(), peer.stop()]);
    }
  });

  it('a per-user quota of 1: a second client of the same user cannot allocate', async () => {
    const server = await Coturn.start({ pool, auth: { kind: 'long-term', users: [ALICE] }, extra: ['--user-quota', '1'], relayPorts: 30 });
    const peer = await startTurnPeer(pool);
    try {
      const r = await runUclient({ host: server.host, port: server.port, transport: 'udp', ...ALICE, peer, clients: 2, messages: 5 });
      assert.notEqual(r.code, 0, r.describe());
      assert.ok(r.errors.some((e) => e.includes('486')), r.describe());
    } finally {
      await Promise.all([server.stop(), peer.stop()]);
    }
  });
});

describe('the port pool of the harness', () => {
  it('hands out distinct ports to calls made at the same time', async () => {
    const sizes = [3, 1, 2, 3];
    const firsts = await Promise.all(sizes.map((n) => pool.block(n)));
    const ports = firsts.flatMap((first, i) => Array.from({ length: sizes[i]! }, (_, k) => first + k));
    assert.equal(new Set(ports).size, ports.length, `overlapping blocks: ${firsts.join(', ')}`);
  });
});

describe("reading uclient's output", () => {
  const RECORDED = [
    '0: : IPv4. Received relay addr: 127.0.0.1:20896',
    '1: : IPv4. Received relay addr: 127.0.0.1:20852',
    '4: : start_mclient: msz=1, tot_send_msgs=7, tot_recv_msgs=6, tot_send_bytes ~ 1204, tot_recv_bytes ~ 1032',
    '4: : start_mclient: tot_send_msgs=10, tot_recv_msgs=9',
    '4: : start_mclient: tot_send_bytes ~ 1720, tot_recv_bytes ~ 1548',
    '4: : Total transmit time is 4',
    '4: : Total lost packets 1 (10.000000%), total send dropped 0 (0.000000%)',
    '4: : Average round trip delay 0.250000 ms; min = 0 ms, max = 2 ms',
    '4: : Average jitter 1.700000 ms; min = 0 ms, max = 5 ms',
  ].join('\n');

  it('totals, loss, round trip, relayed addresses', () => {
    const r = readUclient(RECORDED, 0, null, []);
    assert.deepEqual(r.relayed, ['127.0.0.1:20896', '127.0.0.1:20852']);
    assert.deepEqual([r.sent, r.received, r.sentBytes, r.receivedBytes], [10, 9, 1720, 1548]);
    assert.deepEqual([r.lost, r.lostPercent, r.sendDropped], [1, 10, 0]);
    assert.deepEqual([r.rttAvgMs, r.rttMinMs, r.rttMaxMs, r.jitterAvgMs], [0.25, 0, 2, 1.7]);
    assert.equal(r.allEchoed, false);
  });
  it('a refused channel bind', () => {
    const r = readUclient('0: : cb response received: \n0: : channel bind: error 403 (Forbidden IP)\n', 255, null, []);
    assert.deepEqual(r.errors, ['channel bind: error 403 (Forbidden IP)']);
  });
  it('a failed allocation', () => {
    const r = readUclient('0: : ERROR: Cannot complete Allocation\n0: : ERROR: Cannot complete Allocation\n', 255, null, []);
    assert.equal(r.errors.length, 2);
    assert.equal(r.sent, undefined);
    assert.equal(r.allEchoed, false);
  });
});
