import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionTable, type SipConnection } from './connection-table.js';
import type { StreamTransport } from './flow.js';

function fake(table: ConnectionTable, transport: StreamTransport, remoteAddress: string, remotePort: number, direction: 'inbound' | 'outbound' = 'inbound'): SipConnection & { isOpen: boolean } {
  const c = {
    id: table.allocateId(),
    transport,
    direction,
    localAddress: '127.0.0.1',
    localPort: 5060,
    remoteAddress,
    remotePort,
    isOpen: true,
    send: () => {},
    close: () => {
      c.isOpen = false;
      table.remove(c, 'closed');
    },
    destroy: () => c.close(),
    flow: () => ({ transport, remoteAddress, remotePort, connectionId: c.id }),
  };
  return c;
}

describe('ConnectionTable', () => {
  it('finds connections by id and by remote transport, address and port', () => {
    const t = new ConnectionTable();
    const a = fake(t, 'tcp', '192.0.2.1', 5060);
    const b = fake(t, 'tls', '192.0.2.1', 5060);
    t.add(a);
    t.add(b);
    assert.equal(t.size, 2);
    assert.equal(t.get(a.id), a);
    assert.equal(t.findByRemote('tcp', '192.0.2.1', 5060), a);
    assert.equal(t.findByRemote('tls', '192.0.2.1', 5060), b);
    assert.equal(t.findByRemote('tcp', '192.0.2.1', 5061), undefined);
    assert.equal(t.findByRemote('tcp', '::ffff:192.0.2.1', 5060), a, 'IPv4-mapped addresses are normalized');
  });

  it('prefers the most recent open connection to the same remote', () => {
    const t = new ConnectionTable();
    const a = fake(t, 'tcp', '192.0.2.1', 5060);
    const b = fake(t, 'tcp', '192.0.2.1', 5060);
    t.add(a);
    t.add(b);
    assert.equal(t.findByRemote('tcp', '192.0.2.1', 5060), b);
    b.isOpen = false; // closing, not yet removed
    assert.equal(t.findByRemote('tcp', '192.0.2.1', 5060), a);
    assert.equal(t.get(b.id), undefined);
  });

  it('counts inbound connections per address', () => {
    const t = new ConnectionTable();
    const conns = [fake(t, 'tcp', '192.0.2.1', 1), fake(t, 'tls', '192.0.2.1', 2), fake(t, 'tcp', '192.0.2.2', 1), fake(t, 'tcp', '192.0.2.1', 3, 'outbound')];
    for (const c of conns) t.add(c);
    assert.equal(t.inboundCount('192.0.2.1'), 2);
    assert.equal(t.inboundCount('192.0.2.2'), 1);
    conns[0]!.close();
    assert.equal(t.inboundCount('192.0.2.1'), 1);
    assert.equal(t.size, 3);
  });

  it('emits open and close with the reason, once', () => {
    const t = new ConnectionTable();
    const events: string[] = [];
    t.on('open', (c) => events.push(`open ${c.id}`));
    t.on('close', (c, reason) => events.push(`close ${c.id} ${reason}`));
    const a = fake(t, 'tcp', '192.0.2.1', 5060);
    t.add(a);
    t.add(a);
    t.remove(a, 'idle timeout');
    t.remove(a, 'again');
    assert.deepEqual(events, [`open ${a.id}`, `close ${a.id} idle timeout`]);
  });

  it('never reuses ids', () => {
    const t = new ConnectionTable();
    const ids = new Set([t.allocateId(), t.allocateId(), t.allocateId()]);
    assert.equal(ids.size, 3);
    assert.ok(!ids.has(0));
  });
});
