import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ParleyError } from '../lib/errors.js';
import { REST_SECRET_FILE, loadOrCreateRestSecret } from './rest-secret-file.js';
import { RestSecrets } from './rest-credentials.js';

describe('loadOrCreateRestSecret (the TURN REST secret of a data directory)', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'parley-turn-secret-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('makes a secret of 64 hex digits on first use, mode 0600, and reads the same one afterwards (a restart)', () => {
    const dir = join(fresh(), 'data');
    const first = loadOrCreateRestSecret(dir);
    assert.equal(first.created, true);
    assert.match(first.secret, /^[0-9a-f]{64}$/);
    assert.equal(first.path, join(dir, REST_SECRET_FILE));
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    assert.equal(readFileSync(first.path, 'latin1'), `${first.secret}\n`);
    const again = loadOrCreateRestSecret(dir);
    assert.deepEqual({ secret: again.secret, created: again.created, readableByOthers: again.readableByOthers }, { secret: first.secret, created: false, readableByOthers: false });
    // credentials made before the restart are accepted after it
    const before = new RestSecrets([first.secret]).make('alice', 600, 1000);
    const keys = new RestSecrets([again.secret]).keys(before.username, 'example.com', 1000);
    const expected = new RestSecrets([first.secret]).keys(before.username, 'example.com', 1000);
    assert.ok(keys.ok && expected.ok);
    assert.deepEqual(keys.value.keys, expected.value.keys);
  });

  it('two data directories get different secrets', () => {
    assert.notEqual(loadOrCreateRestSecret(fresh()).secret, loadOrCreateRestSecret(fresh()).secret);
  });

  it('reads a secret written by hand (upper case, surrounding blanks)', () => {
    const dir = fresh();
    writeFileSync(join(dir, REST_SECRET_FILE), `  ${'AB'.repeat(32)}  \n`, { mode: 0o600 });
    assert.equal(loadOrCreateRestSecret(dir).secret, 'ab'.repeat(32));
  });

  it('refuses a file that holds no secret (ERR_TURN_SECRET) rather than replace it', () => {
    const dir = fresh();
    writeFileSync(join(dir, REST_SECRET_FILE), 'not a secret\n', { mode: 0o600 });
    assert.throws(() => loadOrCreateRestSecret(dir), (e: unknown) => e instanceof ParleyError && e.code === 'ERR_TURN_SECRET' && /64 hex digits/.test(e.message));
    assert.equal(readFileSync(join(dir, REST_SECRET_FILE), 'latin1'), 'not a secret\n');
  });

  it('says when the file can be read by others', () => {
    const dir = fresh();
    const s = loadOrCreateRestSecret(dir);
    chmodSync(s.path, 0o644);
    assert.equal(loadOrCreateRestSecret(dir).readableByOthers, true);
  });
});
