/**
 * The leg towards a browser: ICE-lite, DTLS-SRTP and rtcp-mux on one UDP socket (RFC 8829's
 * UDP/TLS/RTP/SAVPF). Datagrams are told apart by their first byte (RFC 7983 §7): STUN to the
 * ICE-lite agent, DTLS to werift's DtlsServer (or DtlsClient) through a small transport adapter,
 * RTP/RTCP to our SrtpContext once DTLS has exported the keys (RFC 5764 §4.2).
 *
 * DTLS role (RFC 5763 §5, RFC 8842 §5.3): Parley answers an `actpass` offer with `passive`, and
 * offers `actpass` itself, which browsers answer with `active`: in both cases the browser is the
 * DTLS client and Parley the server. A side that says `passive` makes Parley the client.
 *
 * The remote certificate must match an a=fingerprint of the remote SDP (RFC 5763 §5, RFC 8122
 * §5); when it does not, the leg closes.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import {
  DtlsClient, DtlsServer, ProtectionProfileAes128CmHmacSha1_80, type DtlsSocket, type Transport,
} from 'werift';
import type { TransportAddress } from '../stun/address.js';
import { packetKind } from '../stun/demux.js';
import type { Leg, LegAddress, LegStats } from './leg.js';
import type { RemoteSide } from './side.js';
import { fingerprintMatches, type DtlsCertificate } from './certificate.js';
import { IceLiteAgent, type IceCredentials } from './ice-lite.js';
import { isRtcp } from './rtcp-mux.js';
import { MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, SrtpContext } from '../srtp/index.js';

export interface WebRtcLegOptions {
  /** A UDP socket bound by the caller; the leg owns it from here (and closes it). */
  readonly socket: Socket;
  readonly local: LegAddress;
  /** Parley's ICE credentials towards this side (written in its SDP). */
  readonly ice: IceCredentials;
  readonly certificate: DtlsCertificate;
  readonly remote: RemoteSide;
  /** performance.now() by default. */
  readonly now?: () => number;
  /** Why the leg closed itself (fingerprint mismatch, DTLS failure); not called for close(). */
  readonly onFailure?: (reason: string) => void;
}

export type DtlsState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

export interface WebRtcLeg extends Leg {
  /**
   * A re-offer or re-answer from the side. A new remote ufrag is an ICE restart (RFC 8445 §9):
   * pass Parley's new credentials in `ice`. A new fingerprint or DTLS role starts a new DTLS
   * association (RFC 5763 §6.6); the old keys serve until it is up.
   */
  update(remote: RemoteSide, ice?: IceCredentials): void;
  readonly dtlsState: DtlsState;
  /** The last DTLS record the DTLS library could not read: dropped, the association goes on (RFC 6347 §4.1.2.7). */
  readonly lastDtlsError: string | undefined;
  /** Where media goes (the nominated pair's remote address). */
  readonly selected: TransportAddress | undefined;
}

/** The DTLS role Parley takes against a side's a=setup. */
export function dtlsRoleFor(remoteSetup: 'active' | 'passive' | 'actpass' | undefined): 'server' | 'client' {
  return remoteSetup === 'passive' ? 'client' : 'server';
}

/** At most this many addresses with a valid check are remembered (a browser has a few candidates). */
const MAX_VALIDATED = 16;

/** werift's transport for one DTLS association: datagrams to the current address on the leg's socket. */
class DtlsDatagrams implements Transport {
  readonly type = 'udp';
  readonly address = {} as Transport['address'];
  closed = false;
  onData: (data: Buffer, addr: readonly [string, number]) => void = () => {};
  constructor(private readonly socket: Socket, private readonly destination: () => TransportAddress | undefined) {}
  send = async (data: Buffer): Promise<void> => {
    const to = this.destination();
    if (this.closed || to === undefined) return;
    try {
      this.socket.send(data, to.port, to.address);
    } catch {
      // the socket closed under a retransmission timer
    }
  };
  close = async (): Promise<void> => {
    this.closed = true;
  };
}

class WebRtcLegImpl implements WebRtcLeg {
  onRtp: ((packet: Buffer) => void) | undefined;
  onRtcp: ((packet: Buffer) => void) | undefined;
  readonly local: LegAddress;
  lastReceived = 0;
  dtlsState: DtlsState = 'new';

  private readonly socket: Socket;
  private readonly certificate: DtlsCertificate;
  private readonly now: () => number;
  private readonly onFailure: ((reason: string) => void) | undefined;
  private readonly ice: IceLiteAgent;
  private remote: RemoteSide;
  private validated: TransportAddress[] = [];
  /** Where the last DTLS record came from (the handshake answers there before a pair is nominated). */
  private dtlsPeer: TransportAddress | undefined;
  private dtls: { socket: DtlsSocket; transport: DtlsDatagrams; role: 'server' | 'client' } | undefined;
  private srtp: SrtpContext | undefined;
  private closed = false;
  private packetsIn = 0;
  private packetsOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private dropped = 0;
  /** The last DTLS record werift could not read (for the log and tests); the association goes on. */
  lastDtlsError: string | undefined;

