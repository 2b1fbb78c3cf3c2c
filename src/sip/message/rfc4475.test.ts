/**
 * RFC 4475 "SIP Torture Test Messages": the bit-exact messages of its Appendix A archive
 * (testdata/rfc4475, provenance in testdata/README.md). Valid messages (§3.1.1) must parse and
 * give the typed values below; invalid ones (§3.1.2) must be rejected at the named place.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMessage, serialize, type AnySipMessage, SipRequest, SipResponse, SipUri } from '../index.js';

const dir = new URL('./testdata/rfc4475/', import.meta.url);
const load = (name: string): Uint8Array => readFileSync(new URL(name, dir));

function parsed(name: string): AnySipMessage {
  const r = parseMessage(load(name));
  if (!r.ok) assert.fail(`${name}: ${r.error.message}`);
  return r.message;
}

function request(name: string): SipRequest {
  const m = parsed(name);
  assert.ok(m instanceof SipRequest, `${name} is a request`);
  return m;
}

describe('RFC 4475 §3.1.1 valid messages parse', () => {
  it('3.1.1.1 wsinv: whitespace, folding, case and compact forms', () => {
    const m = request('3.1.1.1-wsinv.sip');
    assert.equal(m.method, 'INVITE');
    assert.equal(m.to.tag, '1918181833n');
    assert.equal(m.from.displayName, 'J Rosenberg \\"');
    assert.equal(m.from.tag, '98asjd8');
    assert.equal(m.maxForwards, 68);
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
    const via = m.via;
    assert.equal(via.length, 3);
    assert.equal(via[0]!.transport, 'UDP');
    assert.equal(via[0]!.host, '192.0.2.2');
    assert.equal(via[0]!.branch, '390skdjuw');
    assert.equal(via[1]!.transport, 'TCP');
    assert.equal(via[1]!.host, 'spindle.example.com');
    assert.equal(via[1]!.branch, 'z9hG4bK9ikj8');
    assert.equal(via[2]!.host, '192.168.255.111');
    assert.equal(via[2]!.branch, 'z9hG4bK30239');
    assert.equal(m.get('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.get('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.route.length, 1);
    assert.ok(m.route[0]!.uri instanceof SipUri && m.route[0]!.uri.lr);
    const [c] = m.contact;
    assert.equal(c!.displayName, 'Quoted string ""');
    assert.equal(c!.q, 0.33);
    assert.equal(c!.param('newparam'), 'newvalue');
    assert.equal(c!.param('secondparam'), null);
    assert.equal(m.get('s'), '');
    assert.equal(m.body.length, 150);
    assert.equal(m.contentType?.subtype, 'sdp');
    assert.equal(m.validate(), undefined);
  });

  it('3.1.1.2 intmeth: unusual method, URI, display names and header names', () => {
    const m = request('3.1.1.2-intmeth.sip');
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.equal(m.cseq.method, m.method);
    const uri = m.requestUri;
    assert.ok(uri instanceof SipUri);
    assert.equal(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(m.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
    assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.from.tag, "_token~1'+`*%!-.");
    assert.equal(m.from.param("fromparam''~+*_!.-%"), '"работающий"');
    assert.equal(m.callId, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    assert.equal(m.topVia?.branch, "z9hG4bK-.!%66*_+`'~");
    assert.equal(m.get("extensionHeader-!.%*+_`'~"), '\ufeff大停電');
    assert.equal(m.validate(), undefined);
  });

  it('3.1.1.3 esc01: escaped characters in URIs', () => {
    const m = request('3.1.1.3-esc01.sip');
    const ruri = m.requestUri as SipUri;
    assert.equal(ruri.user, 'sips%3Auser%40example.com');
    assert.equal(ruri.userUnescaped, 'sips:user@example.com');
    assert.equal(ruri.host, 'example.net');
    assert.equal((m.to.uri as SipUri).userUnescaped, 'user');
    assert.equal((m.from.uri as SipUri).userUnescaped, 'I have spaces');
    assert.equal(m.callId, 'esc01.239409asdfakjkn23onasd0-3234');
    const contact = m.contact[0]!.uri as SipUri;
    assert.equal(contact.userUnescaped, 'caller');
    assert.equal(contact.params.get('%6c%72'), null);
    assert.equal(m.contentType?.type, 'application');
  });

  it('3.1.1.4 escnull: escaped NULs in URIs', () => {
    const m = request('3.1.1.4-escnull.sip');
    assert.equal((m.to.uri as SipUri).userUnescaped, 'null-\x00-null');
    assert.equal(m.contact.length, 2);
    assert.equal((m.contact[1]!.uri as SipUri).userUnescaped, '\x00\x00');
  });

  it('3.1.1.5 esc02: % in a method and a header name is only a token character', () => {
    const m = request('3.1.1.5-esc02.sip');
    assert.equal(m.method, 'RE%47IST%45R');
    assert.equal(m.to.displayName, '%Z%45');
    assert.equal(m.contact.length, 2, 'C%6Fntact is another header, not Contact');
    assert.equal(m.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
    assert.equal(m.topVia?.branch, 'z9hG4bK209%fzsnel234');
  });

  it('3.1.1.6 lwsdisp: no whitespace between display name and <', () => {
    const m = request('3.1.1.6-lwsdisp.sip');
    assert.equal(m.from.displayName, 'caller');
    assert.equal(m.from.tag, '323');
  });

  it('3.1.1.7 longreq: long values and many of them', () => {
    const m = request('3.1.1.7-longreq.sip');
    assert.ok(m.via.length >= 30, `${m.via.length} Via values`);
    assert.ok(m.to.displayName!.length > 100);
    assert.ok(m.callId.length > 100);
    assert.ok((m.to.uri as SipUri).params.size >= 2);
    assert.ok(m.fields.some((f) => f.name.startsWith('Unknown-LongLong')));
    assert.equal(m.validate(), undefined);
  });

  it('3.1.1.8 dblreq: a datagram holding two requests keeps only the first (§18.3)', () => {
    const m = request('3.1.1.8-dblreq.sip');
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.contentLength, 0);
    assert.equal(m.body.length, 0);
  });

  it('3.1.1.9 semiuri: a semicolon in the user part', () => {
    const m = request('3.1.1.9-semiuri.sip');
    const uri = m.requestUri as SipUri;
    assert.equal(uri.user, 'user;par=u%40example.net');
    assert.equal(uri.host, 'example.com');
    assert.equal(uri.params.size, 0);
    assert.equal(m.list('Accept').length, 6);
  });

  it('3.1.1.10 transports: Via with several transports', () => {
    const m = request('3.1.1.10-transports.sip');
    assert.deepEqual(
      m.via.map((v) => v.transport),
      ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP'],
    );
  });

  it('3.1.1.11 mpart01: a binary multipart body framed by Content-Length', () => {
    const m = request('3.1.1.11-mpart01.sip');
    assert.equal(m.body.length, m.contentLength);
    assert.equal(m.contentType?.subtype, 'mixed');
    assert.ok(m.contentType?.params.get('boundary'));
  });

  it('3.1.1.12 unreason: a UTF-8 reason phrase', () => {
    const m = parsed('3.1.1.12-unreason.sip');
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 200);
    assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  });

  it('3.1.1.13 noreason: an empty reason phrase', () => {
    const m = parsed('3.1.1.13-noreason.sip');
    assert.ok(m instanceof SipResponse);
    assert.equal(m.status, 100);
    assert.equal(m.reason, '');
  });

  it('every valid message serializes back byte-exact (dblreq: up to its Content-Length)', () => {
    for (const f of ['3.1.1.1-wsinv', '3.1.1.2-intmeth', '3.1.1.3-esc01', '3.1.1.4-escnull', '3.1.1.5-esc02', '3.1.1.6-lwsdisp',
      '3.1.1.7-longreq', '3.1.1.9-semiuri', '3.1.1.10-transports', '3.1.1.11-mpart01', '3.1.1.12-unreason', '3.1.1.13-noreason']) {
      const bytes = load(`${f}.sip`);
      assert.deepEqual(Buffer.from(serialize(parsed(`${f}.sip`))), Buffer.from(bytes), f);
    }
  });
});

/** Where each §3.1.2 message must be rejected, and why (our reading of the RFC's text). */
const INVALID: Array<[file: string, place: string]> = [
  ['3.1.2.1-badinv01.sip', 'header/Via'], // ";;,;,," after the sent-by
  ['3.1.2.2-clerr.sip', 'body'], // Content-Length 9999 on a 154-byte body in a datagram
  ['3.1.2.3-ncl.sip', 'header/Content-Length'], // negative
  ['3.1.2.4-scalar02.sip', 'header/CSeq'], // 2**65; Max-Forwards 300 also bad, CSeq is checked first
  ['3.1.2.5-scalarlg.sip', 'header/CSeq'],
  ['3.1.2.6-quotbal.sip', 'header/To'], // unterminated quoted display name
  ['3.1.2.7-ltgtruri.sip', 'start-line/request-uri'], // <> around the Request-URI
  ['3.1.2.8-lwsruri.sip', 'start-line'], // LWS inside the Request-URI: four request-line parts
  ['3.1.2.9-lwsstart.sip', 'start-line'], // several SP between request-line elements
  ['3.1.2.10-trws.sip', 'start-line'], // SP after the version
  ['3.1.2.11-escruri.sip', 'start-line/request-uri'], // URI headers in a Request-URI
  ['3.1.2.12-baddate.sip', 'header/Date'], // EST instead of GMT
  ['3.1.2.14-badaspec.sip', 'header/To'], // spaces inside <>
  ['3.1.2.15-baddn.sip', 'header/From'], // comma in an unquoted display name
  ['3.1.2.16-badvers.sip', 'start-line/version'], // SIP/7.0 (answered with 505)
  ['3.1.2.17-mismatch01.sip', 'header/CSeq'], // CSeq method differs from the request's
  ['3.1.2.18-mismatch02.sip', 'header/CSeq'],
  ['3.1.2.19-bigcode.sip', 'start-line/status'], // status code 4294967301
];

