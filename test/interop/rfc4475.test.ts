// RFC 4475 torture messages sent to a running Parley over UDP, one datagram each from a node dgram
// socket (the peer under test is Parley; the sender only needs to put raw bytes on the wire).
// For every message the test asserts the answer RFC 4475 asks for, collecting responses for
// WAIT_MS. Then a sipp OPTIONS must still get 200 and the process must still be running.
//
// Sending real torture messages to a real server needs one change to each: responses to UDP go to
// the top Via's sent-by (RFC 3261 §18.2.2: the "received" address, with the sent-by port or 5060),
// which in the RFC's files are example hosts (192.0.2.x, host.example.com) or TCP. So the sent-by
// of the top Via (and its transport, where it says TCP) is replaced by this test's own UDP socket,
// `SIP/2.0/UDP 127.0.0.1:<port>`, touching nothing else in the message: not the fault under test,
// nor the parameters after the sent-by. Each replacement below names the exact text it replaces,
// and the test fails if that text is not found exactly once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { ParleyServer, REPO_ROOT } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, tagOf } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp } from './support/sipp.js';
import { openUdpProbe } from './support/udp-probe.js';

const TESTDATA = join(REPO_ROOT, 'src/sip/message/testdata/rfc4475');
const WAIT_MS = 300;
const pool = portPool(import.meta.url);

/**
 * A status code, or `accepted`: the message got past the parser and sanity checks and was
 * routed, so any final response other than 400 and 505 (which one depends on Parley's routing:
 * 403 for a domain it does not serve, 200 for OPTIONS to itself, 407, 404, 501, ...).
 */
type Expected = number | 'accepted';

interface TortureCase {
  readonly file: string;
  /** [exact text in the top Via, its replacement]; `{addr}` is 127.0.0.1:<the test socket's port>. */
  readonly via: ReadonlyArray<readonly [string, string]>;
  /** The acceptable final responses, preferred first; empty: no response at all. */
  readonly expect: readonly Expected[];
  /**
   * A known Parley bug makes this case fail today: it runs as a node:test `todo` (reported, not
   * failing the suite) until the bug is fixed; then remove the mark.
   */
  readonly knownBug?: string;
  /** The request's To does not parse, so a response can only echo it, without a To tag. */
  readonly toMalformed?: true;
}

