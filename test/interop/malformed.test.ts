// Every RFC 4475 torture message (the 49 of src/sip/message/testdata/rfc4475, taken byte for byte
// from the RFC's archive: see that folder's README) sent to a real Parley process over UDP and
// over TCP, with the exact status Parley must answer, or silence where no answer is possible or
// due. Then malformed and oversized input beyond the RFC: the answer goes back where the request
// came from (never where its Via points, never over a new connection), 513 past a size limit, a
// stream that cannot be framed answered and closed, a fault found while routing answered 400
// without an error line.
//
// The messages go as raw bytes from node sockets (the peer under test is Parley; a sender of
// malformed bytes needs nothing more). Over TCP each message has a connection of its own and is
// sent unchanged: every answer comes back over that connection. Over UDP, a malformed request is
// answered to its source, so it is sent unchanged too; a request Parley routes is answered the
// §18.2.2 way, to its Via's sent-by port, so for those (marked `routed`) the host:port of the
// top Via is pointed at the test's socket, and nothing else changes.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ParleyServer, REPO_ROOT } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header, tagOf } from './support/sip-trace.js';
import { openUdpProbe, type UdpProbe } from './support/udp-probe.js';

const TESTDATA = join(REPO_ROOT, 'src/sip/message/testdata/rfc4475');
/** How long to collect answers after sending (silence can only be observed over a while). */
const WAIT_MS = 400;
/** Parley's maxMessageSize here: every RFC 4475 message fits (the longest, longreq, has 3,515 bytes). */
const MAX_MESSAGE = 4096;
const pool = portPool(import.meta.url);

/** A final status, or `none`: no final response at all. */
type Expect = number | 'none';

interface Case {
  readonly file: string;
  readonly udp: Expect;
  readonly tcp: Expect;
  /** Parley routes it (not a parse error): over UDP its Via is pointed at the test socket. */
  readonly routed?: true;
  /** Over TCP the stream cannot be framed: Parley answers (or not) and closes the connection. */
  readonly tcpCloses?: true;
  /** From or To is what is broken: the answer echoes it as it came, without a To tag. */
  readonly echoTo?: true;
  /** Why this is the right answer (RFC 4475's words, and Parley's role: a proxy and registrar). */
  readonly why: string;
}

