import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ParleyError } from '../../lib/errors.js';
import { ROUTE_KEY_FILE, loadOrCreateRouteKey } from './route-key.js';

describe('loadOrCreateRouteKey (the Record-Route key of a data directory)', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'parley-route-key-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('creates a 32-byte key on first use, mode 0600, and reads the same key afterwards (a restart)', () => {
    const dir = fresh();
    const first = loadOrCreateRouteKey(join(dir, 'data'));
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    assert.match(readFileSync(first.path, 'latin1'), /^[0-9a-f]{64}\n$/);
    const again = loadOrCreateRouteKey(join(dir, 'data'));
    assert.equal(again.created, false);
    assert.deepEqual(Buffer.from(again.key), Buffer.from(first.key));
    assert.equal(again.readableByOthers, false);
  });

  it('two data directories get different keys', () => {
    assert.notDeepEqual(Buffer.from(loadOrCreateRouteKey(fresh()).key), Buffer.from(loadOrCreateRouteKey(fresh()).key));
  });

  it('refuses a file that holds no key (ERR_ROUTE_KEY) rather than replace it', () => {
    const dir = fresh();
    writeFileSync(join(dir, ROUTE_KEY_FILE), 'not a key\n', { mode: 0o600 });
    assert.throws(() => loadOrCreateRouteKey(dir), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_ROUTE_KEY' && /64 hex digits/.test(e.message));
    assert.equal(readFileSync(join(dir, ROUTE_KEY_FILE), 'latin1'), 'not a key\n');
  });

  it('says when the key file can be read by others', () => {
    const dir = fresh();
    const k = loadOrCreateRouteKey(dir);
    chmodSync(k.path, 0o644);
    assert.equal(loadOrCreateRouteKey(dir).readableByOthers, true);
  });
});
