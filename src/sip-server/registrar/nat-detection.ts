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
 * What an address is, for NAT detection:
 *  - `private`: the private networks of Kamailio's nat_uac_test flag 1 (nathelper's default list:
 *    RFC 1918 10/8, 172.16/12, 192.168/16; RFC 6598 carrier-grade NAT 100.64/10; RFC 7335
 *    192.0.0.0/29, with nat_addr_mode 1 the whole of 192.0.0.0/24), and what no one outside a site
 *    or a link can reach either: link-local IPv4 (RFC 3927, 169.254/16), IPv6 unique local
 *    (RFC 4193, fc00::/7) and link-local (fe80::/10) addresses;
 *  - `loopback`: this host (127/8, ::1); not private (nor is it in Kamailio's list): a loopback
 *    source is not a private one, and a loopback Contact from another host is a sign of its own;
 *  - `nowhere`: what no request can be sent to: "this network" 0/8, multicast 224/4, reserved
 *    240/4 (RFC 6890), ::, ff00::/8;
 *  - `public`: any other IP address; `name`: not an IP address.
 */
export type AddressClass = 'private' | 'loopback' | 'nowhere' | 'public' | 'name';

const V6 = new Map<AddressClass, BlockList>();
{
  const add = (c: AddressClass, net: string, bits: number): void => {
    let list = V6.get(c);
    if (list === undefined) V6.set(c, (list = new BlockList()));
    list.addSubnet(net, bits, 'ipv6');
  };
  add('private', 'fc00::', 7);
  add('private', 'fe80::', 10);
  add('loopback', '::1', 128);
  add('nowhere', '::', 128);
  add('nowhere', 'ff00::', 8);
}

/** The class of an address: IPv4, IPv6 (brackets or not, IPv4-mapped ones as IPv4) or a name. */
export function addressClass(address: string): AddressClass {
  const v4 = ipv4(address);
  if (v4 !== undefined) return ipv4Class(v4);
  const a = normalizeAddress(address);
  if (isIPv4(a)) return ipv4Class(ipv4(a)!);
  if (!isIPv6(a)) return 'name';
  for (const [c, list] of V6) if (list.check(a, 'ipv6')) return c;
  return 'public';
}

/** A dotted-quad IPv4 address as a 32-bit number; undefined for anything else. No allocation: it runs per REGISTER. */
function ipv4(a: string): number | undefined {
  let n = 0;
  let part = -1;
  let parts = 0;
  for (let i = 0; i <= a.length; i++) {
    const c = i < a.length ? a.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (part < 0 || part > 255) return undefined;
      n = n * 256 + part;
      part = -1;
      if (++parts > 4) return undefined;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part < 0 ? c - 0x30 : part * 10 + (c - 0x30);
      if (part > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? n : undefined;
}

function ipv4Class(n: number): AddressClass {
  const a = Math.floor(n / 0x1000000);
  const b = Math.floor(n / 0x10000) % 256;
  const c = Math.floor(n / 0x100) % 256;
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || (a === 192 && b === 0 && c === 0) || (a === 169 && b === 254)) {
    return 'private';
  }
  if (a === 127) return 'loopback';
  if (a === 0 || a >= 224) return 'nowhere';
  return 'public';
}

/** True for an IP address in a private network (addressClass `private`); false for names. */
export function isPrivateAddress(address: string): boolean {
  return addressClass(address) === 'private';
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
 * another host or on an address nothing can be sent to (localContact). The Contact's address is
 * its `maddr` when it has one (RFC 3263 §4: the request would go there). Flag 128 (Contact port
 * differs from the source port) is deliberately left out: a phone registered by a provisioning
 * tool, or a UA that sends from another socket than it listens on, shows it without any NAT. The
 * top Via read here is the one Parley tagged with received/rport (RFC 3581) on arrival; its
 * sent-by is the sender's own.
 */
export function natSigns(request: SipRequest, c: Contact, source: Flow): NatSigns {
  const from = normalizeAddress(source.remoteAddress);
  const uri = c.uri;
  const contactClass = uri.kind === 'sip' ? addressClass(uri.params.get('maddr') ?? uri.host) : 'name';
  const sourceClass = addressClass(from);
  const privateContact = contactClass === 'private' && sourceClass !== 'private';
  const localContact = (contactClass === 'loopback' && sourceClass !== 'loopback') || contactClass === 'nowhere';
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
