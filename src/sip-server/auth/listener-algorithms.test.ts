import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listenerAlgorithms } from './listener-algorithms.js';

describe('listenerAlgorithms', () => {
  const listeners = [
    { transport: 'udp', address: '0.0.0.0', port: 5060 },
    { transport: 'tcp', address: '0.0.0.0', port: 5060, algorithms: ['SHA-256', 'MD5'] },
    { transport: 'udp', address: '0.0.0.0', port: 5062, algorithms: ['SHA-256'] },
    { transport: 'udp', address: '192.0.2.1', port: 5062, algorithms: ['MD5', 'SHA-256'] },
    { transport: 'wss', address: '::', port: 8443, algorithms: ['MD5', 'SHA-256'] },
  ] as const;
  const of = listenerAlgorithms(listeners, ['MD5']);

  it('gives a listener its own algorithms, by transport and local port', () => {
    assert.deepEqual(of({ transport: 'tcp', localAddress: '127.0.0.1', localPort: 5060 }), ['SHA-256', 'MD5']);
    assert.deepEqual(of({ transport: 'wss', localAddress: '::ffff:127.0.0.1', localPort: 8443 }), ['MD5', 'SHA-256']);
  });

  it('gives the default to a listener without its own, and to a flow of no listener', () => {
    assert.deepEqual(of({ transport: 'udp', localAddress: '0.0.0.0', localPort: 5060 }), ['MD5'], 'UDP on the TCP listener\'s port is another listener');
    assert.deepEqual(of({ transport: 'tls', localAddress: '127.0.0.1', localPort: 5061 }), ['MD5']);
    assert.deepEqual(of({ transport: 'tcp', localAddress: '127.0.0.1', localPort: 41234 }), ['MD5'], 'a connection Parley opened');
    assert.deepEqual(of({ remoteAddress: '192.0.2.9' } as never), ['MD5'], 'nothing known of the local end');
  });

  it('one port on several addresses: the listener bound to the flow\'s address, else the one on every address', () => {
    assert.deepEqual(of({ transport: 'udp', localAddress: '192.0.2.1', localPort: 5062 }), ['MD5', 'SHA-256']);
    assert.deepEqual(of({ transport: 'udp', localAddress: '198.51.100.7', localPort: 5062 }), ['SHA-256']);
    assert.deepEqual(of({ transport: 'udp', localPort: 5062 }), ['SHA-256']);
  });

  it('without any listener of its own, the default for every request', () => {
    const f = listenerAlgorithms([{ transport: 'udp', address: '0.0.0.0', port: 5060 }], ['MD5', 'SHA-256']);
    assert.deepEqual(f({ transport: 'udp', localPort: 5060 }), ['MD5', 'SHA-256']);
    assert.deepEqual(f({ transport: 'tcp', localPort: 9 }), ['MD5', 'SHA-256']);
  });
});
