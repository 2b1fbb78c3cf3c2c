/**
 * SRTP and SRTCP (RFC 3711) with the suites of srtp-suite.ts: AES-CM with HMAC-SHA1
 * (AES_CM_128_HMAC_SHA1_80 and _32; RFC 5764 §4.1.2 profiles SRTP_AES128_CM_HMAC_SHA1_80 and _32)
 * and AES-GCM (RFC 7714: AEAD_AES_128_GCM, AEAD_AES_256_GCM). Optional MKI; key derivation rate 0.
 *
 * One `SrtpContext` holds the two directions of one leg: `protect*` with the local master key
 * (what Parley sends), `unprotect*` with the remote one (what the side sends), and per SSRC the
 * rollover counter, highest sequence number and replay list RFC 3711 §3.2 keeps. Network input
 * never throws: a packet that is short, fails authentication or is a replay gives `undefined`.
 * The ciphers themselves are in aes-cm-transform.ts and aes-gcm-transform.ts.
 */
import { AesCmTransform } from './aes-cm-transform.js';
import { AesGcmTransform } from './aes-gcm-transform.js';
import { ReplayWindow } from './replay-window.js';
import { SRTP_SUITE_PARAMETERS, type SrtpMasterKey, type SrtpSuite } from './srtp-suite.js';
import { RTCP_HEADER_LENGTH, SRTCP_INDEX_LENGTH, type SrtpTransform } from './srtp-transform.js';

export interface SrtpContextOptions {
  readonly suite: SrtpSuite;
  /** Keys of what Parley sends (protect). */
  readonly local: SrtpMasterKey;
  /** Keys of what the side sends (unprotect). */
  readonly remote: SrtpMasterKey;
  /**
   * Refuse replayed packets (RFC 3711 §3.3.2; default true). A capture reader turns it off: a
   * capture holds duplicates the network made, and each is decrypted as tshark counts it.
   */
  readonly replayProtection?: boolean;
}

const RTP_HEADER_LENGTH = 12;
/** SSRCs remembered per direction; beyond it the oldest is forgotten (only authenticated packets add one). */
const MAX_STREAMS = 64;
const NO_MKI = new Uint8Array(0);

/** What RFC 3711 §3.2.1 keeps per SSRC for SRTP: the rollover counter and highest sequence number. */
class RtpStream {
  roc = 0;
  /** s_l; -1 before the first packet. */
  seq = -1;
  readonly replay = new ReplayWindow();
}

class RtcpStream {
  /** Sender: the next SRTCP index. */
  nextIndex = 0;
  readonly replay = new ReplayWindow();
}

/**
 * RFC 3711 Appendix A: the index of a packet with sequence number `seq` given the stream's ROC and
 * s_l. Returns v (the ROC guessed for the packet); the index is v * 2^16 + seq.
 */
export function estimateRoc(roc: number, sl: number, seq: number): number {
  if (sl < 0) return roc;
  if (sl < 32768) {
    if (seq - sl > 32768) return roc === 0 ? -1 : roc - 1; // -1: before the stream's first rollover, refused
    return roc;
  }
  if (sl - 32768 > seq) return roc + 1;
  return roc;
}

/** The length of an RTP header with its CSRCs and extension, or -1 when `p` is not that long. */
export function rtpHeaderLength(p: Uint8Array): number {
  if (p.length < RTP_HEADER_LENGTH || (p[0]! >>> 6) !== 2) return -1;
  let n = RTP_HEADER_LENGTH + (p[0]! & 0x0f) * 4;
  if ((p[0]! & 0x10) !== 0) {
    if (p.length < n + 4) return -1;
    n += 4 + ((p[n + 2]! << 8) | p[n + 3]!) * 4;
  }
  return n <= p.length ? n : -1;
}

function getStream<T>(streams: Map<number, T>, ssrc: number, make: () => T): T {
  let s = streams.get(ssrc);
  if (s === undefined) {
    if (streams.size >= MAX_STREAMS) streams.delete(streams.keys().next().value!);
    s = make();
    streams.set(ssrc, s);
  }
  return s;
}

