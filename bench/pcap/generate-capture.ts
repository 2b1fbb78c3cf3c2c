/**
 * A synthetic capture for `parley pcap streams` against `tshark -q -z rtp,streams`: `calls`
 * concurrent calls (a new one starts as one ends), each an INVITE with an SDP offer, a 200 OK
 * with the answer, an ACK, G.711 RTP both ways at 50 packets per second (PCMU or PCMA, 160
 * samples of 8 kHz a packet), and a BYE and its 200 OK; the packets arrive with up to a few ms of
 * jitter (now and then a spike), about 1 % of them are lost, a few come late. Raw IPv4 frames
 * (src/pcap/pcap-writer.ts), written until the file reaches `bytes`. Deterministic: the same
 * options give the same file.
 */
import { openSync, writeSync, closeSync } from 'node:fs';
import { pcapFileHeader, pcapRecord, udpFrame } from '../../src/pcap/pcap-writer.js';

export interface GenerateOptions {
  /** Stop once the file holds this many bytes (it ends with the calls' BYEs). */
  readonly bytes: number;
  /** Calls up at once (default 400). */
  readonly calls?: number;
  /** Call length in seconds, drawn between these (default 20 and 60). */
  readonly minSeconds?: number;
  readonly maxSeconds?: number;
  readonly seed?: number;
  /** The m= line's transport protocol (default RTP/AVP; RTP/SAVP: SRTP, whose header is RTP's, RFC 3711 §3.1). */
  readonly proto?: string;
}

export interface GenerateSummary {
  readonly bytes: number;
  readonly packets: number;
  readonly rtpPackets: number;
  readonly calls: number;
  readonly seconds: number;
}

const T0 = 1_767_000_000n * 1_000_000_000n;
const TICK_NS = 20_000_000; // 20 ms: 50 packets per second
const PAYLOAD_BYTES = 160;

/** One direction of a call's audio. */
interface Leg {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ssrc: number;
  readonly pt: number;
  seq: number;
  ts: number;
  sent: number;
}

interface Call {
  readonly index: number;
  readonly callId: string;
  readonly endTick: number;
  readonly legs: readonly [Leg, Leg];
  /** A packet held back to come late (reordering), with the tick it is released at. */
  late: { frame: Uint8Array; releaseTick: number } | undefined;
}

