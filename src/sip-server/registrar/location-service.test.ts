import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import type { BindingChanges, ContactBinding } from '../../store/binding-store.js';
import { LocationService, type BindingDelta } from './location-service.js';
import type { RegistrationEvent } from '../../lib/events.js';

const NOW = 1_700_000_000_000;

function binding(aor: string, contact: string, extra: Partial<ContactBinding> = {}): ContactBinding {
  return {
    aor, contact, expires: NOW + 3_600_000, q: 1, callId: `cid-${contact}`, cseq: 1, path: [],
    received: { transport: 'udp', address: '192.0.2.1', port: 5060 }, node: 'test', updatedAt: NOW, ...extra,
  };
}

/** Replicas that hand each other their deltas only when `deliver` is called (as threads do, later). */
function replicas(n: number) {
  const queues: BindingDelta[][] = Array.from({ length: n }, () => []);
  const services = Array.from({ length: n }, (_, i) => new LocationService({
    clock: new FakeClock(), now: () => NOW,
    onChange: (d) => queues.forEach((q, j) => j !== i && q.push(structuredClone(d))),
  }));
  const deliver = (): void => queues.forEach((q, j) => q.splice(0).forEach((d) => services[j]!.applyRemote(d)));
  return { services, deliver };
}

const contactsOf = (s: LocationService, aor: string): string[] => s.lookup(aor).map((b) => b.contact).sort();

