/**
 * Decrypting the SRTP and SRTCP of a capture (`parley pcap decrypt`): each UDP datagram that looks
 * like RTP or RTCP is tried with the keys that may be its sender's, and the first key that
 * authenticates it is bound to its stream (source, destination and SSRC) from then on. A packet
 * that no key authenticates is counted as failed and left as it is.
 *
 * Keys come from the command line (`--key`, for any stream, a source address or an SSRC) or from
 * the capture's SDES a=crypto lines (RFC 4568 §6.1: a key in an SDP protects what the writer of
 * that SDP sends, so it is bound to the address and port of its media line, RTCP at port + 1).
 * Replay protection is off: a capture's duplicates are decrypted as tshark counts them.
 */
import { isSrtpSuite, SrtpContext, type SrtpMasterKey, type SrtpSuite } from '../srtp/index.js';

export interface DecryptKey {
  readonly suite: SrtpSuite;
  readonly master: SrtpMasterKey;
  /** Only for packets sent from this address and port (RTCP: `rtcpSource`, else this port or the next). */
  readonly source?: { readonly address: string; readonly port: number };
  readonly rtcpSource?: { readonly address: string; readonly port: number };
  /** Only for this SSRC. */
  readonly ssrc?: number;
  /** Where the key came from, for the report ("--key 1", "a=crypto:1 of 127.0.0.1:4000"). */
  readonly origin: string;
}

export interface UdpSegment {
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly payload: Uint8Array;
}

export interface DecryptStreamReport {
  readonly kind: 'srtp' | 'srtcp';
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly ssrc: number;
  /** The suite and key that decrypted it, if any did. */
  readonly suite: SrtpSuite | undefined;
  readonly key: string | undefined;
  readonly packets: number;
  readonly decrypted: number;
  /** Packets no key authenticated (wrong key, damaged, or not SRTP at all). */
  readonly failed: number;
  /** RTCP sent in the clear (a compound whose lengths fill the datagram, no SRTCP trailer): copied, not failed. */
  readonly plain: number;
}

interface StreamState {
  readonly report: Omit<DecryptStreamReport, 'suite' | 'key' | 'packets' | 'decrypted' | 'failed' | 'plain'>;
  packets: number;
  decrypted: number;
  failed: number;
  plain: number;
  bound: number; // index into keys, -1 when none
  /** Failures in a row with no key bound, and the key count when it gave up trying. */
  misses: number;
  gaveUpAt: number;
  readonly contexts: Map<number, SrtpContext>;
}

/** Packets of a stream that no key opens before it is no longer tried (plain RTP, or a key not known): each try costs every key. */
const MAX_MISSES = 16;

/** RFC 5761 §4: RTCP packet types 192-223 (SR 200, RR 201, SDES, BYE, APP, RTPFB, PSFB, XR) where RTP's marker and payload type would be. */
function isRtcpType(b1: number): boolean {
  return b1 >= 192 && b1 <= 223;
}

/**
 * RFC 3550 §6.1: a compound RTCP packet is RTCP packets back to back, each with version 2 and its
 * length in 32-bit words less one. When they fill the datagram exactly there is no SRTCP trailer
 * (E+index and tag): RTCP in the clear, as some endpoints send their first packet or a last BYE.
 */
export function isPlainRtcp(p: Uint8Array): boolean {
  let at = 0;
  while (at + 4 <= p.length) {
    if ((p[at]! >>> 6) !== 2 || !isRtcpType(p[at + 1]!)) return false;
    at += (((p[at + 2]! << 8) | p[at + 3]!) + 1) * 4;
  }
  return at === p.length;
}

/** RTP version 2 and at least a fixed header: RTP, RTCP, SRTP and SRTCP all start so (STUN, DTLS, SIP do not). */
export function looksLikeRtp(p: Uint8Array): boolean {
  return p.length >= 12 && (p[0]! >>> 6) === 2;
}

export class SrtpDecryptor {
  private readonly keys: DecryptKey[] = [];
  private readonly streams = new Map<string, StreamState>();

  constructor(keys: readonly DecryptKey[] = []) {
    for (const k of keys) this.addKey(k);
  }

  /** A key learned later (the capture's a=crypto as its SDP goes by); a key already known is not added twice. */
  addKey(key: DecryptKey): void {
    const same = this.keys.find(
      (k) =>
        k.suite === key.suite &&
        Buffer.compare(Buffer.from(k.master.key), Buffer.from(key.master.key)) === 0 &&
        Buffer.compare(Buffer.from(k.master.salt), Buffer.from(key.master.salt)) === 0 &&
        k.source?.address === key.source?.address &&
        k.source?.port === key.source?.port &&
        k.ssrc === key.ssrc,
    );
    if (same === undefined && isSrtpSuite(key.suite)) this.keys.push(key);
  }

