import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeSocketError } from './describe-error.js';

const withCode = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('describeSocketError', () => {
  it('says known system and TLS errors in words, with what to do', () => {
    assert.equal(describeSocketError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:8443')), 'connection refused (nothing listens there?)');
    assert.match(describeSocketError(withCode('EMFILE')), /too many open files \(EMFILE\): raise the limit with ulimit -n/);
    assert.match(describeSocketError(withCode('DEPTH_ZERO_SELF_SIGNED_CERT')), /self-signed \(--insecure accepts it\)/);
    assert.match(describeSocketError(withCode('ERR_SSL_WRONG_VERSION_NUMBER')), /did not answer with TLS/);
  });

  it("reads the ws library's handshake and subprotocol failures", () => {
    assert.equal(describeSocketError(new Error('Opening handshake has timed out')), 'WebSocket handshake timed out');
    assert.match(describeSocketError(new Error('Server sent no subprotocol')), /without the "sip" subprotocol/);
  });

  it('gives one text for one cause: addresses and ports are taken out of unknown messages', () => {
    const a = describeSocketError(withCode('EWHATEVER', 'read EWHATEVER 127.0.0.1:40001'));
    const b = describeSocketError(withCode('EWHATEVER', 'read EWHATEVER 127.0.0.1:40002'));
    assert.equal(a, b);
    assert.equal(a, 'EWHATEVER: read EWHATEVER ADDR');
    assert.equal(describeSocketError('plain string'), 'plain string');
  });
});