function makeTransform(suite: SrtpSuite, master: SrtpMasterKey): SrtpTransform {
  const p = SRTP_SUITE_PARAMETERS[suite];
  if (master.key.length !== p.keyLength || master.salt.length !== p.saltLength) {
    throw new TypeError(`an SRTP master key of ${suite} has ${p.keyLength} bytes and a salt ${p.saltLength}, not ${master.key.length} and ${master.salt.length}`);
  }
  return p.transform === 'aes-cm' ? new AesCmTransform(master, p.rtpTagLength) : AesGcmTransform.fromMaster(master);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class SrtpContext {
  readonly suite: SrtpSuite;
  /** Bytes of the SRTP authentication tag (10 for _80, 4 for _32, 16 for the AEAD suites). */
  readonly rtpTagLength: number;
  private readonly out: SrtpTransform;
  private readonly in: SrtpTransform;
  private readonly localMki: Uint8Array;
  private readonly remoteMki: Uint8Array | undefined;
  private readonly replayProtection: boolean;
  private readonly sendRtp = new Map<number, RtpStream>();
  private readonly recvRtp = new Map<number, RtpStream>();
  private readonly sendRtcp = new Map<number, RtcpStream>();
  private readonly recvRtcp = new Map<number, RtcpStream>();

  /** Throws TypeError on keys of the wrong length (the caller's mistake, not network input). */
  constructor(options: SrtpContextOptions) {
    this.suite = options.suite;
    this.out = makeTransform(options.suite, options.local);
    this.in = makeTransform(options.suite, options.remote);
    this.rtpTagLength = this.out.rtpTagLength;
    this.localMki = options.local.mki ?? NO_MKI;
    this.remoteMki = options.remote.mki;
    this.replayProtection = options.replayProtection ?? true;
  }

  /** RFC 3711 §3.1: the MKI, when keys are named, sits where the transform puts it; a packet naming another key is not ours. */
  private mkiMatches(packet: Uint8Array, tagLength: number): boolean {
    const mki = this.remoteMki;
    if (mki === undefined) return true;
    const end = this.in.mkiBeforeTag ? packet.length - tagLength : packet.length;
    return sameBytes(packet.subarray(end - mki.length, end), mki);
  }

  /**
   * RFC 3711 §3.3: encrypt the payload of an RTP packet and append the authentication tag. The
   * sender's ROC follows the sequence numbers it is given (Appendix A's estimate, so that a relayed
   * packet out of order does not step it). Undefined for a packet that is not RTP.
   */
  protectRtp(packet: Uint8Array): Buffer | undefined {
    const h = rtpHeaderLength(packet);
    if (h < 0) return undefined;
    const seq = (packet[2]! << 8) | packet[3]!;
    const ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
    const s = getStream(this.sendRtp, ssrc, () => new RtpStream());
    let v = estimateRoc(s.roc, s.seq, seq);
    if (v < 0) v = 0;
    if (v > s.roc || s.seq < 0) {
      s.roc = v;
      s.seq = seq;
    } else if (v === s.roc && seq > s.seq) {
      s.seq = seq;
    }
    return this.out.sealRtp(packet, h, ssrc, v, seq, this.localMki);
  }

  /**
   * RFC 3711 §3.3: estimate the index, refuse a replay (§3.3.2), check the tag ("If the result is
   * "AUTHENTICATION FAILURE" ..., the packet MUST be discarded"), decrypt, then update ROC, s_l and
   * the replay list. Undefined for anything that does not pass.
   */
  unprotectRtp(packet: Uint8Array): Buffer | undefined {
    const tagLength = this.in.rtpTagLength;
    const mkiLength = this.remoteMki?.length ?? 0;
    if (packet.length < RTP_HEADER_LENGTH + tagLength + mkiLength) return undefined;
    const h = rtpHeaderLength(packet.subarray(0, packet.length - tagLength - mkiLength));
    if (h < 0) return undefined;
    if (!this.mkiMatches(packet, tagLength)) return undefined;
    const seq = (packet[2]! << 8) | packet[3]!;
    const ssrc = ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0;
    const known = this.recvRtp.get(ssrc);
    const roc = known?.roc ?? 0;
    const v = estimateRoc(roc, known?.seq ?? -1, seq);
    if (v < 0 || v > 0xffffffff) return undefined;
    const index = v * 65536 + seq;
    if (this.replayProtection && known !== undefined && !known.replay.check(index)) return undefined;
    const out = this.in.openRtp(packet, h, ssrc, v, seq, mkiLength);
    if (out === undefined) return undefined;
    const s = known ?? getStream(this.recvRtp, ssrc, () => new RtpStream());
    // §3.3.1: a packet of the next ROC sets ROC and s_l; one of the same ROC past s_l sets s_l
    if (s.seq < 0 || v > s.roc) {
      s.roc = v;
      s.seq = seq;
    } else if (v === s.roc && seq > s.seq) {
      s.seq = seq;
    }
    s.replay.accept(index);
    return out;
  }

  /**
   * RFC 3711 §3.4: protect a compound RTCP packet with E = 1 and the 31-bit SRTCP index.
   * Undefined for a packet shorter than an RTCP header.
   */
  protectRtcp(packet: Uint8Array): Buffer | undefined {
    if (packet.length < RTCP_HEADER_LENGTH || (packet[0]! >>> 6) !== 2) return undefined;
    const ssrc = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
    const s = getStream(this.sendRtcp, ssrc, () => new RtcpStream());
    const index = s.nextIndex;
    // §3.4: the SRTCP index counts the packets sent, modulo 2^31
    s.nextIndex = (index + 1) & 0x7fffffff;
    return this.out.sealRtcp(packet, ssrc, index, this.localMki);
  }

  /**
   * RFC 3711 §3.4: check the tag over the packet with its E flag and index, refuse a replayed
   * index, decrypt when E is set (an unencrypted SRTCP packet, E = 0, is taken as it is, as §3.4
   * allows). Undefined for anything that does not pass.
   */
  unprotectRtcp(packet: Uint8Array): Buffer | undefined {
    const tagLength = this.in.rtcpTagLength;
    const mkiLength = this.remoteMki?.length ?? 0;
    if (packet.length < RTCP_HEADER_LENGTH + SRTCP_INDEX_LENGTH + tagLength + mkiLength || (packet[0]! >>> 6) !== 2) return undefined;
    if (!this.mkiMatches(packet, tagLength)) return undefined;
    const ssrc = ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0;
    // AES-CM: E+index ‖ MKI ‖ tag; AES-GCM: tag ‖ E+index ‖ MKI
    const at = packet.length - mkiLength - SRTCP_INDEX_LENGTH - (this.in.mkiBeforeTag ? tagLength : 0);
    const word = ((packet[at]! << 24) | (packet[at + 1]! << 16) | (packet[at + 2]! << 8) | packet[at + 3]!) >>> 0;
    const encrypted = word >= 0x80000000;
    const index = word & 0x7fffffff;
    const known = this.recvRtcp.get(ssrc);
    if (this.replayProtection && known !== undefined && !known.replay.check(index)) return undefined;
    const out = this.in.openRtcp(packet, ssrc, index, encrypted, mkiLength);
    if (out === undefined) return undefined;
    const s = known ?? getStream(this.recvRtcp, ssrc, () => new RtcpStream());
    s.replay.accept(index);
    return out;
  }
}
