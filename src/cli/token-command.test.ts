import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CaptureStream } from '../../test/support/capture-stream.js';
import { SqliteDatabase } from '../store/sqlite/sqlite-database.js';
import { SqliteTokenStore } from '../store/sqlite/sqlite-token-store.js';
import { runTokenCommand } from './token-command.js';

describe('parley token', () => {
  let dir: string;
  let dataDir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-token-'));
    dataDir = join(dir, 'data');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new CaptureStream();
    const stderr = new CaptureStream();
    const code = await runTokenCommand([...args, '--data-dir', dataDir], { stdout, stderr });
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  async function verify(token: string): Promise<string | undefined> {
    const db = SqliteDatabase.open(dataDir);
    try {
      return (await new SqliteTokenStore(db).verify(token))?.scope;
    } finally {
      db.close();
    }
  }

  it('create --json prints id, name, scope, createdAt and a token that the store verifies', async () => {
    const out = await run(['create', '--name', 'crm', '--scope', 'write', '--json']);
    assert.equal(out.code, 0, out.stderr);
    const j = JSON.parse(out.stdout) as Record<string, string>;
    assert.deepEqual(Object.keys(j), ['id', 'name', 'scope', 'createdAt', 'token']);
    assert.equal(j.name, 'crm');
    assert.equal(j.scope, 'write');
    assert.ok(!Number.isNaN(Date.parse(j.createdAt!)));
    assert.ok(j.token!.startsWith(`pk_${j.id}_`));
    assert.equal(await verify(j.token!), 'write');
  });

  it('create without --json prints the token once, with a warning', async () => {
    const out = await run(['create', '--name', 'grafana', '--scope', 'read']);
    assert.equal(out.code, 0, out.stderr);
    const token = /token: (pk_\S+)/u.exec(out.stdout)?.[1];
    assert.ok(token, out.stdout);
    assert.equal(await verify(token), 'read');
  });

  it('list shows live tokens without secrets; revoke stops a token', async () => {
    const a = JSON.parse((await run(['create', '--name', 'a', '--scope', 'admin', '--json'])).stdout) as { id: string; token: string };
    await run(['create', '--name', 'b', '--scope', 'read', '--json']);
    const list = await run(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const items = JSON.parse(list.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(items.map((t) => [t.name, t.scope]), [['a', 'admin'], ['b', 'read']]);
    assert.ok(!list.stdout.includes(a.token.slice(16)), 'no secret in the list');
    const table = await run(['list']);
    assert.match(table.stdout, new RegExp(`^${a.id}\\s+a\\s+admin`, 'mu'));
    const revoked = await run(['revoke', a.id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(await verify(a.token), undefined);
    assert.deepEqual((JSON.parse((await run(['list', '--json'])).stdout) as Array<{ name: string }>).map((t) => t.name), ['b']);
  });

  it('exits 2 for an unknown token to revoke, a bad scope, a missing name; list without a database', async () => {
    const noDb = await run(['list']);
    assert.equal(noDb.code, 2);
    assert.match(noDb.stderr, /no database/u);
    await run(['create', '--name', 'a', '--scope', 'read']);
    const unknown = await run(['revoke', '000000000000']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no such token/u);
    assert.equal((await run(['create', '--name', 'x', '--scope', 'root'])).code, 2);
    assert.equal((await run(['create', '--scope', 'read'])).code, 2);
    assert.equal((await run(['create', '--name', '', '--scope', 'read'])).code, 2);
  });
});
