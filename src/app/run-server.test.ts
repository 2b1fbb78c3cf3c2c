import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isHttpListen, parseListenSpec } from './run-server.js';

describe('parseListenSpec (--listen)', () => {
  it('reads SIP listeners', () => {
    assert.deepEqual(parseListenSpec('udp:127.0.0.1:5060'), { transport: 'udp', address: '127.0.0.1', port: 5060 });
    assert.deepEqual(parseListenSpec('tls:[::1]:5061;noauth'), { transport: 'tls', address: '::1', port: 5061, auth: false });
    assert.deepEqual(parseListenSpec('tcp::5060'), { transport: 'tcp', address: '0.0.0.0', port: 5060 });
  });

  it('reads WebSocket listeners as HTTP ones: wss (or https) and ws (or http)', () => {
    const wss = parseListenSpec('wss:0.0.0.0:8443');
    assert.deepEqual(wss, { transport: 'https', address: '0.0.0.0', port: 8443 });
    assert.ok(isHttpListen(wss));
    assert.deepEqual(parseListenSpec('ws:127.0.0.1:8080;noauth'), { transport: 'http', address: '127.0.0.1', port: 8080, auth: false });
    assert.deepEqual(parseListenSpec('https:[::]:443'), { transport: 'https', address: '::', port: 443 });
    assert.equal(isHttpListen(parseListenSpec('udp:127.0.0.1:5060')), false);
  });

  it('refuses anything else', () => {
    assert.throws(() => parseListenSpec('sctp:127.0.0.1:5060'), /bad --listen/);
    assert.throws(() => parseListenSpec('wss:127.0.0.1:70000'), /port out of range/);
    assert.throws(() => parseListenSpec('wss:127.0.0.1'), /bad --listen/);
  });
});
