import { hostname, networkInterfaces } from 'node:os';
import type { FlowTransport, Uri } from '../../sip/index.js';
import { normalizeAddress } from '../transport/flow.js';
import type { ListenerInfo } from '../transport/listener-info.js';
import { ROUTE_SIGNATURE_PARAM } from '../proxy/route-signature.js';
import { MEDIA_ROUTE_PARAM } from '../proxy/media-anchor.js';

export interface LocalIdentityOptions {
  /** Domains served (AORs `user@domain` are local). Default: the host's names and addresses. */
  readonly domains?: readonly string[];
  /** Host (name or IP) to put in Via and Record-Route instead of the listener address. */
  readonly advertise?: string;
}

/**
 * What is "us": the domains Parley serves, the addresses and ports it listens on, and how it
 * names itself in Via and Record-Route. Used for the Request-URI checks of §10.3 and §16.4 and
 * for "no open relay".
 */
export class LocalIdentity {
  private readonly domains: Set<string>;
  private readonly addresses: Set<string>;
  private readonly ports: Set<number>;
  private readonly byTransport = new Map<FlowTransport, { host: string; port: number }>();

  constructor(
    readonly listeners: readonly ListenerInfo[],
    options: LocalIdentityOptions = {},
  ) {
    const own = new Set<string>(['127.0.0.1', '::1', 'localhost']);
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) own.add(normalizeAddress(i.address));
    for (const l of listeners) if (!isWildcard(l.address)) own.add(normalizeAddress(l.address));
    if (options.advertise) own.add(normalizeAddress(options.advertise));
    this.addresses = own;
    this.ports = new Set(listeners.map((l) => l.port));
    this.domains = new Set((options.domains ?? [...own, hostname()]).map((d) => normalizeAddress(d)));
    for (const l of listeners) {
      if (this.byTransport.has(l.transport)) continue;
      const host = options.advertise ?? (isWildcard(l.address) ? primaryAddress(l.address) : l.address);
      this.byTransport.set(l.transport, { host: host.includes(':') && !host.startsWith('[') ? `[${host}]` : host, port: l.port });
    }
  }

  /** The domains served (lower-case; IPv6 without brackets). */
  get servedDomains(): string[] {
    return [...this.domains];
  }

  /** True when Parley serves this domain (the host part of an AOR). */
  servesDomain(domain: string): boolean {
    return this.domains.has(normalizeAddress(domain));
  }

  /**
   * True when a URI names this server itself: a sip/sips URI whose host is one of our addresses
   * or domains and whose port, if any, is one we listen on (RFC 3261 §16.4 "a value the proxy
   * placed into the Record-Route").
   */
  isLocalUri(uri: Uri): boolean {
    if (uri.kind !== 'sip') return false;
    const host = normalizeAddress(uri.host);
    if (!this.addresses.has(host) && !this.domains.has(host)) return false;
    return uri.port === undefined ? this.ports.has(uri.scheme === 'sips' ? 5061 : 5060) || this.ports.size === 0 : this.ports.has(uri.port);
  }

  /** The sent-by to put in a Via for a request sent over `transport`. */
  sentBy(transport: FlowTransport): { host: string; port: number } {
    return this.byTransport.get(transport) ?? this.byTransport.values().next().value ?? { host: '127.0.0.1', port: 5060 };
  }

  /**
   * `<sip:[user@]host:port;transport=x;lr[;rrsig=S]>` for a Record-Route naming this server on
   * `transport`; `user` is a flow token (RFC 5626 §5.2) when the entry faces a WebSocket client,
   * `signature` the dialog's route signature (proxy/route-signature.ts); `media` marks the route
   * of a call whose media Parley anchors (`;media`, proxy/media-anchor.ts).
   */
  recordRoute(transport: FlowTransport, user?: string, signature?: string, media = false): string {
    const { host, port } = this.sentBy(transport);
    // sip: with transport=tls, as Kamailio writes it: a sips: Record-Route would claim TLS on
    // every hop of the dialog (RFC 3261 §26.2.2), which a dialog bridged to UDP does not have.
    // RFC 7118 §5.2: "This document defines the value "ws" as the transport parameter value for
    // a SIP URI [RFC3986] to be contacted using the SIP WebSocket subprotocol as transport." It
    // defines no "wss" (WS and WSS differ in Via only), so a WSS side is transport=ws too, as
    // Kamailio writes it. No client connects to it: its requests all go over its one WebSocket.
    const t = transport === 'udp' ? '' : `;transport=${transport === 'wss' ? 'ws' : transport}`;
    return `<sip:${user === undefined ? '' : `${user}@`}${host}:${port}${t};lr${media ? `;${MEDIA_ROUTE_PARAM}` : ''}${signature === undefined ? '' : `;${ROUTE_SIGNATURE_PARAM}=${signature}`}>`;
  }

  /** Transports we listen on. */
  has(transport: FlowTransport): boolean {
    return this.byTransport.has(transport);
  }
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/** The first non-internal address of the family, else loopback. */
function primaryAddress(wildcard: string): string {
  const v6 = wildcard === '::';
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) if (!i.internal && (v6 ? i.family === 'IPv6' : i.family === 'IPv4')) return i.address;
  }
  return v6 ? '::1' : '127.0.0.1';
}
