/**
 * Load generator for a media relay driven by rtpengine's ng protocol: rtpengine itself, or
 * Parley's media plane with `media.control.listen`. For each step of N calls it sets up N calls
 * (ng `offer` naming side A's RTP address, `answer` naming side B's), sends synthetic 20-ms PCMU
 * both ways (160-byte payload, 50 packets/s per direction, sequence and timestamp right, the
 * send time in the payload), receives on both sides, then deletes the calls. Steps go up until
 * loss passes --max-loss, the generator cannot keep its own rate, or --max-calls.
 *
 *   node --import tsx bench/media/media-load.ts --ng 127.0.0.1:2223 --pid 1234 --steps 50,100,200 --secs 10
 *   node --import tsx bench/media/media-load.ts --compare rtpengine.json parley.json
 *
 * Per step: relayed packets/s (received by both sides, over the measured window), loss (packets
 * sent in the window that never arrived, after a drain), one-way latency through the relay
 * (p50/p99; it includes the generator's own event loop on receipt, so a direct-path baseline is
 * printed too), RFC 3550 A.8 interarrival jitter per stream (mean and worst; computed from the
 * send times, so that it is what the relay adds), and the server's CPU
 * (/proc/PID/stat, every thread: user + system) per call and per relayed packet. Loopback only;
 * every loop is bounded in count and time.
 */
