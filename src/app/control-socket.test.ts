import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../lib/logger.js';
import { ControlSocket, controlSocketPath, sendControl } from './control-socket.js';

describe('control socket (parley reload)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-ctl-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('answers a command with one JSON line, mode 0600; a second server does not take it over; closed, it is gone', async () => {
    let reloads = 0;
    const socket = await ControlSocket.open(dir, async (r) => (r.cmd === 'reload' ? { ok: true, version: ++reloads } : { ok: true, status: 'fine' }), silentLogger);
    assert.ok(socket);
    assert.equal((await stat(controlSocketPath(dir))).mode & 0o777, 0o600);
    assert.deepEqual(await sendControl(dir, { cmd: 'reload' }), { ok: true, version: 1 });
    assert.deepEqual(await sendControl(dir, { cmd: 'status' }), { ok: true, status: 'fine' });
    const second = await ControlSocket.open(dir, async () => ({ ok: false }), silentLogger);
    assert.equal(second, undefined);
    assert.deepEqual(await sendControl(dir, { cmd: 'reload' }), { ok: true, version: 2 });
    await socket.close();
    await assert.rejects(sendControl(dir, { cmd: 'reload' }), /no Parley is running with data directory/);
  });

  it('a socket left by a server that died is replaced', async () => {
    const d = await mkdtemp(join(tmpdir(), 'parley-ctl-'));
    // what a killed server leaves: the path exists, nobody listens
    await writeFile(controlSocketPath(d), '');
    const second = await ControlSocket.open(d, async () => ({ ok: true, n: 2 }), silentLogger);
    assert.ok(second);
    assert.deepEqual(await sendControl(d, { cmd: 'status' }), { ok: true, n: 2 });
    await second.close();
    await rm(d, { recursive: true, force: true });
  });

  it('passes subscriber-changed on with its names, and refuses one whose names are not strings', async () => {
    const d = await mkdtemp(join(tmpdir(), 'parley-ctl-'));
    const seen: unknown[] = [];
    const socket = await ControlSocket.open(d, async (r) => {
      seen.push(r);
      return { ok: true };
    }, silentLogger);
    assert.ok(socket);
    assert.deepEqual(await sendControl(d, { cmd: 'subscriber-changed', username: 'alice', domain: 'example.com' }), { ok: true });
    assert.deepEqual(await sendControl(d, { cmd: 'subscriber-changed' }), { ok: true });
    const bad = await sendControl(d, { cmd: 'subscriber-changed', username: 7 } as never);
    assert.equal(bad.ok, false);
    assert.match(String((bad.error as { message: string }).message), /username and domain are strings/);
    assert.deepEqual(seen, [{ cmd: 'subscriber-changed', username: 'alice', domain: 'example.com' }, { cmd: 'subscriber-changed' }]);
    await socket.close();
    await rm(d, { recursive: true, force: true });
  });
});
