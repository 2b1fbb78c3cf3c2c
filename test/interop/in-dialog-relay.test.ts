// No open relay through in-dialog requests (issue 14): Parley relays a request with a To tag
// only along a route it recorded for that dialog — its Record-Route entries carry a signature
// (`rrsig`, an HMAC of the Call-ID and the caller's tag) that the dialog's requests bring back.
// Legitimate dialogs between sipp phones and WebSocket phones (re-INVITE, ACK and BYE from both
// sides, over UDP, TCP, a transport change and WSS) still pass; requests with a Route naming
// Parley that it did not sign for their dialog — no signature, a forged or cut one, one replayed
// on another Call-ID, another dialog's — get 403 (an ACK is dropped), and nothing reaches the
// "foreign host" they aim at (a loopback UDP socket and TCP listener that record what arrives).
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { call, describeCall, registerPhone, startUas } from './support/calls.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool, type PortPool } from './support/ports.js';
import { clearBindings, queryBindings } from './support/registration.js';
import { flow, header, headers, parseNameAddr, received, sent, tagOf, values } from './support/sip-trace.js';
import { skipWithoutSipp, startSipp, type SippResult, type SippTransport } from './support/sipp.js';
import { WsPhone } from './support/ws-phone.js';

const ALICE = { user: 'alice', password: 'secret-a1' };
const BOB = { user: 'bob', password: 'secret-b2' };
const pool = portPool(import.meta.url);
/** How long a refused request may take to be answered before the test gives up on it. */
const ANSWER_MS = 4000;
/** How long to wait for what must not come (an ACK has no answer; a relayed request would reach the foreign host first). */
const QUIET_MS = 600;

/** A host Parley must never be made to send to: a UDP socket and a TCP listener on one loopback port. */
class ForeignHost {
  /** What arrived since the last `reset` (each test starts with none). */
  received: string[] = [];
  /** What arrived since it opened. */
  readonly all: string[] = [];
  private readonly sockets: Socket[] = [];

  private constructor(
    readonly port: number,
    private readonly udp: UdpSocket,
    private readonly tcp: Server,
  ) {
    udp.on('message', (m) => this.record(`udp: ${m.toString('latin1').split('\r\n')[0]}`));
    tcp.on('connection', (s) => {
      this.sockets.push(s);
      s.on('data', (d) => this.record(`tcp: ${d.toString('latin1').split('\r\n')[0]}`));
      s.on('error', () => {});
    });
  }

