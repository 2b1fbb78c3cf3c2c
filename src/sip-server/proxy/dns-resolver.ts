import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import type { FlowTransport, Uri } from '../../sip/index.js';

/** Where to send: a transport, an IP address and a port (one RFC 3263 target). */
export interface ResolvedTarget {
  readonly transport: FlowTransport;
  readonly address: string;
  readonly port: number;
}

/** The DNS queries RFC 3263 needs; node:dns in production, a table in tests. */
export interface DnsLookup {
  naptr(name: string): Promise<Array<{ flags: string; service: string; replacement: string; order: number; preference: number }>>;
  srv(name: string): Promise<Array<{ name: string; port: number; priority: number; weight: number }>>;
  addresses(name: string): Promise<string[]>;
}

export const systemDns: DnsLookup = {
  naptr: (n) => dns.resolveNaptr(n),
  srv: (n) => dns.resolveSrv(n),
  addresses: async (n) => {
    const out: string[] = [];
    for (const r of await dns.lookup(n, { all: true })) out.push(r.address);
    return out;
  },
};

const SERVICE: Record<string, FlowTransport> = { 'SIP+D2U': 'udp', 'SIP+D2T': 'tcp', 'SIPS+D2T': 'tls', 'SIP+D2W': 'ws', 'SIPS+D2W': 'wss' };
const SRV_PREFIX: Record<FlowTransport, string> = { udp: '_sip._udp.', tcp: '_sip._tcp.', tls: '_sips._tcp.', ws: '_sip._ws.', wss: '_sips._ws.' };

/**
 * Locate a SIP server for a URI as RFC 3263 §4 says: the transport from the `transport`
 * parameter, else NAPTR, else SRV in a fixed order, else UDP (TCP for sips → TLS); the address
 * from `maddr` or the host — numeric IP and explicit port are used as they are, a name with a
 * port gets A/AAAA, a name without one gets SRV then A/AAAA. Returns targets in order of
 * preference; empty when nothing resolves.
 */
export async function resolveSipUri(uri: Uri, dnsLookup: DnsLookup = systemDns, supported: ReadonlySet<FlowTransport> = new Set(['udp', 'tcp', 'tls'])): Promise<ResolvedTarget[]> {
  if (uri.kind !== 'sip') return [];
  const secure = uri.scheme === 'sips';
  const maddr = uri.params.get('maddr');
  const hostRaw = maddr ? maddr : uri.host;
  const host = hostRaw.replace(/^\[(.*)\]$/, '$1');
  let transport = uri.transport as FlowTransport | undefined;
  if (transport !== undefined && secure && transport === 'tcp') transport = 'tls';
  if (transport !== undefined && !supported.has(transport)) return [];

  // §4.1: "If the TARGET was a numeric IP address, the client uses that address. If the URI also
  // contains a port, it uses that port. If no port is specified, it uses the default port for
  // the particular transport protocol."  Likewise for a name with an explicit port (§4.2).
  if (isIP(host) !== 0 || uri.port !== undefined) {
    const t = transport ?? (secure ? 'tls' : 'udp');
    const port = uri.port ?? (t === 'tls' ? 5061 : 5060);
    const addresses = isIP(host) !== 0 ? [host] : await safe(dnsLookup.addresses(host));
    return addresses.map((address) => ({ transport: t, address, port }));
  }

  // §4.1: no transport parameter: NAPTR for the services the client supports.
  if (transport === undefined) {
    const naptr = (await safe(dnsLookup.naptr(host)))
      .filter((r) => r.flags.toLowerCase() === 's' && SERVICE[r.service.toUpperCase()] !== undefined)
      .filter((r) => supported.has(SERVICE[r.service.toUpperCase()]!) && (!secure || r.service.toUpperCase().startsWith('SIPS')))
      .sort((a, b) => a.order - b.order || a.preference - b.preference);
    for (const r of naptr) {
      const found = await fromSrv(r.replacement, SERVICE[r.service.toUpperCase()]!, dnsLookup);
      if (found.length > 0) return found;
    }
    // "If no NAPTR records are found, the client constructs SRV queries for those transport
    // protocols it supports, and does a query for each."
    for (const t of (secure ? ['tls'] : ['udp', 'tcp', 'tls']) as FlowTransport[]) {
      if (!supported.has(t)) continue;
      const found = await fromSrv(SRV_PREFIX[t] + host, t, dnsLookup);
      if (found.length > 0) return found;
    }
    transport = secure ? 'tls' : 'udp';
  } else {
    const found = await fromSrv(SRV_PREFIX[transport] + host, transport, dnsLookup);
    if (found.length > 0) return found;
  }
  // §4.2: "If no SRV records were found, the client SHOULD use TCP for a SIPS URI, and UDP for a
  // SIP URI … using an A or AAAA record query" with the default port.
  const port = transport === 'tls' ? 5061 : 5060;
  return (await safe(dnsLookup.addresses(host))).map((address) => ({ transport: transport!, address, port }));
}

async function fromSrv(name: string, transport: FlowTransport, dnsLookup: DnsLookup): Promise<ResolvedTarget[]> {
  const records = (await safe(dnsLookup.srv(name))).sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  const out: ResolvedTarget[] = [];
  for (const r of records) for (const address of await safe(dnsLookup.addresses(r.name))) out.push({ transport, address, port: r.port });
  return out;
}

async function safe<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch {
    return [];
  }
}
