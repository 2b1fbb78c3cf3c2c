/**
 * CPU time of the HEP capture per SIP message, alone: HepCapture (app/hep) fed a 520-byte
 * REGISTER and its 200 N times, in bursts of 50 per event-loop turn as a busy worker sees them,
 * sent to a UDP collector on loopback (a child process that reads and counts). Reports µs of this
 * process's CPU (user + system) per message with capture on, and the same loop with no tap
 * installed (the comparison a socket site pays when HEP is off). Loopback only; bounded by N; the
 * collector is ended by its PID.
 *
 *   ./node_modules/.bin/node --import tsx bench/sip/hep-capture-cost.ts [N=200000] [PORT=25745]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setImmediate as turn } from 'node:timers/promises';
import { configFromObject } from '../../src/app/config.js';
import { startHepCapture, stopHepCapture } from '../../src/app/hep/hep-capture.js';
import { wireTap } from '../../src/sip-server/transport/wire-tap.js';

const N = Number(process.argv[2] ?? 200_000);
const PORT = Number(process.argv[3] ?? 25745);
const te = new TextEncoder();
const REGISTER = te.encode(
  'REGISTER sip:127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1234-1-0;rport\r\nFrom: <sip:user000001@127.0.0.1>;tag=1234SIPpTag001\r\n' +
    'To: <sip:user000001@127.0.0.1>\r\nCall-ID: 1-1234@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:user000001@127.0.0.1:5062>\r\nMax-Forwards: 70\r\n' +
    'Expires: 3600\r\nUser-Agent: SIPp\r\nContent-Length: 0\r\n\r\n',
);
const OK = te.encode(
  'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-1234-1-0;rport=5062;received=127.0.0.1\r\nFrom: <sip:user000001@127.0.0.1>;tag=1234SIPpTag001\r\n' +
    'To: <sip:user000001@127.0.0.1>;tag=abc\r\nCall-ID: 1-1234@127.0.0.1\r\nCSeq: 1 REGISTER\r\nContact: <sip:user000001@127.0.0.1:5062>;expires=3600\r\nContent-Length: 0\r\n\r\n',
);

async function loop(): Promise<number> {
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i += 50) {
    for (let k = 0; k < 50; k += 2) {
      if (wireTap !== undefined) wireTap(REGISTER, 'udp', '127.0.0.1', 5062, '127.0.0.1', 5060);
      if (wireTap !== undefined) wireTap(OK, 'udp', '127.0.0.1', 5060, '127.0.0.1', 5062);
    }
    await turn();
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / N;
}

const SINK = `const s = require('node:dgram').createSocket('udp4'); let n = 0; s.on('message', () => n++);
s.bind(${PORT}, '127.0.0.1', () => console.log('ready')); process.on('SIGTERM', () => { console.log(n); process.exit(0); }); setTimeout(() => process.exit(1), 120000);`;
const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
sink.stdout.on('data', (d: Buffer) => (out += d.toString()));
while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
const silent = { info() {}, warn() {}, debug() {}, error() {}, child() { return silent; } } as never;
const off = await loop();
const capture = startHepCapture(configFromObject({ hep: { collectors: [`udp:127.0.0.1:${PORT}`] } }).hep, silent);
await new Promise((r) => setTimeout(r, 50));
const on = await loop();
await new Promise((r) => setTimeout(r, 200));
stopHepCapture(capture);
sink.kill('SIGTERM');
await once(sink, 'exit');
const received = out.split('\n')[1]?.trim() ?? '?';
console.log(`hep capture: ${N} messages, off ${off.toFixed(3)} µs/message (the loop alone), on ${on.toFixed(2)} µs/message, ${received} datagrams at the collector`);
