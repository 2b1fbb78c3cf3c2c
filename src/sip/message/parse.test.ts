import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, SipRequest, SipResponse, serialize, serializeToString, type AnySipMessage, SipUri } from '../index.js';

const crlf = (lines: string[]): string => lines.join('\r\n');

const BASE = [
  'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
];

function req(extra: string[] = [], start = 'INVITE sip:bob@example.com SIP/2.0', body = ''): string {
  return crlf([start, ...BASE, ...extra, `Content-Length: ${new TextEncoder().encode(body).length}`, '', body]);
}

function ok(text: string | Uint8Array, datagram = true): AnySipMessage {
  const r = parseMessage(text, { datagram });
  if (!r.ok) assert.fail(r.error.message);
  return r.message;
}

function bad(text: string | Uint8Array, datagram = true): { place: string; detail: string } {
  const r = parseMessage(text, { datagram });
  assert.equal(r.ok, false, 'expected a parse error');
  return r.ok ? { place: '', detail: '' } : r.error;
}

describe('parseMessage: start line', () => {
  it('parses a request line', () => {
    const m = ok(req());
    assert.ok(m instanceof SipRequest);
    assert.equal(m.method, 'INVITE');
    assert.equal(m.uri, 'sip:bob@example.com');
  });

  it('parses a status line with a reason containing spaces, and an empty one', () => {
    const resp = (line: string): string => crlf([line, ...BASE, 'Content-Length: 0', '', '']);
    const m = ok(resp('SIP/2.0 486 Busy Here now'));
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 486);
    assert.equal(m.reason, 'Busy Here now');
    const e = ok(resp('SIP/2.0 180 ')) as SipResponse;
    assert.equal(e.reason, '');
  });

  it('rejects status codes outside 100-699', () => {
    const resp = (code: string): string => crlf([`SIP/2.0 ${code} X`, ...BASE, 'Content-Length: 0', '', '']);
    assert.equal(bad(resp('99')).place, 'start-line/status');
    assert.equal(bad(resp('700')).place, 'start-line/status');
    assert.equal(bad(resp('2000')).place, 'start-line/status');
  });

  it('rejects a bad method token and a missing version', () => {
    assert.equal(bad(req([], 'INV:ITE sip:bob@example.com SIP/2.0')).place, 'start-line/method');
    assert.equal(bad(req([], 'INVITE sip:bob@example.com')).place, 'start-line');
    assert.equal(bad(req([], 'INVITE sip:bob@example.com HTTP/1.1')).place, 'start-line/version');
  });

  it('ignores CRLFs before the start line (§7.5)', () => {
    assert.equal((ok('\r\n\r\n' + req()) as SipRequest).method, 'INVITE');
  });

  it('parses sips, tel and IPv6 Request-URIs', () => {
    assert.equal(ok(req([], 'INVITE sips:bob@example.com SIP/2.0', '')).isRequest, true);
    const t = ok(req([], 'INVITE tel:+1-201-555-0123;phone-context=example.com SIP/2.0')) as SipRequest;
    assert.equal(t.requestUri.kind, 'tel');
    const v6 = ok(req([], 'INVITE sip:bob@[2001:db8::10]:5070;transport=tcp SIP/2.0')) as SipRequest;
    const u = v6.requestUri as SipUri;
    assert.equal(u.host, '[2001:db8::10]');
    assert.equal(u.hostKind, 'ipv6');
    assert.equal(u.port, 5070);
    assert.equal(u.transport, 'tcp');
  });
});

