import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { headerValue, methodOf, MethodSampling } from './method-sampling.js';

const te = new TextEncoder();
const request = (method: string, callId: string, callIdName = 'Call-ID'): Uint8Array =>
  te.encode(`${method} sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n${callIdName}: ${callId}\r\nCSeq: 1 ${method}\r\nContent-Length: 0\r\n\r\n`);
const response = (method: string, callId: string): Uint8Array =>
  te.encode(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\ncall-id:${callId}\r\ncseq :  7 ${method} \r\nContent-Length: 0\r\n\r\n`);
const sampling = (rules: string[]): MethodSampling => {
  const r = MethodSampling.parse(rules);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
};

describe('MethodSampling (hep.sampling)', () => {
  it('keeps everything, unread, without rules (or with rules at 100)', () => {
    assert.equal(sampling([]).keepsAll, true);
    assert.equal(sampling(['OPTIONS:100']).keepsAll, true);
    assert.equal(sampling([]).keep(te.encode('garbage')), true);
  });

  it('OPTIONS:0 leaves out OPTIONS requests and the responses to them, nothing else', () => {
    const s = sampling(['OPTIONS:0']);
    assert.equal(s.keepsAll, false);
    assert.equal(s.keep(request('OPTIONS', 'a1')), false);
    assert.equal(s.keep(response('OPTIONS', 'a1')), false);
    assert.equal(s.keep(request('REGISTER', 'a1')), true);
    assert.equal(s.keep(response('INVITE', 'a1')), true);
  });

  it('a percentage keeps about that share of Call-IDs, and a Call-ID whole', () => {
    const s = sampling(['NOTIFY:30']);
    let kept = 0;
    for (let i = 0; i < 2000; i++) {
      const id = `call-${i}@host`;
      const k = s.keep(request('NOTIFY', id));
      assert.equal(s.keep(response('NOTIFY', id)), k, 'the response goes with its request');
      assert.equal(s.keep(request('NOTIFY', id, 'i')), k, 'the compact form i is read');
      if (k) kept++;
    }
    assert.ok(kept > 2000 * 0.25 && kept < 2000 * 0.35, `kept ${kept} of 2000`);
  });

  it('keeps what it cannot read', () => {
    const s = sampling(['OPTIONS:0']);
    assert.equal(s.keep(te.encode('SIP/2.0 200 OK\r\nVia: x\r\n\r\n')), true); // no CSeq
    assert.equal(s.keep(new Uint8Array(0)), true);
    assert.equal(s.keep(te.encode('OPTIONS')), true); // no space: no method
  });

  it('refuses rules that are not METHOD:PERCENT', () => {
    for (const bad of ['OPTIONS', 'OPTIONS:', 'OPTIONS:101', 'OPTIONS:-1', 'OPTIONS:1.5', ':5', 'OPT IONS:5']) {
      assert.equal(MethodSampling.parse([bad]).ok, false, bad);
    }
  });
});

describe('methodOf, headerValue', () => {
  it('read the method, and a header in the header section only', () => {
    assert.equal(methodOf(request('INVITE', 'x')), 'INVITE');
    assert.equal(methodOf(response('BYE', 'x')), 'BYE');
    assert.equal(headerValue(response('BYE', 'abc'), 'call-id', 'i'), 'abc');
    const withBody = te.encode('MESSAGE sip:a SIP/2.0\r\nContent-Length: 12\r\n\r\nCall-ID: no\r\n');
    assert.equal(headerValue(withBody, 'call-id', 'i'), undefined);
  });
});
