/**
 * The control socket carries the operations: an allowed part.method answers its result, anything
 * else (a property of the table's prototype, a method taking a function, too many arguments) is
 * refused without being looked up; an OpsError keeps its status and field; a request longer than
 * the bound is refused, a long script is not.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpsError, type Operations } from '../api/operations.js';
import { silentLogger } from '../lib/logger.js';
import { OpFailed, opsClient } from '../cli/ops-client.js';
import { allowedOp, runOp } from './control-ops.js';
import { ControlSocket, MAX_REQUEST_BYTES, sendControl } from './control-socket.js';

describe('control socket operations (parley status, calls, …)', () => {
  let dir: string;
  let socket: ControlSocket | undefined;
  const calls: unknown[][] = [];
  let starting = true;
  const ops = {
    calls: {
      list: async (q: unknown) => {
        calls.push(['calls.list', q]);
        return { items: [], total: 0, offset: 0, limit: 100 };
      },
      hangup: async (id: string) => {
        calls.push(['calls.hangup', id]);
        if (id !== 'known') throw new OpsError(404, `no call ${id}`, 'callId');
      },
    },
    script: {
      check: async (code: string) => ({ ok: true, errors: [], length: code.length }),
    },
    metrics: {
      stats: async () => {
        throw new Error('a core did not answer');
      },
    },
    events: { subscribe: () => () => {} },
  } as unknown as Operations;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-ctlops-'));
    const get = (): Operations => {
      if (starting) throw new OpsError(503, 'Parley is starting');
      return ops;
    };
    socket = await ControlSocket.open(dir, async (r) => (r.cmd === 'op' ? { ...(await runOp(get, r)) } : { ok: true, old: r.cmd }), silentLogger);
  });
  after(async () => {
    await socket?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the allowlist: own pairs of the table only', () => {
    assert.equal(allowedOp('calls', 'list'), 1);
    assert.equal(allowedOp('script', 'upload'), 1);
    for (const [p, m] of [
      ['calls', 'constructor'],
      ['calls', '__proto__'],
      ['__proto__', 'toString'],
      ['constructor', 'name'],
      ['events', 'subscribe'],
      ['subscribers', 'checkAdmin'],
      ['subscribers', 'importMany'],
      ['tokens', 'create'],
      ['calls', 'hasOwnProperty'],
      [1, 'list'],
    ]) {
      assert.equal(allowedOp(p, m), undefined, `${String(p)}.${String(m)}`);
    }
  });

  it('while the server starts: 503; then the result, the old commands still work', async () => {
    starting = true;
    assert.deepEqual(await sendControl(dir, { cmd: 'op', part: 'calls', method: 'list', args: [{}] }), { ok: false, status: 503, error: 'Parley is starting' });
    starting = false;
    const client = opsClient(dir);
    assert.deepEqual(await client.call('calls', 'list', { limit: 5 }), { items: [], total: 0, offset: 0, limit: 100 });
    assert.deepEqual(calls.at(-1), ['calls.list', { limit: 5 }]);
    assert.deepEqual(await sendControl(dir, { cmd: 'reload' }), { ok: true, old: 'reload' });
  });

  it('refusals: a pair not allowed, too many arguments, an OpsError with its status and field, a failure as 500', async () => {
    starting = false;
    const before = calls.length;
    assert.deepEqual(await sendControl(dir, { cmd: 'op', part: 'events', method: 'subscribe', args: [] }), { ok: false, status: 404, error: 'no operation events.subscribe' });
    assert.deepEqual(await sendControl(dir, { cmd: 'op', part: 'calls', method: 'constructor', args: [] }), { ok: false, status: 404, error: 'no operation calls.constructor' });
    assert.deepEqual(await sendControl(dir, { cmd: 'op', part: 'calls', method: 'hangup', args: ['a', 'b'] }), { ok: false, status: 400, error: 'calls.hangup takes at most 1 argument', field: 'args' });
    assert.equal(calls.length, before, 'nothing was called');
    const client = opsClient(dir);
    await client.call('calls', 'hangup', 'known');
    await assert.rejects(client.call('calls', 'hangup', 'other'), (e: unknown) => e instanceof OpFailed && e.status === 404 && e.message === 'no call other' && e.field === 'callId');
    await assert.rejects(client.call('metrics', 'stats'), (e: unknown) => e instanceof OpFailed && e.status === 500 && /did not answer/.test(e.message));
    const bad = await sendControl(dir, { cmd: 'op', part: 'calls', method: 7 } as never);
    assert.equal(bad.ok, false);
  });

  it('a script longer than the old 4096-byte bound goes through; a request over the bound is refused with 413', async () => {
    starting = false;
    const code = `// ${'x'.repeat(200_000)}\nexport function onRequest() {}\n`;
    assert.equal(((await opsClient(dir).call('script', 'check', code)) as unknown as { length: number }).length, code.length);
    const huge = await sendControl(dir, { cmd: 'op', part: 'script', method: 'check', args: ['y'.repeat(MAX_REQUEST_BYTES)] });
    assert.equal(huge.status, 413);
  });

  it('no server: an error naming the socket path', async () => {
    const d = await mkdtemp(join(tmpdir(), 'parley-ctlops-'));
    await assert.rejects(opsClient(d).call('server', 'status'), new RegExp(`no control socket at ${join(d, 'parley.sock')}`));
    await rm(d, { recursive: true, force: true });
  });
});
