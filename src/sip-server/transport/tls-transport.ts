import { isIP, type Socket } from 'node:net';
import { connect, createSecureContext, TLSSocket, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { ListenerInfo } from './listener-info.js';
import { TcpTransport, type PreparedSocket, type StreamTransportOptions } from './tcp-transport.js';
import type { TlsCertificate } from './tls-certificate.js';

/** TLS settings of the transport layer (RFC 3261 §26.3.1; RFC 5630 for SIPS). */
export interface TlsTransportSettings {
  /** The server certificate and key; required to listen, presented as client certificate when connecting. */
  readonly certificate?: TlsCertificate;
  /** Trusted CA certificates (PEM) for verifying peers; Node's bundled roots when absent. */
  readonly ca?: string | readonly string[];
  /** Verify the certificate of servers Parley connects to. Default true. */
  readonly verifyServer?: boolean;
  /** Ask TLS clients for a certificate and refuse those without a valid one. Default false. */
  readonly requireClientCertificate?: boolean;
}

/**
 * The oldest TLS version accepted either way. RFC 8996 deprecates TLS 1.0 and 1.1;
 * RFC 3261 §26.3.1 asks only for TLS, so this is no deviation.
 */
export const TLS_MIN_VERSION = 'TLSv1.2';

/**
 * The cipher suites Parley's TLS listeners (SIP over TLS, HTTPS/WSS) accept: Mozilla's
 * "intermediate" profile (https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7). TLS 1.3
 * keeps its three suites (all AEAD with forward secrecy). TLS 1.2 takes only ECDHE key exchange
 * with an AEAD cipher (AES-GCM, ChaCha20-Poly1305): Node's default list also accepted static RSA
 * key exchange (no forward secrecy: one stolen key decrypts every recorded session), AES-CCM and
 * ARIA, and ECDHE with CBC and SHA-1 (the padding-oracle family).
 *
 * Mozilla's list adds DHE-RSA with AES-GCM and ChaCha20; they are left out: Node sets no
 * Diffie-Hellman parameters unless given `dhparam`, so it would never offer them anyway, and every
 * TLS 1.2 client of the last decade has ECDHE.
 *
 * Outbound connections (Parley as the TLS client, to trunks and proxies) keep Node's default list:
 * the peer picks from what the client offers, and an old trunk that speaks only CBC or static RSA
 * would otherwise be unreachable, with nothing an operator could do about it.
 */
export const TLS_SERVER_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * SIP over TLS over TCP (RFC 3261 §18, §26.2): TcpTransport with sockets wrapped in TLS 1.2+.
 * Framing, limits and the connection table are the same as for TCP. An inbound connection counts
 * against the limits from its TCP accept, before the handshake, which has `handshakeTimeoutMs`.
 */
export class TlsTransport extends TcpTransport {
  override readonly transport = 'tls' as const;
  private serverContext: SecureContext | undefined;

  private settings: TlsTransportSettings;

  constructor(options: StreamTransportOptions, settings: TlsTransportSettings = {}) {
    super(options);
    this.settings = settings;
    if (settings.certificate !== undefined) this.useCertificate(settings.certificate);
  }

  /** Use this certificate for listeners accepting from now on, and as client certificate. */
  useCertificate(certificate: TlsCertificate): void {
    this.serverContext = createSecureContext({
      cert: certificate.cert,
      key: certificate.key,
      minVersion: TLS_MIN_VERSION,
      ciphers: TLS_SERVER_CIPHERS,
      ca: this.settings.ca as string[] | string | undefined,
    });
    this.settings = { ...this.settings, certificate };
  }

  override listen(address: string, port: number, trusted = false): Promise<ListenerInfo> {
    if (this.serverContext === undefined) return Promise.reject(new TypeError('a TLS listener needs a certificate and key'));
    return super.listen(address, port, trusted);
  }

  protected override wrapInbound(socket: Socket): PreparedSocket {
    const requestCert = this.settings.requireClientCertificate ?? false;
    const tlsSocket = new TLSSocket(socket, {
      isServer: true,
      secureContext: this.serverContext!,
      requestCert,
      rejectUnauthorized: requestCert,
    });
    return { socket: tlsSocket, readyEvent: 'secure' };
  }

  protected override openSocket(address: string, port: number, localAddress?: string): PreparedSocket {
    const c = this.settings.certificate;
    // tls.connect passes localAddress on to net.Socket#connect; its type does not list it
    const options: ConnectionOptions & { localAddress?: string } = {
      host: address,
      port,
      localAddress,
      minVersion: TLS_MIN_VERSION,
      ca: this.settings.ca as string[] | string | undefined,
      cert: c?.cert,
      key: c?.key,
      rejectUnauthorized: this.settings.verifyServer ?? true,
      // SNI carries host names only (RFC 6066 §3)
      servername: isIP(address) === 0 ? address : undefined,
    };
    const socket = connect(options);
    return { socket, readyEvent: 'secureConnect' };
  }
}
