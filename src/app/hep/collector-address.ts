import { isIP } from 'node:net';
import { err, ok, type Result } from '../../lib/result.js';

/** A HEP collector: where a thread sends its packets, over UDP (one packet per datagram) or TCP (a stream of packets). */
export interface CollectorAddress {
  readonly transport: 'udp' | 'tcp';
  readonly host: string;
  readonly port: number;
}

/**
 * `udp:HOST:PORT` or `tcp:HOST:PORT`, an IPv6 address in brackets (`tcp:[::1]:9061`): Kamailio's
 * siptrace `duplicate_uri` without its `sip:` and `;transport=`, which Parley's configuration has
 * no other use for. The port is required (HEP has no registered one; Homer listens on 9060).
 */
export function parseCollectorAddress(text: string): Result<CollectorAddress, string> {
  const colon = text.indexOf(':');
  const transport = text.slice(0, colon).toLowerCase();
  if (colon < 0 || (transport !== 'udp' && transport !== 'tcp')) return err(`"${text}": expected udp:HOST:PORT or tcp:HOST:PORT`);
  const rest = text.slice(colon + 1);
  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') return err(`"${text}": an IPv6 address is written [ADDRESS]:PORT`);
    host = rest.slice(1, close);
    if (isIP(host) !== 6) return err(`"${text}": "${host}" is not an IPv6 address`);
    portText = rest.slice(close + 2);
  } else {
    const last = rest.lastIndexOf(':');
    if (last <= 0) return err(`"${text}": the port is missing`);
    host = rest.slice(0, last);
    if (host.includes(':')) return err(`"${text}": write an IPv6 address in brackets`);
    portText = rest.slice(last + 1);
  }
  const port = Number(portText);
  if (portText === '' || !Number.isInteger(port) || port < 1 || port > 65535) return err(`"${text}": "${portText}" is not a port`);
  return ok({ transport, host, port });
}
