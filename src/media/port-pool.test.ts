import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { describe, it } from 'node:test';
import { until, udpHandles } from '../../test/support/rtp-peer.js';
import { PortPool } from './port-pool.js';

// ports of this file: 21800-21829 (slice 34 of test/interop/support/ports.ts, beside the media-gateway suite's)
const MIN = 21800;

describe('PortPool', () => {
  it('takes an even RTP port and RTCP on the next one, round robin over the range, and counts the sockets', async () => {
    const pool = new PortPool({ address: '127.0.0.1', minPort: MIN, maxPort: MIN + 5 });
    const first = await pool.allocate(true);
    const second = await pool.allocate(true);
    assert.ok(first && second);
    assert.equal(first.port % 2, 0);
    assert.equal(first.rtcpPort, first.port + 1);
    assert.equal(first.rtcp?.address().port, first.port + 1);
    assert.notEqual(second.port, first.port);
    assert.equal(pool.inUse, 4);
    first.close();
    first.close();
    assert.equal(pool.inUse, 2);
    // the freed pair is not the next one taken: the search goes on from where it stopped
    const third = await pool.allocate(true);
    assert.ok(third);
    assert.notEqual(third.port, first.port);
    assert.notEqual(third.port, second.port);
    second.close();
    third.close();
    assert.equal(pool.inUse, 0);
  });

  it('is exhausted when every pair is held, and a single (rtcp-mux) port needs one socket', async () => {
    const pool = new PortPool({ address: '127.0.0.1', minPort: MIN + 10, maxPort: MIN + 13 });
    const a = await pool.allocate(true);
    const b = await pool.allocate(true);
    assert.ok(a && b);
    assert.equal(await pool.allocate(true), undefined);
    a.close();
    const single = await pool.allocate(false);
    assert.ok(single);
    assert.equal(single.rtcp, undefined);
    assert.equal(single.rtcpPort, single.port);
    assert.equal(pool.inUse, 3);
    b.close();
    single.close();
  });

  it('skips a port another socket holds (EADDRINUSE)', async () => {
    const squatter = createSocket('udp4');
    await new Promise<void>((r) => squatter.bind(MIN + 21, '127.0.0.1', () => r()));
    const pool = new PortPool({ address: '127.0.0.1', minPort: MIN + 20, maxPort: MIN + 23 });
    const got = await pool.allocate(true);
    assert.ok(got);
    assert.equal(got.port, MIN + 22);
    assert.equal(await pool.allocate(true), undefined);
    got.close();
    squatter.close();
  });

  it('leaves no socket open once every leg is closed', async () => {
    const before = udpHandles();
    const pool = new PortPool({ address: '127.0.0.1', minPort: 0, maxPort: 0 });
    const legs = await Promise.all([pool.allocate(true), pool.allocate(false), pool.allocate(true)]);
    assert.ok(legs.every((l) => l !== undefined));
    assert.equal(pool.inUse, 5);
    assert.ok(udpHandles() >= before + 5);
    for (const l of legs) l!.close();
    // closed handles leave Node's list once their close completes
    assert.ok(await until(() => udpHandles() <= before));
    assert.equal(pool.inUse, 0);
  });
});
