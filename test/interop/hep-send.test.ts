/**
 * Parley sends what it sees to HEP collectors (hep.collectors, app/hep): a spawned Parley with two
 * SIP workers, the collectors sockets of this test decoding with src/hep (one UDP, one TCP, both
 * fed at once). Every message sipp's -trace_msg shows for a registration with authentication and
 * for calls through Parley (over UDP, and over TCP) reaches each collector exactly once, in its
 * direction, with the addresses and ports of the wire, the transport, and times in the order the
 * messages went; OPTIONS sampled at 0 never arrive; and a TCP collector that never reads costs
 * capture (drops counted in /metrics), never an answer. RTCP of a call whose media Parley anchors
 * reaches the collector as Homer's JSON report (type 5) with the Call-ID, and RTP headers (type 4).
 * And Kamailio's sipcapture module, as the collector, reads what Parley sends of a registration.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RtpPeer } from '../support/rtp-peer.js';
import { decodeHep, HepIpProtocol, HepProtocolType, HepStreamFramer, hepDestination, hepSource, type HepPacket } from '../../src/hep/index.js';
import { call, registerPhone, startUas } from './support/calls.js';
import { signalPid, spawnBounded, type BoundedChild } from './support/child.js';
import { kamailioMissing } from './support/kamailio.js';
import { ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings, register } from './support/registration.js';
import { header, type SippTraceEntry } from './support/sip-trace.js';
import { runSipp, skipWithoutSipp, startSipp, type SippResult } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const BOB = { user: 'bob', password: 'secret2' };
const CAPTURE_ID = 4242;
const pool = portPool(import.meta.url);
const td = new TextDecoder();

/** What a collector of this test received, decoded. */
class Collector {
  readonly packets: HepPacket[] = [];
  readonly errors: string[] = [];
  add(bytes: Uint8Array): void {
    const r = decodeHep(bytes);
    if (r.ok) this.packets.push(r.value);
    else this.errors.push(`${r.error.reason} at ${r.error.offset}`);
  }
  /**
   * The SIP packets of one Call-ID in the order of their HEP times (each thread of Parley has its
   * own connection to a TCP collector: the order of arrival is not the order of the wire).
   */
  ofCall(callId: string): HepPacket[] {
    const time = (p: HepPacket): number => p.timeSeconds! * 1e6 + p.timeMicroseconds!;
    return this.packets.filter((p) => p.protocolType === HepProtocolType.SIP && header(textOf(p), 'Call-ID') === callId).sort((a, b) => time(a) - time(b));
  }
}

/** A packet's SIP text as sipp's trace normalises it (LF line ends, no trailing blank lines). */
function textOf(p: HepPacket): string {
  return td.decode(p.payload).replace(/\r\n/g, '\n').replace(/\n+$/, '');
}

async function udpCollector(port: number): Promise<{ socket: UdpSocket; c: Collector }> {
  const c = new Collector();
  const socket = createSocket('udp4');
  socket.on('message', (m) => c.add(m));
  await new Promise<void>((r) => socket.bind(port, '127.0.0.1', r));
  return { socket, c };
}

async function tcpCollector(port: number, read = true): Promise<{ server: Server; sockets: Socket[]; c: Collector }> {
  const c = new Collector();
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    if (!read) {
      s.pause();
      return;
    }
    const framer = new HepStreamFramer((b) => c.add(b));
    s.on('data', (d) => {
      const e = framer.push(d);
      if (e !== undefined) c.errors.push(`framing: ${e.reason} at ${e.offset}`);
    });
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, sockets, c };
}

/** Poll until `ok` (at most 5 s); no timing is asserted, only that it happens. */
async function until(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !ok(); i++) await sleep(20);
}

/** One captured packet in a line: time, ports, transport, start line. */
function line(p: HepPacket): string {
  return `${p.timeSeconds}.${String(p.timeMicroseconds).padStart(6, '0')} ${hepSource(p)?.port} -> ${hepDestination(p)?.port} ${p.ipProtocol === HepIpProtocol.UDP ? 'UDP' : 'TCP'} ${textOf(p).split('\n')[0]}`;
}

