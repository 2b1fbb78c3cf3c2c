import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri, parseSipUri, SipUri, uriEquals, uriMatchKey } from '../index.js';

describe('parseSipUri', () => {
  it('reads every part of a SIP URI (RFC 3261 §19.1.1)', () => {
    const u = parseSipUri('sips:alice:secretword@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
    assert.equal(u.scheme, 'sips');
    assert.equal(u.user, 'alice');
    assert.equal(u.password, 'secretword');
    assert.equal(u.host, 'atlanta.com');
    assert.equal(u.port, 5061);
    assert.equal(u.transport, 'tcp');
    assert.equal(u.lr, true);
    assert.equal(u.param('maddr'), '239.255.255.1');
    assert.equal(u.headers.get('subject'), 'project%20x');
    assert.equal(u.headers.get('priority'), 'urgent');
    assert.equal(u.toString(), 'sips:alice:secretword@atlanta.com:5061;transport=tcp;lr;maddr=239.255.255.1?subject=project%20x&priority=urgent');
  });

  it('classifies hosts', () => {
    assert.equal(parseSipUri('sip:192.0.2.4').hostKind, 'ipv4');
    assert.equal(parseSipUri('sip:[2001:db8::1]:5060').hostKind, 'ipv6');
    assert.equal(parseSipUri('sip:a-b.example.com').hostKind, 'name');
  });

  it('rejects malformed URIs', () => {
    for (const bad of ['sip:', 'sip:@host', 'sip:user@', 'sip:host:99999', 'sip:host:', 'sip:us er@host', 'sip:host;=x', 'sip:[::1', 'sip:host?x',
      'sip:user@ho st', 'sip:bad%zzuser@host', 'http']) {
      assert.throws(() => parseUri(bad), Error, bad);
    }
  });

  it('builds and edits URIs without touching the original', () => {
    const u = parseSipUri('sip:bob@biloxi.com;transport=udp');
    const v = u.withHostPort('192.0.2.4', 5080).withParam('lr', null).withoutParam('transport');
    assert.equal(v.toString(), 'sip:bob@192.0.2.4:5080;lr');
    assert.equal(u.toString(), 'sip:bob@biloxi.com;transport=udp');
    assert.equal(new SipUri('sip', undefined, undefined, 'example.com', undefined).toString(), 'sip:example.com');
  });

  it('parses tel and other absolute URIs', () => {
    const t = parseUri('tel:+358-555-1234567;postd=pp22');
    assert.equal(t.kind, 'tel');
    assert.equal(t.kind === 'tel' && t.number, '+358-555-1234567');
    const m = parseUri('mailto:watson@bell-telephone.com');
    assert.equal(m.kind, 'absolute');
    assert.equal(m.scheme, 'mailto');
  });
});

describe('uriEquals (RFC 3261 §19.1.4)', () => {
  // The pairs are the examples printed in RFC 3261 §19.1.4.
  const equivalent: Array<[string, string]> = [
    ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
    ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
    ['sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com'],
    ['sip:alice@atlanta.com?subject=project%20x&priority=urgent', 'sip:alice@atlanta.com?priority=urgent&subject=project%20x'],
  ];
  const different: Array<[string, string]> = [
    ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
    ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
    ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
    ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
  ];
  for (const [a, b] of equivalent) {
    it(`${a} = ${b}`, () => {
      assert.equal(uriEquals(parseUri(a), parseUri(b)), true);
      assert.equal(uriEquals(parseUri(b), parseUri(a)), true);
      assert.equal(uriMatchKey(parseUri(a)), uriMatchKey(parseUri(b)), 'equal URIs must have one match key');
    });
  }
  for (const [a, b] of different) {
    it(`${a} ≠ ${b}`, () => {
      assert.equal(uriEquals(parseUri(a), parseUri(b)), false);
    });
  }
  it('sip and sips never match', () => {
    assert.equal(uriEquals(parseUri('sip:a@b.com'), parseUri('sips:a@b.com')), false);
  });
  it('uriMatchKey tells apart URIs with another scheme, user, password, host or port (parameters and headers it leaves to uriEquals)', () => {
    const key = (u: string) => uriMatchKey(parseUri(u));
    for (const [a, b] of [
      ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
      ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
      ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
      ['sip:a@b.com', 'sips:a@b.com'],
      ['sip:a:x@b.com', 'sip:a:y@b.com'],
      ['tel:+1-201-555-0123', 'tel:+12015550124'],
    ]) assert.notEqual(key(a!), key(b!), `${a} / ${b}`);
    assert.equal(key('sip:bob@biloxi.com'), key('sip:bob@biloxi.com;transport=udp'));
    assert.equal(key('tel:+1-201-555-0123'), key('tel:+1.201.555.0123'));
  });
});
