// The common clients a new user tries first, against Parley with its defaults (MD5 digest
// challenges alone, see docs/configuration.md), each a real Debian program:
// - baresip (1.0, libre 1.1): registers (one MD5 challenge: libre 1.x gives up on a 401 that
//   names SHA-256, whatever the order, which is why SHA-256 is not offered by default), and calls
//   over UDP, TCP and TLS, baresip to baresip and baresip to a sipp phone (on UDP), with RTP
//   flowing both ways (counted by baresip, `audio_debug`). baresip runs headless (a sine tone as
//   its source, no player), driven through its ctrl_tcp socket. TLS: baresip is given Parley's
//   development certificate (`sip_cafile`), but libre 1.1's SIP transport never verifies a
//   server's certificate (no `sip_verify_server` yet), so it would connect to any; what is tested
//   is SIP over TLS, not baresip's certificate checks.
// - sipsak (0.9.8.1): registers over UDP, TCP and TLS (`-U`, `-a`, `-C`), refreshes and
//   unregisters; a wrong password gets its 401 (exit code 2). Bindings checked with a sipp query.
//   Its own bugs, worked around in support/sipsak.ts: the port in `-r`, the user in `-u`, TLS 1.2.
// - linphone (linphone-daemon 5.1, liblinphone and belle-sip): registers over UDP, TCP and TLS
//   (verifying Parley's development certificate, reached by the name localhost), unregisters,
//   and calls a baresip, RTP both ways (a WAV file played into the call: there is no sound card).
// And with SHA-256 offered as well (`auth.algorithms`), what each of them does: the findings of
// src/sip-server/auth/README.md's client table.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Baresip, skipWithoutBaresip, type TracedMessage } from './support/baresip.js';
import { registerPhone } from './support/calls.js';
import { Linphone, skipWithoutLinphone } from './support/linphone.js';
import { ParleyServer, stopCleanly, type ParleyTransport } from './support/parley.js';
import { portPool } from './support/ports.js';
import { registrationRun } from './support/registration.js';
import { contacts, flow, parseNameAddr, received, recordRoutes, type NameAddr } from './support/sip-trace.js';
import { sipsakRegister, skipWithoutSipsak, type SipsakRegisterOptions } from './support/sipsak.js';
import { reserveEndpoint, skipWithoutSipp, startSipp, type SippEndpoint } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret-alice' };
const BOB = { user: 'bob', password: 'secret-bob' };
const CAROL = { user: 'carol', password: 'secret-carol' };
const pool = portPool(import.meta.url);
/** RTP packets each way that count as audio flowing (20 ms packets: under a second of it). */
const PACKETS = 25;

const skip = skipWithoutBaresip() || skipWithoutSipp();
const skipSipsak = skipWithoutSipsak() || skipWithoutSipp();
const skipLinphone = skipWithoutLinphone() || skipWithoutSipp();
/** linphone's audio source in a call: a WAV file of Debian's linphone-common (no sound card here). */
const LINPHONE_WAV = '/usr/share/sounds/linphone/hello8000.wav';

/** The algorithms of the WWW-Authenticate fields of every 401 (or Proxy-Authenticate of every 407) baresip received. */
function challengesSeen(messages: readonly TracedMessage[], status: 401 | 407 = 401): string[][] {
  const header = status === 401 ? 'www-authenticate' : 'proxy-authenticate';
  return messages
    .filter((m) => m.startLine.startsWith(`SIP/2.0 ${status} `))
    .map((m) => m.headers.filter(([n]) => n === header).map(([, v]) => /algorithm=([\w-]+)/i.exec(v)?.[1] ?? '(none)'));
}

/** The algorithm of each Authorization (or Proxy-Authorization) field a client sent, in order. */
function answeredWith(messages: readonly TracedMessage[], header: 'authorization' | 'proxy-authorization' = 'authorization'): string[] {
  return messages.flatMap((m) => m.headers.filter(([n]) => n === header).map(([, v]) => /algorithm=([\w-]+)/i.exec(v)?.[1] ?? '(none)'));
}

