// Parley's TURN server against coturn's own clients (Debian's coturn package): turnutils_stunclient
// for Binding, turnutils_uclient over UDP, TCP and TLS with a subscriber's long-term credentials
// and with REST credentials, with channels and with Send indications, echoed by turnutils_peer; and the
// denials: a loopback peer without `turn.peers.allow` (403), a wrong password and an unknown user
// (401 alike). Listeners from slice 28, relayed ports from slice 29 (turn-relay-ports.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { parseStunMessage, readErrorCode, StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../../src/stun/index.js';
import { spawnBounded } from './support/child.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { PortPool, portPool, sliceFirst } from './support/ports.js';

const TOOLS = ['turnutils_uclient', 'turnutils_stunclient', 'turnutils_peer'];
const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
const skip = missing.length === 0 ? false : process.env.CI ? false : `coturn's clients are missing (${missing.join(', ')}; Debian package coturn); skipped outside CI`;

const pool = portPool(import.meta.url);
/** The relayed transport addresses of the Parleys of this file (slice 29, reserved for them). */
const relayPool = new PortPool(sliceFirst(29), sliceFirst(29) + 249, 'turn relay');

const ALICE = { user: 'alice', password: 'alice-pw' };
const REST_SECRET = 'turn-rest-secret';

interface Uclient {
  readonly code: number | null;
  readonly sent: number;
  readonly received: number;
  readonly lost: number | undefined;
  readonly output: string;
}