interface Side {
  readonly run: SippResult;
  /** sipp's own port on this run (for UDP: -p; for TCP: undefined, an ephemeral port). */
  readonly port: number | undefined;
  readonly transport: 'udp' | 'tcp';
}

/**
 * Every message of the sipp runs' traces is among `packets` exactly once, matched by its text, in
 * its direction (sipp sent it: to Parley's port; sipp received it: from Parley's port), with the
 * transport and sipp's port; and there is nothing else. Returns the packets in sipp's order.
 */
function assertAllCaptured(packets: readonly HepPacket[], sides: readonly Side[], parleyPort: number, what: string): void {
  const left = [...packets];
  let count = 0;
  for (const side of sides) {
    const proto = side.transport === 'udp' ? HepIpProtocol.UDP : HepIpProtocol.TCP;
    let last = -Infinity;
    for (const e of side.run.trace as SippTraceEntry[]) {
      count++;
      const i = left.findIndex((p) => textOf(p) === e.text && (e.direction === 'sent' ? hepDestination(p)?.port === parleyPort : hepSource(p)?.port === parleyPort));
      assert.ok(i >= 0, `${what}: ${e.direction} by sipp, not captured:\n${e.text}\n--- captured:\n${packets.map(line).join('\n')}`);
      const p = left.splice(i, 1)[0]!;
      const sipp = e.direction === 'sent' ? hepSource(p)! : hepDestination(p)!;
      const parley = e.direction === 'sent' ? hepDestination(p)! : hepSource(p)!;
      assert.equal(p.ipProtocol, proto, `${what}: transport of ${e.startLine}`);
      assert.equal(parley.address, '127.0.0.1');
      assert.equal(sipp.address, '127.0.0.1');
      if (side.port !== undefined) assert.equal(sipp.port, side.port, `${what}: sipp's port in ${e.startLine}`);
      assert.equal(p.captureAgentId, CAPTURE_ID);
      // the times of one sipp's messages are in sipp's order (each message waits for the one before)
      const t = p.timeSeconds! * 1e6 + p.timeMicroseconds!;
      assert.ok(t >= last, `${what}: ${e.startLine} captured before the message sipp saw before it`);
      last = t;
    }
  }
  // what sipp's trace does not show: retransmissions it absorbed (an INVITE Parley sent again
  // before bob's sipp answered), byte for byte copies of a message matched above
  const extra = left.filter((p) => !packets.some((q) => !left.includes(q) && textOf(q) === textOf(p)));
  assert.equal(extra.length, 0, `${what}: captured ${extra.length} more than sipp saw:\n${extra.map(textOf).join('\n---\n')}\n--- all captured:\n${packets.map(line).join('\n')}`);
  assert.ok(count > 0);
}