describe('LocationService replicas (worker threads)', () => {
  it('a replica keeps a refreshed binding with the values of the one it replaces wherever they are equal', async () => {
    const { services, deliver } = replicas(2);
    await services[0]!.update('bob@x', [binding('bob@x', 'sip:a@h', { userAgent: 'UA' })]);
    deliver();
    const [before] = services[1]!.lookup('bob@x');
    await services[0]!.update('bob@x', [binding('bob@x', 'sip:a@h', { userAgent: 'UA', cseq: 2, expires: NOW + 7_200_000 })]);
    deliver();
    const [after] = services[1]!.lookup('bob@x');
    assert.notEqual(after, before);
    assert.equal(after!.received, before!.received, 'the replica\'s own object, not the copy that came over');
    assert.equal(after!.path, before!.path);
    assert.deepEqual({ cseq: after!.cseq, expires: after!.expires, userAgent: after!.userAgent }, { cseq: 2, expires: NOW + 7_200_000, userAgent: 'UA' });
    // a change of source is taken as it came
    await services[0]!.update('bob@x', [binding('bob@x', 'sip:a@h', { cseq: 3, received: { transport: 'udp', address: '192.0.2.9', port: 5062 } })]);
    deliver();
    const [moved] = services[1]!.lookup('bob@x');
    assert.deepEqual(moved!.received, { transport: 'udp', address: '192.0.2.9', port: 5062 });
    assert.equal(moved!.userAgent, undefined);
  });

  it('reports every change update makes as a delta: saved and removed contacts', async () => {
    const deltas: BindingDelta[] = [];
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, onChange: (d) => deltas.push(d) });
    const a = binding('bob@x', 'sip:a@h');
    const b = binding('bob@x', 'sip:b@h');
    await s.update('bob@x', [a, b]);
    await s.update('bob@x', [b]);
    await s.update('bob@x', [b]); // nothing changed: no delta
    assert.deepEqual(deltas, [
      { aor: 'bob@x', save: [a, b], remove: [] },
      { aor: 'bob@x', save: [], remove: ['sip:a@h'] },
    ]);
  });

  it('converges when two replicas change the same AOR at once (different contacts), in either delivery order', async () => {
    const { services: [w0, w1], deliver } = replicas(2);
    // bob's two phones register at the same moment, each through another worker
    await w0!.update('bob@x', [binding('bob@x', 'sip:desk@h')]);
    await w1!.update('bob@x', [binding('bob@x', 'sip:mobile@h')]);
    deliver();
    assert.deepEqual(contactsOf(w0!, 'bob@x'), ['sip:desk@h', 'sip:mobile@h']);
    assert.deepEqual(contactsOf(w1!, 'bob@x'), ['sip:desk@h', 'sip:mobile@h']);
    // a refresh replaces the binding (same contact) everywhere; an un-REGISTER removes it everywhere
    const refreshed = binding('bob@x', 'sip:desk@h', { cseq: 2, expires: NOW + 7_200_000 });
    await w1!.update('bob@x', [refreshed, ...w1!.lookup('bob@x').filter((b) => b.contact !== 'sip:desk@h')]);
    deliver();
    assert.equal(w0!.lookup('bob@x').find((b) => b.contact === 'sip:desk@h')?.cseq, 2);
    await w0!.update('bob@x', w0!.lookup('bob@x').filter((b) => b.contact !== 'sip:mobile@h'));
    deliver();
    assert.deepEqual(contactsOf(w1!, 'bob@x'), ['sip:desk@h']);
    await w1!.update('bob@x', []);
    deliver();
    assert.equal(w0!.known('bob@x'), false);
  });

  it('does not replicate what every replica does for itself: connection close and expiry', async () => {
    const deltas: BindingDelta[] = [];
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, onChange: (d) => deltas.push(d) });
    await s.update('bob@x', [binding('bob@x', 'sip:ws@h', { connectionId: 7 })]);
    deltas.length = 0;
    assert.equal(await s.removeConnection(7), 1);
    assert.equal(s.known('bob@x'), false);
    assert.deepEqual(deltas, []);
  });

  it('a refresh reaches the replicas as a touch (expiry, CSeq, time, Call-ID); a touch of a contact a replica lacks adds nothing', async () => {
    const deltas: BindingDelta[] = [];
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, onChange: (d) => deltas.push(structuredClone(d)) });
    const r = new LocationService({ clock: new FakeClock(), now: () => NOW });
    const first = binding('bob@x', 'sip:a@h', { userAgent: 'UA' });
    await s.update('bob@x', [first]);
    await s.update('bob@x', [{ ...first, cseq: 1, callId: 'new-call', expires: NOW + 60_000, updatedAt: NOW + 5 }]);
    assert.deepEqual(deltas[1], { aor: 'bob@x', save: [], touch: [['sip:a@h', NOW + 60_000, 1, NOW + 5, 'new-call']], remove: [] });
    for (const d of deltas) r.applyRemote(d);
    const [got] = r.lookup('bob@x');
    assert.deepEqual(got, { ...first, callId: 'new-call', expires: NOW + 60_000, updatedAt: NOW + 5 });
    // anything else changed: the whole binding
    await s.update('bob@x', [{ ...first, userAgent: 'UA 2', cseq: 2 }]);
    assert.equal(deltas[2]!.save.length, 1);
    assert.equal(deltas[2]!.touch, undefined);
    // a replica that removed the contact meanwhile does not get it back from a touch
    const lacking = new LocationService({ clock: new FakeClock(), now: () => NOW });
    lacking.applyRemote(deltas[1]!);
    assert.equal(lacking.known('bob@x'), false);
  });

  it('a delta that arrives after the close of its connection does not bring the binding back', async () => {
    const open = new Set<number>([7]);
    const w1 = new LocationService({ clock: new FakeClock(), now: () => NOW, isConnectionOpen: (id) => open.has(id) });
    await w1.update('bob@x', [binding('bob@x', 'sip:old@h', { connectionId: 7 })]);
    // bob's phone registered over connection 9 in another worker, then hung up; this replica
    // heard of the close (and removed what it had) before the other worker's delta came
    open.delete(9);
    assert.equal(await w1.removeConnection(9), 0);
    w1.applyRemote({ aor: 'bob@x', save: [binding('bob@x', 'sip:tcp@h', { connectionId: 9 }), binding('bob@x', 'sip:old@h', { connectionId: 9 })], remove: [] });
    assert.deepEqual(contactsOf(w1, 'bob@x'), [], 'the dead binding replaced the old one of its contact and was not kept');
    // a binding over an open connection, or over UDP, is kept
    w1.applyRemote({ aor: 'bob@x', save: [binding('bob@x', 'sip:live@h', { connectionId: 7 }), binding('bob@x', 'sip:udp@h')], remove: [] });
    assert.deepEqual(contactsOf(w1, 'bob@x'), ['sip:live@h', 'sip:udp@h']);
  });
});

