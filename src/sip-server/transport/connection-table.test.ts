import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { ConnectionTable, REFUSAL_LOG_INTERVAL_MS, reservedConnections, type SipConnection } from './connection-table.js';
import type { StreamTransport } from './flow.js';
import { sourcePrefix } from './source-prefix.js';
import { DEFAULT_TRANSPORT_LIMITS } from './transport-limits.js';

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

  it('counts IPv6 sources per /64, IPv4-mapped addresses as their IPv4 address', () => {
    const t = new ConnectionTable();
    t.add(fake(t, 'tcp', '2001:db8:1:2::1', 1));
    t.add(fake(t, 'tcp', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', 2));
    t.add(fake(t, 'tls', '2001:db8:1:3::1', 3));
    t.add(fake(t, 'tcp', '192.0.2.7', 4));
    assert.equal(t.inboundCount('2001:db8:1:2:ffff::9'), 2, 'two addresses of one /64 are one source');
    assert.equal(t.inboundCount('2001:db8:1:3::77'), 1, 'the next /64 is another source');
    assert.equal(t.inboundCount('::ffff:192.0.2.7'), 1);
    assert.equal(t.inboundCount('::FFFF:c000:0207'), 1);
    assert.equal(sourcePrefix('2001:DB8:1:2:3:4:5:6'), '2001:db8:1:2::/64');
    assert.equal(sourcePrefix('[::ffff:10.0.0.1]'), '10.0.0.1');
    assert.equal(sourcePrefix('::1'), '::/64');
  });

  const limits = { ...DEFAULT_TRANSPORT_LIMITS, maxConnections: 100, maxConnectionsPerAddress: 10, authenticatedReserve: 0.2 };

  it('refuses a source past its share, every address of an IPv6 /64 together', () => {
    const t = new ConnectionTable();
    for (let i = 1; i <= 10; i++) {
      const address = `2001:db8:0:1::${i.toString(16)}`; // a new address for every connection
      assert.equal(t.admitInbound(address, limits), undefined, `connection ${i}`);
      t.add(fake(t, 'tcp', address, 5000 + i));
    }
    const refused = t.admitInbound('2001:db8:0:1:ffff:ffff:ffff:ffff', limits);
    assert.equal(refused?.limit, 'maxConnectionsPerSource');
    assert.match(refused.reason, /2001:db8:0:1::\/64/);
    assert.equal(t.admitInbound('2001:db8:0:2::1', limits), undefined, 'another /64 is another source');
    // IPv4: each address is a source; an IPv4-mapped address is that address
    for (let i = 1; i <= 10; i++) t.add(fake(t, 'tcp', '198.51.100.1', i));
    assert.equal(t.admitInbound('::ffff:198.51.100.1', limits)?.limit, 'maxConnectionsPerSource');
    assert.equal(t.admitInbound('198.51.100.2', limits), undefined);
  });

  it('keeps the reserve for sources that have authenticated while many strangers fill the rest', () => {
    const clock = new FakeClock();
    const t = new ConnectionTable({ clock, authenticatedSourceTtlMs: 3_600_000 });
    assert.equal(reservedConnections(limits), 20);
    t.authenticatedSources.mark('203.0.113.9');
    t.authenticatedSources.mark('2001:db8:aa:bb::1');
    // 80 strangers, one connection each (the per-source limit never comes into play)
    let port = 1;
    for (let i = 0; i < 80; i++) {
      const address = `10.0.${i >> 8}.${i & 255}`;
      assert.equal(t.admitInbound(address, limits), undefined, `stranger ${i}`);
      t.add(fake(t, 'tcp', address, port++));
    }
    // the unreserved part is full: a new stranger is refused, from IPv4 or IPv6 alike
    assert.equal(t.admitInbound('10.1.0.1', limits)?.limit, 'authenticatedReserve');
    assert.equal(t.admitInbound('2001:db8:ff::1', limits)?.limit, 'authenticatedReserve');
    // an authenticated source still gets in (another address of its /64 too), up to the total
    assert.equal(t.admitInbound('2001:db8:aa:bb::2', limits), undefined);
    for (let i = 0; i < 10; i++) {
      assert.equal(t.admitInbound('203.0.113.9', limits), undefined);
      t.add(fake(t, 'tls', '203.0.113.9', port++));
    }
    assert.equal(t.admitInbound('203.0.113.9', limits)?.limit, 'maxConnectionsPerSource', 'its own share still holds');
    for (let i = 0; i < 10; i++) t.add(fake(t, 'ws', `2001:db8:aa:bb::${i + 1}`, port++));
    assert.equal(t.size, 100);
    assert.equal(t.admitInbound('203.0.113.10', limits)?.limit, 'maxConnections');
    // the mark runs out; the source is a stranger again
    const anyStranger = [...t.values()].find((c) => c.remoteAddress === '10.0.0.0')!;
    anyStranger.close();
    assert.equal(t.admitInbound('203.0.113.50', limits)?.limit, 'authenticatedReserve');
    t.authenticatedSources.mark('::ffff:203.0.113.50');
    assert.equal(t.admitInbound('203.0.113.50', limits), undefined);
    clock.advance(3_600_001);
    assert.equal(t.admitInbound('203.0.113.50', limits)?.limit, 'authenticatedReserve');
  });

  it('lets a source on a trusted interface (auth: false) use the reserve', () => {
    const t = new ConnectionTable();
    for (let i = 0; i < 80; i++) t.add(fake(t, 'tcp', `10.0.0.${i}`, 1));
    assert.equal(t.admitInbound('192.0.2.50', limits)?.limit, 'authenticatedReserve');
    assert.equal(t.admitInbound('192.0.2.50', limits, true), undefined);
    for (let i = 0; i < 20; i++) t.add(fake(t, 'tcp', `10.0.1.${i}`, 1));
    assert.equal(t.admitInbound('192.0.2.50', limits, true)?.limit, 'maxConnections');
  });

  it('logs refusals of each limit once per interval, with the count of those not logged', () => {
    const clock = new FakeClock();
    const t = new ConnectionTable({ clock });
    const reserve = { limit: 'authenticatedReserve', value: 80, reason: '' } as const;
    const total = { limit: 'maxConnections', value: 100, reason: '' } as const;
    assert.deepEqual(t.shouldLogRefusal(reserve), { log: true, suppressed: 0 });
    assert.deepEqual(t.shouldLogRefusal(total), { log: true, suppressed: 0 }, 'each limit has its own interval');
    for (let i = 0; i < 500; i++) assert.equal(t.shouldLogRefusal(reserve).log, false);
    clock.advance(REFUSAL_LOG_INTERVAL_MS);
    assert.deepEqual(t.shouldLogRefusal(reserve), { log: true, suppressed: 500 });
    assert.deepEqual(t.shouldLogRefusal(reserve), { log: false, suppressed: 0 });
  });

  it('has no reserve with authenticatedReserve 0', () => {
    const t = new ConnectionTable();
    const open = { ...limits, authenticatedReserve: 0 };
    for (let i = 0; i < 100; i++) t.add(fake(t, 'tcp', `10.0.0.${i}`, 1));
    assert.equal(t.admitInbound('10.0.1.1', open)?.limit, 'maxConnections');
    t.values().next().value!.close();
    assert.equal(t.admitInbound('10.0.1.1', open), undefined);
  });
});