/** The Contact values of a message (the 200 to a REGISTER lists the AOR's bindings). */
function contactsOf(m: TracedMessage): NameAddr[] {
  return m.headers.filter(([n]) => n === 'contact' || n === 'm').flatMap(([, v]) => v.split(/,(?![^<>]*>)/)).filter((v) => v.trim() !== '*').map(parseNameAddr);
}

/** The 200s to REGISTER requests in `messages`. */
function register200s(messages: readonly TracedMessage[]): TracedMessage[] {
  return messages.filter((m) => /^SIP\/2\.0 200 /.test(m.startLine) && m.headers.some(([n, v]) => n === 'cseq' && / REGISTER$/.test(v)));
}

/**
 * The bindings of `who`, listed in the 200 to an authenticated REGISTER without Contact (sipp,
 * reg-query.xml), sent from `endpoint`: one endpoint serves every query of a suite, as the slice's
 * 250 ports have to do for every client of this file.
 */
async function queryBindings(parley: ParleyServer, who: typeof ALICE, endpoint: SippEndpoint): Promise<{ bindings: NameAddr[] }> {
  const run = await registrationRun(parley, 'reg-query.xml', who, { endpoint });
  const ok = received(run.trace, { status: 200 });
  if (run.code !== 0 || ok.length !== 1) throw new Error(`the query REGISTER for ${who.user} failed:\n${run.describe()}`);
  return { bindings: contacts(ok[0]!) };
}

/** The binding at 127.0.0.1:`port` among `bindings`, if any. */
function bindingAt(bindings: readonly NameAddr[], port: number): NameAddr | undefined {
  return bindings.find((b) => b.host === '127.0.0.1' && b.port === port);
}

