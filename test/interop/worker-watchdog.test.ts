// A SIP worker made to hang in a real Parley process (two workers): a routing script whose
// onRequest loops forever for a request carrying `X-Hang` — a slow routing script, as a bug in
// one would be. What must hold while that worker is stuck and after:
// (a) a flood of UDP datagrams whose Call-IDs hash to the stuck worker does not pile up in the
//     socket thread: Parley's resident memory stays bounded, and the datagrams beyond the bound
//     are shed, counted (the main thread's stats line) and said once (one warning);
// (b) requests whose Call-IDs hash to the other worker are answered throughout (OPTIONS), from the
//     sources the kernel gives the other worker's socket (each worker reads its own UDP socket,
//     SO_REUSEPORT: the sources it gives the stuck worker's socket wait for the watchdog);
// (d) a TCP connection sending requests for the stuck worker is not read beyond the bound (its
//     bytes wait in the kernel, none dropped), and is read again once the worker is replaced;
// (c) the watchdog says which worker was silent and for how long, terminates it and starts a new
//     one in its slot; requests of that slot are answered again, and the process never exits.
// The datagrams come from SOURCES sockets: the kernel picks the worker socket by source address and
// port, and the flood must reach the other worker (which hands datagrams on to the stuck one,
// under the bound) as well as the stuck one's own socket (where the kernel drops what its buffer
// cannot hold). On the code before the bound and the watchdog, the flood grew the process by about as many
// bytes as it sent (and more), nothing was logged or counted, and the stuck worker stayed stuck.
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { readFile, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { workerOf } from '../../src/sip-server/workers/call-id-hash.js';
import { ParleyServer, stopCleanly, type LogLine } from './support/parley.js';
import { portPool } from './support/ports.js';
import { runSipp, skipWithoutSipp } from './support/sipp.js';

const pool = portPool(import.meta.url);
const WORKERS = 2;
/** The watchdog's threshold in this test, s: long enough for the flood to land while the worker hangs. */
const WATCHDOG_S = 20;
/** The flood: this many datagrams of about FLOOD_SIZE bytes, in bursts, bounded in time. */
const FLOOD = 60_000;
const FLOOD_SIZE = 1200;
const FLOOD_BURST = 200;
const FLOOD_MAX_MS = 8000;
/** The bound on the queue to a worker in this test (sip.workerQueue.maxMessages; 2.4 MB of these datagrams). */
const QUEUE = 2000;
/**
 * The most Parley's RSS may grow during the flood, MB. The flood carries 72 MB: before the bound,
 * Parley grew by 103 MB; with it, by 29-33 MB (measured): what is in flight (QUEUE datagrams, as
 * items in the socket thread's batch and serialized in the worker's channel) and the socket
 * thread's own garbage between two collections of its young generation.
 */
const MAX_GROWTH_MB = 64;
/** Requests over one TCP connection for the stuck worker (about 24 MB). */
const TCP_REQUESTS = 20_000;
/** Source sockets of the flood and of the OPTIONS in (b): all on one worker socket by chance: 2^-15. */
const SOURCES = 16;

const SCRIPT = `import type { RequestContext } from 'parley/routing';

export function onRequest(ctx: RequestContext): void {
  // a slow routing script: this request never returns, and the worker running it takes nothing more
  if (ctx.header('X-Hang') !== undefined) for (;;);
  if (ctx.method === 'OPTIONS') return ctx.replyOptions();
  ctx.reply(200);
}
`;

const enc = new TextEncoder();
const slotOf = (callId: string): number => workerOf(enc.encode(`X\r\nCall-ID: ${callId}\r\n\r\n`), WORKERS);

/** A Call-ID with this tag that hashes to worker `w`. */
function callIdIn(w: number, tag: string): string {
  for (let i = 0; ; i++) {
    const id = `${tag}-${i}@watchdog`;
    if (slotOf(id) === w) return id;
  }
}

/** Parley's resident memory, MB (VmRSS). */
async function rssMB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  assert.ok(m !== null, 'no VmRSS');
  return Number(m[1]) / 1024;
}