// Parley here serves 127.0.0.1 only: the RFC's example.com, example.net... are other domains, so
// a request Parley routes for them is refused with 403 (no open relay), a REGISTER challenged
// (401: RFC 3261 §10.3 authenticates at step 3, before it reads To or Contact, steps 5-6).
const CASES: readonly Case[] = [
  // §3.1.1 valid messages: parsed and routed
  { file: '3.1.1.1-wsinv', udp: 404, tcp: 404, routed: true, why: 'in-dialog INVITE (To tag) along a Route that is not ours: 404 Not Here' },
  { file: '3.1.1.2-intmeth', udp: 403, tcp: 403, routed: true, why: 'unknown method to another domain: a proxy routes any method (§21.5.2), here 403' },
  { file: '3.1.1.3-esc01', udp: 403, tcp: 403, routed: true, why: 'valid escapes; INVITE to another domain' },
  { file: '3.1.1.4-escnull', udp: 401, tcp: 401, routed: true, why: 'REGISTER: challenged' },
  { file: '3.1.1.5-esc02', udp: 403, tcp: 403, routed: true, why: 'RE%47IST%45R is an unknown method, not REGISTER; another domain' },
  { file: '3.1.1.6-lwsdisp', udp: 403, tcp: 403, routed: true, why: 'OPTIONS to another domain' },
  { file: '3.1.1.7-longreq', udp: 403, tcp: 403, routed: true, why: 'long values; INVITE to another domain' },
  { file: '3.1.1.8-dblreq', udp: 401, tcp: 'none', routed: true, tcpCloses: true, why: 'REGISTER; over UDP the trailing INVITE is ignored (one final answer)' },
  { file: '3.1.1.9-semiuri', udp: 403, tcp: 403, routed: true, why: 'OPTIONS to another domain' },
  { file: '3.1.1.10-transports', udp: 403, tcp: 403, routed: true, why: 'OPTIONS to another domain' },
  { file: '3.1.1.11-mpart01', udp: 403, tcp: 403, routed: true, why: 'MESSAGE to another domain' },
  { file: '3.1.1.12-unreason', udp: 'none', tcp: 'none', why: 'a response: never answered' },
  { file: '3.1.1.13-noreason', udp: 'none', tcp: 'none', why: 'a response: never answered' },
  // §3.1.2 invalid messages: answered statelessly to the source
  { file: '3.1.2.1-badinv01', udp: 400, tcp: 400, why: '"should respond with a 400": the top Via is readable up to its empty parameters' },
  // over TCP a stream would wait for the 9,999 bytes of body; here they are more than maxMessageSize
  { file: '3.1.2.2-clerr', udp: 400, tcp: 513, tcpCloses: true, why: 'UDP: 400; TCP: 9,999 > maxMessageSize: 513, closed' },
  { file: '3.1.2.3-ncl', udp: 400, tcp: 400, tcpCloses: true, why: 'negative Content-Length: 400; a stream cannot be framed: answered, closed' },
  { file: '3.1.2.4-scalar02', udp: 400, tcp: 400, why: 'CSeq beyond 2^32-1: 400 (its Via says TCP: the UDP answer still comes over UDP)' },
  { file: '3.1.2.5-scalarlg', udp: 'none', tcp: 'none', why: 'a response: discarded' },
  { file: '3.1.2.6-quotbal', udp: 400, tcp: 400, echoTo: true, why: 'unbalanced quote in To: 400' },
  { file: '3.1.2.7-ltgtruri', udp: 400, tcp: 400, why: 'Request-URI in <>: 400' },
  { file: '3.1.2.8-lwsruri', udp: 400, tcp: 400, why: 'LWS in the Request-URI: 400' },
  { file: '3.1.2.9-lwsstart', udp: 400, tcp: 400, why: 'extra SP in the request line: "acceptable to reject": 400' },
  { file: '3.1.2.10-trws', udp: 400, tcp: 400, why: 'SP after the version: "acceptable to reject": 400' },
  { file: '3.1.2.11-escruri', udp: 400, tcp: 400, why: 'URI headers in the Request-URI: 400' },
  { file: '3.1.2.12-baddate', udp: 400, tcp: 400, why: 'Date not in GMT: "acceptable to reject": 400 (Parley checks Date as it parses)' },
  { file: '3.1.2.13-regbadct', udp: 401, tcp: 401, routed: true, why: 'REGISTER: authentication (§10.3 step 3) comes before Contact is read (step 7)' },
  { file: '3.1.2.14-badaspec', udp: 400, tcp: 400, echoTo: true, why: 'spaces in the To addr-spec: 400' },
  { file: '3.1.2.15-baddn', udp: 400, tcp: 'none', why: 'UDP: 400 (commas in display names); the file has no empty line after its headers, so a stream waits' },
  { file: '3.1.2.16-badvers', udp: 505, tcp: 505, why: 'SIP/7.0: 505' },
  { file: '3.1.2.17-mismatch01', udp: 400, tcp: 400, why: 'CSeq method differs from the request method: 400' },
  { file: '3.1.2.18-mismatch02', udp: 400, tcp: 400, why: 'unknown method and CSeq INVITE: "a 400 is also acceptable"' },
  { file: '3.1.2.19-bigcode', udp: 'none', tcp: 'none', why: 'a response: dropped' },
  // §3.2
  { file: '3.2.1-badbranch', udp: 403, tcp: 403, routed: true, why: 'branch is only the magic cookie: processed (OPTIONS to another domain)' },
  // §3.3
  { file: '3.3.1-insuf', udp: 400, tcp: 400, why: 'no Call-ID, From or To: "ideally 400" (Via and CSeq suffice to match it)' },
  { file: '3.3.2-unkscm', udp: 416, tcp: 416, routed: true, why: 'unknown Request-URI scheme: 416' },
  { file: '3.3.3-novelsc', udp: 416, tcp: 416, routed: true, why: 'soap.beep: 416' },
  { file: '3.3.4-unksm2', udp: 401, tcp: 401, routed: true, why: 'REGISTER with an isbn: To: the registrar authenticates first (§10.3 step 3 before step 5)' },
  { file: '3.3.5-bext01', udp: 420, tcp: 420, routed: true, why: 'Proxy-Require tags Parley does not support: 420 with Unsupported' },
  { file: '3.3.6-invut', udp: 403, tcp: 403, routed: true, why: 'unknown Content-Type: a proxy routes it (here 403, another domain)' },
  { file: '3.3.7-regaut01', udp: 401, tcp: 401, routed: true, why: 'unknown Authorization scheme: "a registrar ... challenges with 401"' },
  { file: '3.3.8-multi01', udp: 400, tcp: 400, why: 'single-valued headers given twice: 400' },
  { file: '3.3.9-mcl01', udp: 400, tcp: 400, tcpCloses: true, why: 'two Content-Lengths: 400; a stream cannot be framed: answered, closed' },
  { file: '3.3.10-bcast', udp: 'none', tcp: 'none', why: 'a response: never answered (nor sent to 255.255.255.255)' },
  { file: '3.3.11-zeromf', udp: 483, tcp: 483, routed: true, why: 'Max-Forwards 0 to a user: a proxy answers 483' },
  { file: '3.3.12-cparam01', udp: 401, tcp: 401, routed: true, why: 'REGISTER: challenged' },
  { file: '3.3.13-cparam02', udp: 401, tcp: 401, routed: true, why: 'REGISTER: challenged' },
  { file: '3.3.14-regescrt', udp: 401, tcp: 401, routed: true, why: 'REGISTER: challenged' },
  { file: '3.3.15-sdp01', udp: 403, tcp: 403, routed: true, why: 'INVITE to another domain (a UAS would answer 406; a proxy routes it)' },
  // §3.4
  { file: '3.4.1-inv2543', udp: 403, tcp: 400, routed: true, tcpCloses: true, why: 'RFC 2543 INVITE: routed (403) over UDP; a stream needs Content-Length: 400 and closed' },
];

