/**
 * A plain RTP leg (RTP/AVP): Parley's port pair towards a SIP phone or trunk, with symmetric
 * latching. Parley sends to the address and port of the side's SDP until the first valid packet
 * arrives, then to that packet's source (symmetric RTP, RFC 4961, as rtpengine does by default):
 * a phone behind NAT writes its private address in SDP, but its packets come from the NAT's
 * public address and port, and only packets sent back there reach it. RTCP latches the same way
 * on its own port. For 3 s after the first packet a source matching the SDP better may still take
 * the latch (latch.ts: a stranger spraying the port range does not keep a phone's stream);
 * after that, packets from another source are dropped (they would let anyone who guesses the
 * port inject audio), until a re-offer names a new address and latching starts again.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import { packetKind } from '../stun/demux.js';
import type { Leg, LegAddress, LegStats } from './leg.js';
import { Latch } from './latch.js';
import type { RemoteSide } from './side.js';
import { mediaTap } from './media-tap.js';

/** RFC 3550 §5.1: the fixed header is 12 octets. */
const RTP_HEADER = 12;
/** RFC 3550 §6.4.1: the smallest RTCP packet (RR without report blocks) is 8 octets. */
const RTCP_HEADER = 8;

export interface RtpLegOptions {
  readonly rtpSocket: Socket;
  /** The RTCP socket (port + 1); absent with rtcp-mux (RTCP on the RTP socket). */
  readonly rtcpSocket: Socket | undefined;
  readonly local: LegAddress;
  readonly remote: RemoteSide;
  /** performance.now() unless a test moves time. */
  readonly now?: () => number;
}

/**
 * Is this a packet RFC 3550 calls RTP or RTCP? RFC 7983 §7: a first byte of 128..191 is RTP or
 * RTCP (version 2); STUN, DTLS, ZRTP and TURN channels start elsewhere and are not for a plain leg.
 */
function isRtpOrRtcp(b: Buffer): boolean {
  return b.length >= RTCP_HEADER && packetKind(b[0]!) === 'rtp';
}

/**
 * RFC 5761 §4: RTCP packet types 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204, and the
 * feedback types) occupy the second byte where RTP has its marker bit and payload type 64..95,
 * which RTP avoids on a multiplexed port.
 */
export function isRtcpPacketType(secondByte: number): boolean {
  return secondByte >= 192 && secondByte <= 223;
}

/** A bound socket's specific address (not a wildcard one), or undefined. */
function boundAddressOf(socket: Socket): string | undefined {
  try {
    const a = socket.address().address;
    return a === '0.0.0.0' || a === '::' ? undefined : a;
  } catch {
    return undefined;
  }
}

/** The SDP's address is no address to send to: c=0.0.0.0 (RFC 3264 §8.4's old hold), port 0. */
function unusable(address: string, port: number): boolean {
  return port === 0 || address === '0.0.0.0' || address === '::';
}