/**
 * Bytes waiting in the receive queue of Parley's end of the TCP connection from `clientPort` to
 * `port` (/proc/net/tcp): what Parley has not read.
 */
async function unreadByParley(port: number, clientPort: number): Promise<number | undefined> {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  for (const line of (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === `0100007F:${hex(port)}` && f[2] === `0100007F:${hex(clientPort)}`) return Number.parseInt(f[4]!.split(':')[1]!, 16);
  }
  return undefined;
}

function request(method: string, callId: string, port: number, extra: string[] = [], body = '', transport = 'UDP'): Buffer {
  return Buffer.from(
    [
      `${method} sip:watchdog@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/${transport} 127.0.0.1:9;branch=z9hG4bK-${callId.replace(/[^a-z0-9]/gi, '')}-${Math.random().toString(36).slice(2)};rport`,
      `From: <sip:flood@127.0.0.1>;tag=f1`,
      `To: <sip:watchdog@127.0.0.1>`,
      `Call-ID: ${callId}`,
      `CSeq: 1 ${method}`,
      'Max-Forwards: 70',
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n'),
  );
}

function send(socket: Socket, bytes: Buffer, port: number): Promise<void> {
  return new Promise((res, rej) => socket.send(bytes, port, '127.0.0.1', (e) => (e ? rej(e) : res())));
}

describe('a SIP worker made to hang: bounded queue, the other worker serves, the watchdog replaces it', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let scriptDir: string;
  let socket: Socket;
  let sockets: Socket[] = [];
  /** The worker made to hang, and the other. */
  const hung = 0;
  const other = 1;
  let baselineMB = 0;
  let peakMB = 0;
  let sent = 0;
  let tcp: TcpSocket | undefined;
  let tcpAnswers = 0;
  let tcpClosed = false;

  const lines = (pattern: RegExp, level?: number): LogLine[] => parley.logs.filter((l) => pattern.test(l.msg ?? '') && (level === undefined || l.level === level));
  const until = async (what: string, done: () => boolean, ms = 30_000): Promise<void> => {
    for (let t = 0; t < ms && !done(); t += 100) await new Promise((r) => setTimeout(r, 100));
    assert.ok(done(), `still waiting for: ${what}\n${parley.outputTail(30)}`);
  };
  /** One OPTIONS from sipp with this Call-ID (sipp retransmits it over UDP until answered). */
  const options = (callId: string) => runSipp({ ...parley.sippTarget('udp'), scenario: 'options.xml', calls: 1, callId, timeoutSecs: 15, recvTimeoutMs: 8000 });

  before(async () => {
    scriptDir = await mkdtemp(join(tmpdir(), 'parley-watchdog-'));
    const script = join(scriptDir, 'hang.ts');
    await writeFile(script, SCRIPT);
    parley = await ParleyServer.start({
      pool,
      transports: ['udp', 'tcp'],
      workers: WORKERS,
      script,
      config: { log: { statsInterval: 1 }, sip: { workerWatchdog: WATCHDOG_S, workerQueue: { maxMessages: QUEUE } } },
    });
    sockets = await Promise.all(
      Array.from({ length: SOURCES }, async () => {
        const s = createSocket('udp4');
        await new Promise<void>((res) => s.bind(0, '127.0.0.1', () => res()));
        return s;
      }),
    );
    socket = sockets[0]!;
  });

  after(async () => {
    tcp?.destroy();
    for (const s of sockets) s.close();
    await stopCleanly(parley);
    await rm(scriptDir, { recursive: true, force: true });
  });

  it('before the hang, both workers answer', async () => {
    for (const w of [hung, other]) {
      const r = await options(callIdIn(w, 'before'));
      assert.equal(r.code, 0, `worker ${w} did not answer:\n${r.describe()}`);
    }
  });

  it('(b) with one worker stuck in the routing script, the other worker still answers', async () => {
    baselineMB = await rssMB(parley.pid!);
    await send(socket, request('MESSAGE', callIdIn(hung, 'hang'), parley.port!, ['X-Hang: yes']), parley.port!);
    // an OPTIONS for the other worker from every source: those the kernel gives the other
    // worker's socket are answered (the others wait in the stuck worker's socket)
    const answered = new Set<number>();
    const listeners = sockets.map((s, i) => {
      const on = (m: Buffer): void => {
        if (m.toString('latin1').startsWith('SIP/2.0 200 ')) answered.add(i);
      };
      s.on('message', on);
      return on;
    });
    await Promise.all(sockets.map((s, i) => send(s, request('OPTIONS', callIdIn(other, `during-${i}`), parley.port!), parley.port!)));
    await until('an answer from the other worker during the hang', () => answered.size > 0, 8000);
    sockets.forEach((s, i) => s.off('message', listeners[i]!));
    assert.equal(lines(/silent for/).length, 0, 'the watchdog fired before the flood (the test would not test the bound)');
  });

  it('(a) a flood for the stuck worker is shed: memory stays bounded, the shed datagrams are counted and said once', async () => {
    const pid = parley.pid!;
    const padding = 'x'.repeat(FLOOD_SIZE - request('OPTIONS', callIdIn(hung, 'flood-0'), parley.port!).length);
    const ids = Array.from({ length: 64 }, (_, i) => callIdIn(hung, `flood-${i}`));
    const started = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakMB = Math.max(peakMB, await rssMB(pid));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    while (sent < FLOOD && Date.now() - started < FLOOD_MAX_MS) {
      const burst: Array<Promise<void>> = [];
      for (let i = 0; i < FLOOD_BURST; i++, sent++) burst.push(send(sockets[sent % SOURCES]!, request('OPTIONS', ids[sent % ids.length]!, parley.port!, [`X-Pad: ${padding}`]), parley.port!));
      await Promise.all(burst);
      await new Promise((r) => setTimeout(r, 2)); // let Parley's socket thread read
    }
    await new Promise((r) => setTimeout(r, 1500)); // and what it read settle (a stats line or two)
    sampling = false;
    await sampler;
    const growth = peakMB - baselineMB;
    const stats = lines(/^stats$/).filter((l) => l.workers === WORKERS).at(-1);
    const shed = (stats?.shedDatagrams as number | undefined) ?? 0;
    console.log(`# flood: ${sent} datagrams of ${FLOOD_SIZE} bytes in ${Date.now() - started} ms; RSS ${baselineMB.toFixed(0)} MB before, peak ${peakMB.toFixed(0)} MB (+${growth.toFixed(0)} MB); shedDatagrams ${shed}`);
    assert.ok(lines(/silent for/).length === 0, 'the watchdog fired during the flood: make WATCHDOG_S longer');
    assert.ok(growth < MAX_GROWTH_MB, `Parley grew by ${growth.toFixed(0)} MB during a flood of ${sent} datagrams for a stuck worker`);
    assert.ok(shed > 0, `no datagram counted as shed in the main stats line: ${JSON.stringify(stats)}`);
    const warnings = lines(/not keeping up/);
    assert.equal(warnings.length, 1, `one warning per episode:\n${warnings.map((l) => JSON.stringify(l)).join('\n')}`);
    assert.equal(warnings[0]!.worker, hung);
  });

  it('(d) a TCP connection whose requests go to the stuck worker is not read beyond the bound: its bytes wait, none is dropped', async () => {
    const port = parley.port!;
    tcp = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => tcp!.once('connect', res).once('error', rej));
    tcp.on('error', () => {});
    tcp.on('close', () => (tcpClosed = true));
    // count the 200s that come back (a response may span two reads: keep the tail)
    let tail = '';
    tcp.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      tcpAnswers += text.split('SIP/2.0 200 ').length - 1;
      tail = text.slice(-16);
    });
    const padding = 'x'.repeat(FLOOD_SIZE - request('OPTIONS', callIdIn(hung, 'tcp-0'), port, [], '', 'TCP').length);
    const ids = Array.from({ length: 64 }, (_, i) => callIdIn(hung, `tcp-${i}`));
    let bytes = 0;
    for (let i = 0; i < TCP_REQUESTS; i++) {
      const r = request('OPTIONS', ids[i % ids.length]!, port, [`X-Pad: ${padding}`], '', 'TCP');
      bytes += r.length;
      tcp.write(r);
    }
    // wait until nothing moves any more: either Parley stopped reading (bytes wait in its
    // receive queue and in ours), or it read everything
    const clientPort = tcp.localPort!;
    let last = '';
    let still = 0;
    let unread: number | undefined;
    for (let t = 0; t < 30_000 && still < 4; t += 250) {
      await new Promise((r) => setTimeout(r, 250));
      unread = await unreadByParley(port, clientPort);
      const now = `${unread}/${tcp.writableLength}`;
      still = now === last ? still + 1 : 0;
      last = now;
    }
    console.log(`# tcp: ${TCP_REQUESTS} requests (${(bytes / 1048576).toFixed(0)} MB) written; unread in Parley's receive queue ${unread} bytes, ${tcp.writableLength} bytes still in ours; answers ${tcpAnswers}`);
    assert.equal(lines(/silent for/).length, 0, 'the watchdog fired before the connection was seen paused: make WATCHDOG_S longer');
    assert.ok(!tcpClosed, 'Parley closed the connection');
    assert.ok(unread !== undefined && unread > 0, `Parley read everything the connection carried for a stuck worker (unread: ${unread}, ours: ${tcp.writableLength})`);
    assert.equal(tcpAnswers, 0);
  });

  it('(c) the watchdog reports the silent worker, replaces it; its Call-IDs are answered again and the process lives', async () => {
    await until('the watchdog reports the silent worker', () => lines(/silent for/).length > 0, (WATCHDOG_S + 20) * 1000);
    const silent = lines(/silent for/);
    assert.equal(silent.length, 1);
    assert.equal(silent[0]!.worker, hung);
    assert.equal(silent[0]!.level, 50, 'an error line');
    assert.ok((silent[0]!.silentMs as number) >= WATCHDOG_S * 1000);
    // the episode ends with the worker: one line with what it shed
    await until('the end of the episode', () => lines(/queue drained/).length > 0);
    const end = lines(/queue drained/)[0]!;
    assert.equal(end.worker, hung);
    assert.ok((end.shedDatagrams as number) > 0, JSON.stringify(end));
    const r = await options(callIdIn(hung, 'after'));
    assert.equal(r.code, 0, `the new worker did not answer:\n${r.describe()}`);
    const o = await options(callIdIn(other, 'after'));
    assert.equal(o.code, 0, `the other worker did not answer:\n${o.describe()}`);
    // (d) the paused connection is read again: every byte reaches Parley, and the new worker answers
    await until('Parley reads the rest of the TCP connection', () => tcp!.writableLength === 0, 60_000);
    // every request over TCP is answered but those that were in flight to the stuck worker when it
    // was terminated: of what was lost with it, QUEUE were the hang and the datagrams (the flood filled the bound)
    const lostOverTcp = (): number => ((lines(/^stats$/).at(-1)?.lostMessages as number | undefined) ?? 0) - QUEUE;
    await until('answers to every request over TCP but those lost with the worker', () => tcpAnswers >= TCP_REQUESTS - lostOverTcp(), 60_000);
    assert.ok(!tcpClosed, 'Parley closed the connection');
    assert.ok(parley.alive, 'Parley exited');
    const last = lines(/^stats$/).filter((l) => l.workers === WORKERS).at(-1);
    console.log(`# after: ${JSON.stringify({ shedDatagrams: last?.shedDatagrams, lostMessages: last?.lostMessages, silentWorkers: last?.silentWorkers, rssMB: last?.rssMB, tcpAnswers })}`);
  });
});
