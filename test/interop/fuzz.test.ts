// Mutation fuzzing of a real `parley serve` over UDP, TCP and WSS (issue 14, "Done when": every
// legitimate probe answered throughout, memory flat, no crash). Run by `npm run test:interop`.
//
// What runs, all at once, bounded in count and in time (FUZZ_SECONDS, default 100 s of fuzzing):
// - the fuzzer (src/sip/message/testdata/pathological.ts, seed printed; FUZZ_SEED=N to replay):
//   long runs of spaces, tabs, separators, quotes, backslashes, CRLF, percent signs and commas in
//   every part of a message (start line, each header, URIs, parameters, quoted strings, digest
//   credentials), byte flips, truncations, duplicated headers, huge Content-Length, oversize
//   lines, random binary; over UDP from four sockets, over four TCP connections (most messages
//   re-framed with a true Content-Length so that the stream goes on; the rest as they come, which
//   closes the connection: the fuzzer reconnects), over one more TCP connection at a time that
//   trickles 60 kB messages in 64-byte writes, and over four WSS connections;
// - issue 14's own reproductions: a 4 kB UDP datagram whose request line is a run of spaces; over
//   TCP a 3 kB start line pipelined after a valid message; two such datagrams with Call-IDs that
//   land in different workers;
// - the probes: an OPTIONS to Parley every 200 ms over UDP (own socket, retransmitted as RFC 3261
//   §17.1.2.2 says: Timer E from T1 = 500 ms doubling up to T2 = 4 s) and over TCP (own
//   connection); each must be answered before its Timer F (32 s: when a phone gives up; the
//   issue saw probes unanswered for 30 s); the slowest answer and the retransmissions are printed;
// - Parley's RSS (/proc/PID/status, VmRSS: the process with its worker threads), after a warm-up
//   and at the end: the growth must stay under 150 MB.
// Responses to fuzzed messages are not checked (other suites own the answers to malformed
// requests); Parley must be alive at the end and stop cleanly. The figures are printed.
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { parseMessage, StreamFramer } from '../../src/sip/index.js';
import { fuzzMessage, prng, seedMessages } from '../../src/sip/message/testdata/pathological.js';
import { workerOf } from '../../src/sip-server/workers/call-id-hash.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);
const WORKERS = 2;
const FUZZ_MS = Number(process.env.FUZZ_SECONDS ?? 100) * 1000;
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** Messages per second and the most each transport sends (the whole run stays bounded). */
const PLAN = {
  udp: { rate: 2400, max: 250_000 },
  tcp: { rate: 900, max: 90_000 },
  wss: { rate: 600, max: 60_000 },
} as const;
const PROBE_EVERY_MS = 200;
/** A probe is answered when its answer comes before Timer F (64·T1 = 32 s, RFC 3261 §17.1.2.2), when a phone would give up. */
const PROBE_DEADLINE_MS = 32_000;
const RSS_GROWTH_LIMIT_MB = 150;
const UDP_MAX = 65_507; // the largest IPv4 UDP payload
const MESSAGE_LIMIT = 65_535;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};
/** Udp RcvbufErrors of /proc/net/snmp: machine-wide, for the report only. */
function udpDrops(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  if (lines.length < 2) return NaN;
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}
let unique = 0;
const nextId = (tag: string): string => `${tag}${(++unique).toString(36)}${Math.floor(Math.random() * 1e9).toString(36)}`;