describe('HEP out of Parley: every SIP message to UDP and TCP collectors', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let udp: Awaited<ReturnType<typeof udpCollector>>;
  let tcp: Awaited<ReturnType<typeof tcpCollector>>;
  let metricsUrl = '';

  before(async () => {
    const ports = await pool.block(2);
    udp = await udpCollector(ports);
    tcp = await tcpCollector(ports + 1);
    parley = await ParleyServer.start({
      pool, transports: ['udp', 'tcp'], subscribers: [ALICE, BOB], workers: 2, webSockets: { ws: 'noauth' },
      config: { hep: { collectors: [`udp:127.0.0.1:${ports}`, `tcp:127.0.0.1:${ports + 1}`], captureId: CAPTURE_ID, sampling: ['OPTIONS:0'] } },
    });
    metricsUrl = `http://127.0.0.1:${parley.webPorts.ws}/metrics`;
    // every thread's TCP connection is up (main and the two workers)
    await until(() => tcp.sockets.length >= 3);
  });

  after(async () => {
    await stopCleanly(parley);
    udp?.socket.close();
    for (const s of tcp?.sockets ?? []) s.destroy();
    tcp?.server.close();
  });

  const both = (callId: string): [HepPacket[], HepPacket[]] => [udp.c.ofCall(callId), tcp.c.ofCall(callId)];

  it('a REGISTER with digest authentication over UDP: REGISTER, 401, REGISTER, 200, each once on each collector', async () => {
    const callId = 'hep-reg-1@interop';
    const run = await register(parley, ALICE, { callId });
    assert.equal(run.code, 0, run.describe());
    await until(() => both(callId).every((x) => x.length >= run.trace.length));
    for (const [name, packets] of [['UDP collector', udp.c.ofCall(callId)], ['TCP collector', tcp.c.ofCall(callId)]] as const) {
      const steps = packets.map((p) => textOf(p).split(' ')[textOf(p).startsWith('SIP/2.0 ') ? 1 : 0]);
      assert.deepEqual(steps, ['REGISTER', '401', 'REGISTER', '200'], name);
      assertAllCaptured(packets, [{ run, port: run.endpoint.port, transport: 'udp' }], parley.port!, name);
    }
    assert.deepEqual(udp.c.errors, []);
    assert.deepEqual(tcp.c.errors, []);
  });

  // over TCP the caller only: a TCP binding goes when its connection closes (sipp's REGISTER run ends)
  for (const transport of ['udp', 'tcp'] as const) {
    it(`a call through Parley, the caller over ${transport.toUpperCase()}: every message of both sipp phones, both directions`, async () => {
      const callId = `hep-call-${transport}@interop`;
      // bob's one contact is this call's sipp (the previous test's stays registered otherwise: a fork)
      await clearBindings(parley, BOB);
      const bob = await registerPhone(parley, BOB, 'udp');
      const uas = await startUas(parley, bob.endpoint, 'uas-answer.xml');
      const uac = await call(parley, 'call-basic.xml', { caller: ALICE, callee: 'bob', transport, callId });
      const bobRun = await uas.done;
      assert.equal(uac.code, 0, uac.describe());
      assert.equal(bobRun.code, 0, bobRun.describe());
      const total = uac.trace.length + bobRun.trace.length;
      await until(() => both(callId).every((x) => x.length >= total));
      const sides: Side[] = [
        { run: uac, port: transport === 'udp' ? uac.endpoint.port : undefined, transport },
        { run: bobRun, port: bob.endpoint.port, transport: 'udp' },
      ];
      for (const [name, packets] of [['UDP collector', udp.c.ofCall(callId)], ['TCP collector', tcp.c.ofCall(callId)]] as const) {
        assertAllCaptured(packets, sides, parley.port!, `${transport} call, ${name}`);
      }
    });
  }

  it('OPTIONS sampled at 0: answered, never captured, counted as sampled_out', async () => {
    const run = await runSipp({ ...parley.sippTarget(), scenario: 'options.xml', calls: 5, rate: 50, timeoutSecs: 10, recvTimeoutMs: 3000, callId: 'hep-options-%u@interop' });
    assert.equal(run.code, 0, run.describe());
    // a REGISTER after them: once it is captured, so would the OPTIONS have been
    const reg = await register(parley, ALICE, { callId: 'hep-after-options@interop' });
    assert.equal(reg.code, 0, reg.describe());
    await until(() => udp.c.ofCall('hep-after-options@interop').length >= 4 && tcp.c.ofCall('hep-after-options@interop').length >= 4);
    for (const c of [udp.c, tcp.c]) {
      assert.equal(c.ofCall('hep-after-options@interop').length, 4);
      assert.equal(c.packets.filter((p) => textOf(p).includes('hep-options-')).length, 0, 'no OPTIONS and no 200 to one');
    }
    const scrape = await (await fetch(metricsUrl)).text();
    const sampled = /^parley_hep_packets_total\{result="sampled_out"\} (\d+)/m.exec(scrape);
    assert.ok(sampled !== null && Number(sampled[1]) >= 10, `5 OPTIONS and their 200s sampled out:\n${scrape.split('\n').filter((l) => l.includes('hep')).join('\n')}`);
    const sent = /^parley_hep_packets_total\{result="sent"\} (\d+)/m.exec(scrape);
    assert.ok(sent !== null && Number(sent[1]) > 0);
  });
});

