// Parley's TURN server against coturn's own clients (Debian's coturn package), and the same
// commands against coturn's turnserver in the same run, so that a difference shows:
// turnutils_stunclient (Binding); turnutils_uclient over UDP, TCP and TLS with a subscriber's
// long-term credentials and with REST credentials, with channels and with Send indications,
// echoed by turnutils_peer; a loopback peer the server does not allow (403); a wrong password and
// an unknown user (401 alike, checked on the wire against Parley); RFC 6062 TCP relaying
// (uclient -T, relayScenarios' run). Parley's listeners from slice
// 28, its relayed ports from slice 29 (turn-relay-ports.test.ts); coturn's from slice 28.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parseStunMessage, readErrorCode, StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../../src/stun/index.js';
import { spawnBounded } from './support/child.js';
import { Coturn, readUclient, relayScenarios, runStunclient, runUclient, skipWithoutCoturn, startTurnPeer, uclientArgs, type TurnPeer, type UclientOptions, type UclientResult } from './support/coturn.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { PortPool, portPool, sliceFirst } from './support/ports.js';
import { ipv6Loopback } from './support/udp-probe.js';

const skip = skipWithoutCoturn();
const pool = portPool(import.meta.url);
/** The relayed transport addresses of the Parleys of this file (slice 29, reserved for them). */
const relayPool = new PortPool(sliceFirst(29), sliceFirst(29) + 249, 'turn relay');

const ALICE = { user: 'alice', password: 'alice-pw' };
const REST_SECRET = 'turn-rest-secret';

const IPV6 = await ipv6Loopback();

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  for (let waited = 0; !cond(); waited += 50) {
    if (waited > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One STUN transaction over UDP from a fresh socket: the answer, or undefined after `waitMs`. */
function transact(port: number, build: (txid: Uint8Array) => Uint8Array, waitMs = 2000): Promise<StunMessage | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const txid = randomBytes(12);
    const timer = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, waitMs);
    s.on('message', (msg) => {
      const m = parseStunMessage(msg);
      if (!m.ok || Buffer.compare(Buffer.from(m.value.transactionId), txid) !== 0) return;
      clearTimeout(timer);
      s.close();
      resolve(m.value);
    });
    s.send(build(txid), port, '127.0.0.1');
  });
}

function errorCode(m: StunMessage | undefined): number | undefined {
  const a = m?.get(StunAttr.ERROR_CODE);
  if (a === undefined) return m?.class === 'success' ? 200 : undefined;
  const r = readErrorCode(a);
  return r.ok ? r.value.code : undefined;
}

/** A Parley with TURN on UDP and TCP (TLS on the next port, UDP on ::1 too) and relayed ports of slice 29. */
async function startParley(peers: Record<string, unknown>): Promise<{ parley: ParleyServer; port: number }> {
  const port = await pool.block(2);
  const relayFirst = await relayPool.block(60);
  const parley = await ParleyServer.start({
    pool,
    transports: ['udp'],
    workers: 0,
    subscribers: [ALICE],
    config: {
      // wrong passwords are tried on purpose below: the limiter must not block the test's address
      auth: { failureLimit: { maxFailures: 10000 } },
      // the TURN thread's counters every second (relays() reads them)
      log: { statsInterval: 1 },
      turn: {
        listen: [
          { transport: 'udp', address: '127.0.0.1', port },
          { transport: 'tcp', address: '127.0.0.1', port },
          { transport: 'tls', address: '127.0.0.1', port: port + 1 },
          ...(IPV6 ? [{ transport: 'udp', address: '::1', port }] : []),
        ],
        peers,
        minPort: relayFirst,
        maxPort: relayFirst + 59,
        restSecrets: [REST_SECRET],
      },
    },
  });
  return { parley, port };
}

type Target = 'Parley' | 'coturn';
type Auth = 'long-term' | 'rest';

