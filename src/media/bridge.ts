/**
 * The bridge between the two legs of an anchored call: RTP from one leg goes to the other with
 * its payload type mapped (the two sides may number the same codec differently, RFC 3264 §6.1:
 * "the answerer MAY use different payload type numbers"), or through a transcoder when they
 * have no codec in common; telephone-event (RFC 4733) through a DTMF mapper when its clock or
 * number differs. RTCP passes through untouched when the codec does: the SSRCs and timestamps
 * it describes are the ones the other side sees. Across a transcoder it does not pass (its SSRCs
 * and timestamps are not those of the packets the other side gets): Parley sends none itself yet.
 *
 * SSRC: towards a browser every RTP packet carries one SSRC of Parley's own for the whole call,
 * and so does the sender SSRC of each RTCP sender report: the phone's SSRC changes when it
 * restarts its stream (a re-INVITE, a transfer) and a transcoder has its own, while Chromium ties
 * an m-line's track to one stream (a packet of a new SSRC gets a receive stream of its own;
 * one that the SDP did not name plays only because it is the m-line's only one). Towards a
 * phone packets keep their source's SSRC, as RTCP describes them.
 *
 * Directions come from each side's SDP (RFC 3264 §6.1): nothing is sent to a side that said it
 * does not receive (sendonly, inactive; c=0.0.0.0 reads as sendonly), and what a side sends goes
 * through whatever it said, RTCP always (RFC 3264 §5.1: RTCP is sent even when inactive).
 */
import type { DtmfMapper, Transcoder } from './codecs/index.js';
import type { Leg } from './leg.js';
import type { CodecSpec, Direction } from './side.js';

/** What the codec plan decided for a call (codec-plan.ts `bridgeCodecs`). */
export type BridgePlan =
  | {
      readonly kind: 'pass';
      /** Payload type on side A → the same codec's on side B, and back. */
      readonly aToB: ReadonlyMap<number, number>;
      readonly bToA: ReadonlyMap<number, number>;
      readonly dtmf?: { readonly a?: CodecSpec; readonly b?: CodecSpec };
    }
  | {
      readonly kind: 'transcode';
      /** Each side's chosen codec. */
      readonly a: CodecSpec;
      readonly b: CodecSpec;
      readonly dtmf?: { readonly a?: CodecSpec; readonly b?: CodecSpec };
    };

/** Transcoders (one per direction of a call without a codec in common) and RFC 4733 event mappers (codecs/). */
export interface MediaCodecs {
  createTranscoder(from: CodecSpec, to: CodecSpec): Transcoder | undefined;
  /** `stream`: the transcoder of the same direction, whose timeline the events join. */
  createDtmfMapper?(from: CodecSpec, to: CodecSpec, stream?: Transcoder): DtmfMapper | undefined;
}

/** Does a side that said `d` receive media? */
export function receives(d: Direction): boolean {
  return d === 'sendrecv' || d === 'recvonly';
}

/** One direction of the bridge: from one leg's packets to what the other leg sends. */
interface Way {
  readonly to: Sender;
  /** Does the receiving side take media now (its SDP's direction)? */
  open: boolean;
  readonly rtp: (packet: Buffer) => void;
  readonly rtcp: boolean;
  readonly transcoder: Transcoder | undefined;
}

/** What a way sends through: a leg, or a leg behind an SSRC rewrite. */
interface Sender {
  sendRtp(packet: Buffer): void;
  sendRtcp(packet: Buffer): void;
}

/**
 * `leg`, or `leg` with `ssrc` written into each RTP packet (bytes 8-11, RFC 3550 §5.1) and into
 * the sender SSRC of each sender report of a compound RTCP packet (RFC 3550 §6.4.1). The packets
 * are the bridge's own buffers (a datagram, a decryption, a transcoder's output): rewritten in place.
 */
function withSsrc(leg: Leg, ssrc: number | undefined): Sender {
  if (ssrc === undefined) return leg;
  return {
    sendRtp(packet) {
      if (packet.length >= 12) packet.writeUInt32BE(ssrc, 8);
      leg.sendRtp(packet);
    },
    sendRtcp(packet) {
      for (let off = 0; off + 8 <= packet.length; ) {
        const length = (packet.readUInt16BE(off + 2) + 1) * 4;
        if (packet[off + 1] === 200) packet.writeUInt32BE(ssrc, off + 4);
        off += length;
      }
      leg.sendRtcp(packet);
    },
  };
}

export interface BridgeCounters {
  /** RTP packets forwarded A→B and B→A. */
  aToB: number;
  bToA: number;
  /** RTP packets dropped: a payload type the other side did not negotiate, or the receiver does not take media. */
  dropped: number;
}

