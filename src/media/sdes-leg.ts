/**
 * The leg towards a side that speaks SRTP with keys in the SDP (RFC 4568, RTP/SAVP): an RTP and
 * an RTCP socket (one with rtcp-mux), our SrtpContext with Parley's a=crypto key for what it
 * sends and the side's for what it receives, and symmetric latching as for plain RTP: media goes
 * to the SDP's address and port until the first packet that authenticates arrives, then to that
 * packet's source (what rtpengine does by default, for phones behind NAT); RTCP the same on its
 * own port. Packets that do not authenticate never move the latch.
 */
import { randomBytes } from 'node:crypto';
import type { Socket, RemoteInfo } from 'node:dgram';
import type { TransportAddress } from '../stun/address.js';
import type { Leg, LegAddress, LegStats } from './leg.js';
import type { RemoteSide, SdesCrypto } from './side.js';
import { isRtcp } from './rtcp-mux.js';
import { isAesCmSuite, MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, SrtpContext, type SrtpMasterKey, type SrtpSuite } from '../srtp/index.js';

export interface SdesLegOptions {
  /** UDP sockets bound by the caller; the leg owns them from here (and closes them). */
  readonly rtpSocket: Socket;
  /** Omitted (or the RTP socket) with rtcp-mux. */
  readonly rtcpSocket?: Socket;
  readonly local: LegAddress;
  /** The a=crypto Parley wrote to this side (its key protects what Parley sends). */
  readonly localKey: SdesCrypto;
  readonly remote: RemoteSide;
  readonly now?: () => number;
}

export interface SdesLeg extends Leg {
  /** A re-offer or re-answer: a new address resets the latch, a new key (either side's) new SRTP contexts. */
  update(remote: RemoteSide, localKey?: SdesCrypto): void;
  /** Where RTP and RTCP go now (the SDP's address until latched). */
  readonly rtpPeer: TransportAddress;
  readonly rtcpPeer: TransportAddress;
}

/**
 * A new a=crypto for Parley's side (RFC 4568 §6.1): `inline:` 30 random bytes (the 128-bit
 * master key and 112-bit master salt) in base64, no lifetime, no MKI.
 */
export function newSdesCrypto(suite: SrtpSuite = 'AES_CM_128_HMAC_SHA1_80', tag = 1): SdesCrypto {
  return { tag, suite, keySalt: randomBytes(MASTER_KEY_LENGTH + MASTER_SALT_LENGTH).toString('base64') };
}

/**
 * The master key and salt of an a=crypto Parley can use, or undefined: a suite of srtp.ts, an
 * inline key of exactly 30 bytes, no MKI (RFC 4568 §6.1 makes the MKI optional; Parley refuses
 * one, as its packets would carry a field srtp.ts does not read).
 */
export function sdesMasterKey(crypto: SdesCrypto): SrtpMasterKey | undefined {
  if (!isAesCmSuite(crypto.suite)) return undefined;
  if (crypto.rest !== undefined && crypto.rest.includes(':')) return undefined; // |MKI:length
  const bytes = Buffer.from(crypto.keySalt, 'base64');
  if (bytes.length !== MASTER_KEY_LENGTH + MASTER_SALT_LENGTH) return undefined;
  // base64 that decodes but is not canonical (garbage characters are skipped by Buffer.from)
  if (withoutPadding(bytes.toString('base64')) !== withoutPadding(crypto.keySalt)) return undefined;
  return { key: bytes.subarray(0, MASTER_KEY_LENGTH), salt: bytes.subarray(MASTER_KEY_LENGTH) };
}

/**
 * The side's a=crypto to use with Parley's `suite`: RFC 4568 §7.1.2 has the answerer pick one
 * offered line; from an answer it is the line with the tag Parley offered. The first usable one
 * of `suite`, else undefined.
 */
export function chooseRemoteCrypto(crypto: readonly SdesCrypto[] | undefined, suite: string, tag?: number): SdesCrypto | undefined {
  for (const c of crypto ?? []) {
    if (c.suite !== suite || (tag !== undefined && c.tag !== tag)) continue;
    if (sdesMasterKey(c) !== undefined) return c;
  }
  return undefined;
}

function withoutPadding(base64: string): string {
  let end = base64.length;
  while (end > 0 && base64.charCodeAt(end - 1) === 0x3d) end--; // '='
  return base64.slice(0, end);
}

/** What the SRTP context is made of: a change of it makes a new one. */
function keyIdentity(localKey: SdesCrypto, remote: RemoteSide): string {
  return `${localKey.suite} ${localKey.keySalt} ${chooseRemoteCrypto(remote.crypto, localKey.suite)?.keySalt ?? ''}`;
}

function contextFor(localKey: SdesCrypto, remote: RemoteSide): SrtpContext {
  const local = sdesMasterKey(localKey);
  if (local === undefined) throw new TypeError(`Parley's a=crypto (${localKey.suite}) has no usable key`);
  const chosen = chooseRemoteCrypto(remote.crypto, localKey.suite);
  const theirs = chosen === undefined ? undefined : sdesMasterKey(chosen);
  if (theirs === undefined) throw new TypeError(`the side has no usable a=crypto for ${localKey.suite}`);
  return new SrtpContext({ suite: localKey.suite as SrtpSuite, local, remote: theirs });
}

function sdpRtp(remote: RemoteSide): TransportAddress {
  return { family: remote.family, address: remote.address, port: remote.port };
}