  constructor(options: WebRtcLegOptions) {
    this.socket = options.socket;
    this.local = options.local;
    this.certificate = options.certificate;
    this.now = options.now ?? (() => performance.now());
    this.onFailure = options.onFailure;
    this.remote = options.remote;
    this.ice = new IceLiteAgent({ local: options.ice, remoteUfrag: options.remote.ice?.ufrag, now: this.now });
    this.socket.on('message', this.receive);
    this.startDtls();
  }

  get ready(): boolean {
    return this.srtp !== undefined && this.ice.ready;
  }

  get selected(): TransportAddress | undefined {
    return this.ice.selected;
  }

  stats(): LegStats {
    return { packetsIn: this.packetsIn, packetsOut: this.packetsOut, bytesIn: this.bytesIn, bytesOut: this.bytesOut, dropped: this.dropped };
  }

  update(remote: RemoteSide, ice?: IceCredentials): void {
    if (this.closed) return;
    const before = this.remote;
    this.remote = remote;
    const ufrag = remote.ice?.ufrag;
    const current = this.ice.credentials;
    const newLocal = ice !== undefined && (ice.ufrag !== current.ufrag || ice.pwd !== current.pwd);
    // Addresses checked before the restart stay valid for media: the browser keeps sending on the
    // selected pair until it nominates another (RFC 8445 §9), and its checks come back within
    // seconds.
    if (ufrag !== before.ice?.ufrag || newLocal) this.ice.restart(ufrag, newLocal ? ice : undefined);
    const sameFingerprints = JSON.stringify(before.dtls?.fingerprints ?? []) === JSON.stringify(remote.dtls?.fingerprints ?? []);
    if (!sameFingerprints || dtlsRoleFor(remote.dtls?.setup) !== this.dtls?.role) {
      this.stopDtls();
      this.startDtls();
    }
  }

  sendRtp(packet: Buffer): void {
    const to = this.ice.selected;
    if (this.srtp === undefined || to === undefined || this.closed) {
      this.dropped++;
      return;
    }
    const wire = this.srtp.protectRtp(packet);
    if (wire === undefined) {
      this.dropped++;
      return;
    }
    this.send(wire, to);
  }

  sendRtcp(packet: Buffer): void {
    const to = this.ice.selected;
    if (this.srtp === undefined || to === undefined || this.closed) {
      this.dropped++;
      return;
    }
    const wire = this.srtp.protectRtcp(packet);
    if (wire === undefined) {
      this.dropped++;
      return;
    }
    this.send(wire, to);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopDtls();
    this.dtlsState = 'closed';
    this.socket.off('message', this.receive);
    try {
      this.socket.close();
    } catch {
      // already closed by its owner
    }
  }

  private send(wire: Buffer, to: TransportAddress): void {
    this.packetsOut++;
    this.bytesOut += wire.length;
    this.socket.send(wire, to.port, to.address);
  }

