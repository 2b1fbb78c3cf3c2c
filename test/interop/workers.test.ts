// Parley with two SIP worker threads (`--workers 2`), against sipp: the main thread keeps the
// sockets and hands each message to the worker its Call-ID hashes to. What must hold whatever
// worker a message lands in: a registration made in one worker routes the calls every
// worker handles (bindings are replicated); a closed TCP connection takes its binding away in
// every worker; failed authentications are counted over all workers. Each check also shows, from
// the Call-IDs sipp used, that both workers really took part.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, beforeEach, describe, it } from 'node:test';
import { workerOf } from '../../src/sip-server/workers/call-id-hash.js';
import { describeCall, registerPhone } from './support/calls.js';
import { spawnBounded } from './support/child.js';
import { assertCleanExit, PARLEY_CLI, ParleyServer, REPO_ROOT, stopCleanly, type LogLine } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings, registrationRun } from './support/registration.js';
import { header, received, sent, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const pool = portPool(import.meta.url);
const WORKERS = 2;

/** The workers the Call-IDs of these messages hash to. */
function workersOf(trace: readonly SippTraceEntry[]): Set<number> {
  return new Set(trace.map((e) => workerOf(new TextEncoder().encode(`X\r\nCall-ID: ${header(e, 'Call-ID') ?? ''}\r\n\r\n`), WORKERS)));
}

/** A fresh Call-ID (each registration needs one: sipp starts at CSeq 1) that hashes to worker `w`. */
function callIdIn(w: number, tag: string): string {
  for (let i = 0; ; i++) {
    const id = `cache-${tag}-${i}@interop`;
    if (workerOf(new TextEncoder().encode(`X\r\nCall-ID: ${id}\r\n\r\n`), WORKERS) === w) return id;
  }
}

describe('Parley with two SIP worker threads', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp', 'tcp'], subscribers: [ALICE, BOB], workers: WORKERS });
    assert.equal(parley.readyLine?.workers, WORKERS, 'Parley did not start its workers');
  });

  // each test starts with bob not registered anywhere (Contact: *, Expires: 0)
  beforeEach(async () => {
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(() => stopCleanly(parley));

  it('one registration of bob routes calls whose Call-IDs land in either worker', async () => {
    const CALLS = 8;
    const bob = await registerPhone(parley, BOB);
    const uas = await startSipp({ ...parley.sippTarget(), scenario: 'uas-answer.xml', endpoint: bob.endpoint, calls: CALLS, timeoutSecs: 30, recvTimeoutMs: 5000 });
    const uac = await runSipp({
      ...parley.sippTarget(), scenario: 'call-basic.xml', calls: CALLS, rate: 20, timeoutSecs: 30, recvTimeoutMs: 5000,
      credentials: [ALICE], service: 'bob', pauseMs: 100, callId: 'route-%u@interop',
    });
    const bobRun = await uas.done;
    const both = describeCall(uac, bobRun);
    assert.equal(uac.code, 0, `alice's calls failed:\n${both}`);
    assert.equal(bobRun.code, 0, `bob's sipp failed:\n${both}`);
    const invites = received(bobRun.trace, { method: 'INVITE' });
    assert.equal(new Set(invites.map((e) => header(e, 'Call-ID'))).size, CALLS, both);
    assert.deepEqual([...workersOf(sent(uac.trace, { method: 'INVITE' }))].sort(), [0, 1], 'the calls did not reach both workers');
  });

  it('a binding over TCP goes from every worker when its connection closes: calls in either worker get 480', async () => {
    const CALLS = 6;
    // sipp registers over its own TCP connection and closes it when it exits
    const bob = await registerPhone(parley, BOB, 'tcp');
    assert.ok(bob.run.code === 0);
    // the close reaches both workers before the calls start (the calls below go over UDP)
    await new Promise((r) => setTimeout(r, 300));
    const uac = await runSipp({
      ...parley.sippTarget(), scenario: 'call-unavailable.xml', calls: CALLS, rate: 20, timeoutSecs: 30, recvTimeoutMs: 5000,
      credentials: [ALICE], service: 'bob', callId: 'closed-%u@interop',
    });
    assert.equal(uac.code, 0, `expected 480 for every call:\n${uac.describe()}`);
    assert.equal(received(uac.trace, { status: 480 }).length, CALLS, uac.describe());
    assert.deepEqual([...workersOf(sent(uac.trace, { method: 'INVITE' }))].sort(), [0, 1], 'the calls did not reach both workers');
  });
});