function options(parley: string, local: string, transport: 'UDP' | 'TCP', id: string): string {
  return [
    `OPTIONS sip:${parley} SIP/2.0`,
    `Via: SIP/2.0/${transport} ${local};branch=z9hG4bK${id};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${local}>;tag=${id}`,
    `To: <sip:${parley}>`,
    `Call-ID: ${id}@probe`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A message with the header/body split it already has, its Content-Length made true (so a stream can go on). */
function reframe(b: Uint8Array): Uint8Array {
  let text = Buffer.from(b).toString('latin1');
  let end = text.indexOf('\r\n\r\n');
  if (end < 0) {
    text += '\r\n\r\n';
    end = text.length - 4;
  }
  const head = text
    .slice(0, end)
    .split('\r\n')
    .filter((l) => !/^(content-length|l)[ \t]*:/i.test(l))
    .join('\r\n');
  const body = text.slice(end + 4);
  return Buffer.from(`${head}\r\nContent-Length: ${body.length}\r\n\r\n${body}`, 'latin1');
}

interface ProbeStats {
  sent: number;
  answered: number;
  retransmitted: number;
  slowestMs: number;
  late: string[];
}

/** OPTIONS every PROBE_EVERY_MS over UDP and TCP, each answered within PROBE_DEADLINE_MS, until stopped. */
class Probes {
  readonly udp: ProbeStats = { sent: 0, answered: 0, retransmitted: 0, slowestMs: 0, late: [] };
  readonly tcp: ProbeStats = { sent: 0, answered: 0, retransmitted: 0, slowestMs: 0, late: [] };
  private readonly waiting = new Map<string, { stats: ProbeStats; started: number; resolve: () => void }>();
  private readonly pending: Promise<void>[] = [];
  private running = true;
  private tcpClosed = 0;
  private loop: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** Answers other than 200, and answers that did not parse. */
  readonly odd: string[] = [];

  private constructor(
    private readonly parley: ParleyServer,
    private readonly udpSocket: UdpSocket,
    private readonly udpPort: number,
    private tcpSocket: Socket,
  ) {}

  static async start(parley: ParleyServer): Promise<Probes> {
    const port = await pool.block(1);
    const udp = createSocket('udp4');
    await new Promise<void>((res, rej) => {
      udp.once('error', rej);
      udp.bind(port, '127.0.0.1', () => res());
    });
    const tcp = await openTcp(parley.portFor('tcp'));
    const p = new Probes(parley, udp, port, tcp);
    udp.on('message', (m) => p.onResponse(m));
    p.watchTcp(tcp);
    p.loop = p.run();
    return p;
  }

  private watchTcp(s: Socket): void {
    const framer = new StreamFramer();
    s.on('data', (d: Buffer) => {
      for (const e of framer.push(d)) if (e.type === 'message') this.onResponse(e.bytes);
    });
    s.on('close', () => {
      if (this.running) this.tcpClosed++;
    });
  }

  private onResponse(bytes: Uint8Array): void {
    const r = parseMessage(bytes);
    if (r.message === undefined || r.message.isRequest) {
      this.odd.push(`unparsable answer: ${Buffer.from(bytes).toString('latin1').slice(0, 200)}`);
      return;
    }
    const branch = r.message.topVia?.branch;
    const w = branch === undefined ? undefined : this.waiting.get(branch);
    if (w === undefined) return; // a retransmission's second answer
    if (r.message.status !== 200) this.odd.push(`${r.message.status} ${r.message.reason} for ${branch}`);
    this.waiting.delete(branch!);
    w.stats.answered++;
    w.stats.slowestMs = Math.max(w.stats.slowestMs, Date.now() - w.started);
    w.resolve();
  }

  private probe(stats: ProbeStats, send: (bytes: Buffer) => void, transport: 'UDP' | 'TCP', local: string): void {
    const id = nextId(transport === 'UDP' ? 'pu' : 'pt');
    const bytes = Buffer.from(options(`127.0.0.1:${this.parley.portFor('udp')}`, local, transport, `z${id}`));
    stats.sent++;
    const started = Date.now();
    this.pending.push(
      new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        let interval = 500;
        const retransmit = (): void => {
          if (!this.waiting.has(`z9hG4bKz${id}`)) return;
          if (Date.now() - started >= PROBE_DEADLINE_MS) {
            this.waiting.delete(`z9hG4bKz${id}`);
            stats.late.push(`${transport} probe ${stats.sent} sent at +${started - this.startedAt} ms: no answer within ${PROBE_DEADLINE_MS} ms`);
            resolve();
            return;
          }
          if (transport === 'UDP') {
            send(bytes); // RFC 3261 §17.1.2.2: Timer E (reliable transports do not retransmit)
            stats.retransmitted++;
          }
          interval = Math.min(interval * 2, 4000);
          timer = setTimeout(retransmit, Math.min(interval, PROBE_DEADLINE_MS - (Date.now() - started)));
        };
        this.waiting.set(`z9hG4bKz${id}`, {
          stats,
          started,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        send(bytes);
        timer = setTimeout(retransmit, interval);
      }),
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.probe(this.udp, (b) => this.udpSocket.send(b, this.parley.portFor('udp'), '127.0.0.1'), 'UDP', `127.0.0.1:${this.udpPort}`);
      const tcp = this.tcpSocket;
      this.probe(this.tcp, (b) => tcp.write(b), 'TCP', `127.0.0.1:${tcp.localPort ?? 0}`);
      await sleep(PROBE_EVERY_MS);
    }
  }

  /** Stop probing, wait for the answers still due, close the sockets. */
  async stop(): Promise<{ tcpClosed: number }> {
    if (!this.running) return { tcpClosed: this.tcpClosed };
    this.running = false;
    await this.loop;
    await Promise.all(this.pending);
    this.udpSocket.close();
    this.tcpSocket.destroy();
    return { tcpClosed: this.tcpClosed };
  }
}

function openTcp(port: number): Promise<Socket> {
  return new Promise((res, rej) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.off('error', rej);
      s.on('error', () => {});
      res(s);
    });
    s.once('error', rej);
  });
}