describe('parseMessage: header fields', () => {
  it('matches names case-insensitively and resolves compact forms', () => {
    const m = ok(
      crlf(['OPTIONS sip:x@example.com SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bK1', 't: <sip:x@example.com>', 'f: <sip:y@example.com>;tag=1',
        'i: abc', 'CSEQ: 1 OPTIONS', 'l: 0', 'k: path, outbound', 'm: <sip:y@192.0.2.4>', 'c: text/plain', '', '']),
    );
    assert.equal(m.callId, 'abc');
    assert.equal(m.get('Call-ID'), 'abc');
    assert.equal(m.get('i'), 'abc');
    assert.deepEqual(m.supported, ['path', 'outbound']);
    assert.equal(m.contact.length, 1);
    assert.equal(m.contentType?.type, 'text');
  });

  it('unfolds continuation lines to one SP', () => {
    const m = ok(req(['Subject: I know you\'re there,', '   pick up the phone', '\tand talk to me!']));
    assert.equal(m.get('subject'), "I know you're there, pick up the phone and talk to me!");
  });

  it('splits lists at commas outside quotes and <> and keeps repeated headers in order', () => {
    const m = ok(
      req([
        'Route: <sip:p1.example.com;lr>, "a, b" <sip:p2.example.com;lr>',
        'Route: <sip:p3.example.com;lr>;x="1,2"',
        'Contact: "Mr. Watson, jr" <sip:watson@worcester.example.com;a=1>;q=0.7;expires=3600, <mailto:watson@bell.example.com>;q=0.1',
      ]),
    );
    assert.deepEqual(
      m.route.map((r) => (r.uri as SipUri).host),
      ['p1.example.com', 'p2.example.com', 'p3.example.com'],
    );
    assert.equal(m.route[1]!.displayName, 'a, b');
    const [c1, c2] = m.contact;
    assert.equal(c1!.displayName, 'Mr. Watson, jr');
    assert.equal(c1!.q, 0.7);
    assert.equal(c1!.expires, 3600);
    assert.equal(c2!.uri.scheme, 'mailto');
  });

  it('types Via with IPv6 sent-by, received, rport and branch', () => {
    const m = ok(req(['Via: SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bKabc;received=2001:db8::1;rport=40000']));
    const [top, second] = m.via;
    assert.equal(top!.transport, 'UDP');
    assert.equal(top!.rport, null, 'rport requested without a value');
    assert.equal(second!.host, '[2001:db8::9]');
    assert.equal(second!.port, 5061);
    assert.equal(second!.received, '2001:db8::1');
    assert.equal(second!.rport, 40000);
    assert.equal(second!.rfc3261Branch, true);
  });

  it('types From/To display names quoted or not, tags, and addr-spec form', () => {
    const m = ok(crlf(['OPTIONS sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'To: sip:x@example.com;tag=abc',
      'From: Anonymous Person <sip:anonymous@anonymous.invalid>;tag=9', 'Call-ID: c', 'CSeq: 2 OPTIONS', '', '']));
    assert.equal(m.to.tag, 'abc');
    assert.equal(m.to.displayName, undefined);
    assert.equal((m.to.uri as SipUri).params.size, 0, 'a parameter after an addr-spec belongs to the header');
    assert.equal(m.from.displayName, 'Anonymous Person');
  });

  it('types Contact *, +sip.instance and reg-id', () => {
    const star = ok(crlf(['REGISTER sip:example.com SIP/2.0', ...BASE.slice(0, 5), 'CSeq: 2 REGISTER', 'Contact: *', 'Expires: 0', 'l: 0', '', '']));
    assert.equal(star.contactStar, true);
    assert.deepEqual(star.contact, []);
    assert.equal(star.expires, 0);
    const ob = ok(crlf(['REGISTER sip:example.com SIP/2.0', ...BASE.slice(0, 5), 'CSeq: 2 REGISTER',
      'Contact: <sip:line1@192.0.2.2;transport=tcp>;reg-id=1;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"', 'l: 0', '', '']));
    assert.equal(ob.contact[0]!.instance, '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
    assert.equal(ob.contact[0]!.regId, 1);
    const mixed = ok(crlf(['REGISTER sip:example.com SIP/2.0', ...BASE.slice(0, 5), 'CSeq: 2 REGISTER', 'Contact: *, <sip:a@b>', 'l: 0', '', '']));
    assert.throws(() => mixed.contact, { place: 'header/Contact' });
  });

  it('types digest Authorization and WWW-Authenticate (RFC 7616)', () => {
    const m = ok(req([
      'Authorization: Digest username="bob", realm="biloxi.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
      'WWW-Authenticate: Digest realm="atlanta.com", domain="sip:boxesbybob.com", qop="auth", nonce="f84f1cec41e6cbe5aea9c8e88d359", opaque="", stale=FALSE, algorithm=SHA-256',
      'Proxy-Authorization: Digest username="alice", realm="atlanta.com", nonce="c60f3082ee1212b402a21831ae", response="245f23415f11432b3434341c022", uri="sip:bob@biloxi.com"',
    ]));
    const [a] = m.authorization;
    assert.equal(a!.isDigest, true);
    assert.equal(a!.username, 'bob');
    assert.equal(a!.realm, 'biloxi.com');
    assert.equal(a!.uri, 'sip:bob@biloxi.com');
    assert.equal(a!.qop, 'auth');
    assert.equal(a!.nc, '00000001');
    assert.equal(a!.algorithm, 'MD5');
    const [c] = m.wwwAuthenticate;
    assert.equal(c!.algorithm, 'SHA-256');
    assert.equal(c!.stale, false);
    assert.equal(c!.opaque, '');
    assert.equal(m.proxyAuthorization[0]!.username, 'alice');
  });

  it('a malformed digest is an error at its header; an unknown scheme is not', () => {
    const m = ok(req(['Authorization: Digest username="bob", realm']));
    assert.throws(() => m.authorization, { place: 'header/Authorization' });
  });

  it('types token lists, Expires, Min-Expires, User-Agent, Server', () => {
    const m = ok(req(['Allow: INVITE, ACK, CANCEL,OPTIONS', 'Require: 100rel', 'Proxy-Require: foo', 'Unsupported: bar', 'Expires: 3600',
      'Min-Expires: 60', 'User-Agent: Softphone Beta1.5', 'Server: HomeServer v2']));
    assert.deepEqual(m.allow, ['INVITE', 'ACK', 'CANCEL', 'OPTIONS']);
    assert.deepEqual(m.require, ['100rel']);
    assert.deepEqual(m.proxyRequire, ['foo']);
    assert.deepEqual(m.unsupported, ['bar']);
    assert.equal(m.expires, 3600);
    assert.equal(m.minExpires, 60);
    assert.equal(m.userAgent, 'Softphone Beta1.5');
    assert.equal(m.server, 'HomeServer v2');
  });

  it('keeps unknown headers byte-exact and in order', () => {
    const text = req(['X-Weird  :   a;;b,,c  ', 'P-Thing: \u00e9t\u00e9']);
    const m = ok(text);
    assert.equal(serializeToString(m), text);
    assert.equal(m.get('x-weird'), 'a;;b,,c');
  });

  it('reports each missing mandatory header at its place', () => {
    for (const [name, place] of [['Via', 'header/Via'], ['To', 'header/To'], ['From', 'header/From'], ['Call-ID', 'header/Call-ID'], ['CSeq', 'header/CSeq']]) {
      const text = req().split('\r\n').filter((l) => !l.startsWith(name + ':')).join('\r\n');
      assert.equal(bad(text).place, place, name);
    }
  });

  it('rejects bad scalar values at their place', () => {
    const cases: Array<[string, string, string]> = [
      ['Max-Forwards: 70', 'Max-Forwards: 256', 'header/Max-Forwards'],
      ['Max-Forwards: 70', 'Max-Forwards: ten', 'header/Max-Forwards'],
      ['CSeq: 314159 INVITE', 'CSeq: 4294967296 INVITE', 'header/CSeq'],
      ['CSeq: 314159 INVITE', 'CSeq: 314159', 'header/CSeq'],
      ['Call-ID: a84b4c76e66710@pc33.example.com', 'Call-ID: a b', 'header/Call-ID'],
      ['Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport', 'Via: SIP/2.0/UDP 192.0.2.1:70000', 'header/Via'],
      ['Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport', 'Via: SIP/2.0 192.0.2.1', 'header/Via'],
      ['From: "Alice" <sip:alice@example.com>;tag=1928301774', 'From: <sip:alice@example.com', 'header/From'],
    ];
    for (const [from, to, place] of cases) assert.equal(bad(req().replace(from, to)).place, place, to);
    assert.equal(ok(req().replace('CSeq: 314159 INVITE', 'CSeq: 4294967295 INVITE')).cseq.seq, 2 ** 32 - 1);
  });

  it('rejects a header line without a colon or with a bad name', () => {
    assert.equal(bad(req(['NoColonHere'])).place, 'headers');
    assert.equal(bad(req(['Bad Name: x'])).place, 'headers');
  });
});

describe('parseMessage: body and Content-Length (§18.3)', () => {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n';

  it('reads a body of Content-Length bytes, counting UTF-8 bytes', () => {
    const body = 'héllo';
    const m = ok(req(['Content-Type: text/plain'], undefined, body));
    assert.equal(m.body.length, 6);
    assert.equal(new TextDecoder().decode(m.body), body);
  });

  it('truncates a datagram body longer than Content-Length', () => {
    const m = ok(req([], undefined, sdp) + 'garbage');
    assert.equal(new TextDecoder().decode(m.body), sdp);
  });

  it('rejects a datagram body shorter than Content-Length', () => {
    assert.equal(bad(req([], undefined, sdp).replace(`Content-Length: ${sdp.length}`, `Content-Length: ${sdp.length + 5}`)).place, 'body');
  });

  it('takes the rest of a datagram as the body when there is no Content-Length', () => {
    const text = req([], undefined, sdp).replace(`Content-Length: ${sdp.length}\r\n`, '');
    assert.equal(ok(text).body.length, sdp.length);
  });

  it('requires Content-Length on a stream', () => {
    const text = req().replace('Content-Length: 0\r\n', '');
    assert.equal(bad(text, false).place, 'header/Content-Length');
  });

  it('parses the same from bytes and from text', () => {
    const text = req(['Subject: ünïcode'], undefined, sdp);
    const a = ok(text);
    const b = ok(new TextEncoder().encode(text));
    assert.equal(a.get('subject'), b.get('subject'));
    assert.deepEqual(Buffer.from(serialize(a)), Buffer.from(serialize(b)));
  });
});

describe('parseMessage: limits', () => {
  it('refuses a message over the size limit', () => {
    const r = parseMessage(req(['X-Pad: ' + 'a'.repeat(2000)]), { limits: { maxMessageSize: 1000 } });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'ERR_SIP_LIMIT');
  });
  it('refuses too many header fields and too long a line', () => {
    const many = Array.from({ length: 50 }, (_, i) => `X-H${i}: ${i}`);
    const r1 = parseMessage(req(many), { limits: { maxHeaders: 40 } });
    assert.equal(!r1.ok && r1.error.code, 'ERR_SIP_LIMIT');
    const r2 = parseMessage(req(['X-Long: ' + 'b'.repeat(300)]), { limits: { maxLineLength: 200 } });
    assert.equal(!r2.ok && r2.error.code, 'ERR_SIP_LIMIT');
    assert.equal(parseMessage(req(many)).ok, true, 'within the defaults');
  });

  it('still gives the message as far as it was read, so that a server can answer 513', () => {
    const size = parseMessage(req([], 'MESSAGE sip:bob@example.com SIP/2.0', 'x'.repeat(2000)).replace('CSeq: 314159 INVITE', 'CSeq: 1 MESSAGE'), { limits: { maxMessageSize: 1000 } });
    assert.equal(!size.ok && size.error.code, 'ERR_SIP_LIMIT');
    assert.equal(!size.ok && size.message?.callId, 'a84b4c76e66710@pc33.example.com');
    const many = Array.from({ length: 50 }, (_, i) => `X-H${i}: ${i}`);
    // the fields an answer copies are kept past the count (here CSeq and Content-Length come last)
    const count = parseMessage(crlf(['INVITE sip:bob@example.com SIP/2.0', ...many, ...BASE, 'Content-Length: 0', '', '']), { limits: { maxHeaders: 40 } });
    assert.equal(!count.ok && count.error.detail, 'exceeds the header count limit');
    assert.equal(!count.ok && count.message?.get('cseq'), '314159 INVITE');
    const line = parseMessage(req(['X-Long: ' + 'b'.repeat(300)]), { limits: { maxLineLength: 200 } });
    assert.equal(!line.ok && line.error.detail, 'exceeds the header line length limit');
    assert.equal(!line.ok && line.message?.get('x-long'), undefined, 'the long line is left out');
    assert.equal(!line.ok && line.message?.get('via'), BASE[0]!.slice(5));
  });

  it('gives no message when the header section does not end within the size limit', () => {
    const r = parseMessage(req(['X-Pad: ' + 'a'.repeat(2000)]), { limits: { maxMessageSize: 1000 } });
    assert.equal(!r.ok && r.error.code, 'ERR_SIP_LIMIT');
    assert.equal(!r.ok && r.message, undefined);
  });
});