const load = (file: string): Buffer => readFileSync(join(TESTDATA, `${file}.sip`));

/**
 * The message with the host:port of its top Via replaced by `addr` (whatever its name's case,
 * compact form, spacing or folding): only for requests Parley routes, answered along the Via.
 */
function pointTopViaAt(bytes: Buffer, addr: string): Buffer {
  const text = bytes.toString('latin1');
  const name = /^(?:via|v)[ \t]*:/im.exec(text);
  assert.ok(name, 'a Via');
  let p = name.index + name[0].length;
  const lws = (): void => {
    for (;;) {
      if (text[p] === ' ' || text[p] === '\t') p++;
      else if (text.startsWith('\r\n', p) && (text[p + 2] === ' ' || text[p + 2] === '\t')) p += 3;
      else return;
    }
  };
  for (let slashes = 0; slashes < 2; ) {
    if (text[p] === '/') slashes++;
    p++;
  }
  lws();
  while (/[A-Za-z0-9-]/.test(text[p]!)) p++; // transport
  lws();
  const start = p;
  while (/[A-Za-z0-9.:[\]-]/.test(text[p]!)) p++;
  assert.ok(p > start, 'a sent-by');
  return Buffer.from(text.slice(0, start) + addr + text.slice(p), 'latin1');
}

/** Responses cut out of a stream by their Content-Length. */
function splitStream(data: Buffer): string[] {
  const out: string[] = [];
  let text = data.toString('latin1');
  for (;;) {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0) return out;
    const cl = Number(/^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(text.slice(0, end))?.[1] ?? 0);
    out.push(text.slice(0, end + 4 + cl));
    text = text.slice(end + 4 + cl);
  }
}

interface TcpExchange {
  readonly texts: string[];
  /** Parley ended the connection. */
  readonly closed: boolean;
}

/** A TCP connection of its own: send the bytes, collect what comes back for WAIT_MS. */
async function tcpExchange(host: string, port: number, payload: Buffer): Promise<TcpExchange> {
  const socket = createConnection({ host, port });
  await new Promise<void>((res, rej) => {
    socket.once('connect', res);
    socket.once('error', rej);
  });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('end', () => (closed = true));
  socket.on('error', () => (closed = true));
  socket.write(payload);
  await new Promise((res) => setTimeout(res, WAIT_MS));
  socket.destroy();
  return { texts: splitStream(Buffer.concat(chunks)), closed };
}

function statusOf(text: string): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(text)?.[1] ?? NaN);
}

function reasonOf(text: string): string {
  return /^SIP\/2\.0 \d{3} ?(.*)\r\n/.exec(text)?.[1] ?? '';
}

