import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpsError } from '../../api/operations.js';
import type { CallSnapshot } from '../../sip-server/proxy/calls/call-record.js';
import type { CoreQuery } from '../../sip-server/workers/worker-messages.js';
import { callOps } from './call-ops.js';
import type { CoreAnswer } from './server-parts.js';

function call(callId: string, startedAt: string): CallSnapshot {
  return { callId, state: 'answered', caller: { uri: 'sip:alice@example.com' }, callee: { uri: 'sip:bob@example.com' }, startedAt, duration: 1, talkTime: 1, media: false };
}

/** Two cores, each with its calls; answers `calls` as sip-core.ts does (limit applied per core). */
function cores(byCore: CallSnapshot[][], asked: CoreQuery[] = [], failing = new Set<number>()) {
  return {
    askCores: async (q: CoreQuery): Promise<readonly CoreAnswer[]> => {
      asked.push(q);
      return byCore.map((calls, core) => {
        if (failing.has(core)) return { core, error: new Error('gone') };
        if (q.q === 'calls') {
          const matching = calls.filter((c) => (q.callId === undefined || c.callId === q.callId) && (q.search === undefined || c.callId.includes(q.search)));
          return { core, answer: { total: matching.length, items: matching.slice(0, q.limit) } };
        }
        if (q.q === 'hangup') return { core, answer: { found: calls.some((c) => c.callId === q.callId) } };
        return { core, answer: { ok: true } };
      });
    },
  };
}

describe('CallOps over every SIP core', () => {
  const a = [call('a1', '2026-12-07T08:00:01.000Z'), call('a2', '2026-12-07T08:00:03.000Z')];
  const b = [call('b1', '2026-12-07T08:00:02.000Z'), call('b2', '2026-12-07T08:00:04.000Z')];

  it('list: the cores\' calls merged oldest first, each with its core; total summed; a page asks each core for offset + limit', async () => {
    const asked: CoreQuery[] = [];
    const ops = callOps(cores([a, b], asked));
    const all = await ops.list();
    assert.deepEqual(all.items.map((c) => [c.callId, c.core]), [['a1', 0], ['b1', 1], ['a2', 0], ['b2', 1]]);
    assert.equal(all.total, 4);
    const page = await ops.list({ offset: 1, limit: 2, search: '' });
    assert.deepEqual(page.items.map((c) => c.callId), ['b1', 'a2']);
    assert.deepEqual([page.total, page.offset, page.limit], [4, 1, 2]);
    assert.deepEqual(asked.at(-1), { q: 'calls', limit: 3, search: '' });
  });

  it('get: the call, or 404', async () => {
    const ops = callOps(cores([a, b]));
    assert.equal((await ops.get('b2')).core, 1);
    await assert.rejects(ops.get('zz'), (e: unknown) => e instanceof OpsError && e.status === 404);
  });

  it('hangup: asks every core; 404 when none had it', async () => {
    const asked: CoreQuery[] = [];
    const ops = callOps(cores([a, b], asked));
    await ops.hangup('b1');
    assert.deepEqual(asked, [{ q: 'hangup', callId: 'b1' }]);
    await assert.rejects(ops.hangup('nope'), (e: unknown) => e instanceof OpsError && e.status === 404);
  });

  it('bad paging is 400 naming the field; no core answering is 503; one core failing leaves the others\' calls', async () => {
    const ops = callOps(cores([a, b]));
    await assert.rejects(ops.list({ limit: 0 }), (e: unknown) => e instanceof OpsError && e.status === 400 && e.field === 'limit');
    await assert.rejects(ops.list({ offset: -1 }), (e: unknown) => e instanceof OpsError && e.status === 400 && e.field === 'offset');
    await assert.rejects(callOps(cores([a, b], [], new Set([0, 1]))).list(), (e: unknown) => e instanceof OpsError && e.status === 503);
    assert.deepEqual((await callOps(cores([a, b], [], new Set([0]))).list()).items.map((c) => c.callId), ['b1', 'b2']);
  });
});
