import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IN_MEMORY, SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteTokenStore } from '../store/sqlite/sqlite-token-store.js';
import { tokenAuthorizer } from './event-stream-wiring.js';

describe('tokenAuthorizer (the event stream WebSocket token check)', () => {
  it('takes a token of the scope or wider, refuses a narrower, a wrong or no token, counting each failure against its source', async () => {
    const db = SqliteDatabase.open(IN_MEMORY);
    const tokens = new SqliteTokenStore(db);
    const read = (await tokens.create('r', 'read')).token;
    const admin = (await tokens.create('a', 'admin')).token;
    const failures: string[] = [];
    const blocked = new Set<string>();
    const authorize = tokenAuthorizer(tokens, { isBlocked: (a) => blocked.has(a), recordFailure: (a) => failures.push(a) });
    assert.equal(await authorize(read, 'read', '127.0.0.1'), true);
    assert.equal(await authorize(admin, 'read', '127.0.0.1'), true);
    assert.equal(await authorize(read, 'admin', '127.0.0.1'), false, 'narrower scope');
    assert.deepEqual(failures, [], 'a valid token of a narrower scope is not a failed login');
    assert.equal(await authorize(`${read}x`, 'read', '127.0.0.2'), false);
    assert.equal(await authorize(undefined, 'read', '127.0.0.3'), false);
    assert.deepEqual(failures, ['127.0.0.2', '127.0.0.3']);
    blocked.add('127.0.0.4');
    assert.equal(await authorize(admin, 'read', '127.0.0.4'), false, 'a blocked source is refused whatever its token');
    db.close();
  });
});