describe('HEP out of Parley: a TCP collector that never reads', { skip: skipWithoutSipp(), timeout: 180_000 }, () => {
  let parley: ParleyServer;
  let tcp: Awaited<ReturnType<typeof tcpCollector>>;

  before(async () => {
    const port = await pool.block(1);
    tcp = await tcpCollector(port, false);
    parley = await ParleyServer.start({
      pool, transports: ['udp'], workers: 2, webSockets: { ws: 'noauth' },
      config: { hep: { collectors: [`tcp:127.0.0.1:${port}`], maxWriteBuffer: 16384 } },
    });
    await until(() => tcp.sockets.length >= 3);
  });

  after(async () => {
    await stopCleanly(parley);
    for (const s of tcp?.sockets ?? []) s.destroy();
    tcp?.server.close();
  });

  it('SIP keeps being answered; the dropped packets are counted in /metrics', async () => {
    const metricsUrl = `http://127.0.0.1:${parley.webPorts.ws}/metrics`;
    const dropped = async (): Promise<number> => {
      const m = /^parley_hep_packets_total\{result="dropped"\} (\d+)/m.exec(await (await fetch(metricsUrl)).text());
      return m === null ? 0 : Number(m[1]);
    };
    // bounded: at most 12 runs of 1500 OPTIONS. The kernel takes the first megabytes: the
    // connection's send buffer grows by itself up to net.ipv4.tcp_wmem's maximum (4 MiB on
    // Debian) before a write waits in Parley, and a run is about 1.5 MB of HEP
    for (let i = 0; i < 12 && (await dropped()) === 0; i++) {
      const run = await runSipp({ ...parley.sippTarget(), scenario: 'options.xml', calls: 1500, rate: 1000, timeoutSecs: 30, recvTimeoutMs: 3000, callId: `hep-stuck-${i}-%u@interop` });
      assert.equal(run.code, 0, `every OPTIONS answered while the collector does not read:\n${run.describe().slice(0, 3000)}`);
    }
    assert.ok((await dropped()) > 0, 'drops counted');
  });
});

/** Parley's media ports: the top of this file's slice (49: 25500-25749), apart from the blocks the pool hands out at its bottom. */
const MEDIA_PORTS = { min: 25700, max: 25749 };