  get keyCount(): number {
    return this.keys.length;
  }

  /**
   * The plaintext RTP or RTCP of an SRTP or SRTCP datagram, or undefined (not RTP-like, no key,
   * or no key authenticates it).
   */
  decrypt(segment: UdpSegment): Buffer | undefined {
    const p = segment.payload;
    if (!looksLikeRtp(p)) return undefined;
    const rtcp = isRtcpType(p[1]!);
    const ssrc = rtcp ? ((p[4]! << 24) | (p[5]! << 16) | (p[6]! << 8) | p[7]!) >>> 0 : ((p[8]! << 24) | (p[9]! << 16) | (p[10]! << 8) | p[11]!) >>> 0;
    const id = `${rtcp ? 'c' : 'p'} ${segment.src} ${segment.srcPort} ${segment.dst} ${segment.dstPort} ${ssrc}`;
    let s = this.streams.get(id);
    if (s === undefined) {
      s = {
        report: { kind: rtcp ? 'srtcp' : 'srtp', src: segment.src, srcPort: segment.srcPort, dst: segment.dst, dstPort: segment.dstPort, ssrc },
        packets: 0,
        decrypted: 0,
        failed: 0,
        plain: 0,
        bound: -1,
        misses: 0,
        gaveUpAt: -1,
        contexts: new Map(),
      };
      this.streams.set(id, s);
    }
    s.packets++;
    // a stream no key opened in MAX_MISSES packets is not tried again until a new key comes
    if (s.bound < 0 && s.gaveUpAt === this.keys.length) {
      if (rtcp && isPlainRtcp(p)) s.plain++;
      else s.failed++;
      return undefined;
    }
    // the bound key first; then every other candidate (a re-INVITE may have changed the key)
    const order = s.bound >= 0 ? [s.bound, ...this.candidates(segment, ssrc, rtcp).filter((i) => i !== s.bound)] : this.candidates(segment, ssrc, rtcp);
    for (const i of order) {
      const plain = this.tryKey(s, i, p, rtcp);
      if (plain !== undefined) {
        s.bound = i;
        s.misses = 0;
        s.decrypted++;
        return plain;
      }
    }
    if (rtcp && isPlainRtcp(p)) {
      s.plain++;
      return undefined;
    }
    s.failed++;
    if (s.bound < 0 && ++s.misses >= MAX_MISSES) s.gaveUpAt = this.keys.length;
    return undefined;
  }

  private tryKey(s: StreamState, i: number, p: Uint8Array, rtcp: boolean): Buffer | undefined {
    let ctx = s.contexts.get(i);
    if (ctx === undefined) {
      const k = this.keys[i]!;
      ctx = new SrtpContext({ suite: k.suite, local: k.master, remote: k.master, replayProtection: false });
      s.contexts.set(i, ctx);
    }
    return rtcp ? ctx.unprotectRtcp(p) : ctx.unprotectRtp(p);
  }

  /** Keys that may be the sender's: those bound to its source, then those bound to nothing, then the rest (addresses rewritten by NAT). */
  private candidates(segment: UdpSegment, ssrc: number, rtcp: boolean): number[] {
    const exact: number[] = [];
    const open: number[] = [];
    const other: number[] = [];
    this.keys.forEach((k, i) => {
      if (k.ssrc !== undefined && k.ssrc !== ssrc) return;
      const src = k.source;
      if (src === undefined) open.push(i);
      else if (rtcp && k.rtcpSource !== undefined) (k.rtcpSource.address === segment.src && k.rtcpSource.port === segment.srcPort ? exact : other).push(i);
      else if (src.address === segment.src && (segment.srcPort === src.port || (rtcp && segment.srcPort === src.port + 1))) exact.push(i);
      else other.push(i);
    });
    return [...exact, ...open, ...other];
  }

  /** Every stream seen, in the order of its first packet. */
  report(): DecryptStreamReport[] {
    return [...this.streams.values()].map((s) => {
      const k = s.bound >= 0 ? this.keys[s.bound] : undefined;
      return { ...s.report, suite: k?.suite, key: k?.origin, packets: s.packets, decrypted: s.decrypted, failed: s.failed, plain: s.plain };
    });
  }
}
