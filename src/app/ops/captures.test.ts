import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OpsError } from '../../api/operations.js';
import { createCaptureOps, type CaptureSource, type StoredCaptureMessage } from './captures.js';

const INVITE: StoredCaptureMessage = {
  at: Date.UTC(2026, 11, 7, 12, 0, 0) + 0.25,
  transport: 'UDP',
  sourceAddress: '192.0.2.1',
  sourcePort: 5062,
  destinationAddress: '2001:db8::5',
  destinationPort: 5060,
  agentId: 2001,
  message: 'INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: c1\r\n\r\n',
};

function source(seen: unknown[] = []): CaptureSource {
  return {
    calls: async (q) => (seen.push(q), { items: [{ callId: 'c1', messages: 1, firstAt: INVITE.at, lastAt: INVITE.at + 1000, from: 'sip:alice@example.com', methods: ['INVITE'] }], total: 7 }),
    messages: async (id) => (id === 'c1' ? [INVITE] : []),
  };
}

describe('captures operations', () => {
  it('list: a page of calls with ISO times; search trimmed and handed on, empty search dropped', async () => {
    const seen: unknown[] = [];
    const ops = createCaptureOps(source(seen));
    const page = await ops.list({ search: ' c1 ', offset: 2, limit: 5 });
    assert.deepEqual(page, { items: [{ callId: 'c1', messages: 1, firstAt: '2026-12-07T12:00:00.000Z', lastAt: '2026-12-07T12:00:01.000Z', from: 'sip:alice@example.com', methods: ['INVITE'] }], total: 7, offset: 2, limit: 5 });
    await ops.list({ search: '  ' });
    assert.deepEqual(seen, [{ search: 'c1', offset: 2, limit: 5 }, { offset: 0, limit: 100 }]);
  });

  it('list: bounds and search length checked (400 naming the field)', async () => {
    const ops = createCaptureOps(source());
    await assert.rejects(ops.list({ limit: 0 }), (e: unknown) => e instanceof OpsError && e.status === 400 && e.field === 'limit');
    await assert.rejects(ops.list({ search: 'x'.repeat(257) }), (e: unknown) => e instanceof OpsError && e.status === 400 && e.field === 'search');
  });

  it('get: the messages (addresses as host:port, IPv6 in brackets, agent id) and the ladder; 404 for an unknown call', async () => {
    const ops = createCaptureOps(source());
    const call = await ops.get('c1');
    assert.deepEqual(call.messages, [
      { time: '2026-12-07T12:00:00.000Z', transport: 'udp', source: '192.0.2.1:5062', destination: '[2001:db8::5]:5060', agentId: 2001, message: INVITE.message },
    ]);
    assert.deepEqual(call.ladder.participants, ['udp:192.0.2.1:5062', 'udp:[2001:db8::5]:5060']);
    assert.deepEqual(call.ladder.arrows.map((a) => a.label), ['INVITE']);
    await assert.rejects(ops.get('nope'), (e: unknown) => e instanceof OpsError && e.status === 404 && e.field === 'callId');
  });

  it('without a collector: 503 that names hep.listen', async () => {
    const ops = createCaptureOps(undefined);
    await assert.rejects(ops.list(), (e: unknown) => e instanceof OpsError && e.status === 503 && /hep\.listen/.test(e.message));
    await assert.rejects(ops.get('c1'), (e: unknown) => e instanceof OpsError && e.status === 503);
  });
});