export class Bridge {
  readonly counters: BridgeCounters = { aToB: 0, bToA: 0, dropped: 0 };
  private readonly ab: Way;
  private readonly ba: Way;

  constructor(
    readonly a: Leg,
    readonly b: Leg,
    plan: BridgePlan,
    directions: { readonly a: Direction; readonly b: Direction },
    codecs?: MediaCodecs,
    /** Parley's own SSRC for a side (towards a browser): what the bridge sends there carries it. */
    ssrcs: { readonly a?: number; readonly b?: number } = {},
  ) {
    const toA = withSsrc(a, ssrcs.a);
    const toB = withSsrc(b, ssrcs.b);
    this.ab = this.way(toB, plan, 'a', directions.b, codecs);
    this.ba = this.way(toA, plan, 'b', directions.a, codecs);
    a.onRtp = this.ab.rtp;
    b.onRtp = this.ba.rtp;
    a.onRtcp = (p) => this.ab.rtcp && toB.sendRtcp(p);
    b.onRtcp = (p) => this.ba.rtcp && toA.sendRtcp(p);
  }

  /** A re-offer or answer changed a side's direction (hold, resume). */
  setDirections(directions: { readonly a: Direction; readonly b: Direction }): void {
    this.ab.open = receives(directions.b);
    this.ba.open = receives(directions.a);
  }

  /** Stop forwarding (the legs are closed by their owner). */
  close(): void {
    this.a.onRtp = undefined;
    this.a.onRtcp = undefined;
    this.b.onRtp = undefined;
    this.b.onRtcp = undefined;
    this.ab.transcoder?.close();
    this.ba.transcoder?.close();
  }

  private way(to: Sender, plan: BridgePlan, side: 'a' | 'b', toDirection: Direction, codecs: MediaCodecs | undefined): Way {
    const counters = this.counters;
    const count = side === 'a' ? (): void => void counters.aToB++ : (): void => void counters.bToA++;
    const other = side === 'a' ? 'b' : 'a';
    const dtmfFrom = plan.dtmf?.[side];
    const dtmfTo = plan.dtmf?.[other];
    if (plan.kind === 'pass') {
      const map = side === 'a' ? plan.aToB : plan.bToA;
      // telephone-event of another clock (48000 from a browser, 8000 to a phone) needs its durations scaled
      const dtmf = dtmfFrom !== undefined && dtmfTo !== undefined && dtmfFrom.clockRate !== dtmfTo.clockRate ? codecs?.createDtmfMapper?.(dtmfFrom, dtmfTo) : undefined;
      const way: Way = {
        to,
        open: receives(toDirection),
        rtcp: true,
        transcoder: undefined,
        rtp: (packet) => {
          if (!way.open) {
            counters.dropped++;
            return;
          }
          const pt = packet[1]! & 0x7f;
          if (dtmf !== undefined && pt === dtmfFrom!.pt) {
            const mapped = dtmf.map(packet);
            if (mapped === undefined) counters.dropped++;
            else {
              count();
              to.sendRtp(mapped);
            }
            return;
          }
          const mapped = map.get(pt);
          if (mapped === undefined) {
            counters.dropped++;
            return;
          }
          // the packet is this leg's own buffer (a datagram, or the leg's decryption): rewritten in place
          if (mapped !== pt) packet[1] = (packet[1]! & 0x80) | mapped;
          count();
          to.sendRtp(packet);
        },
      };
      return way;
    }
    const fromCodec = plan[side];
    const toCodec = plan[other];
    const transcoder = codecs?.createTranscoder(fromCodec, toCodec);
    if (transcoder === undefined) throw new Error(`no transcoder from ${fromCodec.name} to ${toCodec.name}`);
    const dtmf = dtmfFrom !== undefined && dtmfTo !== undefined ? codecs?.createDtmfMapper?.(dtmfFrom, dtmfTo, transcoder) : undefined;
    const way: Way = {
      to,
      open: receives(toDirection),
      rtcp: false,
      transcoder,
      rtp: (packet) => {
        if (!way.open) {
          counters.dropped++;
          return;
        }
        const pt = packet[1]! & 0x7f;
        // every packet of the stream goes to the transcoder (it counts the sequence numbers of
        // the ones it does not decode, events and comfort noise, so as not to take them for losses)
        const outs = transcoder.transcode(packet);
        if (dtmf !== undefined && pt === dtmfFrom!.pt) {
          const mapped = dtmf.map(packet);
          if (mapped !== undefined) {
            count();
            to.sendRtp(mapped);
          }
          return;
        }
        if (pt !== fromCodec.pt) {
          counters.dropped++;
          return;
        }
        for (const out of outs) {
          count();
          to.sendRtp(out);
        }
      },
    };
    return way;
  }
}