describe('RFC 4475 §3.1.2 invalid messages are rejected at the right place', () => {
  for (const [file, place] of INVALID) {
    it(`${file} → ${place}`, () => {
      const r = parseMessage(load(file));
      assert.equal(r.ok, false, 'rejected');
      if (!r.ok) assert.equal(r.error.place, place, r.error.message);
    });
  }

  it('3.1.2.13 regbadct: a Contact URI with headers outside <> fails when the registrar reads Contact', () => {
    const m = request('3.1.2.13-regbadct.sip');
    assert.throws(() => m.contact, { place: 'header/Contact' });
    assert.equal(m.validate(['contact'])?.place, 'header/Contact');
  });

  it('a version error still gives the parsed message so that a server can answer 505', () => {
    const r = parseMessage(load('3.1.2.16-badvers.sip'));
    assert.equal(r.ok, false);
    assert.ok(!r.ok && r.message && r.message.callId.length > 0);
  });
});

describe('RFC 4475 §3.2–3.4 messages', () => {
  it('3.2.1 badbranch: a branch that is only the magic cookie parses (the transaction layer decides)', () => {
    const m = request('3.2.1-badbranch.sip');
    assert.equal(m.topVia?.branch?.startsWith('z9hG4bK'), true);
  });

  it('3.3.1 insuf: missing required headers', () => {
    const r = parseMessage(load('3.3.1-insuf.sip'));
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error.place : '', /^header\/(From|To|Call-ID|CSeq|Via)$/);
  });

  it('3.3.2/3/4 unknown URI schemes parse as opaque absolute URIs', () => {
    assert.equal(request('3.3.2-unkscm.sip').requestUri.kind, 'absolute');
    assert.equal(request('3.3.3-novelsc.sip').requestUri.kind, 'absolute');
    const m = request('3.3.4-unksm2.sip');
    assert.equal(m.to.uri.kind, 'absolute');
    assert.equal(m.from.uri.scheme, 'http');
    assert.equal(m.contact[0]!.uri.kind, 'absolute');
  });

  it('3.3.5 bext01: Require and Proxy-Require tokens', () => {
    const m = request('3.3.5-bext01.sip');
    assert.ok(m.require.length > 0);
    assert.ok(m.proxyRequire.length > 0);
  });

  it('3.3.7 regaut01: an unknown auth scheme is kept, not rejected', () => {
    const [a] = request('3.3.7-regaut01.sip').authorization;
    assert.equal(a!.scheme, 'NoOneKnowsThisScheme');
    assert.equal(a!.isDigest, false);
  });

  it('3.3.8 multi01 and 3.3.9 mcl01: single-valued headers given twice are rejected', () => {
    for (const f of ['3.3.8-multi01.sip', '3.3.9-mcl01.sip']) {
      const r = parseMessage(load(f));
      assert.equal(r.ok, false, f);
      assert.match(!r.ok ? r.error.detail : '', /more than once/);
    }
  });

  it('3.3.11 zeromf: Max-Forwards 0 parses', () => {
    assert.equal(request('3.3.11-zeromf.sip').maxForwards, 0);
  });

  it('3.3.12/13 cparam: a parameter after an addr-spec Contact belongs to the header, inside <> to the URI', () => {
    const a = request('3.3.12-cparam01.sip').contact[0]!;
    assert.equal(a.param('unknownparam'), null);
    assert.equal((a.uri as SipUri).params.has('unknownparam'), false);
    const b = request('3.3.13-cparam02.sip').contact[0]!;
    assert.equal(b.params.has('unknownparam'), false);
    assert.equal((b.uri as SipUri).params.has('unknownparam'), true);
  });

  it('3.3.14 regescrt: URI headers inside <> in Contact are accepted', () => {
    const c = request('3.3.14-regescrt.sip').contact[0]!.uri as SipUri;
    assert.equal(c.headers.get('Route'), '%3Csip:sip.example.com%3E');
  });

  it('3.4.1 inv2543: an RFC 2543 request without branch, Max-Forwards or Content-Length', () => {
    const m = request('3.4.1-inv2543.sip');
    assert.equal(m.topVia?.branch, undefined);
    assert.equal(m.maxForwards, undefined);
    assert.equal(m.contentLength, undefined);
    assert.ok(m.body.length > 0, 'the body runs to the end of the datagram');
  });

  it('every other message of §3.2–3.4 parses', () => {
    for (const f of ['3.3.6-invut.sip', '3.3.10-bcast.sip', '3.3.15-sdp01.sip']) assert.ok(parseMessage(load(f)).ok, f);
  });
});
