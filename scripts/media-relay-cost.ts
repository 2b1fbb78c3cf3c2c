/**
 * CPU per relayed packet of a plain RTP → RTP anchored call (src/media: port pool, RtpLeg,
 * bridge), against a bare UDP relay doing the same socket work (receive on one socket, send from
 * another), to compare with rtpengine's userspace forwarding later. The relay runs in a child
 * process (its CPU is read with process.cpuUsage in it); this process plays both phones on
 * 127.0.0.1: PACKETS packets of 172 bytes each way, in bursts of BURST every millisecond, then
 * counts what arrived. Bounded in count and time.
 * Run: ./node_modules/.bin/node --import tsx scripts/media-relay-cost.ts
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';

const PACKETS = 20_000;
const BURST = 10;

type Mode = 'parley' | 'bare';
type FromChild = { k: 'ports'; toA: number; toB: number } | { k: 'cpu'; userUs: number; systemUs: number; relayed: number };

async function child(mode: Mode): Promise<void> {
  const send = (m: FromChild): void => void process.send!(m);
  let start = process.cpuUsage();
  let relayed = 0;
  if (mode === 'parley') {
    const { MediaSessions } = await import('../src/media/media-sessions.js');
    const { PortPool } = await import('../src/media/port-pool.js');
    const { legFactory } = await import('../src/media/leg-factory.js');
    const { sdpFunctions } = await import('../src/media/sdp-wiring.js');
    const m = new MediaSessions({ pool: new PortPool({ address: '127.0.0.1', minPort: 0, maxPort: 0 }), advertise: '127.0.0.1', timeoutS: 60, maxSessions: 10, sdp: sdpFunctions as never, legs: legFactory() });
    process.on('message', async (msg: { k: string; a?: number; b?: number }) => {
      if (msg.k === 'call') {
        const sdp = (port: number): string => `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`;
        const src = { transport: 'udp' as const, address: '127.0.0.1', port: 5060 };
        const o = await m.offer({ callId: 'bench', fromTag: 'a', branch: 'b1', sdp: sdp(msg.a!), source: src, towards: 'rtp', mode: 'always' });
        const a = await m.answer({ callId: 'bench', fromTag: 'a', toTag: 'b', branch: 'b1', sdp: sdp(msg.b!), source: src });
        const port = (r: typeof o): number => (r.ok && r.anchored ? Number(/m=audio (\d+)/.exec(r.sdp)![1]) : 0);
        if (port(a) === 0 || port(o) === 0) console.error('not anchored', o, a);
        send({ k: 'ports', toA: port(a), toB: port(o) });
        start = process.cpuUsage();
      } else if (msg.k === 'done') {
        const c = process.cpuUsage(start);
        const s = m.session('bench')!.bridge!.counters;
        send({ k: 'cpu', userUs: c.user, systemUs: c.system, relayed: s.aToB + s.bToA });
        m.close();
        process.exit(0);
      }
    });
  } else {
    const bind = (): Promise<Socket> => new Promise((r) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
    const toA = await bind();
    const toB = await bind();
    let peerA: number | undefined;
    let peerB: number | undefined;
    toA.on('message', (p, r) => { peerA = r.port; if (peerB !== undefined) { relayed++; toB.send(p, peerB, '127.0.0.1'); } });
    toB.on('message', (p, r) => { peerB = r.port; if (peerA !== undefined) { relayed++; toA.send(p, peerA, '127.0.0.1'); } });
    process.on('message', (msg: { k: string; a?: number; b?: number }) => {
      if (msg.k === 'call') {
        peerA = msg.a;
        peerB = msg.b;
        send({ k: 'ports', toA: toA.address().port, toB: toB.address().port });
        start = process.cpuUsage();
      } else if (msg.k === 'done') {
        const c = process.cpuUsage(start);
        send({ k: 'cpu', userUs: c.user, systemUs: c.system, relayed });
        process.exit(0);
      }
    });
  }
  send({ k: 'ports', toA: 0, toB: 0 });
}

function next(p: ChildProcess): Promise<FromChild> {
  return new Promise((r) => p.once('message', (m: FromChild) => r(m)));
}

async function run(mode: Mode): Promise<void> {
  const bind = (): Promise<Socket> => new Promise((r) => { const s = createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); });
  const a = await bind();
  const b = await bind();
  let gotA = 0;
  let gotB = 0;
  a.on('message', () => gotA++);
  b.on('message', () => gotB++);
  const p = fork(fileURLToPath(import.meta.url), [mode], { execArgv: ['--import', 'tsx'] });
  await next(p);
  p.send({ k: 'call', a: a.address().port, b: b.address().port });
  const ports = (await next(p)) as Extract<FromChild, { k: 'ports' }>;
  const packet = Buffer.alloc(172, 0xd5);
  packet[0] = 0x80;
  packet[1] = 0; // PCMU
  const t0 = Date.now();
  for (let i = 0; i < PACKETS; i += BURST) {
    for (let j = 0; j < BURST; j++) {
      packet.writeUInt16BE((i + j) & 0xffff, 2);
      a.send(packet, ports.toA, '127.0.0.1');
      b.send(packet, ports.toB, '127.0.0.1');
    }
    await new Promise((r) => setTimeout(r, 1));
    if (Date.now() - t0 > 60_000) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  p.send({ k: 'done' });
  const cpu = (await next(p)) as Extract<FromChild, { k: 'cpu' }>;
  const us = (cpu.userUs + cpu.systemUs) / cpu.relayed;
  console.log(`${mode.padEnd(7)} relayed ${cpu.relayed} of ${2 * PACKETS} (received ${gotA + gotB}) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${us.toFixed(1)} µs CPU per packet (user ${(cpu.userUs / cpu.relayed).toFixed(1)}, system ${(cpu.systemUs / cpu.relayed).toFixed(1)})`);
  a.close();
  b.close();
}

const mode = process.argv[2] as Mode | undefined;
if (mode === 'parley' || mode === 'bare') void child(mode);
else {
  await run('bare');
  await run('parley');
}
