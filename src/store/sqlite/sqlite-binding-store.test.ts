import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import type { ContactBinding } from '../binding-store.js';
import { StoreError } from '../store-error.js';
import { IN_MEMORY, SqliteDatabase } from './sqlite-database.js';
import { SqliteBindingStore } from './sqlite-binding-store.js';
import { migrateSqliteSchema, SQLITE_MIGRATIONS } from './sqlite-migrations.js';

const T0 = 1_800_000_000_000;

function binding(overrides: Partial<ContactBinding> = {}): ContactBinding {
  return {
    aor: 'alice@example.com',
    contact: 'sip:alice@192.0.2.10:5060;transport=udp',
    expires: T0 + 3600_000,
    q: 1,
    callId: 'a84b4c76e66710@pc33.example.com',
    cseq: 1,
    path: [],
    received: { transport: 'udp', address: '192.0.2.10', port: 5060 },
    sendTo: 'source',
    node: 'node-a',
    updatedAt: T0,
    ...overrides,
  };
}

/** Every optional field set, with the shapes RFC 5626 / 3327 give them. */
const FULL = binding({
  contact: 'sip:alice@198.51.100.7:49152;transport=ws;ob',
  q: 0.7,
  path: ['<sip:edge1.example.com;lr>', '<sip:edge2.example.com;lr;ob>'],
  instance: '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>',
  regId: 1,
  received: { transport: 'wss', address: '198.51.100.7', port: 49152, localAddress: '203.0.113.1', localPort: 443 },
  connectionId: 42,
  userAgent: 'JsSIP 3.13.8',
});

