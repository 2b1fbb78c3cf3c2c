import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createResponse, decrementMaxForwards, newBranch, newTag, parseMessage, popRoute, popVia, pushRecordRoute, pushVia, serializeToString,
  SipRequest, SipResponse, type AnySipMessage,
} from '../index.js';

const INVITE = [
  'INVITE sip:bob@biloxi.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8, SIP/2.0/UDP bigbox3.site3.atlanta.com;branch=z9hG4bK77ef4c2312983.1',
  'Max-Forwards: 70',
  'Route: <sip:p1.example.com;lr>,<sip:p2.example.com;lr>',
  'To: Bob <sip:bob@biloxi.com>',
  'From: Alice <sip:alice@atlanta.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710',
  'CSeq: 314159 INVITE',
  'Timestamp: 54',
  'Contact: <sip:alice@pc33.atlanta.com>',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

function parse(text: string): AnySipMessage {
  const r = parseMessage(text);
  if (!r.ok) assert.fail(r.error.message);
  return r.message;
}

describe('createResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, Call-ID, CSeq, adds a To tag, and drops the rest', () => {
    const req = parse(INVITE) as SipRequest;
    const res = createResponse(req, 486, { toTag: 'xyz' });
    assert.equal(res.status, 486);
    assert.equal(res.reason, 'Busy Here');
    assert.equal(res.via.length, 2);
    assert.equal(res.to.tag, 'xyz');
    assert.equal(res.from.tag, '1928301774');
    assert.equal(res.callId, 'a84b4c76e66710');
    assert.deepEqual(res.cseq, { seq: 314159, method: 'INVITE' });
    assert.equal(res.has('contact'), false);
    assert.equal(res.has('timestamp'), false);
    const round = parse(serializeToString(res));
    assert.ok(round instanceof SipResponse);
    assert.equal(round.contentLength, 0);
  });

  it('a 100 Trying keeps Timestamp and gets no To tag', () => {
    const res = createResponse(parse(INVITE) as SipRequest, 100, { toTag: 'xyz' });
    assert.equal(res.to.tag, undefined);
    assert.equal(res.get('timestamp'), '54');
  });

  it('keeps an existing To tag and adds extra headers', () => {
    const req = parse(INVITE.replace('To: Bob <sip:bob@biloxi.com>', 'To: Bob <sip:bob@biloxi.com>;tag=abc')) as SipRequest;
    const res = createResponse(req, 200, { toTag: 'new', headers: [['Contact', '<sip:bob@192.0.2.4>'], ['k', 'path']] });
    assert.equal(res.to.tag, 'abc');
    assert.equal(res.contact.length, 1);
    assert.deepEqual(res.supported, ['path']);
  });
});

describe('proxy edits', () => {
  it('push and pop Via, keeping the other values byte-exact', () => {
    const req = parse(INVITE) as SipRequest;
    pushVia(req, 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1');
    assert.equal(req.topVia?.host, 'proxy.example.com');
    assert.equal(req.via.length, 3);
    assert.equal(popVia(req), 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1');
    assert.equal(popVia(req), 'SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bKnashds8');
    assert.equal(req.via.length, 1);
    assert.equal(req.topVia?.host, 'bigbox3.site3.atlanta.com');
  });

  it('pops Route and pushes Record-Route', () => {
    const req = parse(INVITE) as SipRequest;
    assert.equal(popRoute(req), '<sip:p1.example.com;lr>');
    assert.equal(req.route.length, 1);
    pushRecordRoute(req, '<sip:proxy.example.com;lr>');
    assert.equal(req.recordRoute.length, 1);
    const text = serializeToString(req);
    assert.match(text, /\r\nRecord-Route: <sip:proxy.example.com;lr>\r\n/);
  });

  it('decrements Max-Forwards, or adds 70 when absent', () => {
    const req = parse(INVITE) as SipRequest;
    assert.equal(decrementMaxForwards(req), 69);
    assert.equal(req.maxForwards, 69);
    req.remove('Max-Forwards');
    assert.equal(decrementMaxForwards(req), 70);
    assert.equal(req.get('max-forwards'), '70');
  });

  it('leaves untouched fields byte-exact after edits elsewhere', () => {
    const text = INVITE.replace('To: Bob <sip:bob@biloxi.com>', 'tO  :   Bob   <sip:bob@biloxi.com>');
    const req = parse(text) as SipRequest;
    decrementMaxForwards(req);
    assert.match(serializeToString(req), /\r\ntO  :   Bob   <sip:bob@biloxi.com>\r\n/);
    assert.match(serializeToString(req), /\r\nMax-Forwards: 69\r\n/);
  });

  it('serializes a body change with a corrected Content-Length', () => {
    const req = parse(INVITE) as SipRequest;
    req.body = new TextEncoder().encode('v=0\r\n');
    assert.equal((parse(serializeToString(req)) as SipRequest).body.length, 5);
  });

  it('rewrites the Request-URI', () => {
    const req = parse(INVITE) as SipRequest;
    const target = parseMessage(INVITE.replace('sip:bob@biloxi.com SIP', 'sip:bob@192.0.2.4:5062 SIP'));
    assert.ok(target.ok && target.message instanceof SipRequest);
    if (target.ok && target.message instanceof SipRequest) req.requestUri = target.message.requestUri;
    assert.match(serializeToString(req), /^INVITE sip:bob@192.0.2.4:5062 SIP\/2.0\r\n/);
  });
});

describe('identifiers', () => {
  it('branches carry the magic cookie and are unique; tags are unique', () => {
    const b = new Set(Array.from({ length: 1000 }, newBranch));
    assert.equal(b.size, 1000);
    for (const x of b) assert.ok(x.startsWith('z9hG4bK'));
    assert.equal(new Set(Array.from({ length: 1000 }, newTag)).size, 1000);
  });
});
