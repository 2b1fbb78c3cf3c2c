/**
 * Side A of the benchmark's DTLS-SRTP case: a minimal WebRTC endpoint for one call on its own UDP
 * socket, as a browser would be towards the relay (RFC 8829's UDP/TLS/RTP/SAVPF, rtcp-mux).
 *
 * - its offer: one host candidate, ICE credentials, a=setup:actpass, the certificate's fingerprint;
 * - ICE as the controlling agent (it is the offerer, RFC 8445 §6.1.1): Binding checks with
 *   USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE (aggressive nomination: a lite peer such
 *   as Parley selects the pair on it), MESSAGE-INTEGRITY with the answer's ice-pwd and
 *   FINGERPRINT, repeated until DTLS is up and then every 5 s as consent (RFC 7675); checks from
 *   a full agent (rtpengine) are answered with a success response;
 * - DTLS as the client when the answer says `passive` (Parley; rtpengine with `DTLS: passive`),
 *   as the server when it says `active`: werift's DtlsClient/DtlsServer over a small transport,
 *   as src/media/webrtc-leg.ts does; the peer's certificate is checked against the answer's
 *   fingerprint (RFC 5763 §5);
 * - SRTP with Parley's own SrtpContext (src/media/srtp.ts; werift's SrtpSession costs about four
 *   times as much a packet and would measure the generator).
 *
 * Datagrams are told apart by their first byte (RFC 7983 §7). This is a load generator, not an
 * ICE agent: one candidate pair, no role conflicts, no retransmission schedule beyond a timer.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import {
  DtlsClient, DtlsServer, ProtectionProfileAes128CmHmacSha1_80, type DtlsSocket, type Transport,
} from 'werift';
import { StunAttr } from '../../src/stun/attribute-types.js';
import { StunMessageBuilder } from '../../src/stun/builder.js';
import { parseStunMessage, StunMethod } from '../../src/stun/message.js';
import { packetKind } from '../../src/stun/demux.js';
import { fingerprintMatches, type DtlsCertificate } from '../../src/media/certificate.js';
import { MASTER_KEY_LENGTH, MASTER_SALT_LENGTH, SrtpContext } from '../../src/media/srtp.js';

const encoder = new TextEncoder();

/** What side A needs from the relay's answer. */
export interface WebRtcAnswer {
  readonly address: string;
  readonly port: number;
  readonly ufrag: string;
  readonly pwd: string;
  readonly setup: 'active' | 'passive';
  readonly fingerprint: { readonly algorithm: string; readonly value: string };
}

/** Reads the relay's answer towards A, line by line (no regular expressions); undefined when something is missing. */
export function readWebRtcAnswer(sdp: string): WebRtcAnswer | undefined {
  let address: string | undefined;
  let port: number | undefined;
  let ufrag: string | undefined;
  let pwd: string | undefined;
  let setup: string | undefined;
  let fingerprint: { algorithm: string; value: string } | undefined;
  for (const raw of sdp.split('\n')) {
    const l = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (l.startsWith('m=')) {
      if (port !== undefined) break;
      if (l.startsWith('m=audio ')) port = Number(l.slice(8, l.indexOf(' ', 8)));
    } else if (l.startsWith('c=IN IP4 ') || l.startsWith('c=IN IP6 ')) address = l.slice(9).split('/')[0];
    else if (l.startsWith('a=ice-ufrag:')) ufrag = l.slice(12);
    else if (l.startsWith('a=ice-pwd:')) pwd = l.slice(10);
    else if (l.startsWith('a=setup:')) setup = l.slice(8);
    else if (l.startsWith('a=fingerprint:')) {
      const [algorithm, value] = l.slice(14).split(' ');
      if (algorithm && value) fingerprint = { algorithm: algorithm.toLowerCase(), value };
    }
  }
  if (address === undefined || port === undefined || !Number.isInteger(port) || !ufrag || !pwd || !fingerprint) return undefined;
  if (setup !== 'active' && setup !== 'passive') return undefined;
  return { address, port, ufrag, pwd, setup, fingerprint };
}