describe('LocationService group commit', () => {
  /** A store whose batches wait until the test commits or fails them; `scheduled` runs the commits of a turn. */
  function heldStore() {
    const batches: Array<BindingChanges & { done: (e?: Error) => void }> = [];
    const store = {
      batches,
      save: async () => {},
      remove: async () => {},
      removeAor: async () => {},
      loadAll: async () => [],
      purgeExpired: async () => 0,
      apply: (c: BindingChanges) =>
        new Promise<void>((resolve, reject) => batches.push({ ...c, done: (e) => (e === undefined ? resolve() : reject(e)) })),
    };
    return store;
  }
  const runs: Array<() => void> = [];
  const turn = (): void => runs.splice(0).forEach((r) => r());
  const settle = () => new Promise((r) => setImmediate(r));

  it('batches the changes of a turn, resolves update once committed, and tells the replicas only then', async () => {
    const store = heldStore();
    const deltas: BindingDelta[] = [];
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, store, schedule: (r) => runs.push(r), onChange: (d) => deltas.push(d) });
    let done = 0;
    void s.update('a@x', [binding('a@x', 'sip:a@h')]).then(() => done++);
    void s.update('b@x', [binding('b@x', 'sip:b@h')]).then(() => done++);
    assert.equal(store.batches.length, 0, 'nothing handed over before the end of the turn');
    turn();
    assert.equal(store.batches.length, 1, 'one batch for both');
    assert.deepEqual(store.batches[0]!.save.map((b) => b.aor), ['a@x', 'b@x']);
    await settle();
    assert.deepEqual([done, deltas.length], [0, 0], 'neither the registrar nor the replicas hear of it before the commit');
    store.batches[0]!.done();
    await settle();
    assert.deepEqual([done, deltas.map((d) => d.aor)], [2, ['a@x', 'b@x']]);
  });

  it('a failed commit rejects update; memory and the replicas keep the change; the next batch is separate', async () => {
    const store = heldStore();
    const deltas: BindingDelta[] = [];
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, store, schedule: (r) => runs.push(r), onChange: (d) => deltas.push(d) });
    const failed = s.update('a@x', [binding('a@x', 'sip:a@h')]);
    turn();
    store.batches[0]!.done(new Error('disk full'));
    await assert.rejects(failed, /disk full/);
    assert.equal(s.lookup('a@x').length, 1);
    assert.equal(deltas.length, 1);
    await s.committed('a@x'); // settled: nothing waits any more
    const next = s.update('a@x', []);
    turn();
    assert.deepEqual(store.batches[1]!.remove, [['a@x', 'sip:a@h']]);
    store.batches[1]!.done();
    await next;
  });

  it('a refresh that changes only expiry, CSeq, time and Call-ID is committed as a touch, any other change as a save', async () => {
    const store = heldStore();
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, store, schedule: (r) => runs.push(r) });
    const first = binding('a@x', 'sip:a@h');
    const made = s.update('a@x', [first]);
    turn();
    store.batches[0]!.done();
    await made;
    const refresh = s.update('a@x', [{ ...first, expires: NOW + 60_000, cseq: 2, callId: 'c2', updatedAt: NOW + 1 }]);
    turn();
    assert.deepEqual([store.batches[1]!.save, store.batches[1]!.touch], [[], [['a@x', 'sip:a@h', NOW + 60_000, 2, NOW + 1, 'c2']]]);
    store.batches[1]!.done();
    await refresh;
    for (const change of [{ q: 0.5 }, { path: ['<sip:edge;lr>'] }, { received: { transport: 'udp' as const, address: '192.0.2.1', port: 5062 } }, { sendTo: 'contact' as const }, { userAgent: 'x' }, { instance: '<urn:uuid:1>' }]) {
      const changed = s.update('a@x', [{ ...s.lookup('a@x')[0]!, ...change, cseq: 3 }]);
      turn();
      const batch = store.batches.at(-1)!;
      assert.equal(batch.save.length, 1, JSON.stringify(change));
      assert.equal(batch.touch, undefined);
      batch.done();
      await changed;
    }
  });

  it('after a failed commit, the bindings it held are saved whole, also a refresh already waiting in the next batch', async () => {
    const store = heldStore();
    const s = new LocationService({ clock: new FakeClock(), now: () => NOW, store, schedule: (r) => runs.push(r) });
    const first = binding('a@x', 'sip:a@h');
    const made = s.update('a@x', [first]);
    turn();
    // a refresh while the first save is being committed: a touch, in the next batch
    const refresh = s.update('a@x', [{ ...first, cseq: 2, expires: NOW + 60_000 }]);
    store.batches[0]!.done(new Error('disk I/O error'));
    await assert.rejects(made);
    turn();
    assert.deepEqual([store.batches[1]!.save.map((b) => b.cseq), store.batches[1]!.touch], [[2], undefined], 'saved whole: the store may lack the row');
    store.batches[1]!.done(new Error('disk I/O error'));
    await assert.rejects(refresh);
    // and the next refresh again, until a save has been committed
    const again = s.update('a@x', [{ ...first, cseq: 3, expires: NOW + 90_000 }]);
    turn();
    assert.deepEqual([store.batches[2]!.save.map((b) => b.cseq), store.batches[2]!.touch], [[3], undefined]);
    store.batches[2]!.done();
    await again;
    const touch = s.update('a@x', [{ ...first, cseq: 4, expires: NOW + 90_000 }]);
    turn();
    assert.deepEqual([store.batches[3]!.save, store.batches[3]!.touch?.length], [[], 1]);
    store.batches[3]!.done();
    await touch;
  });
});