/** Its expires parameter, as a number. */
function expiresOf(b: NameAddr | undefined): number {
  return Number(b?.params.get('expires') ?? Number.NaN);
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


describe('Debian sipsak against Parley with the defaults', { skip: skipSipsak, timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let query: SippEndpoint;
  before(async () => {
    parley = await ParleyServer.start({ pool, subscribers: [ALICE, BOB], logLevel: 'debug' });
    query = await reserveEndpoint(pool);
  });
  after(() => stopCleanly(parley));

  function account(transport: ParleyTransport): Omit<SipsakRegisterOptions, 'localPort' | 'expires'> {
    return { registrar: { host: parley.host, port: parley.portFor(transport), transport }, user: ALICE.user, password: ALICE.password, cafile: join(parley.dataDir, 'tls', 'dev-cert.pem') };
  }

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`${transport}: sipsak -U registers (one MD5 challenge, answered MD5)${transport === 'udp' ? ', refreshes' : ''} and unregisters`, async () => {
      const port = await pool.block(2);
      const reg = await sipsakRegister({ ...account(transport), localPort: port, expires: 60 });
      assert.equal(reg.code, 0, `sipsak registers: ${reg.describe()}`);
      const challenges = challengesSeen(reg.messages);
      assert.ok(challenges.length >= 1, reg.describe());
      for (const c of challenges) assert.deepEqual(c, ['MD5'], `each 401 carries one challenge, MD5: ${reg.describe()}`);
      assert.ok(answeredWith(reg.messages).length >= 1 && answeredWith(reg.messages).every((a) => a === 'MD5'), reg.describe());
      // Parley's 200 lists the binding it made, for the time asked
      const ok = register200s(reg.messages).at(-1);
      assert.ok(ok !== undefined, reg.describe());
      const made = bindingAt(contactsOf(ok), port);
      assert.ok(made !== undefined && expiresOf(made) > 0 && expiresOf(made) <= 60, `the 200 lists ${reg.contact} with expires <= 60: ${reg.describe()}`);
      if (transport === 'udp') {
        // the registrar kept it (a TCP or TLS binding goes with its connection, which sipsak closes on exit)
        let { bindings } = await queryBindings(parley, ALICE, query);
        assert.equal(bindings.length, 1, JSON.stringify(bindings));
        assert.ok(bindingAt(bindings, port) !== undefined && expiresOf(bindings[0]) <= 60, JSON.stringify(bindings));
        // a refresh: the same Contact again (a new Call-ID: sipsak makes one per run), for longer
        const refresh = await sipsakRegister({ ...account(transport), localPort: port, expires: 300 });
        assert.equal(refresh.code, 0, refresh.describe());
        ({ bindings } = await queryBindings(parley, ALICE, query));
        assert.equal(bindings.length, 1, `still one binding: ${JSON.stringify(bindings)}`);
        assert.ok(expiresOf(bindingAt(bindings, port)) > 60, `refreshed to 300 s: ${JSON.stringify(bindings)}`);
      }
      // unregister: Expires 0 for the same Contact (over TCP from another port: sipsak cannot bind
      // the first again while its connection from there is in TIME_WAIT)
      const unreg = await sipsakRegister({ ...account(transport), localPort: transport === 'udp' ? port : port + 1, contactPort: port, expires: 0 });
      assert.equal(unreg.code, 0, unreg.describe());
      const cleared = register200s(unreg.messages).at(-1);
      assert.ok(cleared !== undefined && bindingAt(contactsOf(cleared), port) === undefined, `the 200 to Expires: 0 no longer lists ${unreg.contact}: ${unreg.describe()}`);
      if (transport === 'udp') assert.deepEqual((await queryBindings(parley, ALICE, query)).bindings, [], 'no binding left');
    });
  }

  it('udp: a wrong password: the answered REGISTER gets 401 again, sipsak exits 2, no binding', async () => {
    const port = await pool.block(1);
    const r = await sipsakRegister({ ...account('udp'), password: 'not-the-password', localPort: port, expires: 60 });
    assert.equal(r.code, 2, `sipsak's exit code for a refused REGISTER: ${r.describe()}`);
    assert.match(r.output, /authorization failed/, r.describe());
    const answered = r.messages.filter((m) => m.startLine.startsWith('REGISTER ') && m.headers.some(([n]) => n === 'authorization'));
    assert.ok(answered.length >= 1, r.describe());
    assert.ok(r.messages.filter((m) => m.startLine.startsWith('SIP/2.0 401 ')).length >= 2, `401, then 401 to the answer: ${r.describe()}`);
    assert.equal(register200s(r.messages).length, 0, r.describe());
    assert.deepEqual((await queryBindings(parley, ALICE, query)).bindings, [], 'no binding');
  });
});