/** werift's transport for the one DTLS association: datagrams to the relay on the peer's socket. */
class DtlsDatagrams implements Transport {
  readonly type = 'udp';
  readonly address = {} as Transport['address'];
  closed = false;
  onData: (data: Buffer, addr: readonly [string, number]) => void = () => {};
  constructor(private readonly socket: Socket, private readonly to: { address: string; port: number }) {}
  send = async (data: Buffer): Promise<void> => {
    if (this.closed) return;
    try {
      this.socket.send(data, this.to.port, this.to.address);
    } catch {
      // the socket closed under a retransmission timer
    }
  };
  close = async (): Promise<void> => {
    this.closed = true;
  };
}

export class WebRtcPeer {
  readonly ufrag = randomBytes(6).toString('hex');
  readonly pwd = randomBytes(16).toString('hex');
  private readonly localKey = encoder.encode(this.pwd);
  private readonly tieBreaker = randomBytes(8);
  private answer: WebRtcAnswer | undefined;
  private remoteKey: Uint8Array | undefined;
  private dtls: { socket: DtlsSocket; transport: DtlsDatagrams } | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** DTLS records that came before connect(). */
  private early: Buffer[] = [];
  /** Set once DTLS is up and the keys exported. */
  srtp: SrtpContext | undefined;
  /** A check of ours got its success response. */
  iceDone = false;
  /** Unprotected RTP from the relay. */
  onRtp: (packet: Buffer) => void = () => {};
  /** SRTP packets that did not authenticate, STUN or DTLS that could not be handled. */
  dropped = 0;

  constructor(private readonly socket: Socket, private readonly certificate: DtlsCertificate) {
    socket.on('message', this.receive);
  }

  /** The offer of side A: PCMU, one host candidate on the socket's port. */
  offerSdp(session: number): string {
    const { address, port } = this.socket.address();
    return [
      'v=0', `o=bench ${session} 1 IN IP4 ${address}`, 's=media-load', 't=0 0', 'a=group:BUNDLE 0', 'a=msid-semantic: WMS',
      `m=audio ${port} UDP/TLS/RTP/SAVPF 0`, `c=IN IP4 ${address}`, 'a=mid:0', 'a=sendrecv', 'a=rtcp-mux',
      `a=ice-ufrag:${this.ufrag}`, `a=ice-pwd:${this.pwd}`,
      `a=fingerprint:${this.certificate.fingerprint.algorithm} ${this.certificate.fingerprint.value}`, 'a=setup:actpass',
      'a=rtpmap:0 PCMU/8000', 'a=ptime:20', `a=candidate:1 1 udp 2130706431 ${address} ${port} typ host`, 'a=end-of-candidates', '',
    ].join('\r\n');
  }