  private readonly receive = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.closed || msg.length === 0) return;
    const source: TransportAddress = { family: rinfo.family === 'IPv6' ? 6 : 4, address: rinfo.address, port: rinfo.port };
    switch (packetKind(msg[0]!)) {
      case 'stun': {
        const out = this.ice.handle(msg, source);
        if (out.valid) this.remember(source);
        if (out.response !== undefined) this.socket.send(out.response, rinfo.port, rinfo.address);
        return;
      }
      case 'dtls': {
        // RFC 8445 §11: media (DTLS included) is taken from a pair ICE has checked.
        if (this.dtls === undefined || !this.isValidated(source)) {
          this.dropped++;
          return;
        }
        this.dtlsPeer = source;
        try {
          this.dtls.transport.onData(msg, [rinfo.address, rinfo.port]);
        } catch {
          // werift reads records without bounds checks and throws on a short one (a RangeError
          // from readUInt16BE): a datagram it cannot read is dropped, as RFC 6347 §4.1.2.7 says
          // of invalid records ("silently discarded"), and the leg goes on
          this.dropped++;
        }
        return;
      }
      case 'rtp': {
        const srtp = this.srtp;
        if (srtp === undefined || !this.isValidated(source)) {
          this.dropped++;
          return;
        }
        const rtcp = isRtcp(msg);
        const plain = rtcp ? srtp.unprotectRtcp(msg) : srtp.unprotectRtp(msg);
        if (plain === undefined) {
          this.dropped++;
          return;
        }
        this.packetsIn++;
        this.bytesIn += msg.length;
        this.lastReceived = this.now();
        if (rtcp) this.onRtcp?.(plain);
        else this.onRtp?.(plain);
        return;
      }
      default:
        this.dropped++;
    }
  };

  private remember(source: TransportAddress): void {
    if (this.isValidated(source)) return;
    if (this.validated.length >= MAX_VALIDATED) this.validated.shift();
    this.validated.push(source);
  }

  private isValidated(source: TransportAddress): boolean {
    for (const a of this.validated) if (a.port === source.port && a.address === source.address) return true;
    return false;
  }

  private startDtls(): void {
    const role = dtlsRoleFor(this.remote.dtls?.setup);
    const transport = new DtlsDatagrams(this.socket, () => this.ice.selected ?? this.dtlsPeer);
    const options = {
      transport,
      cert: this.certificate.certPem,
      key: this.certificate.keyPem,
      signatureHash: this.certificate.signatureHash,
      srtpProfiles: [ProtectionProfileAes128CmHmacSha1_80],
      extendedMasterSecret: true,
    };
    // RFC 5763 §5: both ends present a certificate, so the server asks for the client's (to
    // check it against the fingerprint).
    const socket: DtlsSocket = role === 'server' ? new DtlsServer({ ...options, certificateRequest: true }) : new DtlsClient(options);
    const current = { socket, transport, role };
    this.dtls = current;
    if (this.srtp === undefined) this.dtlsState = 'connecting';
    socket.onConnect.subscribe(() => {
      if (this.dtls !== current || this.closed) return;
      this.connected(current.socket);
    });
    // RFC 6347 §4.1.2.7: "invalid records SHOULD be silently discarded, thus preserving the
    // association". werift reports a record it cannot read (a short or lying one) as an error:
    // counted and dropped, so that a broken datagram does not end the call's media. A handshake
    // that never completes leaves the leg not ready, and the session ends by media.timeout.
    socket.onError.subscribe((error) => {
      if (this.dtls !== current || this.closed) return;
      this.dropped++;
      this.lastDtlsError = error instanceof Error ? error.message : String(error);
    });
    if (role === 'client') {
      // the client starts once a pair is nominated (before, it has nowhere to send); connect()
      // retransmits the ClientHello on its own, so it is called once
      const start = (): void => {
        if (this.dtls !== current || this.closed) return;
        if (this.ice.selected === undefined) {
          setTimeout(start, 50).unref();
          return;
        }
        (socket as DtlsClient).connect().catch((error: unknown) => {
          if (this.dtls === current && !this.closed) this.fail(`DTLS failed: ${error instanceof Error ? error.message : String(error)}`);
        });
      };
      start();
    }
  }

  private connected(socket: DtlsSocket): void {
    const certificate = socket.remoteCertificate;
    if (certificate === undefined || !fingerprintMatches(certificate, this.remote.dtls?.fingerprints ?? [])) {
      this.fail('the DTLS certificate does not match the SDP fingerprint');
      return;
    }
    // RFC 5764 §4.1.2: SRTP_AES128_CM_HMAC_SHA1_80 is the only profile Parley offers in use_srtp.
    if (socket.srtp.srtpProfile !== ProtectionProfileAes128CmHmacSha1_80) {
      this.fail(`DTLS negotiated SRTP profile ${String(socket.srtp.srtpProfile)}`);
      return;
    }
    // RFC 5764 §4.2: client_write_SRTP_master_key, server_write_..., then the salts, from the
    // exporter labelled "EXTRACTOR-dtls_srtp"; werift hands them back as local and remote.
    const keys = socket.extractSessionKeys(MASTER_KEY_LENGTH, MASTER_SALT_LENGTH);
    this.srtp = new SrtpContext({
      suite: 'AES_CM_128_HMAC_SHA1_80',
      local: { key: keys.localKey, salt: keys.localSalt },
      remote: { key: keys.remoteKey, salt: keys.remoteSalt },
    });
    this.dtlsState = 'connected';
  }

  private fail(reason: string): void {
    this.dtlsState = 'failed';
    this.onFailure?.(reason);
    this.close();
    this.dtlsState = 'failed';
  }

  private stopDtls(): void {
    const d = this.dtls;
    if (d === undefined) return;
    this.dtls = undefined;
    d.transport.closed = true;
    d.socket.onConnect.allUnsubscribe();
    d.socket.onError.allUnsubscribe();
  }
}

/** The leg towards a browser over `options.socket` (see the file's comment). */
export function createWebRtcLeg(options: WebRtcLegOptions): WebRtcLeg {
  return new WebRtcLegImpl(options);
}