describe('Debian linphone (linphone-daemon) against Parley with the defaults', { skip: skipLinphone || skip, timeout: 300_000 }, () => {
  let parley: ParleyServer;
  let query: SippEndpoint;
  /** bob, a baresip registered over UDP, whom linphone calls in each call test */
  let bob: Baresip | undefined;
  let started: Linphone[] = [];
  before(async () => {
    parley = await ParleyServer.start({ pool, subscribers: [ALICE, BOB], logLevel: 'debug' });
    query = await reserveEndpoint(pool);
  });
  after(async () => {
    await bob?.stop();
    await stopCleanly(parley);
  });

  async function stopAll(): Promise<void> {
    await Promise.all(started.map((p) => p.stop()));
    started = [];
  }

  async function linphone(transport: ParleyTransport): Promise<Linphone> {
    const l = await Linphone.start({ pool, account: ALICE, registrar: { host: parley.host, port: parley.portFor(transport), transport }, cafile: join(parley.dataDir, 'tls', 'dev-cert.pem'), lifetimeSecs: 90 });
    started.push(l);
    await l.registered();
    return l;
  }

  for (const transport of ['udp', 'tcp', 'tls'] as const) {
    it(`${transport}: linphone registers (one MD5 challenge, answered MD5) and unregisters`, async () => {
      try {
        const l = await linphone(transport);
        // Parley's binding: at its SIP port over UDP; over TCP and TLS at the port of its connection,
        // which linphone puts in its Contact once a response's Via told it (received, rport)
        const isLinphone = (c: NameAddr): boolean => c.user === ALICE.user && (transport === 'udp' ? c.port === l.sipPort : c.uriParams.get('transport') === transport);
        const { bindings } = await queryBindings(parley, ALICE, query);
        assert.equal(bindings.filter(isLinphone).length, 1, `Parley's binding of linphone: ${JSON.stringify(bindings)}`);
        await l.unregister();
        const left = (await queryBindings(parley, ALICE, query)).bindings;
        assert.equal(left.filter(isLinphone).length, 0, `its binding is gone: ${JSON.stringify(left)}`);
        const messages = await l.messages();
        const challenges = challengesSeen(messages);
        assert.ok(challenges.length >= 1, await l.logTail());
        for (const c of challenges) assert.deepEqual(c, ['MD5'], 'each 401 carries one challenge, MD5');
        assert.ok(answeredWith(messages).length >= 1 && answeredWith(messages).every((a) => a === 'MD5'), JSON.stringify(answeredWith(messages)));
        const oks = register200s(messages);
        assert.ok(oks.length >= 2, 'a 200 to the REGISTER and to the un-REGISTER');
        assert.equal(contactsOf(oks[0]!).filter(isLinphone).length, 1, `the 200 lists linphone's Contact: ${JSON.stringify(contactsOf(oks[0]!))}`);
      } finally {
        await stopAll();
      }
    });

    it(`${transport}: linphone calls a baresip (on UDP), baresip answers, RTP both ways, linphone hangs up`, async () => {
      let l: Linphone | undefined;
      try {
        if (bob === undefined) {
          const mine: Baresip[] = [];
          bob = await phone(parley, BOB, 'udp', mine).catch(async (e: unknown) => {
            await Promise.all(mine.map((b) => b.stop()));
            throw e;
          });
        }
        l = await linphone(transport);
        const from = bob.events.length;
        await l.command('call sip:bob@127.0.0.1');
        const incoming = await bob.waitEvent((e) => e.type === 'CALL_INCOMING', 15_000, from);
        assert.match(String(incoming.peeruri ?? incoming.param), /^sip:alice@127\.0\.0\.1/, 'bob sees alice as the caller');
        await bob.command('accept');
        await l.waitCallState('LinphoneCallStreamsRunning');
        await bob.waitEvent((e) => e.type === 'CALL_ESTABLISHED', 15_000, from);
        // linphone has no sound card: a WAV file is its source (without it, it sends no RTP at all)
        await l.command(`incall-player-start ${LINPHONE_WAV}`);
        const counts = await bob.rtpFlowing(PACKETS);
        await l.command('terminate');
        await bob.waitEvent((e) => e.type === 'CALL_CLOSED', 15_000, from);
        await l.waitCallState('LinphoneCallReleased');
        const stats = await l.rtpStats();
        assert.ok(counts.tx >= PACKETS && counts.rx >= PACKETS, `baresip's RTP: ${JSON.stringify(counts)}`);
        assert.ok(stats !== undefined && stats.sent >= PACKETS && stats.received >= PACKETS, `linphone's RTP: ${JSON.stringify(stats)}`);
        // linphone's INVITE was challenged (407, one MD5 challenge) and answered
        const messages = await l.messages();
        const proxyChallenges = challengesSeen(messages, 407);
        assert.ok(proxyChallenges.length >= 1 && proxyChallenges.every((c) => c.length === 1 && c[0] === 'MD5'), `one MD5 challenge per 407: ${JSON.stringify(proxyChallenges)}`);
        assert.deepEqual([...new Set(answeredWith(messages, 'proxy-authorization'))], ['MD5'], 'linphone answered the 407 with MD5');
        assert.ok(messages.some((m) => m.startLine.startsWith('BYE ')), 'linphone hung up (BYE)');
        // through Parley, over the account's transport
        const invite = messages.find((m) => m.startLine.startsWith('INVITE '));
        assert.match(invite?.headers.find(([n]) => n === 'via')?.[1] ?? '', new RegExp(`^SIP/2\\.0/${transport.toUpperCase()} `), 'linphone sent its INVITE over the transport of its account');
      } catch (e) {
        if (l !== undefined) await l.stop();
        throw new Error(`${(e as Error).message}\n${l === undefined ? '' : await l.logTail(30_000)}\n--- Parley\n${parley.outputTail(30)}`, { cause: e });
      } finally {
        await stopAll();
      }
    });
  }
});