describe('HEP out of Parley: RTCP and RTP headers of an anchored call', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let udp: Awaited<ReturnType<typeof udpCollector>>;

  before(async () => {
    udp = await udpCollector(await pool.block(1));
    parley = await ParleyServer.start({
      pool, transports: ['udp'], subscribers: [ALICE, BOB], workers: 2,
      config: {
        media: { anchor: 'always', address: '127.0.0.1', ports: MEDIA_PORTS },
        hep: { collectors: [`udp:127.0.0.1:${udp.socket.address().port}`], captureId: CAPTURE_ID, rtpHeaders: true },
      },
    });
  });

  after(async () => {
    await stopCleanly(parley);
    udp?.socket.close();
  });

  it('an RTCP sender report from alice: type 5, JSON report, the Call-ID, addresses and ports of the wire; RTP: its 12-byte header, type 4', async () => {
    const callId = 'hep-media@interop';
    const bob = await registerPhone(parley, BOB);
    const uas = await startSipp({ ...parley.sippTarget('udp'), scenario: 'uas-answer.xml', endpoint: bob.endpoint, calls: 1, timeoutSecs: 20, recvTimeoutMs: 8000, extraArgs: ['-rtp_echo'] });
    // alice's RTP socket and, on the next port, her RTCP socket (RFC 3550 §11: RTCP on RTP + 1)
    const base = await pool.block(2);
    const alice = await RtpPeer.open(base);
    const aliceRtcp = await RtpPeer.open(base + 1);
    const dir = await mkdtemp(join(tmpdir(), 'parley-hep-media-'));
    const portFile = join(dir, 'port');
    try {
      const uac = await startSipp(
        {
          ...parley.sippTarget('udp'), scenario: 'media-call.xml', calls: 1, timeoutSecs: 20, recvTimeoutMs: 5000,
          credentials: [ALICE], service: 'bob', pauseMs: 2000, callId, keys: { rtp_port: String(base), port_file: portFile },
        },
        false,
      );
      let port = 0;
      for (let i = 0; i < 200 && !(port > 0); i++) {
        port = Number((await readFile(portFile, 'utf8').catch(() => '0')).trim());
        if (!(port > 0)) await sleep(50);
      }
      assert.ok(port >= MEDIA_PORTS.min && port <= MEDIA_PORTS.max, `alice was answered port ${port}`);
      for (let i = 0; i < 3; i++) alice.sendRtp(0, port);
      // an SR (RFC 3550 §6.4.1) with one report block
      const sr = Buffer.alloc(52);
      sr[0] = 0x81;
      sr[1] = 200;
      sr.writeUInt16BE(12, 2);
      sr.writeUInt32BE(0x11223344, 4);
      sr.writeUInt32BE(1000, 24); // octets
      sr.writeUInt32BE(7, 20); // packets
      sr.writeUInt32BE(0x55667788, 28);
      sr[32] = 3;
      sr.writeUInt32BE(42, 40); // jitter
      aliceRtcp.send(sr, port + 1);
      const media = (): HepPacket[] => udp.c.packets.filter((p) => p.protocolType === HepProtocolType.RTCP || p.protocolType === HepProtocolType.RTP);
      await until(() => media().some((p) => p.protocolType === HepProtocolType.RTCP) && media().filter((p) => p.protocolType === HepProtocolType.RTP).length >= 3);
      const [uacRun, uasRun] = await Promise.all([uac.done, uas.done]);
      assert.equal(uacRun.code, 0, uacRun.describe());
      assert.equal(uasRun.code, 0, uasRun.describe());

      const rtcp = media().filter((p) => p.protocolType === HepProtocolType.RTCP && hepSource(p)?.port === base + 1);
      assert.equal(rtcp.length, 1, `alice's one SR:\n${media().map(line).join('\n')}`);
      const r = rtcp[0]!;
      assert.equal(r.correlationId, callId);
      assert.deepEqual(hepSource(r), { address: '127.0.0.1', port: base + 1 });
      assert.deepEqual(hepDestination(r), { address: '127.0.0.1', port: port + 1 });
      assert.equal(r.ipProtocol, HepIpProtocol.UDP);
      assert.equal(r.captureAgentId, CAPTURE_ID);
      const report = JSON.parse(td.decode(r.payload)) as { ssrc: number; type: number; sender_information: { packets: number; octets: number }; report_blocks: { source_ssrc: number; fraction_lost: number; ia_jitter: number }[] };
      assert.equal(report.type, 200);
      assert.equal(report.ssrc, 0x11223344);
      assert.deepEqual([report.sender_information.packets, report.sender_information.octets], [7, 1000]);
      assert.deepEqual(report.report_blocks.map((b) => [b.source_ssrc, b.fraction_lost, b.ia_jitter]), [[0x55667788, 3, 42]]);

      // alice's RTP, and bob's echo of it, as headers only
      const rtp = media().filter((p) => p.protocolType === HepProtocolType.RTP);
      const fromAlice = rtp.filter((p) => hepSource(p)?.port === base);
      assert.equal(fromAlice.length, 3);
      for (const p of rtp) {
        assert.equal(p.payload!.length, 12);
        assert.equal(p.correlationId, callId);
      }
      assert.ok(rtp.some((p) => hepSource(p)?.port !== base), 'bob\'s echo, as Parley received it from him');
    } finally {
      alice.close();
      aliceRtcp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const SIPCAPTURE_CFG = join(REPO_ROOT, 'test/interop/support/kamailio-sipcapture.cfg');
const kamailioWhy = kamailioMissing(SIPCAPTURE_CFG);
// kamailioMissing also asks for the WebSocket module, which sipcapture's configuration does not load
const noKamailio = kamailioWhy !== undefined && !kamailioWhy.includes('websocket') ? (process.env.CI ? false : `${kamailioWhy}; skipped outside CI`) : false;

describe("HEP out of Parley: Kamailio's sipcapture module as the collector", { skip: skipWithoutSipp() || noKamailio, timeout: 120_000 }, () => {
  let parley: ParleyServer;
  let kamailio: BoundedChild | undefined;
  let dir = '';
  let output = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-hep-sipcapture-'));
    await mkdir(join(dir, 'db'));
    const port = await pool.block(1);
    kamailio = spawnBounded(
      'kamailio',
      ['-f', SIPCAPTURE_CFG, '-DD', '-E', '-Y', dir, '-P', join(dir, 'kamailio.pid'), '-m', '32', '-M', '8', '-A', `HEP_PORT=${port}`, '-A', `DB_URL="text://${join(dir, 'db')}"`],
      { cwd: dir, timeoutMs: 120_000, onOutput: (t) => (output += t) },
    );
    parley = await ParleyServer.start({ pool, transports: ['udp'], subscribers: [ALICE], workers: 2, config: { hep: { collectors: [`udp:127.0.0.1:${port}`], captureId: CAPTURE_ID, authKey: 'parley-key' } } });
  });

  after(async () => {
    await stopCleanly(parley);
    if (kamailio?.pid !== undefined && kamailio.running()) signalPid(kamailio.pid, 'SIGTERM');
    await kamailio?.done.catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the four messages of a REGISTER with authentication: addresses, ports, UDP, SIP, capture id, auth key', async () => {
    const callId = 'hep-sipcapture@interop';
    // Kamailio's socket may come up after Parley's first messages: registered again until it printed them, bounded
    let run: SippResult | undefined;
    const printed = (): string[][] =>
      [...output.matchAll(/HEP\{([\s\S]*?)\}HEP/g)].map((m) => m[1]!.split('|')).filter((c) => c.slice(16).join('|').includes(callId));
    for (let i = 0; i < 5 && printed().length < 4; i++) {
      run = await register(parley, ALICE, { callId });
      assert.equal(run.code, 0, run.describe());
      await until(() => printed().length >= 4);
    }
    // each thread sends its own HEP (the worker that read the REGISTER, the one that answered it):
    // Kamailio prints them as they arrive, so they are put in capture-time order (sec, usec)
    const rows = printed()
      .sort((a, b) => Number(a[9]) - Number(b[9]) || Number(a[10]) - Number(b[10]))
      .slice(-4);
    assert.equal(rows.length, 4, `Kamailio printed:\n${output.slice(-5000)}`);
    const sippPort = String(run!.endpoint.port);
    const parleyPort = String(parley.port);
    // version|family|proto|src4|dst4|src6|dst6|sport|dport|sec|usec|type|capture id|keepalive|auth key|correlation|payload
    const steps = rows.map((c) => [c[0], c[1], c[2], c[3], c[4], c[7], c[8], c[11], c[12], c[14], c.slice(16).join('|').split(' ')[c.slice(16).join('|').startsWith('SIP/2.0') ? 1 : 0]]);
    assert.deepEqual(steps, [
      ['3', '2', '17', '127.0.0.1', '127.0.0.1', sippPort, parleyPort, '1', String(CAPTURE_ID), 'parley-key', 'REGISTER'],
      ['3', '2', '17', '127.0.0.1', '127.0.0.1', parleyPort, sippPort, '1', String(CAPTURE_ID), 'parley-key', '401'],
      ['3', '2', '17', '127.0.0.1', '127.0.0.1', sippPort, parleyPort, '1', String(CAPTURE_ID), 'parley-key', 'REGISTER'],
      ['3', '2', '17', '127.0.0.1', '127.0.0.1', parleyPort, sippPort, '1', String(CAPTURE_ID), 'parley-key', '200'],
    ]);
  });
});
