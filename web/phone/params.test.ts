import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashWithoutPassword, isValidHost, parsePhoneParams, targetToUri } from './params.js';

describe('phone URL parameters', () => {
  it('reads username, displayname, target and autoregister from the query, the password from the fragment', () => {
    const p = parsePhoneParams('?username=alice&displayname=Alice%20Liddell&target=bob&autoregister=1', '#password=s3cret');
    assert.deepEqual(p, { username: 'alice', displayName: 'Alice Liddell', target: 'bob', autoRegister: true, password: 's3cret', passwordInQuery: false, iceTransportPolicy: 'all', dtmf: 'rfc4733' });
  });

  it('ignores a password in the query string and says so', () => {
    const p = parsePhoneParams('?username=alice&password=leaked', '');
    assert.equal(p.password, '');
    assert.equal(p.passwordInQuery, true);
  });

  it('autoregister: present, 1, true, yes mean yes; 0, false, no or absent mean no', () => {
    for (const v of ['', '1', 'true', 'YES', 'on']) assert.equal(parsePhoneParams(`?autoregister=${v}`, '').autoRegister, true, v);
    for (const v of ['0', 'false', 'no', 'off']) assert.equal(parsePhoneParams(`?autoregister=${v}`, '').autoRegister, false, v);
    assert.equal(parsePhoneParams('?username=a', '').autoRegister, false);
  });

  it('ice=relay asks for relayed candidates only; anything else is the default policy', () => {
    assert.equal(parsePhoneParams('?ice=relay', '').iceTransportPolicy, 'relay');
    assert.equal(parsePhoneParams('?username=a&ice=RELAY', '').iceTransportPolicy, 'relay');
    for (const q of ['', '?ice=all', '?ice=', '?ice=host', '?relay=1']) assert.equal(parsePhoneParams(q, '').iceTransportPolicy, 'all', q);
  });

  it('?dtmf=info makes the keypad send SIP INFO; RFC 4733 otherwise', () => {
    assert.equal(parsePhoneParams('?dtmf=info', '').dtmf, 'info');
    assert.equal(parsePhoneParams('?dtmf=INFO', '').dtmf, 'info');
    for (const q of ['', '?dtmf=rfc4733', '?dtmf=', '?dtmf=inband']) assert.equal(parsePhoneParams(q, '').dtmf, 'rfc4733', q);
  });

  it('keeps a plus and decodes percent escapes in the fragment', () => {
    assert.equal(parsePhoneParams('', '#password=a%2Bb%26c').password, 'a+b&c');
  });

  it('removes only the password from the fragment', () => {
    assert.equal(hashWithoutPassword('#password=x'), '');
    assert.equal(hashWithoutPassword('#password=x&tab=2'), '#tab=2');
    assert.equal(hashWithoutPassword('#tab=2'), '#tab=2');
    assert.equal(hashWithoutPassword(''), '');
  });
});

describe('what the person dialled, as a SIP URI', () => {
  it('a user name is a user of the registered domain', () => {
    assert.deepEqual(targetToUri(' bob ', 'example.com'), { ok: true, uri: 'sip:bob@example.com', label: 'bob' });
  });

  it('user@domain and sip: URIs', () => {
    assert.deepEqual(targetToUri('carol@example.org', 'example.com'), { ok: true, uri: 'sip:carol@example.org', label: 'carol' });
    assert.deepEqual(targetToUri('sip:dave@192.0.2.1:5080;transport=udp', 'example.com'), { ok: true, uri: 'sip:dave@192.0.2.1:5080;transport=udp', label: 'dave' });
  });

  it('an IPv6 domain goes in brackets', () => {
    assert.deepEqual(targetToUri('bob', '::1'), { ok: true, uri: 'sip:bob@[::1]', label: 'bob' });
  });

  it('a telephone number keeps its digits and a leading plus', () => {
    assert.deepEqual(targetToUri('+1 (555) 010-9999', 'example.com'), { ok: true, uri: 'sip:+15550109999@example.com', label: '+15550109999' });
  });

  it('refuses what cannot be a SIP address, with a sentence', () => {
    for (const bad of ['', 'bob smith', 'bob@exa mple.com', 'sip:@@', '<bob>']) {
      const r = targetToUri(bad, 'example.com');
      assert.equal(r.ok, false, bad);
      if (!r.ok) assert.match(r.reason, /\w+ \w+/);
    }
  });

  it('hosts: names, IPv4, bracketed IPv6', () => {
    for (const h of ['example.com', 'localhost', '127.0.0.1', '[::1]']) assert.ok(isValidHost(h), h);
    for (const h of ['exa mple', '-bad.com', '']) assert.ok(!isValidHost(h), h);
  });
});