const INVALID: readonly TortureCase[] = [
  // 3.1.2.1 badinv01: the fault is in the top Via itself ("192.0.2.15;;,;,,": empty parameters and
  // empty comma-separated values): "An element receiving this request should respond with a 400
  // Bad Request error." Its sent-protocol and sent-by can still be read, so Parley answers, to the
  // request's source (a malformed request is never answered where its Via points), with the Via
  // copied as it came: the client matches the 400 by it.
  { file: '3.1.2.1-badinv01.sip', via: [['192.0.2.15;;', '{addr};;']], expect: [400] },
  // 3.1.2.2 clerr: Content-Length 9999 but a shorter body, in a UDP datagram: "When sent over UDP
  // ... the receiving element should respond with a 400 Bad Request error." Via, Call-ID and CSeq
  // are fine, so the 400 can be sent.
  { file: '3.1.2.2-clerr.sip', via: [['SIP/2.0/UDP host5.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.3 ncl: Content-Length -999. "An element receiving this message should respond with an
  // error"; over UDP the rest of the datagram is discarded. A framing fault in a header, with
  // Via/Call-ID/CSeq intact: 400.
  { file: '3.1.2.3-ncl.sip', via: [['SIP/2.0/UDP 192.0.2.53;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.4 scalar02: CSeq number 36893488147419103232 > 2^32-1 (Max-Forwards, Expires and the
  // contact expires are out of range too). "An element receiving this request should respond with
  // a 400 Bad Request due to the CSeq error." The client matches the response by the Via branch
  // and the CSeq *method* (§17.1.3), and both parse, so the 400 is possible. (Via was TCP.)
  { file: '3.1.2.4-scalar02.sip', via: [['SIP/2.0/TCP host129.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.5 scalarlg: a *response* with out-of-range CSeq, Retry-After and Warning code: "An
  // element receiving this response will simply discard it." Responses are never answered.
  { file: '3.1.2.5-scalarlg.sip', via: [['SIP/2.0/TCP host129.example.com;', 'SIP/2.0/UDP {addr};']], expect: [] },
  // 3.1.2.6 quotbal: the To display name's quote is never closed: "An element receiving this
  // request should return a 400 Bad Request error." Fault in a header; Via/Call-ID/CSeq intact.
  // (The 400's To is the request's unparseable To, so it cannot carry a tag.)
  { file: '3.1.2.6-quotbal.sip', via: [['SIP/2.0/UDP 192.0.2.59:5050;', 'SIP/2.0/UDP {addr};']], expect: [400], toMalformed: true },
  // 3.1.2.7 ltgtruri: Request-URI enclosed in <>: "It is reasonable always to reject a request
  // with this error with a 400 Bad Request." Fault in the Request-URI; Via (no branch: RFC 2543
  // style), Call-ID and CSeq intact: 400.
  { file: '3.1.2.7-ltgtruri.sip', via: [['Via: SIP/2.0/UDP 192.0.2.5\r\n', 'Via: SIP/2.0/UDP {addr}\r\n']], expect: [400] },
  // 3.1.2.8 lwsruri: whitespace inside the Request-URI ("; lr"): "An element receiving this
  // request should respond with a 400 Bad Request." Fault in the Request-URI: 400.
  { file: '3.1.2.8-lwsruri.sip', via: [['SIP/2.0/UDP 192.0.2.1:5060;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.9 lwsstart: two SPs between the request-line elements: "It is acceptable to reject this
  // request as malformed. An element that is liberal in what it accepts may ignore these extra SP
  // characters". Both are RFC-conformant: 400, or the INVITE routed as usual; silence is not.
  { file: '3.1.2.9-lwsstart.sip', via: [['SIP/2.0/UDP host1.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400, 'accepted'] },
  // 3.1.2.10 trws: two SPs after SIP/2.0 in the request line: as lwsstart, "acceptable to reject",
  // or be liberal: 400, or the OPTIONS routed as usual. (Via was TCP.)
  { file: '3.1.2.10-trws.sip', via: [['SIP/2.0/TCP host1.examle.com;', 'SIP/2.0/UDP {addr};']], expect: [400, 'accepted'] },
  // 3.1.2.11 escruri: the Request-URI carries a header part (?Route=...), not allowed there: "It
  // is acceptable for an element to reject this request with a 400 Bad Request." Fault in the
  // Request-URI, Via/Call-ID/CSeq intact: 400 (Parley's choice, the RFC's first answer).
  { file: '3.1.2.11-escruri.sip', via: [['SIP/2.0/UDP host-of-the-hour.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.12 baddate: Date in EST instead of GMT. "It is acceptable to reject this request as
  // malformed (though an element shouldn't do that unless the contents of the Date header field
  // were actually important to its processing)"; liberal elements ignore it. Both are allowed:
  // routing it as usual (the RFC's preference, since Parley does not use Date), or 400 (what
  // Parley answers today: "Bad Request (header/Date)").
  { file: '3.1.2.12-baddate.sip', via: [['SIP/2.0/UDP host.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted', 400] },
  // 3.1.2.13 regbadct: Contact URI with a header part not in <>: "It is reasonable for an element
  // receiving this request to respond with a 400 Bad Request", and "an element choosing to be
  // liberal ... could infer the angle brackets". The fault is in Contact, which only a registrar
  // reads, and this REGISTER is for example.com, a domain Parley does not serve: it is refused
  // (or challenged) before any registrar reads the Contact. So 400, or any routing answer.
  { file: '3.1.2.13-regbadct.sip', via: [['SIP/2.0/UDP 135.180.130.133:5060;', 'SIP/2.0/UDP {addr};']], expect: [400, 'accepted'] },
  // 3.1.2.14 badaspec: spaces inside the To addr-spec ("< sip:t.watson@example.org >"): "Parsers
  // receiving this request must not break. It is reasonable to reject this request with a 400".
  // Fault in a header: 400.
  { file: '3.1.2.14-badaspec.sip', via: [['SIP/2.0/UDP host4.example.com:5060;', 'SIP/2.0/UDP {addr};']], expect: [400], toMalformed: true },
  // 3.1.2.15 baddn: unquoted display names with commas in From and To: "It is reasonable always to
  // reject this kind of error with a 400 Bad Request response." Fault in a header: 400. (The file
  // has no empty line after the headers; over UDP the datagram's end ends the message.)
  { file: '3.1.2.15-baddn.sip', via: [['SIP/2.0/UDP c.example.com:5060;', 'SIP/2.0/UDP {addr};']], expect: [400], toMalformed: true },
  // 3.1.2.16 badvers: SIP/7.0 in the request line (and Via): "The element should respond to the
  // request with a 505 Version Not Supported error."
  { file: '3.1.2.16-badvers.sip', via: [['SIP/7.0/UDP c.example.com;', 'SIP/7.0/UDP {addr};']], expect: [505] },
  // 3.1.2.17 mismatch01: OPTIONS in the request line, INVITE in CSeq: "Any element receiving this
  // request will respond with a 400 Bad Request." Fault in a header (CSeq), which still parses.
  { file: '3.1.2.17-mismatch01.sip', via: [['SIP/2.0/UDP host.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.18 mismatch02: unknown method NEWMETHOD, CSeq says INVITE: "Any element receiving this
  // response should respond with a 501 Not Implemented. A 400 Bad Request is also acceptable".
  { file: '3.1.2.18-mismatch02.sip', via: [['SIP/2.0/UDP host.example.net;', 'SIP/2.0/UDP {addr};']], expect: [501, 400] },
  // 3.1.2.19 bigcode: a *response* with status 4294967301: "An element receiving this response
  // should simply drop it."
  { file: '3.1.2.19-bigcode.sip', via: [['SIP/2.0/UDP 192.0.2.105;', 'SIP/2.0/UDP {addr};']], expect: [] },
];

// §3.1.1 valid messages that are requests (3.1.1.12 and 3.1.1.13 are responses). Each must get
// past the parser and be routed: a final response, never 400 or 505. Which one is the routing's
// business (their Request-URIs are in example.com, example.org..., domains Parley does not serve,
// so mostly 403 "relaying denied"), not this test's.
const VALID: readonly TortureCase[] = [
  // wsinv: a tortuous INVITE (folding, odd LWS, compact/mixed-case names). Only the host in the
  // folded top Via changes; the folding stays. Its To has a tag: a mid-dialog request for a dialog
  // Parley never saw (a 404 from a proxy that finds no route, 481 from a UAS).
  { file: '3.1.1.1-wsinv.sip', via: [['    192.0.2.2;branch=390skdjuw', '    {addr};branch=390skdjuw']], expect: ['accepted'] },
  // intmeth: an unknown extension method made of every token character ("a UAS answers 501",
  // a proxy routes it like any request).
  { file: '3.1.1.2-intmeth.sip', via: [['SIP/2.0/TCP host1.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // esc01: valid %HH escapes in URIs; an INVITE.
  { file: '3.1.1.3-esc01.sip', via: [['SIP/2.0/UDP host5.example.net;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // escnull: %00 in URI user parts; a REGISTER.
  { file: '3.1.1.4-escnull.sip', via: [['SIP/2.0/UDP host5.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // esc02: "RE%47IST%45R" is an unknown method, not REGISTER.
  { file: '3.1.1.5-esc02.sip', via: [['SIP/2.0/TCP host.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // lwsdisp: no LWS between display name and "<" in From; an OPTIONS.
  { file: '3.1.1.6-lwsdisp.sip', via: [['SIP/2.0/UDP funky.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // longreq: very long values and 34 Vias (the first, branch-less, is the top one); an INVITE.
  { file: '3.1.1.7-longreq.sip', via: [['Via: SIP/2.0/TCP sip33.example.com\r\n', 'Via: SIP/2.0/UDP {addr}\r\n']], expect: ['accepted'] },
  // dblreq: a REGISTER with Content-Length 0 followed, in the same datagram, by bytes that look
  // like an INVITE; they must be ignored: exactly one final response, the REGISTER's. The trailing
  // INVITE's Via is pointed at the test socket too, so an answer to it would be seen.
  {
    file: '3.1.1.8-dblreq.sip',
    via: [
      ['SIP/2.0/UDP 192.0.2.125;', 'SIP/2.0/UDP {addr};'],
      ['SIP/2.0/UDP 192.0.2.15;', 'SIP/2.0/UDP {addr};'],
    ],
    expect: ['accepted'],
  },
  // semiuri: ";" inside the Request-URI user part; an OPTIONS.
  { file: '3.1.1.9-semiuri.sip', via: [['SIP/2.0/UDP 192.0.2.1;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // transports: Vias with UDP, SCTP, TLS, an unknown transport and TCP; the top one is UDP.
  { file: '3.1.1.10-transports.sip', via: [['SIP/2.0/UDP t1.example.com;', 'SIP/2.0/UDP {addr};']], expect: ['accepted'] },
  // mpart01: a MESSAGE with a binary multipart body. Its top Via is already
  // "127.0.0.1:5070;...;rport", so it is left alone: RFC 3581 rport sends the response to the
  // test socket's real port, never to 5070.
  { file: '3.1.1.11-mpart01.sip', via: [], expect: ['accepted'] },
];

/** The message with its top Via pointed at `addr`; each replaced text must occur exactly once. */
function prepare(c: TortureCase, addr: string): Buffer {
  let text = readFileSync(join(TESTDATA, c.file)).toString('latin1'); // latin1: byte-exact round trip
  for (const [from, to] of c.via) {
    const n = text.split(from).length - 1;
    assert.equal(n, 1, `${c.file}: "${from}" occurs ${n} times`);
    text = text.replace(from, to.replace('{addr}', addr));
  }
  return Buffer.from(text, 'latin1');
}

/** The Call-ID of a message (full or compact name). */
function callIdOf(text: string): string | undefined {
  return /^(?:call-id|i)[ \t]*:[ \t]*(\S+)/im.exec(text)?.[1];
}

describe('RFC 4475 torture messages over UDP', () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp'] });
  });

  after(async () => {
    if (parley === undefined) return;
    await parley.stop();
  });

  async function check(c: TortureCase, t: TestContext): Promise<void> {
    const probe = await openUdpProbe(pool);
    try {
      const payload = prepare(c, `127.0.0.1:${probe.port}`);
      const request = payload.toString('latin1');
      const got = await probe.exchange(payload, parley.host, parley.port!, WAIT_MS);
      const texts = got.map((b) => b.toString('latin1').replace(/\r\n/g, '\n'));
      const all = `${texts.join('\n----\n')}\n---- Parley's log:\n${parley.outputTail(5)}`;
      if (c.expect.length === 0) {
        assert.deepEqual(texts, [], `${c.file}: expected no response`);
        return;
      }
      // provisional responses (a proxy's 100 Trying to an INVITE) may come first; then one final
      const statuses = texts.map((t) => Number(/^SIP\/2\.0 (\d{3}) /.exec(t)?.[1] ?? NaN));
      assert.ok(statuses.every((st) => st >= 100 && st <= 699), `${c.file}: not a response:\n${all}`);
      const finals = texts.filter((_, i) => statuses[i]! >= 200);
      assert.equal(finals.length, 1, `${c.file}: expected one final response, got ${finals.length}:\n${all}`);
      const res = finals[0]!;
      const [, code, reason] = /^SIP\/2\.0 (\d{3}) (.*)$/m.exec(res)!;
      const status = Number(code);
      t.diagnostic(`answer: ${status} ${reason}`);
      const ok = c.expect.some((e) => (e === 'accepted' ? status !== 400 && status !== 505 : e === status));
      assert.ok(ok, `${c.file}: got ${status} ${reason}, expected ${c.expect.join(' or ')}:\n${all}`);
      // the response belongs to this request: its Call-ID, and a To tag (§8.2.6.2)
      assert.equal(callIdOf(res), callIdOf(request), `${c.file}: Call-ID differs:\n${res}`);
      if (c.toMalformed) assert.equal(header(res, 'To'), header(request, 'To'), `${c.file}: To not echoed`);
      else assert.ok(tagOf(header(res, 'To')), `${c.file}: no To tag:\n${res}`);
      if (status === 400 && c.expect.includes(400)) {
        // Parley names the place of the fault in the reason phrase and explains it in a Warning
        assert.match(reason!, /^Bad Request \(.+\)$/, `${c.file}: reason phrase`);
        assert.match(header(res, 'Warning') ?? '', /^399 parley ".*"$/, `${c.file}: Warning:\n${res}`);
      }
    } finally {
      await probe.close();
    }
  }

  describe('§3.1.2 invalid messages', () => {
    for (const c of INVALID) {
      const name = `${c.file.replace(/\.sip$/, '')}: ${c.expect.length === 0 ? 'no response' : c.expect.join(' or ')}`;
      it(name, c.knownBug === undefined ? {} : { todo: `known bug: ${c.knownBug}` }, (t) => check(c, t));
    }
  });

  describe('§3.1.1 valid requests', () => {
    for (const c of VALID) {
      it(`${c.file.replace(/\.sip$/, '')}: ${c.expect.join(' or ')}`, (t) => check(c, t));
    }
  });

  describe('afterwards', { skip: skipWithoutSipp() }, () => {
    it('still answers a sipp OPTIONS with 200', async () => {
      const r = await runSipp({ ...parley.sippTarget('udp'), scenario: 'options.xml', calls: 1, timeoutSecs: 10 });
      assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
      assert.deepEqual(r.trace.filter((e) => e.direction === 'received').map((e) => e.status), [200]);
    });
  });

  it('is still running and logged no error', () => {
    assert.equal(parley.alive, true, `Parley exited (status ${parley.exitCode}):\n${parley.outputTail()}`);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