function sdpRtcp(remote: RemoteSide): TransportAddress {
  return { family: remote.family, address: remote.address, port: remote.rtcpMux ? remote.port : remote.rtcpPort };
}

class SdesLegImpl implements SdesLeg {
  onRtp: ((packet: Buffer) => void) | undefined;
  onRtcp: ((packet: Buffer) => void) | undefined;
  readonly local: LegAddress;
  lastReceived = 0;
  rtpPeer: TransportAddress;
  rtcpPeer: TransportAddress;

  private readonly rtpSocket: Socket;
  private readonly rtcpSocket: Socket | undefined;
  private readonly now: () => number;
  private remote: RemoteSide;
  private localKey: SdesCrypto;
  private srtp: SrtpContext;
  private rtpLatched = false;
  private rtcpLatched = false;
  private closed = false;
  private packetsIn = 0;
  private packetsOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private dropped = 0;

  constructor(options: SdesLegOptions) {
    this.rtpSocket = options.rtpSocket;
    this.rtcpSocket = options.rtcpSocket === options.rtpSocket ? undefined : options.rtcpSocket;
    this.local = options.local;
    this.now = options.now ?? (() => performance.now());
    this.remote = options.remote;
    this.localKey = options.localKey;
    this.srtp = contextFor(options.localKey, options.remote);
    this.rtpPeer = sdpRtp(options.remote);
    this.rtcpPeer = sdpRtcp(options.remote);
    this.rtpSocket.on('message', this.onRtpSocket);
    this.rtcpSocket?.on('message', this.onRtcpSocket);
  }

  get ready(): boolean {
    return this.rtpLatched;
  }

  stats(): LegStats {
    return { packetsIn: this.packetsIn, packetsOut: this.packetsOut, bytesIn: this.bytesIn, bytesOut: this.bytesOut, dropped: this.dropped };
  }

  update(remote: RemoteSide, localKey?: SdesCrypto): void {
    if (this.closed) return;
    const before = this.remote;
    this.remote = remote;
    if (remote.address !== before.address || remote.port !== before.port || remote.rtcpPort !== before.rtcpPort) {
      this.rtpPeer = sdpRtp(remote);
      this.rtcpPeer = sdpRtcp(remote);
      this.rtpLatched = false;
      this.rtcpLatched = false;
    }
    const keysBefore = keyIdentity(this.localKey, before);
    if (localKey !== undefined) this.localKey = localKey;
    if (keyIdentity(this.localKey, remote) !== keysBefore) this.srtp = contextFor(this.localKey, remote);
  }

  sendRtp(packet: Buffer): void {
    if (this.closed) return;
    const wire = this.srtp.protectRtp(packet);
    if (wire === undefined) {
      this.dropped++;
      return;
    }
    this.send(this.rtpSocket, wire, this.rtpPeer);
  }

  sendRtcp(packet: Buffer): void {
    if (this.closed) return;
    const wire = this.srtp.protectRtcp(packet);
    if (wire === undefined) {
      this.dropped++;
      return;
    }
    this.send(this.rtcpSocket ?? this.rtpSocket, wire, this.rtcpPeer);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rtpSocket.off('message', this.onRtpSocket);
    this.rtcpSocket?.off('message', this.onRtcpSocket);
    for (const s of [this.rtpSocket, this.rtcpSocket]) {
      try {
        s?.close();
      } catch {
        // already closed by its owner
      }
    }
  }

  private send(socket: Socket, wire: Buffer, to: TransportAddress): void {
    // port 0 (a held or refused stream) and the null address of old hold (RFC 3264 §8.4) go nowhere
    if (to.port === 0 || to.address === '0.0.0.0') {
      this.dropped++;
      return;
    }
    this.packetsOut++;
    this.bytesOut += wire.length;
    socket.send(wire, to.port, to.address);
  }

  private readonly onRtpSocket = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.closed) return;
    if ((this.remote.rtcpMux || this.rtcpSocket === undefined) && isRtcp(msg)) this.receiveRtcp(msg, rinfo);
    else this.receiveRtp(msg, rinfo);
  };

  private readonly onRtcpSocket = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.closed) return;
    this.receiveRtcp(msg, rinfo);
  };

  private receiveRtp(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length === 0 || (msg[0]! & 0xc0) !== 0x80) {
      this.dropped++;
      return;
    }
    const plain = this.srtp.unprotectRtp(msg);
    if (plain === undefined) {
      this.dropped++;
      return;
    }
    if (!this.rtpLatched) {
      this.rtpLatched = true;
      this.rtpPeer = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
    }
    this.packetsIn++;
    this.bytesIn += msg.length;
    this.lastReceived = this.now();
    this.onRtp?.(plain);
  }

  private receiveRtcp(msg: Buffer, rinfo: RemoteInfo): void {
    const plain = this.srtp.unprotectRtcp(msg);
    if (plain === undefined) {
      this.dropped++;
      return;
    }
    if (!this.rtcpLatched) {
      this.rtcpLatched = true;
      this.rtcpPeer = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
    }
    this.packetsIn++;
    this.bytesIn += msg.length;
    this.lastReceived = this.now();
    this.onRtcp?.(plain);
  }
}

/** The leg towards an SDES-SRTP side (see the file's comment). Throws TypeError when either side has no usable key. */
export function createSdesLeg(options: SdesLegOptions): SdesLeg {
  return new SdesLegImpl(options);
}