import { createSocket, type Socket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import OpusScript from 'opusscript';
import { decodeBencode, encodeBencode, type BencodeDict, type BencodeValue } from '../../src/media/ng/bencode.js';
import { createDtlsCertificate, type DtlsCertificate } from '../../src/media/certificate.js';
import { readWebRtcAnswer, WebRtcPeer, type WebRtcAnswer } from './webrtc-peer.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ng: { type: 'string', default: '127.0.0.1:2223' },
    pid: { type: 'string' },
    label: { type: 'string', default: 'server' },
    steps: { type: 'string', default: '50,100,200,400,800' },
    secs: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    'max-loss': { type: 'string', default: '1' },
    'max-calls': { type: 'string', default: '1000' },
    'max-run': { type: 'string', default: '900' },
    sockets: { type: 'string', default: '32' },
    'transport-protocol': { type: 'string' },
    case: { type: 'string', default: 'rtp' },
    handshakes: { type: 'string', default: '16' },
    dtls: { type: 'string' },
    json: { type: 'string' },
    compare: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (opts.help) {
  console.log(`media-load.ts [--ng HOST:PORT] [--pid PID] [--label NAME] [--steps 50,100,...] [--secs S] [--warmup S]
  [--max-loss PCT] [--max-calls N] [--max-run S] [--sockets N] [--transport-protocol P] [--json FILE]
  [--case rtp|transcode|webrtc]   transcode: A offers Opus only (ng codec transcode PCMU), B answers PCMU only
                                  webrtc: A is a WebRTC endpoint (ICE, DTLS-SRTP, rtcp-mux), B plain RTP
  [--handshakes N]         webrtc: DTLS handshakes in flight at setup (16)
  [--dtls passive]         webrtc: ng DTLS: passive (the relay the DTLS server); default: the relay's choice
media-load.ts --compare BASE.json OTHER.json   ratios OTHER / BASE (capacity, CPU per packet)`);
  process.exit(0);
}

interface StepResult {
  /** Calls asked for (calls: those set up). */
  requested?: number;
  calls: number;
  offeredPps: number;
  sentPps: number;
  relayedPps: number;
  lossPct: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  jitterMeanMs: number;
  jitterMaxMs: number;
  serverCpuPct: number;
  cpuPerCallMsPerS: number;
  cpuPerPacketUs: number;
  generatorCpuPct: number;
  setupFailures: number;
  passed: boolean;
  note: string;
}

interface RunResult {
  label: string;
  case: string;
  ng: string;
  baselineLatencyP50Ms: number;
  steps: StepResult[];
  capacity: number;
  stopReason: string;
}

if (opts.compare) {
  compare(positionals[0], positionals[1]);
  process.exit(0);
}

const [ngHost, ngPortText] = splitHostPort(opts.ng!);
const ngPort = Number(ngPortText);
const serverPid = opts.pid === undefined ? undefined : Number(opts.pid);
const steps = opts.steps!.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
const secs = Number(opts.secs);
const warmupS = Number(opts.warmup);
const maxLoss = Number(opts['max-loss']);
const maxCalls = Number(opts['max-calls']);
const runDeadline = performance.now() + Number(opts['max-run']) * 1000;
const socketsPerSide = Number(opts.sockets);
if (opts.case !== 'rtp' && opts.case !== 'transcode' && opts.case !== 'webrtc') throw new Error(`--case ${opts.case}: rtp, transcode or webrtc`);
/** Opus <-> PCMU: the payload marker does not survive a transcoder, so each call has its own sockets and is known by them. */
const transcode = opts.case === 'transcode';
/**
 * DTLS-SRTP <-> RTP: side A is a WebRTC endpoint per call (webrtc-peer.ts: its own socket, ICE
 * checks, a DTLS handshake at setup, not measured), B plain RTP. The payload marker is inside the
 * SRTP payload, so A protects it and unprotects what comes back: each packet is measured as in the
 * RTP case, the generator's SRTP included in the latency.
 */
const webrtc = opts.case === 'webrtc';
let certificate: DtlsCertificate | undefined;
/**
 * --dtls passive: ng `DTLS: passive` on offer and answer (rtpengine the DTLS server, A the client,
 * as with Parley, which answers actpass with passive on its own). By default rtpengine takes the
 * client role towards an actpass offerer, and A is then werift's DtlsServer.
 */
const dtlsFlag: Record<string, BencodeValue> = opts.dtls === 'passive' ? { DTLS: 'passive' } : {};
const OPUS_PT = 111;
const LOOPBACK = '127.0.0.1';

const PTIME_MS = 20;
const PAYLOAD = 160;
const RTP_HEADER = 12;
const PACKET = RTP_HEADER + PAYLOAD;
const MAGIC = 0x50424d31; // 'PBM1'
/** Ticks per 20 ms: calls are spread over them so that the load is not one burst every 20 ms. */
const SLOTS = 10;

function splitHostPort(s: string): [string, string] {
  const colon = s.lastIndexOf(':');
  if (colon < 0) throw new Error(`--ng ${s}: HOST:PORT`);
  return [s.slice(0, colon), s.slice(colon + 1)];
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

/** ng client: cookie, retransmission after 1 s (three times, the same cookie), 5 s in all. */
class NgClient {
  private readonly socket: Socket = createSocket('udp4');
  private readonly pending = new Map<string, (reply: BencodeDict | undefined) => void>();
  private seq = 0;
  private readonly prefix = `${process.pid}_${Date.now() % 100000}_`;

  async open(): Promise<void> {
    this.socket.on('message', (m) => {
      const space = m.indexOf(0x20);
      if (space <= 0) return;
      const cookie = m.subarray(0, space).toString('latin1');
      const done = this.pending.get(cookie);
      if (!done) return;
      const d = decodeBencode(m.subarray(space + 1));
      done(d.ok && typeof d.value === 'object' && !Array.isArray(d.value) ? (d.value as BencodeDict) : undefined);
    });
    await new Promise<void>((r) => this.socket.bind(0, LOOPBACK, r));
  }

  command(body: BencodeDict): Promise<BencodeDict | undefined> {
    const cookie = this.prefix + ++this.seq;
    const bytes = Buffer.concat([Buffer.from(cookie + ' ', 'latin1'), encodeBencode(body)]);
    return new Promise((resolve) => {
      let tries = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (reply: BencodeDict | undefined) => {
        clearTimeout(timer);
        this.pending.delete(cookie);
        resolve(reply);
      };
      const send = () => {
        if (tries++ >= 4) return finish(undefined);
        this.socket.send(bytes, ngPort, ngHost);
        timer = setTimeout(send, tries === 4 ? 2000 : 1000);
      };
      this.pending.set(cookie, finish);
      send();
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** The audio port and connection address of an SDP (media-level c= over session-level), by lines: no regular expressions. */
function sdpAudio(sdp: string): { address: string; port: number } | undefined {
  let address: string | undefined;
  let port: number | undefined;
  for (const line of sdp.split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.startsWith('m=')) {
      if (port !== undefined) break; // only the first audio m-line
      if (l.startsWith('m=audio ')) port = Number(l.slice(8, l.indexOf(' ', 8)));
    } else if (l.startsWith('c=IN IP4 ') || l.startsWith('c=IN IP6 ')) {
      address = l.slice(9).split('/')[0]; // the last before the audio m-line ends: media-level over session-level
    }
  }
  return port === undefined || address === undefined || !Number.isInteger(port) ? undefined : { address, port };
}

/** A's offer in the transcoding case: Opus only. */
function opusSdp(port: number, session: number): string {
  return [
    'v=0',
    `o=bench ${session} 1 IN IP4 ${LOOPBACK}`,
    's=media-load',
    `c=IN IP4 ${LOOPBACK}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${OPUS_PT}`,
    `a=rtpmap:${OPUS_PT} opus/48000/2`,
    `a=fmtp:${OPUS_PT} minptime=10;useinbandfec=1`,
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** G.711 mu-law of a 16-bit sample (ITU-T G.711: bias 0x84, segment and mantissa, inverted). */
function linearToUlaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let x = Math.min(32635, Math.abs(sample)) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (x & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (x >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/**
 * One second of a 440 Hz tone at -12 dBFS as 50 payloads of 20 ms: Opus (48 kHz, mono, encoded
 * once here with opusscript) for A, PCMU for B. Sent in a loop; a transcoder then decodes and
 * encodes real audio, not silence.
 */
function tonePayloads(): { opus: Buffer[]; pcmu: Buffer[] } {
  const encoder = new OpusScript(48000, 1, OpusScript.Application.VOIP);
  const opus: Buffer[] = [];
  const pcmu: Buffer[] = [];
  for (let f = 0; f < 50; f++) {
    const pcm48 = Buffer.alloc(960 * 2);
    for (let i = 0; i < 960; i++) pcm48.writeInt16LE(Math.round(8192 * Math.sin((2 * Math.PI * 440 * (f * 960 + i)) / 48000)), i * 2);
    opus.push(Buffer.from(encoder.encode(pcm48, 960)));
    const u = Buffer.alloc(160);
    for (let i = 0; i < 160; i++) u[i] = linearToUlaw(Math.round(8192 * Math.sin((2 * Math.PI * 440 * (f * 160 + i)) / 8000)));
    pcmu.push(u);
  }
  encoder.delete();
  return { opus, pcmu };
}
const tones = transcode ? tonePayloads() : undefined;

function offerSdp(port: number, session: number): string {
  return [
    'v=0',
    `o=bench ${session} 1 IN IP4 ${LOOPBACK}`,
    's=media-load',
    `c=IN IP4 ${LOOPBACK}`,
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    'a=ptime:20',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

/** Per-CPU-tick counts of a process (utime + stime, every thread) from /proc/PID/stat. */
function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // after "pid (comm) ": field 3 is state, so utime (14) and stime (15) are at 11 and 12
  return Number(fields[11]) + Number(fields[12]);
}
const CLK_TCK = 100; // Linux's USER_HZ on every common build; /proc/PID/stat counts in it

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Call {
  readonly index: number;
  readonly callId: string;
  /** Where each side sends: A to the relay's port for A, B to its port for B. */
  toRelayFromA?: { address: string; port: number };
  toRelayFromB?: { address: string; port: number };
  /** webrtc: the relay's answer towards A (ICE credentials, fingerprint, DTLS role). */
  webrtcAnswer?: WebRtcAnswer;
}

/** Per stream (call x direction) state, in flat arrays indexed by call * 2 + direction (0: A to B, 1: B to A). */
class Streams {
  readonly seq: Uint32Array;
  readonly ts: Uint32Array;
  readonly ssrc: Uint32Array;
  readonly lastTransit: Float64Array;
  readonly jitter: Float64Array;
  readonly received: Uint32Array;
  constructor(n: number) {
    this.seq = new Uint32Array(n * 2);
    this.ts = new Uint32Array(n * 2);
    this.ssrc = new Uint32Array(n * 2);
    this.lastTransit = new Float64Array(n * 2).fill(NaN);
    this.jitter = new Float64Array(n * 2);
    this.received = new Uint32Array(n * 2);
    for (let i = 0; i < n * 2; i++) {
      this.ssrc[i] = (Math.random() * 0xffffffff) >>> 0;
      this.seq[i] = (Math.random() * 0xffff) >>> 0;
      this.ts[i] = (Math.random() * 0xffffffff) >>> 0;
    }
  }
}

async function bindSockets(count: number): Promise<Socket[]> {
  const out: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, LOOPBACK, r));
    s.setRecvBufferSize(4 << 20);
    s.setSendBufferSize(4 << 20);
    out.push(s);
  }
  return out;
}

/** One-way latency of the generator's own path (socket to socket, no relay): the floor under the relayed figures. */
async function baselineLatency(): Promise<number> {
  const [a, b] = await bindSockets(2);
  const lat: number[] = [];
  const port = b!.address().port;
  await new Promise<void>((resolve) => {
    let n = 0;
    b!.on('message', (m) => {
      lat.push(performance.now() - m.readDoubleLE(0));
      if (++n === 500) resolve();
    });
    const buf = Buffer.alloc(PACKET);
    let sent = 0;
    const tick = () => {
      for (let i = 0; i < 10 && sent < 500; i++, sent++) {
        buf.writeDoubleLE(performance.now(), 0);
        a!.send(Buffer.from(buf), port, LOOPBACK);
      }
      if (sent < 500) setTimeout(tick, 2);
    };
    tick();
    setTimeout(resolve, 5000); // bounded
  });
  a!.close();
  b!.close();
  lat.sort((x, y) => x - y);
  return lat.length ? lat[Math.floor(lat.length / 2)]! : NaN;
}

async function runStep(ng: NgClient, n: number, runTag: string): Promise<StepResult> {
  const sideCount = transcode ? n : Math.min(n, socketsPerSide);
  // webrtc: one socket (one ICE pair, one DTLS association) per call on side A
  const sideA = await bindSockets(webrtc ? n : sideCount);
  const sideB = await bindSockets(sideCount);
  const peers = webrtc ? sideA.map((s) => new WebRtcPeer(s, certificate!)) : [];
  const aSocket = (i: number) => (webrtc ? i : i % sideCount);
  const calls: Call[] = [];
  for (let i = 0; i < n; i++) calls.push({ index: i, callId: `media-load-${runTag}-${n}-${i}` });

  // set up: offer from A (its socket's port), answer from B; 32 commands in flight at most
  let setupFailures = 0;
  let next = 0;
  const worker = async () => {
    while (next < calls.length && performance.now() < runDeadline) {
      const c = calls[next++]!;
      const offerBody: Record<string, BencodeValue> = {
        command: 'offer', 'call-id': c.callId, 'from-tag': `a${c.index}`, 'via-branch': `z9hG4bK${c.index}`,
        sdp: webrtc ? peers[c.index]!.offerSdp(c.index) : (transcode ? opusSdp : offerSdp)(sideA[aSocket(c.index)]!.address().port, c.index),
        replace: ['origin', 'session-connection'],
      };
      if (transcode) offerBody['codec'] = { transcode: ['PCMU'] };
      // towards B (the phone): plain RTP, no ICE, RTCP on its own port
      if (webrtc) Object.assign(offerBody, { 'transport-protocol': 'RTP/AVP', ICE: 'remove', 'rtcp-mux': ['demux'], ...dtlsFlag });
      if (opts['transport-protocol']) offerBody['transport-protocol'] = opts['transport-protocol'];
      const offer = await ng.command(offerBody);
      const toB = offer?.['result'] === 'ok' && typeof offer['sdp'] === 'string' ? sdpAudio(offer['sdp']) : undefined;
      if (!toB) {
        setupFailures++;
        continue;
      }
      const answerBody: Record<string, BencodeValue> = {
        command: 'answer', 'call-id': c.callId, 'from-tag': `a${c.index}`, 'to-tag': `b${c.index}`, 'via-branch': `z9hG4bK${c.index}`,
        sdp: offerSdp(sideB[c.index % sideCount]!.address().port, c.index + 1_000_000), replace: ['origin', 'session-connection'],
      };
      // towards A (the browser): DTLS-SRTP with ICE and rtcp-mux; rtpengine the DTLS server, as Parley is
      if (webrtc) Object.assign(answerBody, { 'transport-protocol': 'UDP/TLS/RTP/SAVPF', ICE: 'force', 'rtcp-mux': ['require'], ...dtlsFlag });
      const answer = await ng.command(answerBody);
      const answerSdp = answer?.['result'] === 'ok' && typeof answer['sdp'] === 'string' ? answer['sdp'] : undefined;
      const toA = answerSdp !== undefined ? sdpAudio(answerSdp) : undefined;
      const webrtcAnswer = webrtc && answerSdp !== undefined ? readWebRtcAnswer(answerSdp) : undefined;
      if (!toA || (webrtc && !webrtcAnswer)) {
        if (webrtc && answerSdp !== undefined && setupFailures === 0) console.error(`media-load: an answer towards A without ICE or DTLS attributes:\n${answerSdp}`);
        setupFailures++;
        continue;
      }
      c.webrtcAnswer = webrtcAnswer;
      if (!isLoopback(toA.address) || !isLoopback(toB.address)) throw new Error(`the relay named a non-loopback address (${toA.address}, ${toB.address}): loopback only`);
      // A sends to the port the relay gave A (in the answer), B to the one it gave B (in the offer)
      c.toRelayFromA = toA;
      c.toRelayFromB = toB;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  // webrtc: ICE and the DTLS handshake of every call set up, --handshakes in flight, 10 s each at most
  let handshakeFailures = 0;
  let handshakeMs = 0;
  if (webrtc) {
    const ready = calls.filter((c) => c.webrtcAnswer !== undefined);
    const h0 = performance.now();
    let h = 0;
    let firstError = '';
    const handshaker = async () => {
      while (h < ready.length && performance.now() < runDeadline) {
        const c = ready[h++]!;
        try {
          await peers[c.index]!.connect(c.webrtcAnswer!, 10_000);
        } catch (e) {
          if (!firstError) firstError = (e as Error).message;
          handshakeFailures++;
          c.toRelayFromA = undefined; // not live
        }
      }
    };
    await Promise.all(Array.from({ length: Number(opts.handshakes) }, handshaker));
    handshakeMs = performance.now() - h0;
    if (firstError) console.error(`media-load: ${handshakeFailures} DTLS-SRTP setups failed, the first: ${firstError}`);
  }
  const live = calls.filter((c) => c.toRelayFromA && c.toRelayFromB);
  setupFailures = n - live.length - handshakeFailures; // refused, unanswered, or not tried before --max-run

  const streams = new Streams(n);
  const latencies = new Float64Array(Math.ceil(n * 2 * (1000 / PTIME_MS) * (secs + 1)) + 1024);
  let latCount = 0;
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let sentInWindow = 0;
  let receivedInWindow = 0;
  let misrouted = 0;

  const onMessage = (side: 0 | 1) => (m: Buffer) => {
    const now = performance.now();
    if (m.length < RTP_HEADER + 28) return;
    const p = RTP_HEADER;
    if (m.readUInt32BE(p) !== MAGIC) return;
    const call = m.readUInt32BE(p + 4);
    const dir = m[p + 8]!;
    // direction 0 (A to B) arrives at a B socket (side 1), direction 1 at an A socket
    if (call >= n || dir > 1 || (dir === 0 ? side !== 1 : side !== 0)) {
      misrouted++;
      return;
    }
    const sendTime = m.readDoubleLE(p + 20);
    const k = call * 2 + dir;
    streams.received[k]!++;
    // RFC 3550 A.8: transit = arrival - timestamp; J += (|D| - J) / 16. The send time stands in for
    // the RTP timestamp (the two are the same clock here), so that the generator's own lateness
    // in sending is not counted: what is left is the jitter the relay adds (in ms, not 8-kHz units)
    const transit = now - sendTime;
    const last = streams.lastTransit[k]!;
    if (!Number.isNaN(last)) {
      let d = transit - last;
      if (d < 0) d = -d;
      streams.jitter[k]! += (d - streams.jitter[k]!) / 16;
    }
    streams.lastTransit[k] = transit;
    if (sendTime >= windowStart && sendTime < windowEnd) {
      receivedInWindow++;
      if (latCount < latencies.length) latencies[latCount++] = now - sendTime;
    }
  };
  // the transcoding case: the stream is known by its socket; every packet counts from the start
  // of sending (the window's classification needs the send time in the payload); jitter from the
  // relay's own timestamps (RFC 3550 A.8 as a receiver computes it), no latency
  let sentAll = 0;
  let receivedAll = 0;
  const onTranscoded = (call: number, side: 0 | 1) => (m: Buffer) => {
    const now = performance.now();
    if (m.length < RTP_HEADER) return;
    const dir = side === 1 ? 0 : 1;
    const pt = m[1]! & 0x7f;
    if (pt !== (dir === 0 ? 0 : OPUS_PT)) {
      misrouted++;
      return;
    }
    const k = call * 2 + dir;
    receivedAll++;
    streams.received[k]!++;
    const rate = dir === 0 ? 8 : 48; // units per ms
    const transit = now * rate - m.readUInt32BE(4);
    const last = streams.lastTransit[k]!;
    if (!Number.isNaN(last)) {
      let d = transit - last;
      if (d < 0) d = -d;
      streams.jitter[k]! += (d / rate - streams.jitter[k]!) / 16;
    }
    streams.lastTransit[k] = transit;
  };
  if (transcode) {
    sideA.forEach((s, i) => s.on('message', onTranscoded(i, 0)));
    sideB.forEach((s, i) => s.on('message', onTranscoded(i, 1)));
  } else if (webrtc) {
    const atA = onMessage(0);
    for (const p of peers) p.onRtp = atA;
    for (const s of sideB) s.on('message', onMessage(1));
  } else {
    for (const s of sideA) s.on('message', onMessage(0));
    for (const s of sideB) s.on('message', onMessage(1));
  }

  // send: tick every 2 ms, each tick sends for the calls of its slot (call index mod SLOTS), both directions
  const sendTone = (c: Call, dir: 0 | 1, now: number) => {
    const k = c.index * 2 + dir;
    const frame = streams.seq[k]! % 50;
    const payload = dir === 0 ? tones!.opus[frame]! : tones!.pcmu[frame]!;
    const buf = Buffer.allocUnsafe(RTP_HEADER + payload.length);
    buf[0] = 0x80;
    buf[1] = dir === 0 ? OPUS_PT : 0;
    buf.writeUInt16BE(streams.seq[k]! & 0xffff, 2);
    buf.writeUInt32BE(streams.ts[k]!, 4);
    buf.writeUInt32BE(streams.ssrc[k]!, 8);
    payload.copy(buf, RTP_HEADER);
    streams.seq[k] = (streams.seq[k]! + 1) >>> 0;
    streams.ts[k] = (streams.ts[k]! + (dir === 0 ? 960 : 160)) >>> 0;
    const to = dir === 0 ? c.toRelayFromA! : c.toRelayFromB!;
    (dir === 0 ? sideA : sideB)[c.index]!.send(buf, to.port, to.address);
    sentAll++;
    if (now >= windowStart && now < windowEnd) sentInWindow++;
  };
  const send = (c: Call, dir: 0 | 1, now: number) => {
    if (transcode) return sendTone(c, dir, now);
    const k = c.index * 2 + dir;
    const buf = Buffer.allocUnsafe(PACKET);
    buf[0] = 0x80; // V=2
    buf[1] = 0; // PT 0 (PCMU), no marker
    buf.writeUInt16BE(streams.seq[k]! & 0xffff, 2);
    buf.writeUInt32BE(streams.ts[k]!, 4);
    buf.writeUInt32BE(streams.ssrc[k]!, 8);
    const p = RTP_HEADER;
    buf.fill(0xff, p, PACKET); // PCMU silence
    buf.writeUInt32BE(MAGIC, p);
    buf.writeUInt32BE(c.index, p + 4);
    buf[p + 8] = dir;
    buf.writeUInt32BE(streams.seq[k]!, p + 12);
    buf.writeUInt32BE(streams.ts[k]!, p + 16);
    buf.writeDoubleLE(now, p + 20);
    streams.seq[k] = (streams.seq[k]! + 1) >>> 0;
    streams.ts[k] = (streams.ts[k]! + 160) >>> 0;
    if (webrtc && dir === 0) peers[c.index]!.sendRtp(buf);
    else {
      const to = dir === 0 ? c.toRelayFromA! : c.toRelayFromB!;
      (dir === 0 ? sideA : sideB)[c.index % sideCount]!.send(buf, to.port, to.address);
    }
    if (now >= windowStart && now < windowEnd) sentInWindow++;
  };
  const bySlot: Call[][] = Array.from({ length: SLOTS }, () => []);
  for (const c of live) bySlot[c.index % SLOTS]!.push(c);

  const t0 = performance.now();
  windowStart = t0 + warmupS * 1000;
  windowEnd = windowStart + secs * 1000;
  const slotMs = PTIME_MS / SLOTS;
  let cpu0 = 0;
  let gen0 = process.cpuUsage();
  let cpuTaken = false;
  let cpu1 = 0;
  let gen1 = gen0;
  let lateSlots = 0;
  await new Promise<void>((resolve) => {
    let slot = 0; // slots sent so far
    const tick = () => {
      const now = performance.now();
      if (!cpuTaken && now >= windowStart) {
        cpuTaken = true;
        if (serverPid !== undefined) cpu0 = cpuTicks(serverPid);
        gen0 = process.cpuUsage();
      }
      // every slot whose time has come: a stall of the generator (another process on its core, a
      // garbage collection) is caught up late, as a phone's jitter would be, up to 10 periods (200 ms)
      let sentSlots = 0;
      while (t0 + slot * slotMs <= now && sentSlots < SLOTS * 10) {
        for (const c of bySlot[slot % SLOTS]!) {
          send(c, 0, now);
          send(c, 1, now);
        }
        slot++;
        sentSlots++;
      }
      if (t0 + slot * slotMs <= now) {
        // still behind after 200 ms: the generator cannot keep the rate; skip ahead (counted)
        const behind = Math.floor((now - (t0 + slot * slotMs)) / slotMs) + 1;
        lateSlots += behind;
        slot += behind;
      }
      if (now >= windowEnd) {
        if (serverPid !== undefined) cpu1 = cpuTicks(serverPid);
        gen1 = process.cpuUsage();
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, t0 + slot * slotMs - performance.now()));
    };
    tick();
  });
  // drain: packets in flight
  await new Promise((r) => setTimeout(r, 500));

  // delete the calls (bounded like every ng command)
  next = 0;
  const deleter = async () => {
    while (next < calls.length) {
      const c = calls[next++]!;
      await ng.command({ command: 'delete', 'call-id': c.callId, 'from-tag': `a${c.index}` });
    }
  };
  await Promise.all(Array.from({ length: 32 }, deleter));
  for (const p of peers) p.close();
  for (const s of [...sideA, ...sideB]) s.close();

  const lat = latencies.subarray(0, latCount).sort();
  const jit: number[] = [];
  for (const c of live) for (const d of [0, 1]) if (streams.received[c.index * 2 + d]! > 1) jit.push(streams.jitter[c.index * 2 + d]!);
  const offeredPps = live.length * 2 * (1000 / PTIME_MS);
  if (transcode) receivedInWindow = sentAll > 0 ? Math.round((receivedAll * sentInWindow) / sentAll) : 0; // the window's share of what arrived
  const lossPct = transcode ? (sentAll > 0 ? (100 * (sentAll - receivedAll)) / sentAll : 100) : sentInWindow > 0 ? (100 * (sentInWindow - receivedInWindow)) / sentInWindow : 100;
  const serverCpuS = serverPid !== undefined ? (cpu1 - cpu0) / CLK_TCK : NaN;
  const genCpuS = (gen1.user - gen0.user + gen1.system - gen0.system) / 1e6;
  const sentPps = sentInWindow / secs;
  const notes: string[] = [];
  if (setupFailures) notes.push(`${setupFailures} calls not set up`);
  // werift's DTLS against the relay's loses a handshake now and then (1 in 400 with rtpengine the
  // client, 2-6 % with rtpengine the server): up to --max-loss % of the calls may fail there, as
  // the loss of their packets would; the step then runs with the others
  const handshakesFailed = handshakeFailures > (n * maxLoss) / 100;
  if (misrouted) notes.push(`${misrouted} packets at the wrong side`);
  if (webrtc) notes.push(`${live.length} DTLS handshakes in ${f(handshakeMs / 1000, 1)} s${handshakeFailures ? `, ${handshakeFailures} failed` : ''}`);
  const srtpDropped = peers.reduce((sum, p) => sum + p.dropped, 0);
  if (srtpDropped) notes.push(`${srtpDropped} SRTP packets at A did not authenticate`);
  if (lateSlots) notes.push(`generator behind: ${lateSlots} slots skipped`);
  const generatorBound = sentPps < offeredPps * 0.98;
  return {
    requested: n,
    calls: live.length,
    offeredPps,
    sentPps,
    relayedPps: receivedInWindow / secs,
    lossPct,
    latencyP50Ms: percentile(lat, 50),
    latencyP99Ms: percentile(lat, 99),
    jitterMeanMs: jit.length ? jit.reduce((a, b) => a + b, 0) / jit.length : NaN,
    jitterMaxMs: jit.length ? Math.max(...jit) : NaN,
    serverCpuPct: (100 * serverCpuS) / secs,
    cpuPerCallMsPerS: (1000 * serverCpuS) / secs / Math.max(1, live.length),
    cpuPerPacketUs: receivedInWindow > 0 ? (serverCpuS * 1e6) / receivedInWindow : NaN,
    generatorCpuPct: (100 * genCpuS) / secs,
    setupFailures,
    passed: setupFailures === 0 && !handshakesFailed && lossPct <= maxLoss && !generatorBound,
    note: [generatorBound ? 'generator-bound' : '', ...notes].filter(Boolean).join('; '),
  };
}

/** A number with d decimals, or n/a (a declaration, not a const: --compare runs before the module's body reaches it). */
function f(x: number, d = 1): string {
  return Number.isFinite(x) ? x.toFixed(d) : 'n/a';
}

async function main(): Promise<void> {
  if (!isLoopback(ngHost)) throw new Error(`--ng ${opts.ng}: loopback only`);
  const ng = new NgClient();
  await ng.open();
  const pong = await ng.command({ command: 'ping' });
  if (pong?.['result'] !== 'pong') throw new Error(`no pong from ${opts.ng}`);
  const baseline = await baselineLatency();
  const run: RunResult = { label: opts.label!, case: opts.case!, ng: opts.ng!, baselineLatencyP50Ms: baseline, steps: [], capacity: 0, stopReason: 'all steps passed' };
  console.log(`${run.label}: ng ${opts.ng}, ${secs}-s steps after ${warmupS} s of warm-up, ${transcode ? 'Opus (A) <-> PCMU (B), transcoded' : webrtc ? 'PCMU, DTLS-SRTP (A, ICE, rtcp-mux) <-> RTP (B),' : 'PCMU'} 20 ms both ways; generator's own path p50 ${f(baseline, 3)} ms`);
  console.log('  calls  offered/s    sent/s relayed/s  loss%  lat_p50 lat_p99  jit_mean jit_max  srv_cpu%  cpu/call  cpu/pkt  gen_cpu%  note');
  console.log('                                                   (ms)    (ms)      (ms)    (ms)           (ms/s)     (us)');
  const runTag = `${process.pid}-${Date.now() % 1_000_000}`;
  if (webrtc) certificate = await createDtlsCertificate();
  for (const n of steps) {
    if (n > maxCalls) {
      run.stopReason = `--max-calls ${maxCalls}`;
      break;
    }
    if (performance.now() + (secs + warmupS + 5) * 1000 > runDeadline) {
      run.stopReason = `--max-run ${opts['max-run']} s`;
      break;
    }
    const r = await runStep(ng, n, runTag);
    run.steps.push(r);
    console.log(
      `  ${String(r.calls).padStart(5)} ${f(r.offeredPps, 0).padStart(10)} ${f(r.sentPps, 0).padStart(9)} ${f(r.relayedPps, 0).padStart(9)} ${f(r.lossPct, 3).padStart(6)}` +
        ` ${f(r.latencyP50Ms, 3).padStart(8)} ${f(r.latencyP99Ms, 3).padStart(7)} ${f(r.jitterMeanMs, 3).padStart(9)} ${f(r.jitterMaxMs, 3).padStart(7)}` +
        ` ${f(r.serverCpuPct).padStart(9)} ${f(r.cpuPerCallMsPerS, 3).padStart(9)} ${f(r.cpuPerPacketUs, 2).padStart(8)} ${f(r.generatorCpuPct).padStart(9)}  ${r.passed ? '' : 'FAIL '}${r.note}`,
    );
    if (r.passed) run.capacity = Math.max(run.capacity, r.calls);
    else {
      run.stopReason = r.note.startsWith('generator-bound') ? 'the generator could not keep the rate' : `step of ${n} calls failed (${r.note || `loss ${f(r.lossPct, 3)} %`})`;
      break;
    }
  }
  ng.close();
  console.log(`${run.label}: capacity ${run.capacity} calls at <= ${maxLoss} % loss (stopped: ${run.stopReason})`);
  if (opts.json) writeFileSync(opts.json, JSON.stringify(run, null, 2));
}

/**
 * Ratios OTHER / BASE, one line each, prefixed `ratio` so that they can be pasted as they are:
 * capacity (most calls of a passing step; "at least" when a run passed every step it was given),
 * and at each call count both ran: CPU per relayed packet, latency p50 and p99, loss. Then the
 * median of the CPU-per-packet ratios over the steps both passed.
 */
function compare(basePath: string | undefined, otherPath: string | undefined): void {
  if (!basePath || !otherPath) throw new Error('--compare BASE.json OTHER.json');
  const base = JSON.parse(readFileSync(basePath, 'utf8')) as RunResult;
  const other = JSON.parse(readFileSync(otherPath, 'utf8')) as RunResult;
  const tag = `ratio ${other.label}/${base.label} ${other.case}`;
  // a run reached its server's limit when it stopped on a failed step that was not generator-bound
  // (loss, calls refused); otherwise its capacity is only a lower bound
  const limited = (r: RunResult) => r.stopReason.startsWith('step of');
  const bound = (r: RunResult) => (limited(r) ? `${r.capacity}` : `>= ${r.capacity}`);
  const ratio = base.capacity ? f(other.capacity / base.capacity, 2) : 'n/a';
  const capRatio = limited(base) && limited(other) ? `${ratio}x`
    : limited(other) ? `<= ${ratio}x (${base.label} did not reach its limit)`
      : limited(base) ? `>= ${ratio}x (${other.label} did not reach its limit)`
        : `n/a (neither reached its limit: higher steps, or a quieter generator core)`;
  console.log(`${tag}: capacity at <= ${opts['max-loss']} % loss ${bound(other)} / ${bound(base)} calls = ${capRatio}; ${other.label} stopped: ${other.stopReason}; ${base.label} stopped: ${base.stopReason}`);
  const cpuRatios: number[] = [];
  for (const o of other.steps) {
    const b = base.steps.find((s) => (s.requested ?? s.calls) === (o.requested ?? o.calls));
    if (!b) continue;
    const cpu = o.cpuPerPacketUs / b.cpuPerPacketUs;
    if (o.passed && b.passed && Number.isFinite(cpu)) cpuRatios.push(cpu);
    console.log(
      `${tag} ${o.requested ?? o.calls} calls: cpu/pkt ${f(o.cpuPerPacketUs, 2)} / ${f(b.cpuPerPacketUs, 2)} us = ${f(cpu, 2)}x;` +
        ` lat p50 ${f(o.latencyP50Ms, 3)} / ${f(b.latencyP50Ms, 3)} ms, p99 ${f(o.latencyP99Ms, 3)} / ${f(b.latencyP99Ms, 3)} ms;` +
        ` jitter mean ${f(o.jitterMeanMs, 3)} / ${f(b.jitterMeanMs, 3)} ms; loss ${f(o.lossPct, 3)} / ${f(b.lossPct, 3)} %` +
        (o.passed && b.passed ? '' : ` (failed: ${o.passed ? '' : other.label}${!o.passed && !b.passed ? ', ' : ''}${b.passed ? '' : base.label})`),
    );
  }
  // the ratio at the largest step both passed is the one nearest capacity (small steps pay more per
  // packet for each wake-up); the median is printed beside it
  const last = cpuRatios.length ? cpuRatios[cpuRatios.length - 1]! : NaN;
  const sorted = [...cpuRatios].sort((x, y) => x - y);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
  console.log(`${tag}: cpu/pkt at the largest step both passed ${f(last, 2)}x, median ${f(median, 2)}x over ${cpuRatios.length} steps (capacity from CPU alone: about ${f(1 / last, 2)}x)`);
}

main().catch((e: unknown) => {
  console.error(`media-load: ${(e as Error).message}`);
  process.exit(1);
});
