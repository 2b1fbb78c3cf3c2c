import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { parseMessage, SipRequest, type Flow } from '../../sip/index.js';
import type { BindingChanges, BindingStore, ContactBinding } from '../../store/binding-store.js';
import { LocalIdentity } from '../core/local-identity.js';
import { LocationService, PURGE_GRACE_MS } from './location-service.js';
import { Registrar } from './registrar.js';

const UDP: Flow = { transport: 'udp', remoteAddress: '192.0.2.50', remotePort: 40000, localAddress: '127.0.0.1', localPort: 5060 };
const TCP: Flow = { transport: 'tcp', remoteAddress: '192.0.2.51', remotePort: 40001, connectionId: 7 };

function register(opts: { contacts?: string[]; expires?: number; callId?: string; cseq?: number; to?: string; ruri?: string; extra?: string[] } = {}): SipRequest {
  const lines = [
    `REGISTER ${opts.ruri ?? 'sip:example.com'} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.50:40000;branch=z9hG4bKreg',
    'Max-Forwards: 70',
    `To: <${opts.to ?? 'sip:bob@example.com'}>`,
    `From: <${opts.to ?? 'sip:bob@example.com'}>;tag=1`,
    `Call-ID: ${opts.callId ?? 'call-1'}`,
    `CSeq: ${opts.cseq ?? 1} REGISTER`,
    ...(opts.contacts ?? ['<sip:bob@192.0.2.50:40000>']).map((c) => `Contact: ${c}`),
    ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
    ...(opts.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(lines.join('\r\n'));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.message as SipRequest;
}

/** A BindingStore in memory that records writes (the SQLite one is tested on its own). */
class MemoryBindings implements BindingStore {
  rows = new Map<string, ContactBinding>();
  async save(b: ContactBinding) {
    this.rows.set(`${b.aor} ${b.contact}`, b);
  }
  async remove(aor: string, contact: string) {
    this.rows.delete(`${aor} ${contact}`);
  }
  applied = 0;
  async apply(changes: BindingChanges) {
    this.applied++;
    for (const b of changes.save) await this.save(b);
    for (const [aor, contact, expires, cseq, updatedAt, callId] of changes.touch ?? []) {
      const key = `${aor} ${contact}`;
      const row = this.rows.get(key);
      if (row !== undefined) this.rows.set(key, { ...row, expires, cseq, updatedAt, callId });
    }
    for (const [aor, contact] of changes.remove) await this.remove(aor, contact);
  }
  async removeAor(aor: string) {
    for (const k of [...this.rows.keys()]) if (k.startsWith(aor + ' ')) this.rows.delete(k);
  }
  async loadAll(now: number) {
    return [...this.rows.values()].filter((b) => b.expires > now);
  }
  async purgeExpired(now: number) {
    let n = 0;
    for (const [k, b] of this.rows) if (b.expires <= now) (this.rows.delete(k), n++);
    return n;
  }
}

let now = 1_700_000_000_000;
let clock: FakeClock;
let store: MemoryBindings;
let location: LocationService;
let registrar: Registrar;
const identity = new LocalIdentity([{ transport: 'udp', address: '127.0.0.1', port: 5060 }], { domains: ['example.com'] });

beforeEach(async () => {
  clock = new FakeClock();
  store = new MemoryBindings();
  location = new LocationService({ clock, store, now: () => now });
  registrar = new Registrar(location, identity, { now: () => now, minExpires: 60, maxExpires: 7200 });
  await location.start();
});

const contactsOf = (headers: ReadonlyArray<readonly [string, string]>) => headers.filter(([n]) => n === 'Contact').map(([, v]) => v);

describe('Registrar (RFC 3261 §10.3)', () => {
  it('adds a binding and lists it with its expires in the 200', async () => {
    const r = await registrar.register(register({ expires: 3600 }), UDP);
    assert.equal(r.status, 200);
    assert.deepEqual(contactsOf(r.headers), ['<sip:bob@192.0.2.50:40000>;expires=3600']);
    assert.ok(r.headers.some(([n]) => n === 'Date'));
    const [b] = location.lookup('bob@example.com');
    assert.equal(b?.received.address, '192.0.2.50');
    assert.equal(store.rows.size, 1, 'written through');
  });

  it('decides where requests to each contact go (nat-detection.ts) and stores it: the Contact without a NAT sign, the source with one', async () => {
    // Via and source agree (192.0.2.50:40000): the Contact, whatever its port
    const r = await registrar.register(register({ contacts: ['<sip:bob@192.0.2.50:5062>', '<sip:bob@10.0.0.8:5062>'] }), UDP);
    assert.equal(r.status, 200);
    const sendTo = Object.fromEntries(location.lookup('bob@example.com').map((b) => [b.contact, b.sendTo]));
    assert.deepEqual(sendTo, { 'sip:bob@192.0.2.50:5062': 'contact', 'sip:bob@10.0.0.8:5062': 'source' });
    assert.deepEqual([...store.rows.values()].map((b) => b.sendTo).sort(), ['contact', 'source'], 'stored');
    // over TCP: the connection
    await registrar.register(register({ contacts: ['<sip:carol@192.0.2.51:5062>'], to: 'sip:carol@example.com' }), TCP);
    assert.equal(location.lookup('carol@example.com')[0]?.sendTo, 'source');
    // registrar.natDetection: always
    const always = new Registrar(location, identity, { now: () => now, natDetection: 'always' });
    await always.register(register({ contacts: ['<sip:dave@192.0.2.50:5062>'], to: 'sip:dave@example.com' }), UDP);
    assert.equal(location.lookup('dave@example.com')[0]?.sendTo, 'source');
  });

  it('takes expires from the Contact parameter over the header, and the default without either', async () => {
    await registrar.register(register({ contacts: ['<sip:a@192.0.2.1>;expires=120', '<sip:b@192.0.2.2>'], expires: 300 }), UDP);
    const r = await registrar.register(register({ contacts: ['<sip:c@192.0.2.3>'], cseq: 2 }), UDP);
    assert.deepEqual(contactsOf(r.headers).sort(), ['<sip:a@192.0.2.1>;expires=120', '<sip:b@192.0.2.2>;expires=300', '<sip:c@192.0.2.3>;expires=3600']);
  });

  it('refuses an interval below the minimum with 423 and Min-Expires, and cuts one above the maximum', async () => {
    const r = await registrar.register(register({ expires: 30 }), UDP);
    assert.equal(r.status, 423);
    assert.deepEqual(r.headers, [['Min-Expires', '60']]);
    const r2 = await registrar.register(register({ expires: 99999, cseq: 2 }), UDP);
    assert.deepEqual(contactsOf(r2.headers), ['<sip:bob@192.0.2.50:40000>;expires=7200']);
  });

  it('refreshes a binding and removes it with expires 0', async () => {
    await registrar.register(register({ expires: 600 }), UDP);
    now += 100_000;
    const r = await registrar.register(register({ expires: 600, cseq: 2 }), UDP);
    assert.deepEqual(contactsOf(r.headers), ['<sip:bob@192.0.2.50:40000>;expires=600']);
    const gone = await registrar.register(register({ expires: 0, cseq: 3 }), UDP);
    assert.equal(gone.status, 200);
    assert.deepEqual(contactsOf(gone.headers), []);
    assert.deepEqual(location.lookup('bob@example.com'), []);
    assert.equal(store.rows.size, 0);
  });

  it('a refresh shares what is unchanged with the binding it replaces (where it came from), and not what changed', async () => {
    await registrar.register(register({ cseq: 1, extra: ['User-Agent: Phone/1'] }), UDP);
    const [first] = location.lookup('bob@example.com');
    await registrar.register(register({ cseq: 2, extra: ['User-Agent: Phone/1'] }), UDP);
    const [second] = location.lookup('bob@example.com');
    assert.notEqual(second, first, 'a new binding');
    assert.equal(second!.cseq, 2);
    assert.equal(second!.received, first!.received, 'the same object: nothing new for the garbage collector');
    assert.equal(second!.path, first!.path);
    assert.equal(second!.userAgent, 'Phone/1');
    // another source port: its own, and a new User-Agent is kept as sent
    await registrar.register(register({ cseq: 3, extra: ['User-Agent: Phone/2'] }), { ...UDP, remotePort: 40002 });
    const [third] = location.lookup('bob@example.com');
    assert.notEqual(third!.received, second!.received);
    assert.equal(third!.received.port, 40002);
    assert.equal(third!.userAgent, 'Phone/2');
    assert.equal(third!.contact, 'sip:bob@192.0.2.50:40000');
  });

  it('keeps several contacts with their q values', async () => {
    const r = await registrar.register(register({ contacts: ['<sip:bob@192.0.2.1>;q=0.5', '<sip:bob@192.0.2.2>;q=1.0'] }), UDP);
    assert.deepEqual(contactsOf(r.headers).sort(), ['<sip:bob@192.0.2.1>;expires=3600;q=0.5', '<sip:bob@192.0.2.2>;expires=3600']);
  });


  it('refreshes a binding whose contact is equal by §19.1.4 but not in text, again and again; another port is another binding', async () => {
    await registrar.register(register({ contacts: ['<sip:bob@Phone.Example.com:5062;transport=udp;lr>'], expires: 600 }), UDP);
    await registrar.register(register({ contacts: ['<sip:bob@192.0.2.9:5062>'], expires: 600, cseq: 2 }), UDP);
    // host case and parameter order differ: the same binding; the other binding's URI, parsed at
    // the first comparison, is kept and compared again at the second
    for (const [cseq, contact] of [[3, '<sip:bob@phone.example.com:5062;lr;transport=UDP>'], [4, '<sip:bob@PHONE.example.com:5062;transport=udp;lr>']] as const) {
      const r = await registrar.register(register({ contacts: [contact], expires: 300, cseq }), UDP);
      assert.equal(r.status, 200);
      assert.equal(contactsOf(r.headers).length, 2, contactsOf(r.headers).join(' | '));
    }
    const other = await registrar.register(register({ contacts: ['<sip:bob@phone.example.com:5063;lr;transport=udp>'], expires: 300, cseq: 5 }), UDP);
    assert.equal(contactsOf(other.headers).length, 3, contactsOf(other.headers).join(' | '));
  });
  it('removes every binding with Contact: * and Expires: 0, and refuses * otherwise', async () => {
    await registrar.register(register({ contacts: ['<sip:bob@192.0.2.1>', '<sip:bob@192.0.2.2>'] }), UDP);
    assert.equal((await registrar.register(register({ contacts: ['*'], expires: 60, callId: 'x' }), UDP)).status, 400);
    const r = await registrar.register(register({ contacts: ['*'], expires: 0, callId: 'other' }), UDP);
    assert.equal(r.status, 200);
    assert.equal(location.lookup('bob@example.com').length, 0);
  });

  it('refuses an out-of-order CSeq for the same Call-ID, and accepts any CSeq from another Call-ID', async () => {
    await registrar.register(register({ cseq: 5 }), UDP);
    const stale = await registrar.register(register({ cseq: 5, expires: 0 }), UDP);
    assert.equal(stale.status, 400);
    assert.equal(location.lookup('bob@example.com').length, 1, 'unchanged');
    const other = await registrar.register(register({ cseq: 1, callId: 'call-2', expires: 0 }), UDP);
    assert.equal(other.status, 200);
    assert.equal(location.lookup('bob@example.com').length, 0);
  });

  it('replaces the binding of the same +sip.instance and reg-id (RFC 5626) instead of adding one', async () => {
    const inst = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
    await registrar.register(register({ contacts: [`<sip:bob@192.0.2.1:5000;transport=tcp>;${inst}`] }), TCP);
    const r = await registrar.register(register({ contacts: [`<sip:bob@192.0.2.9:6000;transport=tcp>;${inst}`], callId: 'after-reconnect' }), { ...TCP, connectionId: 8 });
    assert.deepEqual(contactsOf(r.headers), ['<sip:bob@192.0.2.9:6000;transport=tcp>;expires=3600']);
    const [b] = location.lookup('bob@example.com');
    assert.equal(b?.connectionId, 8, 'tied to the new flow');
  });

  it('answers a query (no Contact) with the current bindings', async () => {
    await registrar.register(register(), UDP);
    const r = await registrar.register(register({ contacts: [], cseq: 2 }), UDP);
    assert.equal(contactsOf(r.headers).length, 1);
  });

  it('refuses domains it does not serve: 403 for the Request-URI, 404 for the To', async () => {
    assert.equal((await registrar.register(register({ ruri: 'sip:other.org' }), UDP)).status, 403);
    assert.equal((await registrar.register(register({ to: 'sip:bob@other.org' }), UDP)).status, 404);
  });

  it('answers 420 for an unknown Require, accepts path', async () => {
    const r = await registrar.register(register({ extra: ['Require: foo'] }), UDP);
    assert.equal(r.status, 420);
    assert.deepEqual(r.headers, [['Unsupported', 'foo']]);
    const p = await registrar.register(register({ extra: ['Require: path', 'Supported: path', 'Path: <sip:edge.example.com;lr>'] }), UDP);
    assert.equal(p.status, 200);
    assert.ok(p.headers.some(([n, v]) => n === 'Path' && v === '<sip:edge.example.com;lr>'));
    assert.deepEqual(location.lookup('bob@example.com')[0]?.path, ['<sip:edge.example.com;lr>']);
  });

  it('a stored binding survives a restart and an expired one is swept', async () => {
    await registrar.register(register({ expires: 120 }), UDP);
    const again = new LocationService({ clock, store, now: () => now });
    assert.equal(await again.start(), 1);
    assert.equal(again.lookup('bob@example.com').length, 1);
    now += 121_000;
    assert.deepEqual(again.lookup('bob@example.com'), [], 'an expired binding is never returned');
    assert.equal(await again.sweep(), 1);
    assert.equal(store.rows.size, 1, 'its row is purged PURGE_GRACE_MS after it expired, not before');
    const third = new LocationService({ clock, store, now: () => now });
    assert.equal(await third.start(), 0, 'and is not loaded meanwhile');
    await third.stop();
    now += PURGE_GRACE_MS;
    await again.sweep();
    assert.equal(store.rows.size, 0);
    await again.stop();
  });

  it('after a restart, forgets connection ids (reused by the new process) and drops WebSocket bindings', async () => {
    const WS: Flow = { transport: 'wss', remoteAddress: '192.0.2.52', remotePort: 40002, connectionId: 3 };
    await registrar.register(register({ to: 'sip:carol@example.com', contacts: ['<sip:carol@192.0.2.51:40001;transport=tcp>'] }), TCP);
    await registrar.register(register({ to: 'sip:dave@example.com', contacts: ['<sip:dave@df7jal23ls0d.invalid;transport=ws>'] }), WS);
    assert.equal(location.lookup('dave@example.com')[0]?.connectionId, 3);
    const again = new LocationService({ clock, store, now: () => now });
    assert.equal(await again.start(), 1);
    const [carol] = again.lookup('carol@example.com');
    assert.equal(carol?.received.transport, 'tcp');
    assert.equal(carol?.received.address, '192.0.2.51', 'still reachable where it came from');
    assert.equal(carol?.connectionId, undefined, 'but not over a connection id of the old process');
    assert.deepEqual(again.lookup('dave@example.com'), [], 'a WebSocket client is reachable over its own connection only');
    assert.equal(store.rows.size, 1, 'the store follows');
    assert.equal([...store.rows.values()][0]?.connectionId, undefined);
    await again.stop();
  });

  it('commits the changes of one event-loop turn together: one store transaction for many REGISTERs', async () => {
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => registrar.register(register({ to: `sip:u${i}@example.com` }), UDP)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(store.rows.size, 5);
    assert.equal(store.applied, 1, 'one batch');
    await registrar.register(register({ to: 'sip:u0@example.com', expires: 0, cseq: 2 }), UDP);
    assert.equal(store.rows.size, 4);
    assert.equal(store.applied, 2);
  });

  it('removes the bindings of a closed connection', async () => {
    await registrar.register(register(), TCP);
    assert.equal(await location.removeConnection(7), 1);
    assert.equal(location.lookup('bob@example.com').length, 0);
  });
});

/** A BindingStore whose commits the test completes (`commitNext`) or fails (`failNext`), one batch at a time. */
class HeldBindings extends MemoryBindings {
  readonly waiting: Array<{ changes: BindingChanges; done: (e?: Error) => void }> = [];
  override apply(changes: BindingChanges): Promise<void> {
    return new Promise((resolve, reject) => this.waiting.push({ changes, done: (e) => (e === undefined ? resolve() : reject(e)) }));
  }
  async commitNext(): Promise<void> {
    const w = this.waiting.shift();
    assert.ok(w, 'a batch waits for its commit');
    await super.apply(w.changes);
    w.done();
  }
  failNext(): void {
    const w = this.waiting.shift();
    assert.ok(w, 'a batch waits for its commit');
    w.done(new Error('disk I/O error'));
  }
}

/** Let timers of the next turns run (setImmediate: where the location service commits). */
const turns = async (n = 3): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** The status of a register() once it settles, or 'waiting'. */
function watch(p: Promise<{ status: number }>): { readonly state: number | 'waiting' } {
  const w = { state: 'waiting' as number | 'waiting' };
  void p.then((r) => (w.state = r.status));
  return w;
}

describe('Registrar: no 200 (OK) before the commit (group commit)', () => {
  let held: HeldBindings;
  let reg: Registrar;
  let loc: LocationService;
  beforeEach(async () => {
    held = new HeldBindings();
    loc = new LocationService({ clock, store: held, now: () => now });
    reg = new Registrar(loc, identity, { now: () => now, minExpires: 60 });
    await loc.start();
  });

  it('a registration is answered only once the batch that holds it is committed; one batch per turn, one batch at a time', async () => {
    const a = watch(reg.register(register({ to: 'sip:a@example.com' }), UDP));
    const b = watch(reg.register(register({ to: 'sip:b@example.com' }), UDP));
    await turns();
    assert.equal(held.waiting.length, 1, 'the two REGISTERs of one turn share one batch');
    assert.deepEqual([a.state, b.state], ['waiting', 'waiting'], 'no answer before the commit');
    assert.equal(loc.lookup('a@example.com').length, 1, 'memory has it at once (the proxy may route to it)');
    // a REGISTER of a later turn, while the first batch is being committed: the next batch,
    // handed over once the first has settled (one batch in the store's hands at a time)
    const c = watch(reg.register(register({ to: 'sip:c@example.com' }), UDP));
    const d = watch(reg.register(register({ to: 'sip:d@example.com' }), UDP));
    await turns();
    assert.equal(held.waiting.length, 1, 'the next batch waits for the first');
    await held.commitNext();
    await turns();
    assert.deepEqual([a.state, b.state, c.state, d.state], [200, 200, 'waiting', 'waiting']);
    assert.deepEqual([...held.rows.keys()].sort(), ['a@example.com sip:bob@192.0.2.50:40000', 'b@example.com sip:bob@192.0.2.50:40000']);
    assert.equal(held.waiting.length, 1, 'c and d together');
    assert.deepEqual(held.waiting[0]!.changes.save.map((x) => x.aor), ['c@example.com', 'd@example.com']);
    await held.commitNext();
    await turns();
    assert.deepEqual([c.state, d.state], [200, 200]);
  });

  it('an un-REGISTER (Expires: 0) and a Contact: * removal wait for their commit too', async () => {
    const first = reg.register(register({ contacts: ['<sip:bob@192.0.2.50:40000>', '<sip:bob@192.0.2.60:5060>'] }), UDP);
    await turns();
    await held.commitNext();
    assert.equal((await first).status, 200);
    const one = watch(reg.register(register({ contacts: ['<sip:bob@192.0.2.60:5060>'], expires: 0, cseq: 2 }), UDP));
    await turns();
    assert.equal(one.state, 'waiting', 'a removal is acknowledged once committed');
    await held.commitNext();
    await turns();
    assert.equal(one.state, 200);
    assert.equal(held.rows.size, 1);
    const star = watch(reg.register(register({ contacts: ['*'], expires: 0, cseq: 3 }), UDP));
    await turns();
    assert.equal(star.state, 'waiting');
    await held.commitNext();
    await turns();
    assert.equal(star.state, 200);
    assert.equal(held.rows.size, 0);
  });

  it('a query (no Contact) waits for the commit of the AOR\'s latest change, and lists it then', async () => {
    const made = watch(reg.register(register(), UDP));
    const query = reg.register(register({ contacts: [], cseq: 2 }), UDP);
    const q = watch(query);
    await turns();
    assert.deepEqual([made.state, q.state], ['waiting', 'waiting']);
    await held.commitNext();
    const r = await query;
    assert.equal(r.status, 200);
    assert.deepEqual(contactsOf(r.headers), ['<sip:bob@192.0.2.50:40000>;expires=3600']);
    // nothing uncommitted: a query is answered at once
    const again = reg.register(register({ contacts: [], cseq: 3 }), UDP);
    assert.equal((await again).status, 200);
  });

  it('a commit that fails answers 500 with Retry-After to every REGISTER of the batch, and the next batch is answered 200', async () => {
    const a = reg.register(register({ to: 'sip:a@example.com' }), UDP);
    const b = reg.register(register({ to: 'sip:b@example.com' }), UDP);
    await turns();
    held.failNext();
    for (const r of [await a, await b]) {
      assert.equal(r.status, 500);
      assert.equal(r.reason, 'Server Internal Error (bindings not stored)');
      assert.deepEqual(r.headers, [['Retry-After', '5']]);
    }
    assert.equal(held.rows.size, 0, 'nothing stored');
    // a query of an AOR whose change failed: 500 as well while it is the latest change
    const q = reg.register(register({ to: 'sip:c@example.com' }), UDP);
    const query = reg.register(register({ to: 'sip:c@example.com', contacts: [], cseq: 2 }), UDP);
    await turns();
    held.failNext();
    assert.deepEqual([(await q).status, (await query).status], [500, 500]);
    // the store is back: the phone's retry is stored and acknowledged
    const retry = reg.register(register({ to: 'sip:a@example.com', cseq: 2 }), UDP);
    await turns();
    await held.commitNext();
    assert.equal((await retry).status, 200);
    assert.equal(held.rows.size, 1);
  });
});