describe('LocationService: registration events (issue 18)', () => {
  it('update tells of added, refreshed and removed bindings, with the source and seconds granted', async () => {
    const events: RegistrationEvent[] = [];
    let now = NOW;
    const s = new LocationService({ clock: new FakeClock(), now: () => now, onEvent: (e) => events.push(e) });
    const a = binding('alice@x', 'sip:alice@192.0.2.7', { userAgent: 'phone/1', expires: NOW + 60_000, received: { transport: 'udp', address: '192.0.2.7', port: 5060 } });
    await s.update('alice@x', [a]);
    now += 1000;
    await s.update('alice@x', [{ ...a, expires: now + 3600_000, updatedAt: now }]);
    await s.update('alice@x', []);
    assert.deepEqual(
      events.map((e) => [e.type, e.aor, e.contact, e.expires, e.source, e.userAgent]),
      [
        ['registration.added', 'alice@x', 'sip:alice@192.0.2.7', 60, 'udp:192.0.2.7:5060', 'phone/1'],
        ['registration.refreshed', 'alice@x', 'sip:alice@192.0.2.7', 3600, 'udp:192.0.2.7:5060', 'phone/1'],
        ['registration.removed', 'alice@x', 'sip:alice@192.0.2.7', 0, 'udp:192.0.2.7:5060', 'phone/1'],
      ],
    );
  });

  it('the sweep tells of expired bindings, and a closed connection of removed ones, only where reportsSharedChanges', async () => {
    let now = NOW;
    const told: RegistrationEvent[] = [];
    const quiet: RegistrationEvent[] = [];
    const reporter = new LocationService({ clock: new FakeClock(), now: () => now, onEvent: (e) => told.push(e) });
    const replica = new LocationService({ clock: new FakeClock(), now: () => now, onEvent: (e) => quiet.push(e), reportsSharedChanges: false });
    for (const s of [reporter, replica]) {
      s.applyRemote({ aor: 'bob@x', save: [binding('bob@x', 'sip:bob@192.0.2.8', { expires: NOW + 60_000 })], remove: [] });
      s.applyRemote({ aor: 'carol@x', save: [binding('carol@x', 'sip:carol@192.0.2.9', { connectionId: 7, expires: NOW + 3600_000 })], remove: [] });
    }
    now += 61_000;
    await reporter.sweep();
    await replica.sweep();
    await reporter.removeConnection(7);
    await replica.removeConnection(7);
    assert.deepEqual(
      told.map((e) => [e.type, e.aor]),
      [
        ['registration.expired', 'bob@x'],
        ['registration.removed', 'carol@x'],
      ],
    );
    assert.deepEqual(quiet, []);
  });
});
