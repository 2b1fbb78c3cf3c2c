import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OriginPolicy, serializeOrigin } from './origin-policy.js';

describe('serializeOrigin (RFC 6454 §6.2)', () => {
  it('lower-cases scheme and host and drops the default port', () => {
    assert.equal(serializeOrigin('HTTPS://Phone.Example.COM'), 'https://phone.example.com');
    assert.equal(serializeOrigin('https://phone.example.com:443'), 'https://phone.example.com');
    assert.equal(serializeOrigin('http://localhost:80'), 'http://localhost');
    assert.equal(serializeOrigin('https://phone.example.com:8443'), 'https://phone.example.com:8443');
    assert.equal(serializeOrigin('http://[::1]:8080'), 'http://[::1]:8080');
  });

  it('refuses what is not an origin: a path, credentials, a query, another scheme, garbage', () => {
    for (const bad of ['https://a.example/phone', 'https://u:p@a.example', 'https://a.example?x', 'file:///tmp/x.html', 'null', '', 'a.example']) {
      assert.equal(serializeOrigin(bad), undefined, bad);
    }
  });
});

describe('OriginPolicy', () => {
  const policy = new OriginPolicy({ allowed: ['https://phone.example.com', 'http://localhost:3000'] });

  it('allows a handshake without Origin (not a browser) unless told otherwise', () => {
    assert.equal(policy.refusal(undefined, 'sip.example.com:8443', true), undefined);
    assert.match(new OriginPolicy({ allowMissing: false }).refusal(undefined, 'h', true) ?? '', /no Origin/);
  });

  it('allows the same origin as the listener would serve: scheme by TLS, host and port from Host', () => {
    assert.equal(policy.refusal('https://sip.example.com:8443', 'sip.example.com:8443', true), undefined);
    assert.equal(policy.refusal('http://127.0.0.1:8080', '127.0.0.1:8080', false), undefined);
    assert.equal(policy.refusal('https://sip.example.com', 'SIP.example.com:443', true), undefined, 'default port, case');
    assert.ok(policy.refusal('http://sip.example.com:8443', 'sip.example.com:8443', true), 'a plain-HTTP page is not the origin of a TLS listener');
    assert.ok(policy.refusal('https://sip.example.com:8444', 'sip.example.com:8443', true), 'another port is another origin');
  });

  it('allows the configured origins in any spelling, and refuses every other one and null', () => {
    assert.equal(policy.refusal('https://PHONE.example.com:443', 'sip.example.com:8443', true), undefined);
    assert.equal(policy.refusal('http://localhost:3000', 'sip.example.com:8443', true), undefined);
    assert.match(policy.refusal('https://evil.example', 'sip.example.com:8443', true) ?? '', /https:\/\/evil\.example is not allowed/);
    assert.ok(policy.refusal('null', 'sip.example.com:8443', true));
    assert.ok(policy.refusal('not an origin', 'sip.example.com:8443', true));
    assert.equal(new OriginPolicy({ allowed: ['null'] }).refusal('null', 'h', true), undefined);
  });

  it('allows any origin with *', () => {
    assert.equal(new OriginPolicy({ allowed: ['*'] }).refusal('https://anywhere.example', 'sip.example.com', true), undefined);
  });

  it('rejects a malformed allow-list entry at construction', () => {
    assert.throws(() => new OriginPolicy({ allowed: ['phone.example.com'] }), /bad origin "phone\.example\.com"/);
  });
});