export class RtpLeg implements Leg {
  onRtp: ((packet: Buffer) => void) | undefined;
  onRtcp: ((packet: Buffer) => void) | undefined;
  readonly local: LegAddress;
  /** The call this leg carries, for capture (media-tap.ts); set by the session. */
  callId: string | undefined;
  /** The address the sockets are bound to (what a capture says packets went to), else the advertised one. */
  private readonly boundAddress: string;
  lastReceived = 0;
  private remote: RemoteSide;
  /** Where RTP and RTCP go: the SDP's address until latched, then the source learned (latch.ts). */
  private readonly rtp: Latch;
  private readonly rtcp: Latch;
  private closed = false;
  private readonly now: () => number;
  private readonly counters = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, dropped: 0 };

  constructor(private readonly options: RtpLegOptions) {
    this.local = options.local;
    this.boundAddress = boundAddressOf(options.rtpSocket) ?? options.local.address;
    this.remote = options.remote;
    this.now = options.now ?? (() => performance.now());
    this.rtp = new Latch(undefined, this.now);
    this.rtcp = new Latch(undefined, this.now);
    this.aim(options.remote);
    options.rtpSocket.on('message', (msg, rinfo) => this.receive(msg, rinfo, options.rtcpSocket === undefined));
    options.rtcpSocket?.on('message', (msg, rinfo) => this.receiveRtcp(msg, rinfo));
  }

  get ready(): boolean {
    return this.rtp.latched;
  }

  /** The side's SDP as last read. */
  get side(): RemoteSide {
    return this.remote;
  }

  /**
   * A re-offer or a new answer from the side. A new address or port starts latching again (the
   * phone moved, or a transfer put another phone there); the same one keeps the latched source.
   * Hold (c=0.0.0.0, a=sendonly, a=inactive) changes what the bridge sends, not where.
   */
  update(remote: RemoteSide): void {
    const moved = remote.address !== this.remote.address || remote.port !== this.remote.port || remote.rtcpPort !== this.remote.rtcpPort;
    this.remote = remote;
    if (moved && !unusable(remote.address, remote.port)) this.aim(remote);
  }

  private aim(remote: RemoteSide): void {
    if (unusable(remote.address, remote.port)) {
      this.rtp.reset(undefined);
      this.rtcp.reset(undefined);
      return;
    }
    this.rtp.reset({ address: remote.address, port: remote.port });
    this.rtcp.reset({ address: remote.address, port: remote.rtcpMux ? remote.port : remote.rtcpPort });
  }

  private receive(msg: Buffer, rinfo: RemoteInfo, muxed: boolean): void {
    if (this.closed) return;
    if (!isRtpOrRtcp(msg)) {
      this.counters.dropped++;
      return;
    }
    if (muxed && isRtcpPacketType(msg[1]!)) {
      this.receiveRtcp(msg, rinfo);
      return;
    }
    if (msg.length < RTP_HEADER) {
      this.counters.dropped++;
      return;
    }
    if (!this.rtp.accept(rinfo.address, rinfo.port)) {
      this.counters.dropped++;
      return;
    }
    // RTCP on the same port follows RTP's latch
    if (muxed) this.rtcp.accept(rinfo.address, rinfo.port);
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    this.lastReceived = this.now();
    if (mediaTap !== undefined && mediaTap.rtp && this.callId !== undefined) mediaTap.packet(msg, false, this.callId, rinfo.address, rinfo.port, this.boundAddress, this.local.port);
    this.onRtp?.(msg);
  }

  private receiveRtcp(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    if (!isRtpOrRtcp(msg) || !isRtcpPacketType(msg[1]!)) {
      this.counters.dropped++;
      return;
    }
    if (!this.rtcp.accept(rinfo.address, rinfo.port)) {
      this.counters.dropped++;
      return;
    }
    this.counters.packetsIn++;
    this.counters.bytesIn += msg.length;
    this.lastReceived = this.now();
    if (mediaTap !== undefined && this.callId !== undefined) mediaTap.packet(msg, true, this.callId, rinfo.address, rinfo.port, this.boundAddress, this.options.rtcpSocket === undefined ? this.local.port : this.local.rtcpPort);
    this.onRtcp?.(msg);
  }

  sendRtp(packet: Buffer): void {
    const t = this.rtp.destination;
    if (t === undefined || this.closed) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    this.options.rtpSocket.send(packet, t.port, t.address);
  }

  sendRtcp(packet: Buffer): void {
    const t = this.rtcp.destination;
    if (t === undefined || this.closed) return;
    this.counters.packetsOut++;
    this.counters.bytesOut += packet.length;
    (this.options.rtcpSocket ?? this.options.rtpSocket).send(packet, t.port, t.address);
  }

  stats(): LegStats {
    return { ...this.counters };
  }

  /** The sockets are the port pool's: the owner closes them (MediaPorts.close); this stops the leg. */
  close(): void {
    this.closed = true;
    this.onRtp = undefined;
    this.onRtcp = undefined;
  }
}

export function createRtpLeg(options: RtpLegOptions): RtpLeg {
  return new RtpLeg(options);
}
