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
import { after, before, describe, it } from 'node:test';
import { ParleyProcess, REPO_ROOT } from './support/parley.js';
import { header, runSipp, skipWithoutSipp, tagOf } from './support/sipp.js';
import { openUdpProbe } from './support/udp-probe.js';

const TESTDATA = join(REPO_ROOT, 'src/sip/message/testdata/rfc4475');
const WAIT_MS = 300;

interface TortureCase {
  readonly file: string;
  /** [exact text in the top Via, its replacement]; `{addr}` is 127.0.0.1:<the test socket's port>. */
  readonly via: ReadonlyArray<readonly [string, string]>;
  /** The acceptable status codes, preferred first; empty: no response at all. */
  readonly expect: readonly number[];
  /**
   * A known Parley bug makes this case fail today: it runs as a node:test `todo` (reported, not
   * failing the suite) until the bug is fixed; then remove the mark.
   */
  readonly knownBug?: string;
}

// Parley drops a request whose request line does not parse: the parser returns no partial message
// for a start-line fault, so SipServer.onParseError has nothing to build a 400 from, although Via,
// Call-ID and CSeq are intact and the client (over UDP) retransmits for 32 s for nothing.
const START_LINE_DROPPED = 'Parley sends no response when the request line is malformed (no partial message for start-line faults)';