/** A deterministic generator (a 32-bit LCG). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const pending: Array<{ time: bigint; frame: Uint8Array }> = [];

class Out {
  private readonly buffer = Buffer.alloc(8 * 1024 * 1024);
  private used = 0;
  written = 0;
  packets = 0;
  constructor(private readonly fd: number) {}
  write(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buffer.length) this.flush();
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
    this.written += bytes.length;
  }
  record(timeNs: bigint, frame: Uint8Array): void {
    pending.push({ time: timeNs, frame });
  }
  put(timeNs: bigint, frame: Uint8Array): void {
    this.write(pcapRecord(timeNs, frame));
    this.packets++;
  }
  flush(): void {
    let at = 0;
    while (at < this.used) at += writeSync(this.fd, this.buffer, at, this.used - at);
    this.used = 0;
  }
}

function sdp(address: string, port: number, pt: number, sessionId: number, proto: string): string {
  const codec = pt === 0 ? 'PCMU' : 'PCMA';
  return [
    'v=0',
    `o=- ${sessionId} ${sessionId} IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} ${proto} ${pt} 101`,
    `a=rtpmap:${pt} ${codec}/8000`,
    'a=rtpmap:101 telephone-event/8000',
    'a=fmtp:101 0-16',
    'a=sendrecv',
    '',
  ].join('\r\n');
}

function sip(startLine: string, call: Call, cseq: string, fromTag: string, toTag: string | undefined, body = ''): Uint8Array {
  const [a, b] = call.legs;
  const lines = [
    startLine,
    `Via: SIP/2.0/UDP ${a.src}:5060;branch=z9hG4bK-${call.index}-${cseq.replace(' ', '-')}`,
    'Max-Forwards: 70',
    `From: <sip:caller${call.index}@example.com>;tag=${fromTag}`,
    `To: <sip:callee${call.index}@example.com>${toTag ? `;tag=${toTag}` : ''}`,
    `Call-ID: ${call.callId}`,
    `CSeq: ${cseq}`,
    `Contact: <sip:caller${call.index}@${a.src}:5060>`,
  ];
  if (body) lines.push('Content-Type: application/sdp');
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`, '', body);
  void b;
  return Buffer.from(lines.join('\r\n'));
}

function ipOf(net: number, index: number): string {
  return `10.${net}.${(index >> 8) & 0xff}.${index & 0xff}`;
}

export function generateCapture(path: string, options: GenerateOptions): GenerateSummary {
  const concurrent = options.calls ?? 400;
  const minTicks = Math.round(((options.minSeconds ?? 20) * 1e9) / TICK_NS);
  const maxTicks = Math.round(((options.maxSeconds ?? 60) * 1e9) / TICK_NS);
  const random = lcg(options.seed ?? 19);
  const proto = options.proto ?? 'RTP/AVP';
  const fd = openSync(path, 'w');
  const out = new Out(fd);
  out.write(pcapFileHeader());
  let rtpPackets = 0;
  let callCount = 0;
  const active: Call[] = [];
  const timeOf = (tick: number, offsetNs: number): bigint => T0 + BigInt(tick) * BigInt(TICK_NS) + BigInt(Math.round(offsetNs));
  const rtp = (leg: Leg, marker: boolean): Uint8Array => {
    const b = Buffer.alloc(12 + PAYLOAD_BYTES, leg.pt === 0 ? 0xff : 0xd5);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | leg.pt;
    b.writeUInt16BE(leg.seq & 0xffff, 2);
    b.writeUInt32BE(leg.ts >>> 0, 4);
    b.writeUInt32BE(leg.ssrc >>> 0, 8);
    return udpFrame(leg, b)!;
  };

  const startCall = (tick: number): void => {
    const index = callCount++;
    const pt = random() < 0.5 ? 0 : 8;
    const a = ipOf(1 + (index >> 16), index & 0xffff);
    const b = ipOf(101 + (index >> 16), index & 0xffff);
    const aPort = 20000 + 2 * (index % 20000);
    const bPort = 40000 + 2 * (index % 10000);
    const leg = (src: string, srcPort: number, dst: string, dstPort: number): Leg => ({
      src,
      srcPort,
      dst,
      dstPort,
      ssrc: Math.floor(random() * 2 ** 32),
      pt,
      seq: Math.floor(random() * 65536),
      ts: Math.floor(random() * 2 ** 32),
      sent: 0,
    });
    const call: Call = {
      index,
      callId: `bench-${index}@${a}`,
      endTick: tick + minTicks + Math.floor(random() * (maxTicks - minTicks)),
      legs: [leg(a, aPort, b, bPort), leg(b, bPort, a, aPort)],
      late: undefined,
    };
    const fromTag = `f${index}`;
    const toTag = `t${index}`;
    const toCallee = { src: a, srcPort: 5060, dst: b, dstPort: 5060 };
    const toCaller = { src: b, srcPort: 5060, dst: a, dstPort: 5060 };
    const at = (ms: number) => timeOf(tick, ms * 1e6);
    out.record(at(0), udpFrame(toCallee, sip(`INVITE sip:callee${index}@${b} SIP/2.0`, call, '1 INVITE', fromTag, undefined, sdp(a, aPort, pt, index, proto)))!);
    out.record(at(2), udpFrame(toCaller, sip('SIP/2.0 200 OK', call, '1 INVITE', fromTag, toTag, sdp(b, bPort, pt, index + 1, proto)))!);
    out.record(at(4), udpFrame(toCallee, sip(`ACK sip:callee${index}@${b} SIP/2.0`, call, '1 ACK', fromTag, toTag))!);
    active.push(call);
  };

  const endCall = (call: Call, tick: number): void => {
    const [a, b] = call.legs;
    const toCallee = { src: a.src, srcPort: 5060, dst: b.src, dstPort: 5060 };
    const toCaller = { src: b.src, srcPort: 5060, dst: a.src, dstPort: 5060 };
    out.record(timeOf(tick, 15e6), udpFrame(toCallee, sip(`BYE sip:callee${call.index}@${b.src} SIP/2.0`, call, '2 BYE', `f${call.index}`, `t${call.index}`))!);
    out.record(timeOf(tick, 17e6), udpFrame(toCaller, sip('SIP/2.0 200 OK', call, '2 BYE', `f${call.index}`, `t${call.index}`))!);
  };

  // The calls start spread over the first two seconds.
  let tick = 0;
  const rampTicks = 100;
  pending.length = 0;
  while (out.written < options.bytes || tick < rampTicks) {
    if (tick < rampTicks) {
      const due = Math.round(((tick + 1) * concurrent) / rampTicks) - Math.round((tick * concurrent) / rampTicks);
      for (let i = 0; i < due; i++) startCall(tick);
    }
    for (let c = active.length - 1; c >= 0; c--) {
      const call = active[c]!;
      if (call.late !== undefined && call.late.releaseTick === tick) {
        pending.push({ time: timeOf(tick, 19e6), frame: call.late.frame });
        rtpPackets++;
        call.late = undefined;
      }
      if (tick >= call.endTick) {
        endCall(call, tick);
        active.splice(c, 1);
        if (out.written < options.bytes) startCall(tick);
        continue;
      }
      for (const leg of call.legs) {
        const frame = rtp(leg, leg.sent++ === 0);
        const r = random();
        // jitter: 0-4 ms, a 10-16 ms spike one packet in 200
        const noise = random() < 0.005 ? 10e6 + random() * 6e6 : random() * 4e6;
        if (r < 0.01) {
          // lost
        } else if (r < 0.012 && call.late === undefined) {
          call.late = { frame, releaseTick: tick + 2 };
        } else {
          pending.push({ time: timeOf(tick, 5e6 + noise), frame });
          rtpPackets++;
        }
        leg.seq = (leg.seq + 1) & 0xffff;
        leg.ts = (leg.ts + 160) >>> 0;
      }
    }
    pending.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
    for (const p of pending) out.put(p.time, p.frame);
    pending.length = 0;
    tick++;
  }
  pending.length = 0;
  for (const call of active) endCall(call, tick);
  pending.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
  for (const p of pending) out.put(p.time, p.frame);
  out.flush();
  closeSync(fd);
  return { bytes: out.written, packets: out.packets, rtpPackets, calls: callCount, seconds: (tick * TICK_NS) / 1e9 };
}