/** The one final response among `texts` (provisional ones may come first), or none. */
function finalOf(file: string, texts: readonly string[]): string | undefined {
  for (const t of texts) assert.ok(statusOf(t) >= 100 && statusOf(t) <= 699, `${file}: not a response:\n${t}`);
  const finals = texts.filter((t) => statusOf(t) >= 200);
  assert.ok(finals.length <= 1, `${file}: ${finals.length} final responses:\n${finals.join('\n----\n')}`);
  return finals[0];
}

/** What every answer to a malformed request carries: the place, a Warning, the request's raw fields. */
function checkMalformedAnswer(c: Case, request: Buffer, res: string): void {
  const req = request.toString('latin1');
  const status = statusOf(res);
  if (status === 400) assert.match(reasonOf(res), /^Bad Request \(.+\)$/, `${c.file}: reason phrase`);
  if (status === 400 || status === 505) assert.match(header(res, 'Warning') ?? '', /^399 parley ".*"$/, `${c.file}: Warning:\n${res}`);
  for (const name of ['Call-ID', 'CSeq', 'From']) {
    const sent = header(req, name);
    if (sent !== undefined) assert.equal(header(res, name), sent, `${c.file}: ${name} copied as it came`);
  }
  if (c.echoTo) assert.equal(header(res, 'To'), header(req, 'To'), `${c.file}: To echoed`);
}