const INVALID: readonly TortureCase[] = [
  // 3.1.2.1 badinv01: the fault is in the top Via itself ("192.0.2.15;;,;,,": empty parameters and
  // empty comma-separated values). RFC 4475 would like a 400, but a response is routed and matched
  // by that very Via (§18.2.2, §17.1.3), so with no readable top Via no response is possible and
  // the request is dropped (RFC 3261 §16.3 sanity: "drop where no response is possible").
  { file: '3.1.2.1-badinv01.sip', via: [['192.0.2.15;;', '{addr};;']], expect: [] },
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
  // (Parley drops it: its CSeq check fails, and a 400 is only built when CSeq validates. It also
  // rejects numbers from 2**31 to 2**32-1, which §20.16 allows: §8.1.1.5's "less than 2**31" is
  // about the value a UAC starts with.)
  {
    file: '3.1.2.4-scalar02.sip',
    via: [['SIP/2.0/TCP host129.example.com;', 'SIP/2.0/UDP {addr};']],
    expect: [400],
    knownBug: 'Parley sends no 400 when the CSeq number is out of range (the 400 is only sent when CSeq validates)',
  },
  // 3.1.2.5 scalarlg: a *response* with out-of-range CSeq, Retry-After and Warning code: "An
  // element receiving this response will simply discard it." Responses are never answered.
  { file: '3.1.2.5-scalarlg.sip', via: [['SIP/2.0/TCP host129.example.com;', 'SIP/2.0/UDP {addr};']], expect: [] },
  // 3.1.2.6 quotbal: the To display name's quote is never closed: "An element receiving this
  // request should return a 400 Bad Request error." Fault in a header; Via/Call-ID/CSeq intact.
  // (The 400's To is the request's unparseable To, so it cannot carry a tag.)
  { file: '3.1.2.6-quotbal.sip', via: [['SIP/2.0/UDP 192.0.2.59:5050;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.7 ltgtruri: Request-URI enclosed in <>: "It is reasonable always to reject a request
  // with this error with a 400 Bad Request." Fault in the Request-URI; Via (no branch: RFC 2543
  // style), Call-ID and CSeq intact: 400.
  { file: '3.1.2.7-ltgtruri.sip', via: [['Via: SIP/2.0/UDP 192.0.2.5\r\n', 'Via: SIP/2.0/UDP {addr}\r\n']], expect: [400], knownBug: START_LINE_DROPPED },
  // 3.1.2.8 lwsruri: whitespace inside the Request-URI ("; lr"): "An element receiving this
  // request should respond with a 400 Bad Request." Fault in the Request-URI: 400.
  { file: '3.1.2.8-lwsruri.sip', via: [['SIP/2.0/UDP 192.0.2.1:5060;', 'SIP/2.0/UDP {addr};']], expect: [400], knownBug: START_LINE_DROPPED },
  // 3.1.2.9 lwsstart: two SPs between the request-line elements: "It is acceptable to reject this
  // request as malformed. An element that is liberal in what it accepts may ignore these extra SP
  // characters". Both are RFC-conformant: 400, or the INVITE handled as usual (501 here); silence
  // is not.
  { file: '3.1.2.9-lwsstart.sip', via: [['SIP/2.0/UDP host1.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400, 501], knownBug: START_LINE_DROPPED },
  // 3.1.2.10 trws: two SPs after SIP/2.0 in the request line: as lwsstart, "acceptable to reject",
  // or be liberal: 400, or the OPTIONS answered as usual (200). (Via was TCP.)
  { file: '3.1.2.10-trws.sip', via: [['SIP/2.0/TCP host1.examle.com;', 'SIP/2.0/UDP {addr};']], expect: [400, 200], knownBug: START_LINE_DROPPED },
  // 3.1.2.11 escruri: the Request-URI carries a header part (?Route=...), not allowed there: "It
  // is acceptable for an element to reject this request with a 400 Bad Request." Fault in the
  // Request-URI, Via/Call-ID/CSeq intact: 400 (Parley's choice, the RFC's first answer).
  { file: '3.1.2.11-escruri.sip', via: [['SIP/2.0/UDP host-of-the-hour.example.com;', 'SIP/2.0/UDP {addr};']], expect: [400], knownBug: START_LINE_DROPPED },
  // 3.1.2.12 baddate: Date in EST instead of GMT. "It is acceptable to reject this request as
  // malformed (though an element shouldn't do that unless the contents of the Date header field
  // were actually important to its processing)"; liberal elements ignore it. A UAS that does not
  // use Date answers the INVITE as usual (501); a 400 is allowed too.
  { file: '3.1.2.12-baddate.sip', via: [['SIP/2.0/UDP host.example.com;', 'SIP/2.0/UDP {addr};']], expect: [501, 400] },
  // 3.1.2.13 regbadct: Contact URI with a header part not in <>: "It is reasonable for an element
  // receiving this request to respond with a 400 Bad Request", and "an element choosing to be
  // liberal ... could infer the angle brackets". The fault is in Contact, which only a registrar
  // reads: a UAS inspects the method first (RFC 3261 §8.2.1 comes before the header checks of
  // §8.2.2), so a server without REGISTER support may answer 501 without reading Contact. 400 once
  // Parley has a registrar; 501 is right until then.
  { file: '3.1.2.13-regbadct.sip', via: [['SIP/2.0/UDP 135.180.130.133:5060;', 'SIP/2.0/UDP {addr};']], expect: [400, 501] },
  // 3.1.2.14 badaspec: spaces inside the To addr-spec ("< sip:t.watson@example.org >"): "Parsers
  // receiving this request must not break. It is reasonable to reject this request with a 400".
  // Fault in a header: 400.
  { file: '3.1.2.14-badaspec.sip', via: [['SIP/2.0/UDP host4.example.com:5060;', 'SIP/2.0/UDP {addr};']], expect: [400] },
  // 3.1.2.15 baddn: unquoted display names with commas in From and To: "It is reasonable always to
  // reject this kind of error with a 400 Bad Request response." Fault in a header: 400. (The file
  // has no empty line after the headers; over UDP the datagram's end ends the message.)
  { file: '3.1.2.15-baddn.sip', via: [['SIP/2.0/UDP c.example.com:5060;', 'SIP/2.0/UDP {addr};']], expect: [400] },
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

// §3.1.1 valid messages that are requests (3.1.1.12 and 3.1.1.13 are responses). Each must be
// accepted: Parley answers OPTIONS 200 and every other method 501; never 400.
const VALID: readonly TortureCase[] = [
  // wsinv: a tortuous INVITE (folding, odd LWS, compact/mixed-case names). Only the host in the
  // folded top Via changes; the folding stays. Its To has a tag (a mid-dialog INVITE): 501 from a
  // server without INVITE support, or 481 (§12.2.2) from one that knows no such dialog.
  { file: '3.1.1.1-wsinv.sip', via: [['    192.0.2.2;branch=390skdjuw', '    {addr};branch=390skdjuw']], expect: [501, 481] },
  // intmeth: an unknown extension method made of every token character: "a UAS answers 501".
  { file: '3.1.1.2-intmeth.sip', via: [['SIP/2.0/TCP host1.example.com;', 'SIP/2.0/UDP {addr};']], expect: [501] },
  // esc01: valid %HH escapes in URIs; an INVITE: 501.
  { file: '3.1.1.3-esc01.sip', via: [['SIP/2.0/UDP host5.example.net;', 'SIP/2.0/UDP {addr};']], expect: [501] },
  // escnull: %00 in URI user parts; a REGISTER (no registrar yet): 501.
  { file: '3.1.1.4-escnull.sip', via: [['SIP/2.0/UDP host5.example.com;', 'SIP/2.0/UDP {addr};']], expect: [501] },
  // esc02: "RE%47IST%45R" is an unknown method, not REGISTER: 501.
  { file: '3.1.1.5-esc02.sip', via: [['SIP/2.0/TCP host.example.com;', 'SIP/2.0/UDP {addr};']], expect: [501] },
  // lwsdisp: no LWS between display name and "<" in From; an OPTIONS: 200.
  { file: '3.1.1.6-lwsdisp.sip', via: [['SIP/2.0/UDP funky.example.com;', 'SIP/2.0/UDP {addr};']], expect: [200] },
  // longreq: very long values and 34 Vias (the first, branch-less, is the top one); an INVITE: 501.
  { file: '3.1.1.7-longreq.sip', via: [['Via: SIP/2.0/TCP sip33.example.com\r\n', 'Via: SIP/2.0/UDP {addr}\r\n']], expect: [501] },
  // dblreq: a REGISTER with Content-Length 0 followed, in the same datagram, by bytes that look
  // like an INVITE; they must be ignored: exactly one response, the REGISTER's 501. The trailing
  // INVITE's Via is pointed at the test socket too, so an answer to it would be seen.
  {
    file: '3.1.1.8-dblreq.sip',
    via: [
      ['SIP/2.0/UDP 192.0.2.125;', 'SIP/2.0/UDP {addr};'],
      ['SIP/2.0/UDP 192.0.2.15;', 'SIP/2.0/UDP {addr};'],
    ],
    expect: [501],
  },
  // semiuri: ";" inside the Request-URI user part; an OPTIONS: 200.
  { file: '3.1.1.9-semiuri.sip', via: [['SIP/2.0/UDP 192.0.2.1;', 'SIP/2.0/UDP {addr};']], expect: [200] },
  // transports: Vias with UDP, SCTP, TLS, an unknown transport and TCP; the top one is UDP: 200.
  { file: '3.1.1.10-transports.sip', via: [['SIP/2.0/UDP t1.example.com;', 'SIP/2.0/UDP {addr};']], expect: [200] },
  // mpart01: a MESSAGE with a binary multipart body: 501. Its top Via is already
  // "127.0.0.1:5070;...;rport", so it is left alone: RFC 3581 rport sends the response to the
  // test socket's real port, never to 5070.
  { file: '3.1.1.11-mpart01.sip', via: [], expect: [501] },
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
  let parley: ParleyProcess;

  before(async () => {
    parley = await ParleyProcess.start({ transports: ['udp'] });
  });

  after(async () => {
    if (parley === undefined) return;
    await parley.stop();
  });

  async function check(c: TortureCase): Promise<void> {
    const probe = await openUdpProbe();
    try {
      const payload = prepare(c, `127.0.0.1:${probe.port}`);
      const got = await probe.exchange(payload, parley.host, parley.port!, WAIT_MS);
      const texts = got.map((b) => b.toString('latin1').replace(/\r\n/g, '\n'));
      if (c.expect.length === 0) {
        assert.deepEqual(texts, [], `${c.file}: expected no response`);
        return;
      }
      assert.equal(texts.length, 1, `${c.file}: expected one response, got ${texts.length}:\n${texts.join('\n----\n')}\n${parley.outputTail(5)}`);
      const res = texts[0]!;
      const m = /^SIP\/2\.0 (\d{3}) (.*)$/m.exec(res.split('\n')[0]!);
      assert.ok(m, `${c.file}: not a response:\n${res}`);
      const status = Number(m[1]);
      assert.ok(c.expect.includes(status), `${c.file}: got ${status}, expected ${c.expect.join(' or ')}:\n${res}`);
      // the response belongs to this request: its Call-ID, and a To tag (§8.2.6.2)
      assert.equal(callIdOf(res), callIdOf(payload.toString('latin1')), `${c.file}: Call-ID differs:\n${res}`);
      const faultInTo = status === 400 && m[2] === 'Bad Request (header/To)';
      if (!faultInTo) assert.ok(tagOf(header(res, 'To')), `${c.file}: no To tag:\n${res}`);
      if (status === 400) {
        // Parley names the place of the fault in the reason phrase and explains it in a Warning
        assert.match(m[2]!, /^Bad Request \(.+\)$/, `${c.file}: reason phrase`);
        assert.match(header(res, 'Warning') ?? '', /^399 parley ".*"$/, `${c.file}: Warning:\n${res}`);
      }
    } finally {
      await probe.close();
    }
  }

  describe('§3.1.2 invalid messages', () => {
    for (const c of INVALID) {
      const name = `${c.file.replace(/\.sip$/, '')}: ${c.expect.length === 0 ? 'no response' : c.expect.join(' or ')}`;
      it(name, c.knownBug === undefined ? {} : { todo: `known bug: ${c.knownBug}` }, () => check(c));
    }
  });

  describe('§3.1.1 valid requests', () => {
    for (const c of VALID) {
      it(`${c.file.replace(/\.sip$/, '')}: ${c.expect.join(' or ')}`, () => check(c));
    }
  });

  describe('afterwards', { skip: skipWithoutSipp() }, () => {
    it('still answers a sipp OPTIONS with 200', async () => {
      const r = await runSipp({ scenario: 'options.xml', host: parley.host, port: parley.port!, transport: 'udp', calls: 1, timeoutSecs: 10 });
      assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
      assert.deepEqual(r.trace.filter((e) => e.direction === 'received').map((e) => e.status), [200]);
    });
  });

  it('is still running and logged no error', () => {
    assert.equal(parley.alive, true, `Parley exited (${parley.exitCode} ${parley.exitSignal}):\n${parley.outputTail()}`);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