describe('SqliteBindingStore', () => {
  let db: SqliteDatabase;
  let store: SqliteBindingStore;
  beforeEach(() => {
    db = SqliteDatabase.open(IN_MEMORY);
    store = new SqliteBindingStore(db);
  });
  afterEach(() => db.close());

  it('saves and loads a binding with every field, optional ones absent when unset', async () => {
    await store.save(FULL);
    await store.save(binding());
    const all = await store.loadAll(T0);
    assert.deepEqual(all, [binding(), FULL]);
    assert.ok(!('instance' in all[0]!) && !('regId' in all[0]!) && !('connectionId' in all[0]!) && !('userAgent' in all[0]!));
  });

  it('applies a batch of saves and removals in one transaction, all or nothing', async () => {
    await store.save(binding({ contact: 'sip:old@192.0.2.1' }));
    await store.apply({ save: [binding({ contact: 'sip:a@192.0.2.2' }), binding({ contact: 'sip:b@192.0.2.3' })], remove: [[binding().aor, 'sip:old@192.0.2.1']] });
    assert.deepEqual((await store.loadAll(T0)).map((b) => b.contact), ['sip:a@192.0.2.2', 'sip:b@192.0.2.3']);
    await assert.rejects(store.apply({ save: [binding({ contact: 'sip:c@192.0.2.4' }), binding({ contact: 'sip:d@192.0.2.5', q: 7 })], remove: [] }), StoreError);
    assert.equal((await store.loadAll(T0)).length, 2, 'the bad row rolled the batch back');
  });

  it('upserts by (aor, contact): a refresh replaces the row', async () => {
    await store.save(binding());
    await store.save(binding({ contact: 'sip:alice@192.0.2.11' }));
    const refreshed = binding({ expires: T0 + 7200_000, cseq: 2, q: 0.5, node: 'node-b', updatedAt: T0 + 60_000, userAgent: 'Phone/2' });
    await store.save(refreshed);
    const all = await store.loadAll(T0);
    assert.equal(all.length, 2);
    assert.deepEqual(all.find((b) => b.contact === refreshed.contact), refreshed);
    // a different AOR with the same contact is a different binding
    await store.save(binding({ aor: 'bob@example.com' }));
    assert.equal((await store.loadAll(T0)).length, 3);
  });

  it('touches a row: expiry, CSeq, refresh time and Call-ID change, every other column stays; a touch of a missing row adds nothing', async () => {
    await store.save(FULL);
    await store.apply({ save: [], touch: [[FULL.aor, FULL.contact, T0 + 7200_000, 9, T0 + 5, 'other-call@h'], [FULL.aor, 'sip:gone@192.0.2.9', T0 + 7200_000, 1, T0, 'x']], remove: [] });
    assert.deepEqual(await store.loadAll(T0), [{ ...FULL, expires: T0 + 7200_000, cseq: 9, updatedAt: T0 + 5, callId: 'other-call@h' }]);
    // a bad touch names its field and rolls the batch back
    await assert.rejects(store.apply({ save: [binding()], touch: [[FULL.aor, FULL.contact, Number.NaN, 1, T0, 'c']], remove: [] }), /expires/);
    assert.equal((await store.loadAll(T0)).length, 1);
  });

  it('removes one contact, or every contact of an AOR', async () => {
    await store.save(binding());
    await store.save(binding({ contact: 'sip:alice@192.0.2.11' }));
    await store.save(binding({ aor: 'bob@example.com' }));
    await store.remove('alice@example.com', 'sip:alice@192.0.2.11');
    await store.remove('alice@example.com', 'sip:nobody@nowhere'); // nothing to remove is fine
    assert.deepEqual((await store.loadAll(T0)).map((b) => `${b.aor} ${b.contact}`), ['alice@example.com sip:alice@192.0.2.10:5060;transport=udp', 'bob@example.com sip:alice@192.0.2.10:5060;transport=udp']);
    await store.removeAor('alice@example.com');
    assert.deepEqual((await store.loadAll(T0)).map((b) => b.aor), ['bob@example.com']);
  });

  it('loads only live bindings and purges expired ones', async () => {
    await store.save(binding({ contact: 'sip:a@h1', expires: T0 + 1000 }));
    await store.save(binding({ contact: 'sip:a@h2', expires: T0 + 2000 }));
    await store.save(binding({ contact: 'sip:a@h3', expires: T0 + 3000 }));
    assert.deepEqual((await store.loadAll(T0 + 2000)).map((b) => b.contact), ['sip:a@h3']); // expires == now is expired
    assert.equal((await store.loadAll(T0)).length, 3); // loadAll does not delete
    assert.equal(await store.purgeExpired(T0 + 2000), 2);
    assert.equal(await store.purgeExpired(T0 + 2000), 0);
    assert.equal((db.handle.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n, 1);
  });

  it('refuses a binding with a bad field, naming it', async () => {
    const cases: Array<[Partial<ContactBinding>, RegExp]> = [
      [{ aor: '' }, /^aor: /],
      [{ contact: '' }, /^contact: /],
      [{ q: 1.5 }, /^q: /],
      [{ q: Number.NaN }, /^q: /],
      [{ expires: Number.POSITIVE_INFINITY }, /^expires: /],
      [{ cseq: -1 }, /^cseq: /],
      [{ received: { transport: 'sctp' as 'udp', address: '192.0.2.1', port: 5060 } }, /^received\.transport: /],
      [{ sendTo: 'flow' as 'source' }, /^sendTo: /],
    ];
    for (const [o, message] of cases) {
      await assert.rejects(store.save(binding(o)), (e: unknown) => e instanceof StoreError && e.storeCode === 'ERR_STORE_INVALID' && message.test(e.message));
    }
    assert.deepEqual(await store.loadAll(0), []);
  });

  it('keeps where requests go: the source, or the Contact (sendTo); a binding without it is stored as source', async () => {
    const toContact = binding({ contact: 'sip:alice@192.0.2.10:5062', sendTo: 'contact' });
    const { sendTo: _absent, ...unsaid } = binding({ contact: 'sip:alice@192.0.2.10:5064' });
    await store.save(toContact);
    await store.save(unsaid);
    const all = await store.loadAll(T0);
    assert.deepEqual(all, [toContact, { ...unsaid, sendTo: 'source' }]);
  });

  it('a binding stored before sendTo existed (schema 1) loads with sendTo source once migrated', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bindings-'));
    try {
      const old = new DatabaseSync(join(dir, 'parley.db'));
      migrateSqliteSchema(old, SQLITE_MIGRATIONS.filter((m) => m.version === 1));
      old.prepare(`INSERT INTO bindings (aor, contact, expires, q, call_id, cseq, path, received, node, updated_at)
        VALUES ('alice@example.com', 'sip:alice@192.0.2.10:5060', ?, 1, 'c1', 1, '[]', '{"transport":"udp","address":"192.0.2.10","port":5060}', 'node-a', ?)`).run(T0 + 3600_000, T0);
      old.close();
      const db = SqliteDatabase.open(dir);
      try {
        const [b] = await new SqliteBindingStore(db).loadAll(T0);
        assert.equal(b?.sendTo, 'source');
        assert.equal(b?.contact, 'sip:alice@192.0.2.10:5060');
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps every binding, field for field, when migration 5 rebuilds the table WITHOUT ROWID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bindings-'));
    try {
      const old = new DatabaseSync(join(dir, 'parley.db'));
      migrateSqliteSchema(old, SQLITE_MIGRATIONS.filter((m) => m.version <= 4));
      const insert = old.prepare(`INSERT INTO bindings (aor, contact, expires, q, call_id, cseq, path, instance, reg_id, received, send_to, connection_id, node, user_agent, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
      const expired = binding({ contact: 'sip:alice@192.0.2.10:5070', expires: T0 - 1, sendTo: 'contact' });
      for (const b of [FULL, binding(), expired]) {
        insert.run(b.aor, b.contact, b.expires, b.q, b.callId, b.cseq, JSON.stringify(b.path), b.instance ?? null, b.regId ?? null,
          JSON.stringify(b.received), b.sendTo ?? 'source', b.connectionId ?? null, b.node, b.userAgent ?? null, b.updatedAt);
      }
      old.close();
      const db = SqliteDatabase.open(dir);
      try {
        const schema = db.handle.prepare("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'bindings' ORDER BY name").all() as Array<{ name: string; sql: string | null }>;
        assert.deepEqual(schema.map((r) => r.name), ['bindings'], 'no autoindex, no index on expires');
        assert.match(schema[0]!.sql ?? '', /WITHOUT ROWID/);
        const migrated = new SqliteBindingStore(db);
        assert.deepEqual(await migrated.loadAll(T0 - 2), [binding(), expired, FULL]);
        // the refresh of a migrated row updates it in place (one row per aor and contact)
        await migrated.save(binding({ cseq: 2, expires: T0 + 7200_000 }));
        assert.deepEqual(await migrated.loadAll(T0), [binding({ cseq: 2, expires: T0 + 7200_000 }), FULL]);
        assert.equal(await migrated.purgeExpired(T0), 1);
        assert.equal((db.handle.prepare('SELECT count(*) AS n FROM bindings').get() as { n: number }).n, 2);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps bindings across a restart (file database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-bindings-'));
    try {
      const first = SqliteDatabase.open(dir);
      await new SqliteBindingStore(first).save(FULL);
      first.close();
      const second = SqliteDatabase.open(dir);
      assert.deepEqual(await new SqliteBindingStore(second).loadAll(T0), [FULL]);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