  /**
   * ICE checks and the DTLS handshake against the relay's answer; resolves once SRTP keys are in
   * place, rejects on a DTLS failure, a fingerprint mismatch or after `limitMs`.
   */
  connect(answer: WebRtcAnswer, limitMs: number): Promise<void> {
    this.answer = answer;
    this.remoteKey = encoder.encode(answer.pwd);
    const transport = new DtlsDatagrams(this.socket, answer);
    const options = {
      transport, cert: this.certificate.certPem, key: this.certificate.keyPem, signatureHash: this.certificate.signatureHash,
      srtpProfiles: [ProtectionProfileAes128CmHmacSha1_80], extendedMasterSecret: true,
    };
    // the relay's a=setup:passive makes A the client (RFC 5763 §5)
    const client = answer.setup === 'passive';
    const socket: DtlsSocket = client ? new DtlsClient(options) : new DtlsServer({ ...options, certificateRequest: true });
    this.dtls = { socket, transport };
    const early = this.early;
    this.early = [];
    if (early.length > 0) setImmediate(() => { for (const m of early) transport.onData(m, [answer.address, answer.port]); });
    const check = (): void => {
      if (this.closed) return;
      this.sendCheck();
      this.checkTimer = setTimeout(check, this.srtp === undefined ? 100 : 5000);
      this.checkTimer.unref();
    };
    check();
    return new Promise<void>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`no DTLS-SRTP within ${limitMs} ms (ICE ${this.iceDone ? 'done' : 'not done'})`)), limitMs);
      limit.unref();
      const fail = (e: unknown) => {
        clearTimeout(limit);
        reject(e instanceof Error ? e : new Error(String(e)));
      };
      socket.onConnect.subscribe(() => {
        clearTimeout(limit);
        const certificate = socket.remoteCertificate;
        if (certificate === undefined || !fingerprintMatches(certificate, [answer.fingerprint])) return fail(new Error('the relay\'s DTLS certificate does not match its fingerprint'));
        // RFC 5764 §4.2: the keys from the exporter; werift gives them as local and remote
        const keys = socket.extractSessionKeys(MASTER_KEY_LENGTH, MASTER_SALT_LENGTH);
        this.srtp = new SrtpContext({
          suite: 'AES_CM_128_HMAC_SHA1_80',
          local: { key: keys.localKey, salt: keys.localSalt },
          remote: { key: keys.remoteKey, salt: keys.remoteSalt },
        });
        resolve();
      });
      socket.onError.subscribe(fail);
      if (client) {
        // a lite relay (Parley) takes DTLS only from a checked pair: start after the first success
        const start = (): void => {
          if (this.closed) return;
          if (!this.iceDone) {
            setTimeout(start, 20).unref();
            return;
          }
          (socket as DtlsClient).connect().catch(fail);
        };
        start();
      }
    });
  }

  /** Protects and sends one RTP packet to the relay; false before DTLS is up. */
  sendRtp(packet: Buffer): boolean {
    const srtp = this.srtp;
    const to = this.answer;
    if (srtp === undefined || to === undefined || this.closed) return false;
    const wire = srtp.protectRtp(packet);
    if (wire === undefined) return false;
    this.socket.send(wire, to.port, to.address);
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.checkTimer);
    if (this.dtls) {
      this.dtls.transport.closed = true;
      this.dtls.socket.onConnect.allUnsubscribe();
      this.dtls.socket.onError.allUnsubscribe();
    }
    this.socket.off('message', this.receive);
  }

  /** RFC 8445 §7.2.2: a check from the controlling agent, nominating (USE-CANDIDATE). */
  private sendCheck(): void {
    const a = this.answer!;
    const check = new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12))
      .addString(StunAttr.USERNAME, `${a.ufrag}:${this.ufrag}`)
      .addUint32(StunAttr.PRIORITY, 0x6e7f1eff)
      .add(StunAttr.ICE_CONTROLLING, this.tieBreaker)
      .add(StunAttr.USE_CANDIDATE, new Uint8Array(0))
      .addMessageIntegrity(this.remoteKey!)
      .addFingerprint()
      .build();
    try {
      this.socket.send(check, a.port, a.address);
    } catch {
      // closed
    }
  }

  private readonly receive = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.closed || msg.length === 0) return;
    switch (packetKind(msg[0]!)) {
      case 'rtp': {
        const srtp = this.srtp;
        // RTCP (payload types 192-223 under rtcp-mux, RFC 5761 §4) is not measured
        if (srtp === undefined || (msg.length > 1 && msg[1]! >= 192 && msg[1]! <= 223)) return;
        const plain = srtp.unprotectRtp(msg);
        if (plain === undefined) this.dropped++;
        else this.onRtp(plain);
        return;
      }
      case 'stun': {
        const parsed = parseStunMessage(msg);
        if (!parsed.ok || parsed.value.method !== StunMethod.Binding) return;
        const m = parsed.value;
        if (m.class === 'success') this.iceDone = true;
        else if (m.class === 'request') {
          // a full agent's own check (rtpengine): answered, as a browser would
          const response = new StunMessageBuilder(StunMethod.Binding, 'success', m.transactionId)
            .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, { family: 4, address: rinfo.address, port: rinfo.port })
            .addMessageIntegrity(this.localKey)
            .addFingerprint()
            .build();
          this.socket.send(response, rinfo.port, rinfo.address);
        }
        return;
      }
      case 'dtls':
        // a relay that takes the client role (rtpengine by default) may send its ClientHello
        // before the answer has reached A: kept until connect() has made the DTLS server
        if (this.dtls === undefined) {
          if (this.early.length < 8) this.early.push(Buffer.from(msg));
        } else this.dtls.transport.onData(msg, [rinfo.address, rinfo.port]);
        return;
      default:
        this.dropped++;
    }
  };
}
