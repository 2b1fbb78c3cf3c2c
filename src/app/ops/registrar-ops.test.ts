import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { OpsError } from '../../api/operations.js';
import type { ContactBinding } from '../../store/binding-store.js';
import { SqliteBindingStore } from '../../store/sqlite/sqlite-binding-store.js';
import { IN_MEMORY, SqliteDatabase } from '../../store/sqlite/sqlite-database.js';
import type { CoreAnswer } from './server-parts.js';
import { canonicalAor, registrarOps } from './registrar-ops.js';

const T0 = 1_800_000_000_000;

function binding(aor: string, contact: string, extra: Partial<ContactBinding> = {}): ContactBinding {
  return { aor, contact, expires: T0 + 3600_000, q: 1, callId: `c-${contact}`, cseq: 1, path: [], received: { transport: 'udp', address: '192.0.2.10', port: 5060 }, node: 'n', updatedAt: T0 - 1000, ...extra };
}

describe('RegistrarOps', () => {
  let db: SqliteDatabase;
  let asked: unknown[];
  let answers: CoreAnswer[];
  beforeEach(async () => {
    db = SqliteDatabase.open(IN_MEMORY);
    asked = [];
    answers = [];
    await new SqliteBindingStore(db).apply({
      save: [
        binding('alice@example.com', 'sip:alice@192.0.2.10:5060', { userAgent: 'Zoiper 5', instance: '<urn:uuid:1>', regId: 1 }),
        binding('alice@example.com', 'sip:alice@[2001:db8::1]:5062', { received: { transport: 'tcp', address: '2001:db8::1', port: 5062 } }),
        binding('bob@example.com', 'sip:bob@192.0.2.20:5060', { userAgent: 'Linphone' }),
        binding('carol@example.com', 'sip:carol@192.0.2.30:5060', { expires: T0 - 1 }),
      ],
      remove: [],
    });
  });
  afterEach(() => db.close());

  const ops = (): ReturnType<typeof registrarOps> =>
    registrarOps(
      {
        db,
        askCores: async (q) => {
          asked.push(q);
          return answers;
        },
      },
      () => T0,
    );

  it('lists bindings not expired, by AOR then contact, with the source, paging and the total', async () => {
    const all = await ops().bindings({});
    assert.equal(all.total, 3);
    assert.deepEqual(all.items.map((b) => b.contact), ['sip:alice@192.0.2.10:5060', 'sip:alice@[2001:db8::1]:5062', 'sip:bob@192.0.2.20:5060']);
    assert.deepEqual(all.items[0], {
      aor: 'alice@example.com',
      contact: 'sip:alice@192.0.2.10:5060',
      expires: new Date(T0 + 3600_000).toISOString(),
      expiresIn: 3600,
      q: 1,
      source: 'udp:192.0.2.10:5060',
      userAgent: 'Zoiper 5',
      instance: '<urn:uuid:1>',
      regId: 1,
      updatedAt: new Date(T0 - 1000).toISOString(),
    });
    assert.equal(all.items[1]!.source, 'tcp:[2001:db8::1]:5062');
    const page = await ops().bindings({ offset: 1, limit: 1 });
    assert.deepEqual([page.total, page.items.length, page.items[0]!.contact, page.offset, page.limit], [3, 1, 'sip:alice@[2001:db8::1]:5062', 1, 1]);
  });

  it('filters by AOR (sip: and the domain case ignored) and searches AOR, contact and user agent', async () => {
    assert.equal((await ops().bindings({ aor: 'sip:alice@EXAMPLE.com' })).total, 2);
    assert.equal((await ops().bindings({ aor: 'carol@example.com' })).total, 0, 'expired');
    assert.deepEqual((await ops().bindings({ search: 'linphone' })).items.map((b) => b.aor), ['bob@example.com']);
    assert.equal((await ops().bindings({ search: '2001:db8' })).total, 1);
    assert.equal((await ops().bindings({ search: '%' })).total, 0, '% is no wildcard');
  });

  it('unregisters through every core: the largest count wins; none removed is 404, no core answering 503', async () => {
    answers = [
      { core: 0, answer: { removed: 2 } },
      { core: 1, answer: { removed: 2 } },
    ];
    assert.equal(await ops().unregister('sip:alice@Example.com'), 2);
    assert.deepEqual(asked, [{ q: 'unregister', aor: 'alice@example.com' }]);
    answers = [{ core: 0, answer: { removed: 0 } }];
    await assert.rejects(ops().unregister('bob@example.com', 'sip:nope'), (e: unknown) => e instanceof OpsError && e.status === 404 && e.field === 'contact');
    assert.deepEqual(asked[1], { q: 'unregister', aor: 'bob@example.com', contact: 'sip:nope' });
    answers = [{ core: 0, error: new Error('timeout') }];
    await assert.rejects(ops().unregister('bob@example.com'), (e: unknown) => e instanceof OpsError && e.status === 503);
  });

  it('canonicalAor keeps the user as it is and lower-cases the domain', () => {
    assert.equal(canonicalAor('sips:Alice@Example.COM'), 'Alice@example.com');
    assert.equal(canonicalAor('Alice@Example.COM'), 'Alice@example.com');
  });
});