// What each client does when SHA-256 is offered as well: the reason for the default, and the
// client table of src/sip-server/auth/README.md.
for (const algorithms of [['MD5', 'SHA-256'], ['SHA-256', 'MD5']] as const) {
  const topmost = algorithms[0];
  describe(`The clients against Parley offering ${algorithms.join(', ')} (auth.algorithms)`, { timeout: 120_000 }, () => {
    let parley: ParleyServer;
    before(async () => {
      parley = await ParleyServer.start({ pool, subscribers: [ALICE], transports: ['udp'], config: { auth: { algorithms } } });
    });
    after(() => stopCleanly(parley));

    it(`baresip cannot register, whatever the order: why MD5 alone is the default`, { skip }, async () => {
      const alice = await Baresip.start({ pool, account: ALICE, registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' }, lifetimeSecs: 30 });
      try {
        await assert.rejects(alice.registered(10_000), /could not register|not registered/);
      } finally {
        await alice.stop();
      }
      const challenges = challengesSeen(alice.messages());
      assert.ok(challenges.length >= 1, alice.describe());
      assert.deepEqual(challenges[0], [...algorithms]);
      assert.equal(answeredWith(alice.messages()).length, 0, 'baresip never answered');
      assert.match(alice.describe(), /Register: Function not implemented/, 'libre: ENOSYS for the SHA-256 challenge');
    });

    it(topmost === 'MD5' ? 'sipsak registers: it reads the first challenge only, MD5' : 'sipsak cannot register: it reads the first challenge only, SHA-256, which it does not know', { skip: skipSipsak }, async () => {
      const port = await pool.block(1);
      const r = await sipsakRegister({ registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' }, user: ALICE.user, password: ALICE.password, localPort: port, expires: 60 });
      assert.deepEqual(challengesSeen(r.messages)[0], [...algorithms], r.describe());
      if (topmost === 'MD5') {
        assert.equal(r.code, 0, r.describe());
        assert.deepEqual([...new Set(answeredWith(r.messages))], ['MD5'], r.describe());
        assert.equal(register200s(r.messages).length, 1, r.describe());
      } else {
        assert.equal(r.code, 2, r.describe());
        assert.match(r.output, /unsupported authentication algorithm/, r.describe());
        assert.equal(answeredWith(r.messages).length, 0, 'sipsak never answered');
      }
    });

    it(`linphone registers, answering the topmost challenge (RFC 8760): ${topmost}`, { skip: skipLinphone }, async () => {
      const l = await Linphone.start({ pool, account: ALICE, registrar: { host: parley.host, port: parley.portFor('udp'), transport: 'udp' }, lifetimeSecs: 60 });
      try {
        await l.registered();
      } finally {
        await l.stop();
      }
      const messages = await l.messages();
      assert.deepEqual(challengesSeen(messages)[0], [...algorithms]);
      assert.deepEqual([...new Set(answeredWith(messages))], [topmost]);
      assert.ok(register200s(messages).length >= 1);
    });
  });
}