/** turnutils_uclient against host:port, bounded; its totals read from what it prints. */
async function uclient(port: number, args: readonly string[], timeoutMs = 30_000): Promise<Uclient> {
  const all = ['-p', String(port), ...args, '127.0.0.1'];
  const r = await spawnBounded('turnutils_uclient', all, { cwd: tmpdir(), timeoutMs }).done;
  const output = r.stdout + r.stderr;
  const totals = /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/m.exec(output.split('\n').filter((l) => l.includes('start_mclient: tot_send_msgs')).at(-1) ?? '');
  const lost = /Total lost packets (\d+)/.exec(output);
  return {
    code: r.code,
    sent: totals ? Number(totals[1]) : 0,
    received: totals ? Number(totals[2]) : 0,
    lost: lost ? Number(lost[1]) : undefined,
    output: `turnutils_uclient ${all.join(' ')}\n${output.split('\n').slice(-15).join('\n')}`,
  };
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

/** A Parley with TURN on a UDP port of slice 28 and relayed ports of slice 29. */
async function startParley(peers: Record<string, unknown>): Promise<{ parley: ParleyServer; turnPort: number }> {
  // UDP and TCP on turnPort, TLS on the next one
  const turnPort = await pool.block(2);
  const relayFirst = await relayPool.block(60);
  const parley = await ParleyServer.start({
    pool,
    transports: ['udp'],
    workers: 0,
    subscribers: [ALICE],
    config: {
      // wrong passwords are tried on purpose below: the limiter must not block the test's address
      auth: { failureLimit: { maxFailures: 10000 } },
      turn: {
        listen: [
          { transport: 'udp', address: '127.0.0.1', port: turnPort },
          { transport: 'tcp', address: '127.0.0.1', port: turnPort },
          { transport: 'tls', address: '127.0.0.1', port: turnPort + 1 },
        ],
        peers, minPort: relayFirst, maxPort: relayFirst + 59, restSecrets: [REST_SECRET],
      },
    },
  });
  return { parley, turnPort };
}

describe('TURN server against coturn\'s clients', { skip }, () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;
  let peerPort = 0;
  let peer: ReturnType<typeof spawnBounded> | undefined;

  before(async () => {
    ({ parley, turnPort } = await startParley({ allow: ['127.0.0.1/32'] }));
    peerPort = await pool.block(1);
    peer = spawnBounded('turnutils_peer', ['-p', String(peerPort), '-L', '127.0.0.1'], { cwd: tmpdir(), timeoutMs: 300_000 });
  });

  after(async () => {
    peer?.kill();
    await stopCleanly(parley);
  });

  it('turnutils_stunclient gets its reflexive address (Binding)', async () => {
    const r = await spawnBounded('turnutils_stunclient', ['-p', String(turnPort), '127.0.0.1'], { cwd: tmpdir(), timeoutMs: 10_000 }).done;
    const out = r.stdout + r.stderr;
    assert.match(out, /UDP reflexive addr: 127\.0\.0\.1:\d+/, out);
  });

  const cases: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['a subscriber\'s long-term credentials, channels (RTP/RTCP pairs: EVEN-PORT with a reservation)', ['-u', ALICE.user, '-w', ALICE.password]],
    ['a subscriber\'s long-term credentials, Send and Data indications', ['-s', '-u', ALICE.user, '-w', ALICE.password]],
    ['REST credentials (expiry:user, HMAC-SHA1 of the shared secret), channels', ['-W', REST_SECRET, '-u', 'carol']],
    ['REST credentials, Send and Data indications', ['-s', '-W', REST_SECRET, '-u', 'carol']],
  ];
  const relays = async (port: number, args: readonly string[]): Promise<void> => {
    const r = await uclient(port, [...args, '-e', '127.0.0.1', '-r', String(peerPort), '-n', '20', '-l', '172', '-m', '2', '-z', '5']);
    assert.ok(r.sent > 0, r.output);
    assert.equal(r.received, r.sent, r.output);
    assert.equal(r.lost, 0, r.output);
  };
  for (const [name, args] of cases) {
    it(`turnutils_uclient relays through Parley over UDP with ${name}`, () => relays(turnPort, args));
  }
  it('turnutils_uclient relays through Parley over TCP (STUN framed in the stream), Send and Data indications', () => relays(turnPort, ['-t', '-s', '-u', ALICE.user, '-w', ALICE.password]));
  it('turnutils_uclient relays through Parley over TLS, Send and Data indications, REST credentials', () => relays(turnPort + 1, ['-t', '-S', '-s', '-W', REST_SECRET, '-u', 'carol']));
  it(
    'turnutils_uclient relays through Parley over TCP with channels (ChannelData padded in the stream)',
    { todo: "src/stun's StunStreamFramer closes the stream on channel numbers above 0x4FFF, which uclient picks 3 times in 4 (the UDP path accepts them: DEVIATION in src/turn/channels.ts)" },
    () => relays(turnPort, ['-t', '-u', ALICE.user, '-w', ALICE.password]),
  );

  it('answers a wrong password and an unknown user alike: 401, 401 (turnutils_uclient cannot allocate with either)', async () => {
    for (const [user, password] of [
      [ALICE.user, 'not-alices-password'],
      ['nobody', ALICE.password],
    ] as const) {
      const r = await uclient(turnPort, ['-u', user, '-w', password, '-e', '127.0.0.1', '-r', String(peerPort), '-n', '2', '-m', '1'], 8000);
      assert.equal(r.received, 0, r.output);
      assert.match(r.output, /Cannot complete Allocation/, r.output);
    }
    // on the wire: the first Allocate is challenged, the second (credentials) refused, alike
    const answers: Array<readonly [number | undefined, number[]]> = [];
    for (const [user, password] of [
      [ALICE.user, 'not-alices-password'],
      ['nobody', ALICE.password],
    ] as const) {
      const challenge = await transact(turnPort, (t) => new StunMessageBuilder(StunMethod.Allocate, 'request', t).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0)).build());
      assert.equal(errorCode(challenge), 401);
      const realm = new TextDecoder().decode(challenge!.get(StunAttr.REALM)!.value);
      const nonce = new TextDecoder().decode(challenge!.get(StunAttr.NONCE)!.value);
      const { createHash } = await import('node:crypto');
      const key = createHash('md5').update(`${user}:${realm}:${password}`).digest();
      const refused = await transact(turnPort, (t) =>
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
    assert.deepEqual(answers[0], [401, [StunAttr.ERROR_CODE, StunAttr.REALM, StunAttr.NONCE]]);
    assert.deepEqual(answers[1], answers[0]);
  });
});

describe('TURN server: a loopback peer without turn.peers.allow', { skip }, () => {
  let parley: ParleyServer | undefined;
  let turnPort = 0;

  before(async () => {
    ({ parley, turnPort } = await startParley({}));
  });

  after(async () => {
    await stopCleanly(parley);
  });

  it('refuses to relay to 127.0.0.1: 403 to CreatePermission and ChannelBind, nothing relayed by turnutils_uclient', async () => {
    const peerPort = await pool.block(1);
    const r = await uclient(turnPort, ['-u', ALICE.user, '-w', ALICE.password, '-e', '127.0.0.1', '-r', String(peerPort), '-n', '5', '-m', '1'], 10_000);
    assert.equal(r.received, 0, r.output);
    assert.match(r.output, /error 403/, r.output);
  });
});
