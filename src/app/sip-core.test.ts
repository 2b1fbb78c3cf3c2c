import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configFromObject } from './config.js';
import { configuredListeners } from './sip-core.js';

describe('configuredListeners (the algorithms of each bound listener)', () => {
  const config = configFromObject({
    sip: {
      listen: [
        { transport: 'udp', port: 5060 },
        { transport: 'tcp', port: 0, algorithms: ['SHA-256', 'MD5'] },
      ],
    },
    http: { listen: [{ transport: 'https', port: 0, algorithms: ['MD5', 'SHA-256'] }, { transport: 'http', address: '127.0.0.1', port: 8080 }] },
  });

  it('pairs the bound listeners (SIP, then HTTP as wss/ws) with their entries, real ports for port 0', () => {
    const bound = [
      { transport: 'udp', address: '0.0.0.0', port: 5060 },
      { transport: 'tcp', address: '0.0.0.0', port: 40001 },
      { transport: 'wss', address: '0.0.0.0', port: 40002 },
      { transport: 'ws', address: '127.0.0.1', port: 8080 },
    ] as const;
    assert.deepEqual(configuredListeners(config, bound), [
      { transport: 'udp', address: '0.0.0.0', port: 5060 },
      { transport: 'tcp', address: '0.0.0.0', port: 40001, algorithms: ['SHA-256', 'MD5'] },
      { transport: 'wss', address: '0.0.0.0', port: 40002, algorithms: ['MD5', 'SHA-256'] },
      { transport: 'ws', address: '127.0.0.1', port: 8080 },
    ]);
  });

  it('falls back to transport and configured port when the order differs', () => {
    const c = configFromObject({ sip: { listen: [{ transport: 'udp', port: 5060 }, { transport: 'tcp', port: 5070, algorithms: ['SHA-256'] }] }, http: { listen: [] } });
    const bound = [
      { transport: 'tcp', address: '0.0.0.0', port: 5070 },
      { transport: 'udp', address: '0.0.0.0', port: 5060 },
    ] as const;
    assert.deepEqual(configuredListeners(c, bound).map((l) => l.algorithms), [['SHA-256'], undefined]);
  });
});
