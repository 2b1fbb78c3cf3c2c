import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpsError } from '../../api/operations.js';
import { IN_MEMORY, SqliteDatabase } from '../../store/sqlite/sqlite-database.js';
import { tokenOps } from './token-ops.js';

describe('TokenOps', () => {
  it('creates (with a lifetime for sessions), verifies, lists and revokes; 404 and 400 as the API answers them', async () => {
    const db = SqliteDatabase.open(IN_MEMORY);
    try {
      const ops = tokenOps({ db });
      const made = await ops.create('session', 'admin', { ttlSeconds: 3600 });
      assert.ok(made.expiresAt !== undefined && Date.parse(made.expiresAt) > Date.now() + 3500_000);
      assert.equal((await ops.verify(made.token))?.scope, 'admin');
      assert.equal(await ops.verify(`${made.token.slice(0, -1)}${made.token.endsWith('A') ? 'B' : 'A'}`), undefined);
      assert.deepEqual((await ops.list()).map((t) => t.id), [made.id]);
      await ops.revoke(made.id);
      assert.equal(await ops.verify(made.token), undefined);
      await assert.rejects(ops.revoke(made.id), (e: unknown) => e instanceof OpsError && e.status === 404);
      await assert.rejects(ops.create('', 'read'), (e: unknown) => e instanceof OpsError && e.status === 400 && e.field === 'name');
    } finally {
      db.close();
    }
  });
});