describe('malformed requests: every RFC 4475 message over UDP and TCP', () => {
  let parley: ParleyServer;
  let probe: UdpProbe;

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp', 'tcp'], config: { sip: { limits: { maxMessageSize: MAX_MESSAGE } } } });
    probe = await openUdpProbe(pool);
  });

  after(async () => {
    await probe?.close();
    await parley?.stop();
  });

  it('the test data is the whole of RFC 4475 §3 (49 messages)', () => {
    const index = JSON.parse(readFileSync(join(TESTDATA, 'index.json'), 'utf8')) as Array<{ file: string }>;
    assert.deepEqual(CASES.map((c) => `${c.file}.sip`).sort(), index.map((e) => e.file).sort());
  });

  for (const c of CASES) {
    it(`UDP ${c.file}: ${c.udp} (${c.why})`, async () => {
      // a socket of its own: an INVITE's final response is retransmitted until it is ACKed (§17.2.1)
      const own = await openUdpProbe(pool);
      const original = load(c.file);
      const payload = c.routed ? pointTopViaAt(original, `127.0.0.1:${own.port}`) : original;
      let texts: string[];
      try {
        texts = [...new Set((await own.exchange(payload, parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1')))];
      } finally {
        await own.close();
      }
      const res = finalOf(c.file, texts);
      const log = `\n---- Parley's log:\n${parley.outputTail(5)}`;
      if (c.udp === 'none') {
        assert.deepEqual(texts, [], `${c.file}: expected silence${log}`);
        return;
      }
      assert.ok(res !== undefined, `${c.file}: no answer${log}`);
      assert.equal(statusOf(res), c.udp, `${c.file}: got ${res.split('\r\n')[0]}${log}`);
      if (!c.routed) checkMalformedAnswer(c, payload, res);
      else if (statusOf(res) !== 400) assert.ok(tagOf(header(res, 'To')), `${c.file}: a To tag`);
      if (c.file === '3.3.5-bext01') assert.equal(header(res, 'Unsupported'), 'noProxiesSupportThis, norDoAnyProxiesSupportThis');
    });
  }

  for (const c of CASES) {
    it(`TCP ${c.file}: ${c.tcp}${c.tcpCloses ? ', closed' : ''}`, async () => {
      const payload = load(c.file);
      const { texts, closed } = await tcpExchange(parley.host, parley.port!, payload);
      const log = `\n---- Parley's log:\n${parley.outputTail(5)}`;
      if (c.file === '3.1.1.8-dblreq') {
        // on a stream, the bytes after the REGISTER are a second message (an INVITE framed by its
        // Content-Length 150), and what follows it ("C...") a third without Content-Length: not a
        // request (no answer), and the stream cannot be framed any more, so the connection is
        // closed at once by the thread that owns it. Answers to the REGISTER (401) and the INVITE
        // (403) go out first when the SIP core runs beside the sockets; from worker threads they
        // come after the close and are lost with the connection.
        const finals = texts.map(statusOf).filter((s) => s >= 200);
        assert.ok(finals.every((s) => s === 401 || s === 403), `${c.file}: ${finals.join(', ')}${log}`);
        assert.ok(closed, 'closed');
        return;
      }
      const res = finalOf(c.file, texts);
      if (c.tcp === 'none') assert.equal(res, undefined, `${c.file}: expected no answer, got ${res?.split('\r\n')[0]}${log}`);
      else {
        assert.ok(res !== undefined, `${c.file}: no answer${log}`);
        assert.equal(statusOf(res), c.tcp, `${c.file}: got ${res.split('\r\n')[0]}${log}`);
        if (!c.routed || c.tcpCloses) checkMalformedAnswer(c, payload, res);
        if (c.file === '3.3.5-bext01') assert.equal(header(res, 'Unsupported'), 'noProxiesSupportThis, norDoAnyProxiesSupportThis');
      }
      assert.equal(closed, c.tcpCloses === true, `${c.file}: connection ${closed ? 'closed' : 'left open'}`);
    });
  }

  describe('beyond RFC 4475', () => {
    const request = (lines: readonly string[], body = ''): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
    /** A request from a user of another domain (not challenged), by default an OPTIONS to Parley itself. */
    const basic = (via: string, extra: readonly string[] = [], method = 'OPTIONS', ruri?: string): string[] => [
      `${method} ${ruri ?? `sip:127.0.0.1:${parley.port}`} SIP/2.0`,
      `Via: ${via}`,
      'From: <sip:probe@example.org>;tag=mf1',
      `To: <${ruri ?? `sip:127.0.0.1:${parley.port}`}>`,
      `Call-ID: malformed-${Math.random().toString(36).slice(2)}`,
      `CSeq: 1 ${method}`,
      'Max-Forwards: 70',
      ...extra,
    ];

    /** A TCP listener on the test's loopback port: it must never be connected to. */
    async function tcpTrap(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
      const port = await pool.block(1);
      let n = 0;
      const sockets: Socket[] = [];
      const server: Server = createServer((s) => {
        n++;
        sockets.push(s);
      });
      await new Promise<void>((res) => server.listen(port, '127.0.0.1', res));
      return {
        port,
        accepted: () => n,
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      };
    }

    it('a malformed UDP request whose Via says TCP is answered over UDP to its source; no connection is opened', async () => {
      const trap = await tcpTrap();
      try {
        const bytes = request(basic(`SIP/2.0/TCP 127.0.0.1:${trap.port};branch=z9hG4bKmf1`, ['CSeq: 2 OPTIONS']));
        const texts = (await probe.exchange(bytes, parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
        assert.deepEqual(texts.map(statusOf), [400]);
        assert.equal(reasonOf(texts[0]!), 'Bad Request (header/CSeq)');
        assert.equal(trap.accepted(), 0, 'no TCP connection to the Via');
      } finally {
        await trap.close();
      }
    });

    it('a well-formed UDP request whose Via says TCP is answered over UDP; no connection is opened', async () => {
      const trap = await tcpTrap();
      try {
        // rport: the answer goes to the probe's port; without the fix Parley connected to the trap
        const bytes = request(basic(`SIP/2.0/TCP 127.0.0.1:${trap.port};branch=z9hG4bKmf2;rport`));
        const texts = (await probe.exchange(bytes, parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
        assert.deepEqual(texts.map(statusOf), [200]);
        assert.equal(trap.accepted(), 0, 'no TCP connection to the Via');
      } finally {
        await trap.close();
      }
    });

    it('a malformed request is answered to its source port, not its Via port (rport or not)', async () => {
      const other = createSocket('udp4');
      const otherPort = await pool.block(1);
      await new Promise<void>((res) => other.bind(otherPort, '127.0.0.1', res));
      let reflected = 0;
      other.on('message', () => reflected++);
      try {
        const bytes = request(basic(`SIP/2.0/UDP 127.0.0.1:${otherPort};branch=z9hG4bKmf3`, [], 'OPTIONS', `sip:127.0.0.1:${parley.port} extra`));
        const texts = (await probe.exchange(bytes, parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
        assert.deepEqual(texts.map(statusOf), [400]);
        assert.equal(reflected, 0, 'nothing sent to the port the Via names');
      } finally {
        await new Promise<void>((res) => other.close(() => res()));
      }
    });

    it('a request without a readable Via gets no answer', async () => {
      const texts = await probe.exchange(request(basic('garbage', ['CSeq: x OPTIONS'])), parley.host, parley.port!, WAIT_MS);
      assert.deepEqual(texts, []);
    });

    it('an unknown Require option tag in a REGISTER: 420 with Unsupported, before any challenge', async () => {
      const lines = basic(`SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bKmf4`, ['Require: frobnication, path', 'Contact: <sip:probe@127.0.0.1>'], 'REGISTER', 'sip:127.0.0.1');
      lines[2] = 'From: <sip:probe@127.0.0.1>;tag=mf4';
      lines[3] = 'To: <sip:probe@127.0.0.1>';
      const texts = (await probe.exchange(request(lines), parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
      assert.deepEqual(texts.map(statusOf), [420]);
      assert.equal(header(texts[0]!, 'Unsupported'), 'frobnication');
    });

    it('an unknown method to the server itself: 501', async () => {
      const texts = (await probe.exchange(request(basic(`SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bKmf5`, [], 'FROBNICATE')), parley.host, parley.port!, WAIT_MS)).map((b) =>
        b.toString('latin1'),
      );
      assert.deepEqual(texts.map(statusOf), [501]);
    });

    it('a fault found while routing (a second Via that does not parse): 400 naming it, no error logged', async () => {
      const lines = basic(`SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bKmf6`, ['Via: SIP/2.0/UDP 192.0.2.1;;;=,', 'Proxy-Require: x'], 'OPTIONS', 'sip:someone@example.org');
      const before = parley.logs.length;
      const texts = (await probe.exchange(request(lines), parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
      assert.deepEqual(texts.map(statusOf), [400]);
      assert.equal(reasonOf(texts[0]!), 'Bad Request (header/Via)');
      assert.match(header(texts[0]!, 'Warning') ?? '', /^399 parley /);
      assert.deepEqual(parley.logs.slice(before).filter((l) => (l.level ?? 0) >= 40), []);
    });

    it(`UDP: a request over maxMessageSize (${MAX_MESSAGE}) whose headers were read: 513`, async () => {
      const body = 'x'.repeat(MAX_MESSAGE);
      const bytes = request(basic(`SIP/2.0/UDP 127.0.0.1:${probe.port};branch=z9hG4bKmf7`, ['Content-Type: text/plain', `Content-Length: ${body.length}`], 'MESSAGE', 'sip:someone@example.org'), body);
      const texts = (await probe.exchange(bytes, parley.host, parley.port!, WAIT_MS)).map((b) => b.toString('latin1'));
      assert.deepEqual(texts.map(statusOf), [513]);
      assert.match(reasonOf(texts[0]!), /^Message Too Large/);
    });

    it('TCP: a message over maxMessageSize: 513, then the connection is closed', async () => {
      const body = 'x'.repeat(MAX_MESSAGE);
      const bytes = request(basic('SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bKmf9', ['Content-Type: text/plain', `Content-Length: ${body.length}`], 'MESSAGE', 'sip:someone@example.org'), body);
      const { texts, closed } = await tcpExchange(parley.host, parley.port!, bytes);
      assert.deepEqual(texts.map(statusOf), [513]);
      assert.ok(closed, 'closed');
    });

    it('TCP: a header section that outgrows maxMessageSize: 513 from its complete lines, then closed', async () => {
      const lines = basic('SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bKmf10');
      for (let i = 0; i < 100; i++) lines.push(`X-Filler-${i}: ${'z'.repeat(60)}`);
      const { texts, closed } = await tcpExchange(parley.host, parley.port!, Buffer.from(lines.join('\r\n') + '\r\n', 'latin1'));
      assert.deepEqual(texts.map(statusOf), [513]);
      assert.ok(closed, 'closed');
    });

    it('TCP: a message without Content-Length: 400, then the connection is closed', async () => {
      const { texts, closed } = await tcpExchange(parley.host, parley.port!, request(basic('SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bKmf11')));
      assert.deepEqual(texts.map(statusOf), [400]);
      assert.equal(reasonOf(texts[0]!), 'Bad Request (header/Content-Length)');
      assert.ok(closed, 'closed');
    });
  });

  it('is still running and logged no error', () => {
    assert.equal(parley.alive, true, `Parley exited (status ${parley.exitCode}):\n${parley.outputTail()}`);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