interface Counts {
  udp: number;
  tcp: number;
  wss: number;
  bytes: number;
  tcpConnections: number;
  wssConnections: number;
  responses: number;
}

/** Sends `rate` messages a second (in 10 ms slices) until `max` or the deadline; `send` may wait (back-pressure). */
async function paced(rate: number, max: number, deadline: number, send: () => Promise<void> | void): Promise<number> {
  let sent = 0;
  const start = Date.now();
  while (sent < max && Date.now() < deadline) {
    const due = Math.min(max, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
    while (sent < due) {
      const w = send();
      if (w !== undefined) await w;
      sent++;
    }
    await sleep(10);
  }
  return sent;
}

describe('fuzzing Parley over UDP, TCP and WSS (issue 14)', { timeout: FUZZ_MS + 180_000 }, () => {
  let parley: ParleyServer;
  /** Sockets to close should the test fail half-way. */
  const cleanup: (() => void)[] = [];

  before(async () => {
    parley = await ParleyServer.start({ pool, transports: ['udp', 'tcp'], webSockets: { wss: 'auth' }, workers: WORKERS });
  });

  after(async () => {
    for (const c of cleanup.splice(0)) c();
    await stopCleanly(parley);
  });

  it('answers every probe throughout, keeps its memory flat and stays up', async () => {
    const pid = parley.pid!;
    const port = parley.portFor('udp');
    const target = `127.0.0.1:${port}`;
    console.log(`fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it), ${FUZZ_MS / 1000} s, Parley pid ${pid}`);
    const counts: Counts = { udp: 0, tcp: 0, wss: 0, bytes: 0, tcpConnections: 0, wssConnections: 0, responses: 0 };
    const rssBefore = rssMb(pid);
    const dropsBefore = udpDrops();
    const probes = await Probes.start(parley);
    cleanup.push(() => void probes.stop());

    // ---- fuzzers ----
    const udpSockets: UdpSocket[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await pool.block(1);
      const s = createSocket({ type: 'udp4', sendBufferSize: 4 * 1024 * 1024 });
      await new Promise<void>((res) => s.bind(p, '127.0.0.1', () => res()));
      s.on('message', () => counts.responses++);
      s.on('error', () => {});
      udpSockets.push(s);
      cleanup.push(() => s.close());
    }
    const seedsFor = (local: string, tag: string): string[] => seedMessages({ parley: target, local, id: nextId(tag) });

    // ---- issue 14's reproductions, with the probes running ----
    const spaces = (callId: string): Buffer =>
      Buffer.from(`OPTIONS ${' '.repeat(3800)}\r\nVia: SIP/2.0/UDP 127.0.0.1:${udpSockets[0]!.address().port};branch=z9hG4bK${callId}\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`);
    const inWorker = (w: number): string => {
      for (let i = 0; ; i++) {
        const id = `spaces-${i}@fuzz`;
        if (workerOf(Buffer.from(`X\r\nCall-ID: ${id}\r\n\r\n`), WORKERS) === w) return id;
      }
    };
    const first = spaces('spaces-single@fuzz');
    assert.ok(first.length >= 3900 && first.length <= 4096, `${first.length} bytes`);
    udpSockets[0]!.send(first, port, '127.0.0.1');
    for (const w of [0, 1]) udpSockets[1]!.send(spaces(inWorker(w)), port, '127.0.0.1');
    const pipelined = await openTcp(port);
    cleanup.push(() => pipelined.destroy());
    pipelined.on('data', () => counts.responses++);
    pipelined.write(
      Buffer.concat([
        Buffer.from(options(target, `127.0.0.1:${pipelined.localPort}`, 'TCP', nextId('pipe'))),
        Buffer.from(`OPTIONS ${' '.repeat(3000)}\r\nVia: SIP/2.0/TCP 127.0.0.1:${pipelined.localPort};branch=z9hG4bKp\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>\r\nCall-ID: pipelined@fuzz\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`),
      ]),
    );
    counts.udp += 3;
    counts.tcp += 2;

    const deadline = Date.now() + FUZZ_MS;
    let rssWarm = NaN;
    let rssPeak = 0;
    const rssEvery10s: number[] = [];
    let tick = 0;
    const rssTimer = setInterval(() => {
      if (!parley.alive) return;
      const r = rssMb(pid);
      rssPeak = Math.max(rssPeak, r);
      if (tick++ % 10 === 0) rssEvery10s.push(Math.round(r));
      if (Number.isNaN(rssWarm) && Date.now() > deadline - FUZZ_MS + 10_000) rssWarm = r;
    }, 1000);
    cleanup.push(() => clearInterval(rssTimer));

    const rnd = prng(SEED);
    const udpSeeds = udpSockets.map((s, i) => seedsFor(`127.0.0.1:${s.address().port}`, `u${i}`));
    let ui = 0;
    const udpRun = paced(PLAN.udp.rate, PLAN.udp.max, deadline, () => {
      const k = ui++ % udpSockets.length;
      const big = rnd() < 0.03;
      const msg = fuzzMessage(udpSeeds[k]!, rnd, UDP_MAX, big ? UDP_MAX : 1500);
      counts.bytes += msg.length;
      counts.udp++;
      udpSockets[k]!.send(msg, port, '127.0.0.1');
    });

    const tcpRnd = prng(SEED + 1);
    const tcpRun = Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        let n = 0;
        let socket: Socket | undefined;
        let seeds: string[] = [];
        let closed = true;
        return paced(PLAN.tcp.rate / 4, PLAN.tcp.max / 4, deadline, async () => {
          if (socket === undefined || closed) {
            socket?.destroy();
            socket = await openTcp(port);
            counts.tcpConnections++;
            closed = false;
            const s = socket;
            s.on('data', () => counts.responses++);
            s.on('close', () => (closed = true));
            seeds = seedsFor(`127.0.0.1:${s.localPort}`, `t${c}`).map((m) => m.replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
          }
          const raw = fuzzMessage(seeds, tcpRnd, MESSAGE_LIMIT + 2000, tcpRnd() < 0.03 ? MESSAGE_LIMIT : 1500);
          const msg = tcpRnd() < 0.9 ? reframe(raw) : raw;
          counts.bytes += msg.length;
          counts.tcp++;
          n++;
          if (!socket.write(msg)) await new Promise<void>((res) => {
            const s = socket!;
            const done = (): void => {
              s.off('drain', done);
              s.off('close', done);
              res();
            };
            s.on('drain', done);
            s.on('close', done);
          });
        }).finally(() => socket?.destroy());
      }),
    );

    // a TCP peer trickling large messages in small writes (the framer must not rescan what it holds)
    const trickleRun = (async () => {
      let sentMessages = 0;
      while (Date.now() < deadline && sentMessages < 200) {
        const s = await openTcp(port);
        counts.tcpConnections++;
        s.setNoDelay(true);
        s.on('data', () => counts.responses++);
        let closed = false;
        s.on('close', () => (closed = true));
        const base = seedsFor(`127.0.0.1:${s.localPort}`, 'trickle')[0]!.replace('SIP/2.0/UDP', 'SIP/2.0/TCP');
        const msg = reframe(Buffer.from(base.replace('\r\nMax-Forwards', `\r\nX-Pad: ${'p'.repeat(60_000)}\r\nMax-Forwards`), 'latin1'));
        for (let i = 0; i < msg.length && !closed && Date.now() < deadline; i += 64) {
          s.write(msg.subarray(i, i + 64));
          if (i % 4096 === 0) await sleep(1);
        }
        counts.bytes += msg.length;
        counts.tcp++;
        sentMessages++;
        await sleep(50);
        s.destroy();
      }
    })();

    const ca = await parley.developmentCertificate();
    const wssRnd = prng(SEED + 2);
    const wssRun = Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        let ws: WebSocket | undefined;
        let seeds: string[] = [];
        return paced(PLAN.wss.rate / 4, PLAN.wss.max / 4, deadline, async () => {
          if (ws === undefined || ws.readyState !== WebSocket.OPEN) {
            ws?.terminate();
            const next = new WebSocket(parley.webSocketUrl('wss'), 'sip', { ca, handshakeTimeout: 10_000, maxPayload: 1 << 20 });
            next.on('error', () => {});
            next.on('message', () => counts.responses++);
            const opened = await new Promise<boolean>((res) => {
              next.once('open', () => res(true));
              next.once('close', () => res(false));
            });
            if (!opened) return;
            ws = next;
            counts.wssConnections++;
            seeds = seedsFor('fuzz.invalid', `w${c}`).map((m) => m.replace('SIP/2.0/UDP fuzz.invalid', 'SIP/2.0/WSS fuzz.invalid'));
          }
          const msg = fuzzMessage(seeds, wssRnd, MESSAGE_LIMIT, wssRnd() < 0.03 ? MESSAGE_LIMIT : 1500);
          counts.bytes += msg.length;
          counts.wss++;
          const ascii = msg.every((b) => b < 0x80);
          ws.send(msg, { binary: !ascii || wssRnd() < 0.5 });
          while (ws.bufferedAmount > 1 << 20 && ws.readyState === WebSocket.OPEN) await sleep(5);
        }).finally(() => ws?.terminate());
      }),
    );

    await Promise.all([udpRun, tcpRun, wssRun, trickleRun]);
    const fuzzSeconds = (Date.now() - (deadline - FUZZ_MS)) / 1000;
    const { tcpClosed } = await probes.stop();
    for (const c of cleanup.splice(0)) c();
    await sleep(2000);
    const alive = parley.alive;
    const rssEnd = alive ? rssMb(pid) : NaN;
    const start = Number.isNaN(rssWarm) ? rssBefore : rssWarm;

    const total = counts.udp + counts.tcp + counts.wss;
    console.log(
      [
        `fuzz: ${total} messages in ${fuzzSeconds.toFixed(0)} s (UDP ${counts.udp}, TCP ${counts.tcp} over ${counts.tcpConnections} connections, WSS ${counts.wss} over ${counts.wssConnections} connections), ${(counts.bytes / 1e6).toFixed(0)} MB, ${counts.responses} responses`,
        `probes answered: UDP ${probes.udp.answered}/${probes.udp.sent} (${probes.udp.retransmitted} retransmissions, slowest answer ${probes.udp.slowestMs} ms), TCP ${probes.tcp.answered}/${probes.tcp.sent} (slowest ${probes.tcp.slowestMs} ms); probe connection closed ${tcpClosed} times; answers other than 200: ${probes.odd.length}`,
        `UDP datagrams dropped for a full receive buffer on this machine (all sockets): ${udpDrops() - dropsBefore}`,
        `Parley RSS: ${rssBefore.toFixed(0)} MB at start, ${start.toFixed(0)} MB after 10 s of fuzzing, ${rssEnd.toFixed(0)} MB at the end (peak ${rssPeak.toFixed(0)} MB; every 10 s: ${rssEvery10s.join(', ')}); ${alive ? 'alive' : 'DEAD'}`,
        `lines logged by Parley at warn or above: ${parley.problems().length}; one of each kind:`,
        ...[...new Map(parley.problems().map((l) => [l.msg, l])).values()].slice(0, 10).map((l) => `  ${JSON.stringify(l).slice(0, 400)}`),
      ].join('\n'),
    );

    assert.ok(alive, `Parley died:\n${parley.outputTail()}`);
    assert.deepEqual([...probes.udp.late, ...probes.tcp.late].slice(0, 20), [], 'probes without an answer');
    assert.deepEqual(probes.odd.slice(0, 20), [], 'probes answered with something else than 200');
    assert.equal(probes.udp.answered, probes.udp.sent);
    assert.equal(probes.tcp.answered, probes.tcp.sent);
    assert.equal(tcpClosed, 0, 'Parley closed the probe connection');
    assert.ok(probes.udp.sent >= (fuzzSeconds * 1000) / PROBE_EVERY_MS / 2, `only ${probes.udp.sent} probes`);
    assert.ok(rssEnd - start < RSS_GROWTH_LIMIT_MB, `RSS grew from ${start.toFixed(0)} to ${rssEnd.toFixed(0)} MB`);
    assert.ok(total >= Math.min(100_000, (fuzzSeconds * (PLAN.udp.rate + PLAN.tcp.rate + PLAN.wss.rate)) / 4), `only ${total} messages fuzzed`);
  });
});
