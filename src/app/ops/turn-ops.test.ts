import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { OpsError } from '../../api/operations.js';
import { configFromObject } from '../config.js';
import type { TurnThread } from '../turn-thread.js';
import { createMediaOps } from './media-ops.js';
import { createTurnOps } from './turn-ops.js';

const ALLOCATION = {
  client: '127.0.0.1:40000', relayed: '127.0.0.1:50000', transport: 'udp', user: 'alice', username: '1700000000:alice', durationS: 30, expiresInS: 570,
  permissions: 2, channels: 1, counters: { bytesToPeer: 1000, packetsToPeer: 10, bytesFromPeer: 3000, packetsFromPeer: 30, dropped: 0 },
};

const turn = { listeners: [{ transport: 'udp', address: '0.0.0.0', port: 3478 }, { transport: 'tcp', address: '0.0.0.0', port: 3478 }], allocations: async () => [ALLOCATION] } as unknown as TurnThread;

describe('TurnOps', () => {
  it('allocations(): the TURN thread\'s, as views (bytes both ways)', async () => {
    const ops = createTurnOps({ turn: () => turn, config: configFromObject({}), turnRestSecrets: ['s3cret'], listeners: [] });
    assert.equal(ops.enabled, true);
    assert.deepEqual(await ops.allocations(), [
      { username: '1700000000:alice', client: '127.0.0.1:40000', relayed: '127.0.0.1:50000', expiresIn: 570, permissions: 2, channels: 1, bytesToPeer: 1000, bytesToClient: 3000 },
    ]);
  });

  it('credentials(): a REST username `expiry:user` and its password HMAC-SHA1(secret, username) in base64, with URIs for the listeners', () => {
    const ops = createTurnOps({ turn: () => turn, config: configFromObject({ sip: { domains: ['example.com'] } }), turnRestSecrets: ['s3cret'], listeners: [] });
    const before = Math.floor(Date.now() / 1000);
    const c = ops.credentials('alice', 600);
    const [expiry, user] = c.username.split(':');
    assert.equal(user, 'alice');
    assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 602, c.username);
    assert.equal(c.password, createHmac('sha1', 's3cret').update(c.username).digest('base64'));
    assert.equal(c.ttl, 600);
    assert.deepEqual(c.uris, ['turn:example.com:3478?transport=udp', 'turn:example.com:3478?transport=tcp']);
  });

  it('without TURN: no allocations, and credentials are refused with 503', async () => {
    const ops = createTurnOps({ turn: () => undefined, config: configFromObject({}), turnRestSecrets: [], listeners: [] });
    assert.equal(ops.enabled, false);
    assert.deepEqual(await ops.allocations(), []);
    assert.throws(() => ops.credentials('alice'), (e: unknown) => e instanceof OpsError && e.status === 503);
  });
});

describe('MediaOps', () => {
  it('sessions(): the media thread\'s, with ISO start times; none without a media plane', async () => {
    const media = { sessions: async () => [{ callId: 'c1', startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), legs: [{ tag: 'a', local: '127.0.0.1:30000', protocol: 'rtp', packetsIn: 5, packetsOut: 4 }] }] };
    const ops = createMediaOps({ media: media as never });
    assert.equal(ops.enabled, true);
    assert.deepEqual(await ops.sessions(), [{ callId: 'c1', startedAt: '2026-01-02T03:04:05.000Z', legs: [{ tag: 'a', local: '127.0.0.1:30000', protocol: 'rtp', packetsIn: 5, packetsOut: 4 }] }]);
    const off = createMediaOps({ media: undefined });
    assert.equal(off.enabled, false);
    assert.deepEqual(await off.sessions(), []);
  });
});
