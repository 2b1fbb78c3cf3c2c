// Debian's baresip (1.0, libre 1.1), the softphone a Debian user installs first, against Parley
// with its defaults: it registers (one MD5 challenge: libre 1.x gives up on a 401 that names
// SHA-256, whatever the order, which is why SHA-256 is not offered by default, see
// docs/configuration.md), and calls over UDP, TCP and TLS, baresip to baresip and baresip to a
// sipp phone (on UDP), with RTP flowing both ways (counted by baresip, `audio_debug`). baresip runs headless
// (a sine tone as its source, no player), driven through its ctrl_tcp socket.
// TLS: baresip is given Parley's development certificate (`sip_cafile`), but libre 1.1's SIP
// transport never verifies a server's certificate (no `sip_verify_server` yet), so it would
// connect to any; what is tested is SIP over TLS, not baresip's certificate checks.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Baresip, skipWithoutBaresip, type TracedMessage } from './support/baresip.js';
import { registerPhone } from './support/calls.js';
import { ParleyServer, stopCleanly, type ParleyTransport } from './support/parley.js';
import { portPool } from './support/ports.js';
import { flow, received, recordRoutes } from './support/sip-trace.js';
import { skipWithoutSipp, startSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret-alice' };
const BOB = { user: 'bob', password: 'secret-bob' };
const CAROL = { user: 'carol', password: 'secret-carol' };
const pool = portPool(import.meta.url);
/** RTP packets each way that count as audio flowing (20 ms packets: under a second of it). */
const PACKETS = 25;

const skip = skipWithoutBaresip() || skipWithoutSipp();

/** The algorithms of the WWW-Authenticate fields of every 401 (or Proxy-Authenticate of every 407) baresip received. */
function challengesSeen(messages: readonly TracedMessage[], status: 401 | 407 = 401): string[][] {
  const header = status === 401 ? 'www-authenticate' : 'proxy-authenticate';
  return messages
    .filter((m) => m.startLine.startsWith(`SIP/2.0 ${status} `))
    .map((m) => m.headers.filter(([n]) => n === header).map(([, v]) => /algorithm=([\w-]+)/i.exec(v)?.[1] ?? '(none)'));
}

/** Start a baresip for `who`, registering with Parley over `transport`; resolves once it is registered. */
async function phone(parley: ParleyServer, who: typeof ALICE, transport: ParleyTransport, started: Baresip[]): Promise<Baresip> {
  const b = await Baresip.start({
    pool,
    account: who,
    registrar: { host: parley.host, port: parley.portFor(transport), transport },
    cafile: join(parley.dataDir, 'tls', 'dev-cert.pem'),
    lifetimeSecs: 90,
  });
  started.push(b);
  await b.registered();
  return b;
}

describe('Debian baresip against Parley with the defaults', { skip, timeout: 300_000 }, () => {
  let parley: ParleyServer;
  /** Every baresip a test started: stopped (quit, then SIGKILL by pid) after it, whatever happened. */
  let started: Baresip[] = [];

  before(async () => {
    // no configuration at all: the defaults a new user gets
    parley = await ParleyServer.start({ pool, subscribers: [ALICE, BOB, CAROL], logLevel: 'debug' });
  });
  after(() => stopCleanly(parley));

  async function stopAll(): Promise<void> {
    await Promise.all(started.map((b) => b.stop()));
    started = [];
  }

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`${transport}: two baresips register (one MD5 challenge), alice calls bob, bob accepts, RTP flows both ways, alice hangs up`, async () => {
      try {
        const alice = await phone(parley, ALICE, transport, started);
        const bob = await phone(parley, BOB, transport, started);
        const from = { alice: alice.events.length, bob: bob.events.length };
        await alice.command('dial', 'sip:bob@127.0.0.1');
        const incoming = await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000, from.bob);
        assert.match(String(incoming.peeruri ?? incoming.param), /^sip:alice@127\.0\.0\.1/, 'bob sees alice as the caller');
        await bob.command('accept');
        await alice.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from.alice);
        await bob.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from.bob);
        const a = await alice.rtpFlowing(PACKETS);
        const b = await bob.rtpFlowing(PACKETS);
        assert.ok(a.tx >= PACKETS && a.rx >= PACKETS && b.tx >= PACKETS && b.rx >= PACKETS, JSON.stringify({ alice: a, bob: b }));
        await alice.command('hangup');
        await bob.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from.bob);
        await alice.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from.alice);

        await Promise.all([alice.stop(), bob.stop()]);
        for (const p of [alice, bob]) {
          const messages = p.messages();
          const challenges = challengesSeen(messages);
          assert.ok(challenges.length >= 1, `${p.aor} was challenged:\n${p.describe()}`);
          for (const c of challenges) assert.deepEqual(c, ['MD5'], `each 401 carries one challenge, MD5:\n${p.describe()}`);
          const registers = messages.filter((m) => m.startLine.startsWith('REGISTER '));
          assert.ok(registers.some((m) => m.headers.some(([n, v]) => n === 'authorization' && /^Digest /.test(v))), `${p.aor} answered the challenge`);
          assert.ok(messages.some((m) => /^SIP\/2\.0 200 /.test(m.startLine) && m.headers.some(([n, v]) => n === 'cseq' && / REGISTER$/.test(v))), `${p.aor}: a REGISTER got 200`);
        }
        // alice's INVITE was challenged (407) the same way, and she answered
        const proxyChallenges = challengesSeen(alice.messages(), 407);
        assert.ok(proxyChallenges.length >= 1 && proxyChallenges.every((c) => c.length === 1 && c[0] === 'MD5'), `alice's INVITE: one MD5 challenge per 407: ${JSON.stringify(proxyChallenges)}`);
        assert.ok(alice.messages().some((m) => m.startLine.startsWith('INVITE ') && m.headers.some(([n]) => n === 'proxy-authorization')), 'alice answered the 407');
        // bob's INVITE came through Parley, which record-routed it over the same transport
        const invite = bob.messages().find((m) => m.startLine.startsWith('INVITE '));
        assert.ok(invite !== undefined, bob.describe());
        const rr = invite.headers.filter(([n]) => n === 'record-route').map(([, v]) => v).join(', ');
        assert.match(rr, new RegExp(`127\\.0\\.0\\.1:${parley.portFor(transport)}\\b`), `Parley's Record-Route on bob's INVITE: ${rr}`);
      } finally {
        await stopAll();
      }
    });

    // sipp's side is UDP whatever baresip's is: a sipp phone is one sipp run to register and
    // another to answer, and a TCP or TLS binding does not outlive the connection it came over
    it(`${transport}: baresip calls a sipp phone (on UDP); RTP both ways (sipp echoes it); baresip hangs up`, async () => {
      try {
        const alice = await phone(parley, ALICE, transport, started);
        const { endpoint } = await registerPhone(parley, CAROL, 'udp');
        // sipp answers on the port it registered from, and sends back the RTP it gets (-rtp_echo on -mp)
        const uas = await startSipp({ ...parley.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint, calls: 1, timeoutSecs: 45, recvTimeoutMs: 30_000, extraArgs: ['-rtp_echo'] });
        const from = alice.events.length;
        await alice.command('dial', 'sip:carol@127.0.0.1');
        await alice.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from);
        const counts = await alice.rtpFlowing(PACKETS);
        await alice.command('hangup');
        await alice.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
        const r = await uas.done;
        assert.equal(r.code, 0, `sipp failed:\n${r.describe()}\n${alice.describe()}`);
        assert.deepEqual(flow(r.trace).filter((s, i, all) => !(s === '> 200' && all[i - 1] === '> 200')), ['< INVITE', '> 180', '> 200', '< ACK', '< BYE', '> 200'], r.describe());
        assert.ok(counts.tx >= PACKETS && counts.rx >= PACKETS, JSON.stringify(counts));
        // the INVITE reached sipp through Parley, record-routed on both sides (RFC 5658) when they differ
        const invite = received(r.trace, { method: 'INVITE' })[0]!;
        const rr = recordRoutes(invite).filter((a) => a.host === parley.host);
        assert.equal(rr.length, transport === 'udp' ? 1 : 2, `Parley's Record-Route entries:\n${invite.text}`);
      } finally {
        await stopAll();
      }
    });
  }
});

describe('Debian baresip against Parley offering SHA-256 besides MD5', { skip, timeout: 60_000 }, () => {
  let parley: ParleyServer;
  before(async () => {
    parley = await ParleyServer.start({ pool, subscribers: [ALICE], transports: ['udp'], config: { auth: { algorithms: ['MD5', 'SHA-256'] } } });
  });
  after(() => stopCleanly(parley));

  it('cannot register, although MD5 comes first: why MD5 alone is the default', async () => {
    const alice = await Baresip.start({ pool, account: ALICE, registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' }, lifetimeSecs: 30 });
    try {
      await assert.rejects(alice.registered(10_000), /could not register|not registered/);
    } finally {
      await alice.stop();
    }
    const challenges = challengesSeen(alice.messages());
    assert.ok(challenges.length >= 1, alice.describe());
    assert.deepEqual(challenges[0], ['MD5', 'SHA-256']);
    assert.equal(alice.messages().filter((m) => m.startLine.startsWith('REGISTER ') && m.headers.some(([n]) => n === 'authorization')).length, 0, 'baresip never answered');
    assert.match(alice.describe(), /Register: Function not implemented/, "libre: ENOSYS for the SHA-256 challenge");
  });
});