describe('failed authentications are counted over every worker', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], workers: WORKERS });
  });

  after(() => stopCleanly(parley));

  it('ten wrong passwords under ten Call-IDs block the source in both workers (default auth.failureLimit.maxFailures: 10)', async () => {
    const guesses = await runSipp({
      ...parley.sippTarget(), scenario: 'reg-wrong-password.xml', calls: 10, rate: 20, timeoutSecs: 30, recvTimeoutMs: 3000,
      credentials: [{ user: 'alice', password: 'not-her-password' }], keys: { expires: '3600' }, callId: 'guess-%u@interop',
    });
    assert.equal(guesses.code, 0, guesses.describe());
    const callIds = sent(guesses.trace, { method: 'REGISTER' });
    assert.deepEqual([...workersOf(callIds)].sort(), [0, 1], 'the guesses did not reach both workers');
    // now the right password, from the same address, under new Call-IDs: refused in either worker
    // (Call-IDs chosen to hash to worker 0 and worker 1; sipp's -cid_str: %u is the call number)
    const refusedIn = new Set<number>();
    for (const callId of ['blocked-a@interop', 'blocked-b@interop']) {
      const run = await registrationRun(parley, 'reg-register.xml', ALICE, { expires: 3600, callId });
      assert.notEqual(run.code, 0, `a blocked source registered:\n${run.describe()}`);
      assert.equal(received(run.trace, { status: 403 }).length, 1, run.describe());
      assert.equal(received(run.trace, { status: 200 }).length, 0, run.describe());
      for (const w of workersOf(sent(run.trace, { method: 'REGISTER' }))) refusedIn.add(w);
    }
    assert.deepEqual([...refusedIn].sort(), [0, 1], 'the block was not seen in both workers');
    assert.ok(parley.logs.some((l) => l.msg === 'auth: too many failed authentications; source blocked'), 'the block was not logged');
  });
});