  static async open(ports: PortPool): Promise<ForeignHost> {
    const port = await ports.block(1);
    const udp = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, '127.0.0.1', () => resolve());
    });
    const tcp = createServer();
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, '127.0.0.1', () => resolve());
    });
    return new ForeignHost(port, udp, tcp);
  }

  private record(line: string): void {
    this.received.push(line);
    this.all.push(line);
  }

  reset(): void {
    this.received = [];
  }

  uri(transport: 'udp' | 'tcp' = 'udp'): string {
    return `sip:victim@127.0.0.1:${this.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

/** A SIP client that sends requests as written (UDP, TCP or a WebSocket) and collects the responses. */
interface RawClient {
  readonly transport: 'udp' | 'tcp' | 'wss';
  /** The Via to put in a request from this client. */
  via(): string;
  send(text: string): void;
  /** The final response to the request with this Call-ID and CSeq method, or undefined after `ms`. */
  finalResponse(callId: string, method: string, ms: number): Promise<string | undefined>;
  /** Everything received for this Call-ID so far. */
  receivedFor(callId: string): string[];
  close(): Promise<void>;
}

async function udpClient(parley: ParleyServer): Promise<RawClient> {
  const port = await pool.block(1);
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve());
  });
  const inbox: string[] = [];
  socket.on('message', (m) => inbox.push(m.toString('latin1')));
  return {
    transport: 'udp',
    via: () => `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    send: (text) => socket.send(Buffer.from(text, 'latin1'), parley.port!, '127.0.0.1'),
    finalResponse: (callId, method, ms) => waitFinal(inbox, callId, method, ms),
    receivedFor: (callId) => inbox.filter((m) => callIdOf(m) === callId),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

async function tcpClient(parley: ParleyServer): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port: parley.port! });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  const inbox: string[] = [];
  let buffered = '';
  socket.on('data', (d) => {
    // responses split by their Content-Length (Parley's refusals have no body)
    buffered += d.toString('latin1');
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) break;
      const length = Number(/\r\nContent-Length:\s*(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
      if (buffered.length < end + 4 + length) break;
      inbox.push(buffered.slice(0, end + 4 + length));
      buffered = buffered.slice(end + 4 + length);
    }
  });
  return {
    transport: 'tcp',
    via: () => `SIP/2.0/TCP 127.0.0.1:${socket.localPort};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
    send: (text) => socket.write(text, 'latin1'),
    finalResponse: (callId, method, ms) => waitFinal(inbox, callId, method, ms),
    receivedFor: (callId) => inbox.filter((m) => callIdOf(m) === callId),
    close: async () => {
      socket.destroy();
    },
  };
}

async function wsClient(parley: ParleyServer, ca: string): Promise<RawClient> {
  // a WebSocket client of Parley's, authenticated or not: here it never registers
  const phone = await WsPhone.connect({ url: parley.webSocketUrl('wss'), ca, user: 'mallory', password: 'x' });
  const texts = (): string[] => phone.texts;
  return {
    transport: 'wss',
    via: () => `SIP/2.0/WSS ${randomBytes(5).toString('hex')}.invalid;branch=z9hG4bK${randomBytes(6).toString('hex')}`,
    send: (text) => phone.send(text),
    finalResponse: (callId, method, ms) => waitFinal(texts, callId, method, ms),
    receivedFor: (callId) => texts().filter((m) => callIdOf(m) === callId),
    close: () => phone.close().catch(() => phone.terminate()),
  };
}

function callIdOf(message: string): string | undefined {
  return /\r?\n(?:Call-ID|i)\s*:\s*(\S+)/i.exec(message)?.[1];
}

async function waitFinal(inbox: string[] | (() => string[]), callId: string, method: string, ms: number): Promise<string | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const all = typeof inbox === 'function' ? inbox() : inbox;
    const found = all.find((m) => /^SIP\/2\.0 [2-6]\d\d /.test(m) && callIdOf(m) === callId && new RegExp(`\\r?\\nCSeq:\\s*\\d+\\s+${method}\\r?\\n`, 'i').test(m));
    if (found !== undefined) return found;
    if (Date.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** An in-dialog request as an attacker writes it: a To tag, the Route given, any Request-URI. */
function inDialogRequest(client: RawClient, o: { method: string; ruri: string; routes: readonly string[]; callId: string; fromTag: string; toTag: string }): string {
  const body = o.method === 'MESSAGE' ? 'buy now' : '';
  return [
    `${o.method} ${o.ruri} SIP/2.0`,
    `Via: ${client.via()}`,
    'Max-Forwards: 70',
    ...o.routes.map((r) => `Route: ${r}`),
    `From: <sip:mallory@evil.example.org>;tag=${o.fromTag}`,
    `To: <sip:victim@foreign.example.net>;tag=${o.toTag}`,
    `Call-ID: ${o.callId}`,
    `CSeq: 7 ${o.method}`,
    'Contact: <sip:mallory@192.0.2.66:5060>',
    ...(body ? ['Content-Type: text/plain'] : []),
    `Content-Length: ${body.length}`,
    '',
    body,
  ].join('\r\n');
}

/** A dialog as its callee (the sipp UAS) saw it: the identity, and the Record-Route Parley wrote. */
interface SeenDialog {
  readonly callId: string;
  readonly callerTag: string;
  readonly calleeTag: string;
  /** Parley's Record-Route values in the INVITE, in order (the callee's route set). */
  readonly recordRoute: string[];
  /** The caller's Contact in that INVITE: where the callee's requests go (what recordRoute is signed for). */
  readonly callerContact: { host: string; port: number | undefined };
}

function dialogOf(callee: SippResult): SeenDialog {
  const invite = received(callee.trace, { method: 'INVITE' })[0]!;
  const ok = sent(callee.trace, { status: 200 })[0]!;
  return {
    callId: header(invite, 'Call-ID')!,
    callerTag: tagOf(header(invite, 'From'))!,
    calleeTag: tagOf(header(ok, 'To'))!,
    recordRoute: values(invite, 'Record-Route'),
    callerContact: parseNameAddr(header(invite, 'Contact')!),
  };
}

/** The flows of a dialog-caller.xml / dialog-callee.xml pair: every in-dialog request of both went through. */
function assertDialogUsedBothWays(caller: SippResult, callee: SippResult): void {
  const both = describeCall(caller, callee);
  assert.equal(caller.code, 0, `the caller's sipp failed:\n${both}`);
  assert.equal(callee.code, 0, `the callee's sipp failed:\n${both}`);
  const callerSteps = flow(caller.trace).filter((s) => s !== '< 100' && s !== '< 180');
  assert.deepEqual(callerSteps, ['> INVITE', '< 407', '> ACK', '> INVITE', '< 200', '> ACK', '> INVITE', '< 200', '> ACK', '< INVITE', '> 200', '< ACK', '< BYE', '> 200'], both);
  const calleeSteps = flow(callee.trace).filter((s) => s !== '< 100');
  // a callee over TCP registered first, from the same sipp
  assert.deepEqual(calleeSteps.slice(calleeSteps.indexOf('< INVITE')), ['< INVITE', '> 180', '> 200', '< ACK', '< INVITE', '> 200', '< ACK', '> INVITE', '< 200', '> ACK', '> BYE', '< 200'], both);
}