describe("TURN server against coturn's clients, beside coturn", { skip }, () => {
  let parley: ParleyServer | undefined;
  let parleyPort = 0;
  let coturnLt: Coturn | undefined;
  let coturnRest: Coturn | undefined;
  let peer: TurnPeer | undefined;

  before(async () => {
    ({ parley, port: parleyPort } = await startParley({ allow: ['127.0.0.1/32', '::1/128'] }));
    coturnLt = await Coturn.start({ pool, auth: { kind: 'long-term', users: [ALICE] }, tls: true, relayPorts: 60 });
    coturnRest = await Coturn.start({ pool, auth: { kind: 'rest', secrets: [REST_SECRET] }, tls: true, relayPorts: 60 });
    peer = await startTurnPeer(pool);
  });

  after(async () => {
    await Promise.all([coturnLt?.stop(), coturnRest?.stop(), peer?.stop()]);
    await stopCleanly(parley);
  });

  /** The uclient options of a run against `target` over `transport` with `auth` credentials. */
  const options = (target: Target, transport: 'udp' | 'tcp' | 'tls', auth: Auth, o: Partial<UclientOptions> = {}): UclientOptions => {
    const coturn = auth === 'rest' ? coturnRest! : coturnLt!;
    const port = target === 'Parley' ? (transport === 'tls' ? parleyPort + 1 : parleyPort) : transport === 'tls' ? coturn.tlsPort! : coturn.port;
    return {
      host: '127.0.0.1',
      port,
      transport,
      ...(auth === 'rest' ? { user: 'carol', secret: REST_SECRET } : ALICE),
      peer: { host: peer!.host, port: peer!.port },
      messages: 20,
      clients: 2,
      ...o,
    };
  };

  /**
   * Every packet uclient sent came back. On a loaded machine (the suites run in parallel) uclient
   * gives up on some before they are back and counts them lost, over TLS most (coturn's own runs
   * lose as many, turn-coturn.test.ts): then, against Parley, its own count must show that it
   * dropped none of the packets it got (the TURN stats line, every second here, relayDropped 0),
   * and most must have come back.
   */
  const assertRelayed = async (target: Target, r: UclientResult): Promise<void> => {
    assert.ok(r.sent !== undefined && r.sent > 0, r.describe());
    assert.deepEqual(r.errors, [], r.describe());
    if (r.allEchoed) return;
    // coturn is the reference, not under test: that it relayed at all is enough here
    if (target === 'coturn') {
      assert.ok((r.received ?? 0) > 0, r.describe());
      return;
    }
    const before = parley!.logs.length;
    await until(() => parley!.logs.slice(before).some((l) => l.module === 'turn' && l.msg === 'stats'));
    const stats = parley!.logs.slice(before).find((l) => l.module === 'turn' && l.msg === 'stats')!;
    assert.equal(stats.relayDropped, 0, `${r.describe()}\n${JSON.stringify(stats)}`);
    assert.ok((r.received ?? 0) >= r.sent! / 2, r.describe());
  };

  for (const target of ['Parley', 'coturn'] as const) {
    it(`${target}: turnutils_stunclient gets its reflexive address (Binding)`, async () => {
      const r = await runStunclient({ host: '127.0.0.1', port: target === 'Parley' ? parleyPort : coturnLt!.port });
      assert.ok(r.reflexive?.startsWith('127.0.0.1:'), r.describe());
    });

    const cases: ReadonlyArray<readonly [string, 'udp' | 'tcp' | 'tls', Auth, boolean, string | undefined]> = [
      ['UDP, long-term credentials, channels', 'udp', 'long-term', true, undefined],
      ['UDP, long-term credentials, Send and Data indications', 'udp', 'long-term', false, undefined],
      ['UDP, REST credentials (expiry:user, HMAC-SHA1 of the shared secret), channels', 'udp', 'rest', true, undefined],
      ['UDP, REST credentials, Send and Data indications', 'udp', 'rest', false, undefined],
      ['TCP, long-term credentials, Send and Data indications', 'tcp', 'long-term', false, undefined],
      ['TLS, REST credentials, Send and Data indications', 'tls', 'rest', false, undefined],
      ['TLS, long-term credentials, Send and Data indications', 'tls', 'long-term', false, undefined],
      // uclient picks channel numbers in RFC 5766's 0x4000-0x7FFF, 3 times in 4 above RFC 8656's
      // 0x4FFF: the stream listener frames them (DEVIATION in src/turn/channels.ts)
      ['TCP, long-term credentials, channels (ChannelData padded in the stream)', 'tcp', 'long-term', true, undefined],
      ['TLS, REST credentials, channels', 'tls', 'rest', true, undefined],
    ];
    for (const [name, transport, auth, channels, todo] of cases) {
      it(`${target}: turnutils_uclient relays over ${name}`, todo === undefined ? {} : { todo }, async () => {
        await assertRelayed(target, await runUclient(options(target, transport, auth, { channels })));
      });
    }

    it(`${target}: turnutils_uclient relays RTP/RTCP pairs (EVEN-PORT with R, then RESERVATION-TOKEN) over UDP`, async () => {
      // uclientArgs always asks for no RTCP (-c): without it uclient allocates pairs
      const args = uclientArgs(options(target, 'udp', 'long-term')).filter((a) => a !== '-c');
      const run = await spawnBounded('turnutils_uclient', args, { cwd: tmpdir(), timeoutMs: 30_000 }).done;
      const r = readUclient(run.stdout + run.stderr, run.code, run.signal, args);
      // (uclient prints three relayed addresses for two clients: the pair's, then the second's)
      const ports = new Set(r.relayed.map((a) => Number(a.slice(a.lastIndexOf(':') + 1))));
      assert.ok([...ports].some((p) => p % 2 === 0 && ports.has(p + 1)), `an even RTP port and the next for RTCP: ${r.relayed.join(' ')}\n${r.describe()}`);
      await assertRelayed(target, r);
    });

    // relayScenarios' RFC 6062 run, the command turn-coturn.test.ts proves against coturn: two
    // uclients over TCP, each with a TCP allocation, one Connects to the other's relayed address
    // (the other gets a ConnectionAttempt), both ConnectionBind a data connection, bytes echoed
    it(`${target}: turnutils_uclient relays over TCP allocations (RFC 6062 -T: Connect, ConnectionAttempt, ConnectionBind, data both ways)`, async () => {
      const port = target === 'Parley' ? parleyPort : coturnLt!.port;
      const scenario = relayScenarios({ host: '127.0.0.1', port }, ALICE, { host: peer!.host, port: peer!.port }).find((s) => s.name.startsWith('RFC 6062'))!;
      const r = await runUclient(scenario.options);
      assert.equal(r.code, 0, r.describe());
      assert.deepEqual(r.errors, [], r.describe());
      assert.ok(r.allEchoed, r.describe());
      assert.equal(r.received, scenario.echoed, r.describe());
    });

    it(`${target}: turnutils_uclient cannot allocate with a wrong password nor as an unknown user`, async () => {
      for (const credentials of [
        { user: ALICE.user, password: 'not-alices-password' },
        { user: 'nobody', password: ALICE.password },
      ]) {
        const r = await runUclient({ ...options(target, 'udp', 'long-term'), ...credentials, messages: 2, clients: 1, timeoutMs: 8000 });
        assert.ok(!r.allEchoed && (r.received ?? 0) === 0, r.describe());
        assert.ok(r.errors.some((e) => e.includes('Cannot complete Allocation')), r.describe());
      }
    });
  }

  it('Parley: turnutils_uclient relays over IPv6 (::1, an IPv6 relayed address), channels', { skip: IPV6 ? false : 'no IPv6 loopback here' }, async () => {
    const peer6Port = await pool.block(1);
    const peer6 = spawnBounded('turnutils_peer', ['-p', String(peer6Port), '-L', '::1'], { cwd: tmpdir(), timeoutMs: 60_000 });
    try {
      await new Promise((r) => setTimeout(r, 300));
      await assertRelayed('Parley', await runUclient({ ...options('Parley', 'udp', 'long-term'), host: '::1', peer: { host: '::1', port: peer6Port } }));
    } finally {
      peer6.kill();
    }
  });

  it('Parley: a wrong password and an unknown user get the same answers on the wire (401 challenge, then 401)', async () => {
    const answers: Array<readonly [number | undefined, number[]]> = [];
    for (const [user, password] of [
      [ALICE.user, 'not-alices-password'],
      ['nobody', ALICE.password],
    ] as const) {
      const challenge = await transact(parleyPort, (t) => new StunMessageBuilder(StunMethod.Allocate, 'request', t).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
      assert.equal(errorCode(challenge), 401);
      const realm = new TextDecoder().decode(challenge!.get(StunAttr.REALM)!.value);
      const nonce = new TextDecoder().decode(challenge!.get(StunAttr.NONCE)!.value);
      const key = createHash('md5').update(`${user}:${realm}:${password}`).digest();
      const refused = await transact(parleyPort, (t) =>
        new StunMessageBuilder(StunMethod.Allocate, 'request', t)
          .add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0))
          .addString(StunAttr.USERNAME, user)
          .addString(StunAttr.REALM, realm)
          .addString(StunAttr.NONCE, nonce)
          .addMessageIntegrity(key)
          .build(),
      );
      answers.push([errorCode(refused), refused?.attributes.map((a) => a.type) ?? []]);
    }
    // RFC 8489 §9.2.4: every 401 carries PASSWORD-ALGORITHMS (the nonce has the password-algorithms bit)
    assert.deepEqual(answers[0], [401, [StunAttr.ERROR_CODE, StunAttr.REALM, StunAttr.NONCE, StunAttr.PASSWORD_ALGORITHMS]]);
    assert.deepEqual(answers[1], answers[0]);
  });
});

describe('TURN server: a loopback peer the server does not allow, beside coturn', { skip }, () => {
  let parley: ParleyServer | undefined;
  let parleyPort = 0;
  let coturn: Coturn | undefined;

  before(async () => {
    ({ parley, port: parleyPort } = await startParley({}));
    coturn = await Coturn.start({ pool, auth: { kind: 'long-term', users: [ALICE] }, allowLoopbackPeers: false, relayPorts: 10 });
  });

  after(async () => {
    await coturn?.stop();
    await stopCleanly(parley);
  });

  for (const target of ['Parley', 'coturn'] as const) {
    it(`${target}: refuses to relay to 127.0.0.1 (403 to CreatePermission or ChannelBind), nothing relayed`, async () => {
      const peerPort = await pool.block(1);
      const r = await runUclient({ host: '127.0.0.1', port: target === 'Parley' ? parleyPort : coturn!.port, transport: 'udp', ...ALICE, peer: { host: '127.0.0.1', port: peerPort }, messages: 5, timeoutMs: 10_000 });
      assert.equal(r.received ?? 0, 0, r.describe());
      assert.ok(r.errors.some((e) => e.includes('error 403')), r.describe());
    });
  }
});