describe('`parley user` changes count at once in every worker (auth.subscriberCache)', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  const CAROL = { user: 'carol', password: 'first-pw' };
  const registerIn = async (who: { user: string; password: string }, w: number, tag: string) =>
    registrationRun(parley, 'reg-register.xml', who, { expires: 60, callId: callIdIn(w, tag) });
  const parleyUser = async (...args: string[]) => {
    const r = await spawnBounded(process.execPath, [PARLEY_CLI, 'user', ...args, '--data-dir', parley.dataDir], { cwd: REPO_ROOT, timeoutMs: 30_000 }).done;
    assert.equal(r.code, 0, `parley user ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
  };

  before(async () => {
    // a cache far longer than the test: only the control socket's message can make it forget
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [CAROL], workers: WORKERS, config: { auth: { subscriberCache: 3600 } } });
  });

  after(() => stopCleanly(parley));

  it('a new password is required, and a removed user refused, in both workers right after the command', async () => {
    for (const w of [0, 1]) {
      const run = await registerIn(CAROL, w, 'first');
      assert.equal(run.code, 0, `carol could not register in worker ${w} (her subscriber is now cached there):\n${run.describe()}`);
    }
    await parleyUser('passwd', 'carol@127.0.0.1', '--password', 'second-pw');
    for (const w of [0, 1]) {
      const old = await registerIn(CAROL, w, 'old');
      assert.equal(received(old.trace, { status: 200 }).length, 0, `the old password still worked in worker ${w}:\n${old.describe()}`);
      const fresh = await registerIn({ ...CAROL, password: 'second-pw' }, w, 'new');
      assert.equal(fresh.code, 0, `the new password did not work in worker ${w}:\n${fresh.describe()}`);
    }
    await parleyUser('remove', 'carol@127.0.0.1');
    for (const w of [0, 1]) {
      const gone = await registerIn({ ...CAROL, password: 'second-pw' }, w, 'gone');
      assert.equal(received(gone.trace, { status: 200 }).length, 0, `a removed user registered in worker ${w}:\n${gone.describe()}`);
    }
  });
});

describe('one binding writer stores the registrations of every worker', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  const DAVE = { user: 'dave', password: 'pw-dave' };
  const ERIN = { user: 'erin', password: 'pw-erin' };

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [DAVE, ERIN], workers: WORKERS });
  });

  after(() => stopCleanly(parley));

  it('dave registers in worker 0 and erin in worker 1; after SIGTERM and a new process both bindings are restored', async () => {
    for (const [who, w] of [[DAVE, 0], [ERIN, 1]] as const) {
      const run = await registrationRun(parley, 'reg-register.xml', who, { expires: 600, callId: callIdIn(w, `writer-${who.user}`) });
      assert.equal(run.code, 0, `${who.user} could not register in worker ${w}:\n${run.describe()}`);
    }
    assertCleanExit(parley, await parley.restart());
    assert.equal(parley.readyLine?.restoredBindings, 2, `both bindings should be restored:\n${JSON.stringify(parley.readyLine)}`);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), [], 'errors were logged');
  });
});

// ---- each worker's own UDP socket (SO_REUSEPORT) ---------------------------------------------
// The kernel gives a datagram to one of the workers' sockets by a hash of its source and
// destination addresses and ports; the worker that gets it hands it on to the worker its Call-ID
// hashes to. Phones here send every message from another of eight source ports (and answer from
// other ports than the requests went to), so the messages of one call and the refreshes of one
// registration reach Parley through both workers' sockets: each must still find its transaction.

/** A UDP phone with several sockets (ports of this file's slice); each message leaves from the next. */
class SpreadPhone {
  readonly inbox: Array<{ text: string; port: number }> = [];
  private next = 0;
  private waiters: Array<() => void> = [];
  private constructor(
    readonly user: string,
    readonly password: string,
    private readonly sockets: Socket[],
    readonly ports: number[],
  ) {
    for (const [i, s] of sockets.entries())
      s.on('message', (m) => {
        this.inbox.push({ text: m.toString('latin1'), port: ports[i]! });
        for (const w of this.waiters.splice(0)) w();
      });
  }

  static async open(user: string, password: string, count: number): Promise<SpreadPhone> {
    const base = await pool.block(count);
    const sockets: Socket[] = [];
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const s = createSocket('udp4');
      await new Promise<void>((res, rej) => s.once('error', rej).bind(base + i, '127.0.0.1', () => res()));
      sockets.push(s);
      ports.push(base + i);
    }
    return new SpreadPhone(user, password, sockets, ports);
  }

  /** The port its Contact names (its first socket). */
  get contactPort(): number {
    return this.ports[0]!;
  }

  /** Send from the next socket (or socket `from`); returns the port it left from. */
  send(text: string, to: number, from?: number): number {
    const i = from ?? this.next++ % this.sockets.length;
    this.sockets[i]!.send(Buffer.from(text, 'latin1'), to, '127.0.0.1');
    return this.ports[i]!;
  }

  /** The first message received (from `since` on) that `match` accepts; fails after `ms`. */
  async wait(what: string, match: (text: string) => boolean, since = 0, ms = 8000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.inbox.slice(since).find((m) => match(m.text));
      if (hit !== undefined) return hit.text;
      const left = deadline - Date.now();
      assert.ok(left > 0, `${this.user}: no ${what} within ${ms} ms; got:\n${this.inbox.map((m) => m.text.split('\r\n')[0]).join('\n')}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

const hval = (text: string, name: string): string | undefined => {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text);
  return m?.[1]?.trim();
};
const hvals = (text: string, name: string): string[] => [...text.matchAll(new RegExp(`^${name}:\\s*(.*)$`, 'gim'))].map((m) => m[1]!.trim());
const statusOf = (text: string): number | undefined => {
  const m = /^SIP\/2\.0 (\d{3})/.exec(text);
  return m ? Number(m[1]) : undefined;
};
const isResponse = (status: number, method: string, callId: string) => (t: string) => statusOf(t) === status && hval(t, 'Call-ID') === callId && (hval(t, 'CSeq') ?? '').endsWith(` ${method}`);
const isRequest = (method: string, callId: string) => (t: string) => t.startsWith(`${method} `) && hval(t, 'Call-ID') === callId;

/** Digest credentials for a 401/407 (MD5 when offered, else SHA-256; qop=auth). */
function authorize(challengeText: string, phone: SpreadPhone, method: string, uri: string): string {
  const proxy = statusOf(challengeText) === 407;
  const challenges = hvals(challengeText, proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate');
  const pick = challenges.find((c) => /algorithm=MD5\b/i.test(c) || !/algorithm=/i.test(c)) ?? challenges.find((c) => /algorithm=SHA-256\b/i.test(c));
  assert.ok(pick !== undefined, `no usable challenge:\n${challengeText}`);
  const param = (n: string): string | undefined => new RegExp(`${n}="?([^",]+)"?`, 'i').exec(pick)?.[1];
  const algorithm = /algorithm=SHA-256\b/i.test(pick) ? 'SHA-256' : 'MD5';
  const h = (s: string): string => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
  const realm = param('realm')!;
  const nonce = param('nonce')!;
  const cnonce = Math.random().toString(36).slice(2);
  const ha1 = h(`${phone.user}:${realm}:${phone.password}`);
  const response = h(`${ha1}:${nonce}:00000001:${cnonce}:auth:${h(`${method}:${uri}`)}`);
  const opaque = param('opaque');
  const value = `Digest username="${phone.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}, qop=auth, nc=00000001, cnonce="${cnonce}"${opaque ? `, opaque="${opaque}"` : ''}`;
  return `${proxy ? 'Proxy-Authorization' : 'Authorization'}: ${value}`;
}

interface Msg {
  readonly method: string;
  readonly uri: string;
  readonly callId: string;
  readonly cseq: number;
  readonly from: string;
  readonly to: string;
  readonly branch: string;
  readonly viaPort: number;
  readonly extra?: readonly string[];
  readonly body?: string;
}

function request(m: Msg): string {
  const body = m.body ?? '';
  return [
    `${m.method} ${m.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${m.viaPort};branch=${m.branch};rport`,
    'Max-Forwards: 70',
    `From: ${m.from}`,
    `To: ${m.to}`,
    `Call-ID: ${m.callId}`,
    `CSeq: ${m.cseq} ${m.method}`,
    ...(m.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A response to `req` (its Via, From, Call-ID, CSeq), with a To tag. */
function respond(req: string, status: number, reason: string, toTag: string, extra: readonly string[] = []): string {
  const to = hval(req, 'To')!;
  return [
    `SIP/2.0 ${status} ${reason}`,
    ...hvals(req, 'Via').map((v) => `Via: ${v}`),
    ...hvals(req, 'Record-Route').map((v) => `Record-Route: ${v}`),
    `From: ${hval(req, 'From')}`,
    `To: ${/;tag=/.test(to) ? to : `${to};tag=${toTag}`}`,
    `Call-ID: ${hval(req, 'Call-ID')}`,
    `CSeq: ${hval(req, 'CSeq')}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('each worker reads and writes its own UDP socket (SO_REUSEPORT): messages of one call through either socket', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let alice: SpreadPhone;
  let bob: SpreadPhone;
  const SOCKETS = 8;
  const domain = '127.0.0.1';
  const workerStats = (): LogLine[] => parley.logs.filter((l) => l.msg === 'stats' && typeof l.worker === 'number');

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE, BOB], workers: WORKERS, config: { log: { statsInterval: 1 } } });
    alice = await SpreadPhone.open(ALICE.user, ALICE.password, SOCKETS);
    bob = await SpreadPhone.open(BOB.user, BOB.password, SOCKETS);
  });

  after(async () => {
    alice?.close();
    bob?.close();
    await stopCleanly(parley);
  });

  /** Bob registers (Call-ID `callId`, CSeq `cseq`, `cseq`+1 with credentials) from two more of his ports; his Contact stays his first. */
  const register = async (callId: string, cseq: number, expires = 600): Promise<string> => {
    const port = parley.port!;
    const msg = (n: number, extra: string[] = []): string =>
      request({
        method: 'REGISTER', uri: `sip:${domain}`, callId, cseq: n, from: `<sip:bob@${domain}>;tag=reg${callId.length}`, to: `<sip:bob@${domain}>`,
        branch: `z9hG4bK-reg-${callId.replace(/[^a-z0-9]/gi, "")}-${n}`, viaPort: bob.contactPort, extra: [`Contact: <sip:bob@127.0.0.1:${bob.contactPort}>`, `Expires: ${expires}`, ...extra],
      });
    let since = bob.inbox.length;
    bob.send(msg(cseq), port);
    const challenge = await bob.wait('401 to REGISTER', isResponse(401, 'REGISTER', callId), since);
    since = bob.inbox.length;
    bob.send(msg(cseq + 1, [authorize(challenge, bob, 'REGISTER', `sip:${domain}`)]), port);
    return bob.wait('200 to REGISTER', isResponse(200, 'REGISTER', callId), since);
  };

  it('REGISTER refreshes of one Call-ID from different source ports all find their registration: one binding, never a second', async () => {
    const callId = 'spread-reg@interop';
    for (let i = 0; i < 4; i++) {
      const ok = await register(callId, 1 + 2 * i);
      const contacts = hvals(ok, 'Contact');
      assert.equal(contacts.length, 1, `refresh ${i}: one binding expected:\n${ok}`);
      assert.match(contacts[0]!, new RegExp(`:${bob.contactPort}>`), ok);
    }
  });

  it('a call whose messages come from eight ports and whose answers leave from other ports than the requests went to: retransmission absorbed, ACK and BYE reach bob', async () => {
    await register('spread-reg-call@interop', 1);
    const port = parley.port!;
    const callId = 'spread-call@interop';
    const from = `<sip:alice@${domain}>;tag=a1`;
    const to = `<sip:bob@${domain}>`;
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';
    const invite = (cseq: number, branch: string, extra: string[] = []): string =>
      request({ method: 'INVITE', uri: `sip:bob@${domain}`, callId, cseq, from, to, branch, viaPort: alice.contactPort, extra: [`Contact: <sip:alice@127.0.0.1:${alice.contactPort}>`, 'Content-Type: application/sdp', ...extra], body: sdp });
    let since = alice.inbox.length;
    alice.send(invite(1, 'z9hG4bK-inv1'), port);
    const challenge = await alice.wait('407', isResponse(407, 'INVITE', callId), since);
    alice.send(request({ method: 'ACK', uri: `sip:bob@${domain}`, callId, cseq: 1, from, to: hval(challenge, 'To')!, branch: 'z9hG4bK-inv1', viaPort: alice.contactPort }), port);
    const credentials = authorize(challenge, alice, 'INVITE', `sip:bob@${domain}`);
    since = alice.inbox.length;
    const bobSince = bob.inbox.length;
    const authed = invite(2, 'z9hG4bK-inv2', [credentials]);
    alice.send(authed, port);
    const atBob = await bob.wait('INVITE', isRequest('INVITE', callId), bobSince);
    // bob rings, from another port than the INVITE came to
    bob.send(respond(atBob, 180, 'Ringing', 'b1', [`Contact: <sip:bob@127.0.0.1:${bob.contactPort}>`]), port, 1);
    await alice.wait('180', isResponse(180, 'INVITE', callId), since);
    // alice retransmits her INVITE from two more ports: Parley's INVITE server transaction absorbs it (180 again)
    const before180 = alice.inbox.length;
    alice.send(authed, port, 3);
    alice.send(authed, port, 4);
    await alice.wait('the 180 again, for the retransmission', isResponse(180, 'INVITE', callId), before180);
    // bob answers from yet another port
    bob.send(respond(atBob, 200, 'OK', 'b1', [`Contact: <sip:bob@127.0.0.1:${bob.contactPort}>`]), port, 2);
    const ok = await alice.wait('200', isResponse(200, 'INVITE', callId), since);
    const routes = hvals(ok, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse();
    const dialogTo = hval(ok, 'To')!;
    const target = /<([^>]+)>/.exec(hval(ok, 'Contact')!)![1]!;
    const inDialog = (method: string, cseq: number, branch: string): string =>
      request({ method, uri: target, callId, cseq, from, to: dialogTo, branch, viaPort: alice.contactPort, extra: routes.map((r) => `Route: ${r}`) });
    alice.send(inDialog('ACK', 2, 'z9hG4bK-ack2'), port, 5);
    await bob.wait('ACK', isRequest('ACK', callId), bobSince);
    const beforeBye = alice.inbox.length;
    alice.send(inDialog('BYE', 3, 'z9hG4bK-bye3'), port, 6);
    const bye = await bob.wait('BYE', isRequest('BYE', callId), bobSince);
    bob.send(respond(bye, 200, 'OK', 'b1'), port, 3);
    await alice.wait('200 to BYE', isResponse(200, 'BYE', callId), beforeBye);
    // one INVITE reached bob (the retransmissions were absorbed, none became a transaction of its
    // own in another worker), and alice got no second challenge
    const invitesAtBob = new Set(bob.inbox.filter((m) => isRequest('INVITE', callId)(m.text)).map((m) => hval(m.text, 'Via')));
    assert.equal(invitesAtBob.size, 1, `bob got INVITEs of ${invitesAtBob.size} transactions`);
    assert.equal(alice.inbox.filter((m) => isResponse(407, 'INVITE', callId)(m.text)).length, 1, 'a retransmission was challenged as a new request');
  });

  it('CANCEL from another port than its INVITE: 200 to the CANCEL, the CANCEL and then 487 through bob', async () => {
    const port = parley.port!;
    const callId = 'spread-cancel@interop';
    const from = `<sip:alice@${domain}>;tag=a2`;
    const to = `<sip:bob@${domain}>`;
    const invite = (cseq: number, branch: string, extra: string[] = []): string =>
      request({ method: 'INVITE', uri: `sip:bob@${domain}`, callId, cseq, from, to, branch, viaPort: alice.contactPort, extra: [`Contact: <sip:alice@127.0.0.1:${alice.contactPort}>`, ...extra] });
    let since = alice.inbox.length;
    alice.send(invite(1, 'z9hG4bK-c1'), port, 0);
    const challenge = await alice.wait('407', isResponse(407, 'INVITE', callId), since);
    alice.send(request({ method: 'ACK', uri: `sip:bob@${domain}`, callId, cseq: 1, from, to: hval(challenge, 'To')!, branch: 'z9hG4bK-c1', viaPort: alice.contactPort }), port, 1);
    since = alice.inbox.length;
    const bobSince = bob.inbox.length;
    alice.send(invite(2, 'z9hG4bK-c2', [authorize(challenge, alice, 'INVITE', `sip:bob@${domain}`)]), port, 2);
    const atBob = await bob.wait('INVITE', isRequest('INVITE', callId), bobSince);
    bob.send(respond(atBob, 180, 'Ringing', 'b2'), port, 4);
    await alice.wait('180', isResponse(180, 'INVITE', callId), since);
    alice.send(request({ method: 'CANCEL', uri: `sip:bob@${domain}`, callId, cseq: 2, from, to, branch: 'z9hG4bK-c2', viaPort: alice.contactPort }), port, 5);
    await alice.wait('200 to CANCEL', isResponse(200, 'CANCEL', callId), since);
    const cancel = await bob.wait('CANCEL', isRequest('CANCEL', callId), bobSince);
    bob.send(respond(cancel, 200, 'OK', 'b2'), port, 5);
    bob.send(respond(atBob, 487, 'Request Terminated', 'b2'), port, 6);
    const terminated = await alice.wait('487', isResponse(487, 'INVITE', callId), since);
    alice.send(request({ method: 'ACK', uri: `sip:bob@${domain}`, callId, cseq: 2, from, to: hval(terminated, 'To')!, branch: 'z9hG4bK-c2', viaPort: alice.contactPort }), port, 7);
    await bob.wait('ACK of the 487', isRequest('ACK', callId), bobSince);
  });

  it('the datagrams really came through both workers\' sockets: each worker handed some on and took some over', async () => {
    // (a stats line a second: wait for one written after the calls)
    const start = parley.logs.length;
    for (let t = 0; t < 5000 && new Set(parley.logs.slice(start).filter((l) => l.msg === 'stats' && typeof l.worker === 'number').map((l) => l.worker)).size < WORKERS; t += 100) await new Promise((r) => setTimeout(r, 100));
    const last = new Map<number, LogLine>();
    for (const l of workerStats()) last.set(l.worker as number, l);
    assert.equal(last.size, WORKERS, 'no stats line of every worker');
    const handed = [...last.values()].map((l) => Number(l.handedOff ?? 0));
    const taken = [...last.values()].map((l) => Number(l.takenOver ?? 0));
    assert.ok(handed.reduce((a, b) => a + b, 0) > 0 && taken.reduce((a, b) => a + b, 0) > 0, `no datagram went from one worker's socket to the other worker: ${JSON.stringify([...last.values()])}`);
  });
});