/** Each of Parley's Record-Route entries carries a 96-bit signature. */
function assertSigned(rr: readonly string[], what: string): void {
  assert.ok(rr.length >= 1, what);
  for (const v of rr) assert.match(parseNameAddr(v).uriParams.get('rrsig') ?? '', /^[0-9a-f]{24}$/, `${what}: ${v}`);
}

describe('in-dialog requests through Parley: relayed along the route it signed, refused otherwise', { skip: skipWithoutSipp(), timeout: 240_000 }, () => {
  let parley: ParleyServer;
  let foreign: ForeignHost;
  let ca: string;
  const phones: WsPhone[] = [];
  const clients: RawClient[] = [];
  /** Dialogs of the first tests, whose routes the later ones try to reuse. */
  const dialogs: SeenDialog[] = [];

  async function phone(who: { user: string; password: string }): Promise<WsPhone> {
    const p = await WsPhone.connect({ url: parley.webSocketUrl('wss'), ca, ...who });
    phones.push(p);
    return p;
  }

  async function everyClient(): Promise<RawClient[]> {
    const made = [await udpClient(parley), await tcpClient(parley), await wsClient(parley, ca)];
    clients.push(...made);
    return made;
  }

  /** Send each request; each must get 403 and nothing may reach the foreign host. */
  async function assertRefused(client: RawClient, requests: ReadonlyArray<{ method: string; ruri: string; routes: readonly string[]; callId: string; fromTag: string; toTag: string }>, what: string): Promise<void> {
    for (const r of requests) {
      client.send(inDialogRequest(client, r));
      const answer = await client.finalResponse(r.callId, r.method, ANSWER_MS);
      const label = `${what}: ${r.method} over ${client.transport} (Route ${r.routes.join(', ')})`;
      assert.ok(answer !== undefined, `${label}: no final response (relayed?); the foreign host got: ${foreign.received.join(' | ')}`);
      assert.match(answer.split('\r\n')[0]!, /^SIP\/2\.0 403 /, `${label}:\n${answer}`);
      assert.deepEqual(foreign.received, [], label);
    }
  }

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp', 'tcp'], webSockets: { wss: 'auth' }, subscribers: [ALICE, BOB], logLevel: 'debug' });
    ca = await parley.developmentCertificate();
    foreign = await ForeignHost.open(pool);
  });

  afterEach(async () => {
    foreign?.reset();
    await Promise.all(phones.splice(0).map((p) => p.close().catch(() => p.terminate())));
    await Promise.all(clients.splice(0).map((c) => c.close()));
    if (parley !== undefined) await clearBindings(parley, BOB);
  });

  after(async () => {
    await stopCleanly(parley);
    await foreign?.close();
  });

  /**
   * Bob, a sipp phone that answers with dialog-callee.xml. Over UDP he registers from the port his
   * UAS then listens on; over TCP his binding lives as long as his connection, so one sipp
   * registers and answers (dialog-callee-registered.xml), and the caller must use his sipp call's
   * Call-ID (returned) for sipp to match the INVITE to it.
   */
  async function answeringBob(transport: SippTransport): Promise<{ done: Promise<SippResult>; callId?: string }> {
    if (transport === 'udp') {
      const bob = await registerPhone(parley, BOB, 'udp');
      return { done: (await startUas(parley, bob.endpoint, 'dialog-callee.xml')).done };
    }
    const callId = `callee-${randomBytes(6).toString('hex')}@127.0.0.1`;
    const run = await startSipp({ ...parley.sippTarget(transport), scenario: 'dialog-callee-registered.xml', calls: 1, timeoutSecs: 25, recvTimeoutMs: 10_000, credentials: [BOB], callId }, false);
    for (let i = 0; ; i++) {
      if ((await queryBindings(parley, BOB)).bindings.length > 0) break;
      if (i >= 25) throw new Error(`bob did not register over ${transport}:\n${(await run.done).describe()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { done: run.done, callId };
  }

  for (const [callerTransport, calleeTransport] of [['udp', 'udp'], ['tcp', 'tcp'], ['udp', 'tcp']] as Array<[SippTransport, SippTransport]>) {
    it(`sipp phones, caller over ${callerTransport}, callee over ${calleeTransport}: re-INVITE, ACK and BYE both ways follow the signed route`, async () => {
      const bob = await answeringBob(calleeTransport);
      const uac = await call(parley, 'dialog-caller.xml', { caller: ALICE, callee: 'bob', transport: callerTransport, recvTimeoutMs: 8000, ...(bob.callId === undefined ? {} : { callId: bob.callId }) });
      const bobRun = await bob.done;
      assertDialogUsedBothWays(uac, bobRun);
      const dialog = dialogOf(bobRun);
      dialogs.push(dialog);
      assert.equal(dialog.recordRoute.length, callerTransport === calleeTransport ? 1 : 2, dialog.recordRoute.join(' | '));
      assertSigned(dialog.recordRoute, 'the INVITE bob got');
      // the caller's route set (the 200's Record-Route, reversed) carries the same signatures
      const [ok] = received(uac.trace, { status: 200 });
      assertSigned(values(ok!, 'Record-Route'), 'the 200 alice got');
      for (const r of received(bobRun.trace).filter((e) => e.method !== undefined)) assert.deepEqual(values(r, 'Route'), [], `Parley consumed its Route values:\n${r.text}`);
    });
  }

  it('a WebSocket phone calls a UDP phone: her re-INVITE, his re-INVITE and BYE cross Parley (a flow token and a signature in one entry)', async () => {
    const bob = await registerPhone(parley, BOB, 'udp');
    const uas = await startUas(parley, bob.endpoint, 'dialog-callee.xml');
    const alice = await phone(ALICE);
    const c = await alice.call('bob');
    assert.equal(c.status, 200, `alice's INVITE got ${c.status} ${c.response.reason}`);
    assertSigned(c.dialog!.routes, 'alice\'s route set');
    assert.ok(c.dialog!.routes.some((r) => /sip:fl\d+-[0-9a-f]{16}@/.test(r)), 'the WSS entry has her flow token');
    assert.equal((await alice.reinvite(c.dialog!)).status, 200);
    const bobRun = await uas.done;
    assert.equal(bobRun.code, 0, describeCall(bobRun));
    assert.deepEqual(flow(bobRun.trace).filter((s) => s !== '< 100'), ['< INVITE', '> 180', '> 200', '< ACK', '< INVITE', '> 200', '< ACK', '> INVITE', '< 200', '> ACK', '> BYE', '< 200'], describeCall(bobRun));
    // his requests reached her WebSocket
    const callId = c.dialog!.callId;
    assert.deepEqual(alice.incoming.filter((r) => r.callId === callId).map((r) => r.method), ['INVITE', 'ACK', 'BYE']);
  });

  it('a UDP phone calls a WebSocket phone: his re-INVITE reaches the WebSocket, hers and her BYE come back along the signed route', async () => {
    const bob = await phone(BOB);
    assert.equal((await bob.register()).status, 200);
    const running = call(parley, 'dialog-caller.xml', { caller: ALICE, callee: 'bob', transport: 'udp', recvTimeoutMs: 8000 });
    // wait for alice's re-INVITE and its ACK (CSeq 3), then bob re-INVITEs and hangs up
    await bob.next((m) => m.isRequest && m.method === 'ACK' && m.cseq.seq === 3, 'the ACK of alice\'s re-INVITE', 10_000);
    const dialog = bob.answered!;
    assertSigned(dialog.routes, 'bob\'s route set');
    assert.equal((await bob.reinvite(dialog)).status, 200);
    assert.equal((await bob.bye(dialog)).status, 200);
    const uac = await running;
    assert.equal(uac.code, 0, describeCall(uac));
    assert.deepEqual(bob.incoming.filter((r) => r.callId === dialog.callId).map((r) => `${r.method} ${r.cseq.seq}`), ['INVITE 2', 'ACK 2', 'INVITE 3', 'ACK 3']);
  });

  it('a Route naming Parley without a signature: BYE, MESSAGE and re-INVITE to a foreign host get 403 over UDP, TCP and WSS; nothing reaches it', async () => {
    for (const client of await everyClient()) {
      const unsigned = client.transport === 'tcp' ? `<sip:127.0.0.1:${parley.port};transport=tcp;lr>` : `<sip:127.0.0.1:${parley.port};lr>`;
      const requests = ['BYE', 'MESSAGE', 'INVITE'].map((method) => ({
        method, ruri: foreign.uri(method === 'MESSAGE' ? 'tcp' : 'udp'), routes: [unsigned], callId: `open-relay-${randomBytes(4).toString('hex')}`, fromTag: 'm1', toTag: 'v1',
      }));
      await assertRefused(client, requests, 'unsigned');
    }
  });

  it('a forged, cut or empty signature: 403, nothing relayed', async () => {
    const good = dialogs[0]!.recordRoute[0]!;
    const forged = [good.replace(/rrsig=[0-9a-f]+/, `rrsig=${randomBytes(12).toString('hex')}`), good.replace(/(rrsig=[0-9a-f]{12})[0-9a-f]+/, '$1'), good.replace(/rrsig=[0-9a-f]+/, 'rrsig=')];
    for (const client of await everyClient()) {
      await assertRefused(client, forged.map((route) => ({
        method: 'BYE', ruri: foreign.uri(), routes: [route], callId: dialogs[0]!.callId, fromTag: dialogs[0]!.callerTag, toTag: dialogs[0]!.calleeTag,
      })), 'forged');
    }
  });

  it('a signed route replayed on another Call-ID: 403, nothing relayed', async () => {
    const { recordRoute, callerTag, calleeTag } = dialogs[0]!;
    for (const client of await everyClient()) {
      await assertRefused(client, ['MESSAGE', 'INVITE'].map((method) => ({
        method, ruri: foreign.uri(), routes: recordRoute, callId: `replayed-${randomBytes(4).toString('hex')}`, fromTag: callerTag, toTag: calleeTag,
      })), 'replayed');
    }
  });

  it('one dialog\'s route in another dialog (its Call-ID and tags), or with its own Call-ID but other tags: 403, nothing relayed', async () => {
    const [a, b] = dialogs;
    for (const client of await everyClient()) {
      await assertRefused(client, [
        { method: 'BYE', ruri: foreign.uri(), routes: a!.recordRoute, callId: b!.callId, fromTag: b!.callerTag, toTag: b!.calleeTag },
        { method: 'MESSAGE', ruri: foreign.uri(), routes: a!.recordRoute, callId: a!.callId, fromTag: 'mallory', toTag: a!.calleeTag },
      ], 'cross-dialog');
    }
  });

  it('an ACK with a route Parley did not sign is dropped: no answer, nothing reaches the foreign host', async () => {
    const a = dialogs[0]!;
    const routes = [[`<sip:127.0.0.1:${parley.port};lr>`], [a.recordRoute[0]!.replace(/rrsig=[0-9a-f]+/, `rrsig=${randomBytes(12).toString('hex')}`)]];
    for (const client of await everyClient()) {
      for (const route of routes) {
        const callId = `ack-${randomBytes(4).toString('hex')}`;
        client.send(inDialogRequest(client, { method: 'ACK', ruri: foreign.uri(), routes: route, callId, fromTag: 'm1', toTag: 'v1' }));
        await new Promise((r) => setTimeout(r, QUIET_MS));
        assert.deepEqual(client.receivedFor(callId), [], `an ACK is never answered (${client.transport})`);
        assert.deepEqual(foreign.received, [], `ACK over ${client.transport} with Route ${route.join(', ')}`);
      }
    }
  });

  it('the signing key is kept in the data directory (mode 0600): a dialog\'s route still holds after a restart', async () => {
    assert.equal(statSync(join(parley.dataDir, 'record-route.key')).mode & 0o777, 0o600);
    const a = dialogs[0]!;
    // a phone of that dialog (a loopback socket of the test), reached along the route before and
    // after: the caller, at the Contact of its INVITE (its sipp has ended: the socket takes its
    // port), for the route is signed for requests to that Contact only
    const peer = createSocket('udp4');
    const peerPort = a.callerContact.port!;
    assert.equal(a.callerContact.host, '127.0.0.1');
    await new Promise<void>((resolve) => peer.bind(peerPort, '127.0.0.1', () => resolve()));
    const got: string[] = [];
    peer.on('message', (m) => got.push(m.toString('latin1')));
    try {
      for (const when of ['before', 'after']) {
        if (when === 'after') await parley.restart();
        const client = await udpClient(parley);
        clients.push(client);
        const cseqs = got.length;
        // bob's INFO to alice (From: his tag)
        client.send(inDialogRequest(client, { method: 'INFO', ruri: `sip:alice@127.0.0.1:${peerPort}`, routes: a.recordRoute, callId: a.callId, fromTag: a.calleeTag, toTag: a.callerTag }));
        const end = Date.now() + ANSWER_MS;
        while (got.length === cseqs && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
        assert.match(got[cseqs] ?? '(nothing)', /^INFO sip:alice@127\.0\.0\.1:\d+ SIP\/2\.0\r\n/, `${when} the restart`);
      }
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });

  it('a stranger who rang a phone once holds a signed route, but only to that phone: to any other Request-URI 403, nothing relayed', async () => {
    // before the signature named the target, the 180 of any registered phone gave its caller a
    // route that Parley relayed to any Request-URI, for as long as the key lives
    const bob = await registerPhone(parley, BOB, 'udp');
    const uas = await startUas(parley, bob.endpoint, 'uas-ring-cancel.xml');
    const client = await udpClient(parley);
    clients.push(client);
    const callId = `ring-${randomBytes(6).toString('hex')}`;
    const via = client.via();
    const invite = (method: 'INVITE' | 'CANCEL'): string => [
      `${method} sip:bob@127.0.0.1:${parley.port} SIP/2.0`,
      `Via: ${via}`,
      'Max-Forwards: 70',
      'From: <sip:mallory@evil.example.org>;tag=m-ring',
      `To: <sip:bob@127.0.0.1:${parley.port}>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Contact: <sip:mallory@192.0.2.66:5060>',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    client.send(invite('INVITE'));
    let ring: string | undefined;
    for (const end = Date.now() + ANSWER_MS; ring === undefined && Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
      ring = client.receivedFor(callId).find((m) => m.startsWith('SIP/2.0 180 '));
    }
    assert.ok(ring !== undefined, `no 180 from bob:\n${client.receivedFor(callId).join('\n')}`);
    const route = headers(ring, 'Record-Route').flatMap((v) => v.split(/,\s*(?=<)/)).reverse();
    assertSigned(route, 'the 180 mallory got');
    const bobTag = tagOf(/\r\nTo:[^\r]*/.exec(ring)![0])!;
    for (const method of ['MESSAGE', 'BYE', 'INVITE', 'INFO']) {
      for (const ruri of [foreign.uri(), foreign.uri('tcp'), `sip:bob@127.0.0.1:${bob.endpoint.port};maddr=127.0.0.2`]) {
        // one Call-ID and CSeq for all: each answer is the next final response to the method
        const finals = (): string[] => client.receivedFor(callId).filter((m) => /^SIP\/2\.0 [2-6]/.test(m) && new RegExp(`\\r\\nCSeq: 7 ${method}\\r\\n`).test(m));
        const before = finals().length;
        client.send(inDialogRequest(client, { method, ruri, routes: route, callId, fromTag: 'm-ring', toTag: bobTag }));
        for (const end = Date.now() + ANSWER_MS; finals().length === before && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
        assert.match(finals()[before]?.split('\r\n')[0] ?? '(none)', /^SIP\/2\.0 403 /, `${method} ${ruri}; the foreign host got: ${foreign.received.join(' | ')}`);
        assert.deepEqual(foreign.received, [], `${method} ${ruri}`);
      }
    }
    client.send(invite('CANCEL'));
    const run = await uas.done;
    assert.equal(run.code, 0, run.describe());
  });

  it('the foreign host received nothing at all; Parley logged no error and is still running', async () => {
    await new Promise((r) => setTimeout(r, QUIET_MS));
    assert.deepEqual(foreign.all, []);
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
