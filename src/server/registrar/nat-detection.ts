import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { Contact, Flow, SipRequest } from '../../sip/index.js';
import type { ContactBinding } from '../../store/binding-store.js';
import { defaultPort, normalizeAddress } from '../transport/flow.js';

/**
 * `registrar.natDetection`: how the registrar decides, for a contact registered over UDP without
 * RFC 5626 outbound, whether requests to it go to the REGISTER's source address and port or to
 * the Contact URI. `auto` (the default): the source when a sign of NAT is seen (natSigns), the
 * Contact otherwise; `always`: the source, whatever the REGISTER says (as Kamailio's
 * fix_nated_register on every REGISTER); `never`: the Contact. Bindings made over a connection
 * (TCP, TLS, WebSocket) or with outbound go to their flow in every mode.
 */
export type NatDetection = 'auto' | 'always' | 'never';

/** Where requests to a registered contact go: its flow (the REGISTER's source, or connection), or its Contact URI. */
export type SendTo = NonNullable<ContactBinding['sendTo']>;

/**
 * The private networks of Kamailio's nat_uac_test flag 1 (nathelper's default list: RFC 1918,
 * RFC 6598 carrier-grade NAT, RFC 7335 192.0.0.0/29, with nat_addr_mode 1 the whole of
 * 192.0.0.0/24), and what no one outside a site or a link can reach either: link-local IPv4
 * (RFC 3927), IPv6 unique local (RFC 4193, fc00::/7) and link-local (fe80::/10) addresses.
 * Loopback is not in the list (nor is it in Kamailio's): a loopback source is not a private one,
 * and a loopback Contact from another host is a sign of its own (NatSigns.localContact).
 */
const PRIVATE = new BlockList();
for (const [net, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['192.0.0.0', 24], ['169.254.0.0', 16]] as const) {
  PRIVATE.addSubnet(net, bits, 'ipv4');
}
PRIVATE.addSubnet('fc00::', 7, 'ipv6');
PRIVATE.addSubnet('fe80::', 10, 'ipv6');

/** True for an IP address (IPv4, IPv6 with or without brackets, IPv4-mapped IPv6) in a private network (see PRIVATE); false for names. */
export function isPrivateAddress(address: string): boolean {
  return inList(PRIVATE, address);
}

/** This host: loopback (RFC 1122 127/8, RFC 4291 ::1). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Addresses no request can be sent to: unspecified, "this network", multicast, reserved (RFC 6890). */
const NOWHERE = new BlockList();
for (const [net, bits] of [['0.0.0.0', 8], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) NOWHERE.addSubnet(net, bits, 'ipv4');
NOWHERE.addAddress('::', 'ipv6');
NOWHERE.addSubnet('ff00::', 8, 'ipv6');

/** True for a loopback address (127/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  return inList(LOOPBACK, address);
}

function inList(list: BlockList, address: string): boolean {
  const a = normalizeAddress(address);
  if (isIPv4(a)) return list.check(a, 'ipv4');
  if (isIPv6(a)) return list.check(a, 'ipv6');
  return false;
}

/** The signs of NAT nat_uac_test looks for, each true when seen. */
export interface NatSigns {
  /** nat_uac_test 1 (only while the source itself is not private): the Contact's host is a private address. */
  readonly privateContact: boolean;
  /**
   * Parley's own: the Contact's host is loopback while the source is not (a Contact naming "this
   * host" from another host), or an address nothing can be sent to (unspecified, multicast,
   * reserved). Called at its Contact, such a binding would have Parley send requests to its own
   * host's services, or nowhere.
   */
  readonly localContact: boolean;
  /** nat_uac_test 2: the top Via's sent-by host is not the source address (a name counts as different, as in RFC 3261 §18.2.1). */
  readonly viaAddress: boolean;
  /** nat_uac_test 16: the top Via's sent-by port (5060, 5061 for TLS, when absent) is not the source port. */
  readonly viaPort: boolean;
}

/**
 * What Kamailio's nat_uac_test(19) finds for contact `c` of `request`, received from `source`:
 * a private Contact address while the source address is not private (flag 1; a phone on the same
 * private network as Parley shows no NAT by its address), a top Via whose sent-by differs from
 * the source address (flag 2) or port (flag 16); and, Parley's own, a Contact on loopback from
 * another host or on an address nothing can be sent to (localContact). Flag 128 (Contact port differs from the source
 * port) is deliberately left out: a phone registered by a provisioning tool, or a UA that sends
 * from another socket than it listens on, shows it without any NAT. The top Via read here is the
 * one Parley tagged with received/rport (RFC 3581) on arrival; its sent-by is the sender's own.
 */
export function natSigns(request: SipRequest, c: Contact, source: Flow): NatSigns {
  const from = normalizeAddress(source.remoteAddress);
  const uri = c.uri;
  const host = uri.kind === 'sip' ? uri.host : '';
  const privateContact = isPrivateAddress(host) && !isPrivateAddress(from);
  const localContact = (isLoopbackAddress(host) && !isLoopbackAddress(from)) || inList(NOWHERE, host);
  let viaAddress = false;
  let viaPort = false;
  let via;
  try {
    via = request.topVia;
  } catch {
    via = undefined;
  }
  if (via === undefined) {
    viaAddress = true; // nothing says where it was sent from: as unknown as a NAT
  } else {
    viaAddress = normalizeAddress(via.host) !== from;
    viaPort = (via.port ?? defaultPort(source.transport)) !== source.remotePort;
  }
  return { privateContact, localContact, viaAddress, viaPort };
}

/**
 * RFC 5626 outbound asked for by contact `c`: `+sip.instance` with `reg-id` (§6: a registration
 * of a flow), or the `ob` URI parameter (§10: "In a Contact or Route header field value, it
 * indicates that the UA would like other requests in the same dialog to be routed over the same
 * flow").
 */
export function wantsOutbound(c: Contact): boolean {
  if (c.instance !== undefined && c.regId !== undefined) return true;
  return c.uri.kind === 'sip' && c.uri.params.has('ob');
}

/**
 * Where requests to contact `c` of `request` (received from `source`) go:
 *  - `source` for a binding made over a connection (TCP, TLS, WebSocket): the flow is the only
 *    way back to most such phones (a phone behind a NAT or a firewall accepts no connection, a
 *    browser has no address at all), and a registrar of RFC 5626 §6 keeps the flow a REGISTER
 *    came over with its binding;
 *  - `source` when the contact asks for outbound (wantsOutbound), for the same reason;
 *  - over UDP otherwise, by `mode`: `always` the source, `never` the Contact, `auto` the source
 *    when natSigns finds any sign, else the Contact (RFC 3261 §10.3 binds the Contact URI, and
 *    §16.5 makes it the target: a phone is reached where it says it listens).
 */
export function sendToOf(request: SipRequest, c: Contact, source: Flow, mode: NatDetection = 'auto'): SendTo {
  if (source.transport !== 'udp' || source.connectionId !== undefined) return 'source';
  if (wantsOutbound(c)) return 'source';
  if (mode === 'always') return 'source';
  if (mode === 'never') return 'contact';
  const s = natSigns(request, c, source);
  return s.privateContact || s.localContact || s.viaAddress || s.viaPort ? 'source' : 'contact';
}
