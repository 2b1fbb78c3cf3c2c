import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { normalizeAddress } from './flow.js';

/**
 * The address to send to: an IP address as is (synchronously, so that sends keep their order), a
 * bracketed IPv6 reference without its brackets, a name through A/AAAA lookup (RFC 3263 is the
 * caller's business: here a name is only resolved).
 */
export function resolveHost(host: string, then: (address: string | undefined, error?: Error) => void): void {
  if (isIP(host) !== 0) {
    then(normalizeAddress(host));
    return;
  }
  const name = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(name) !== 0) {
    then(normalizeAddress(name));
    return;
  }
  lookup(name, (err, address) => (err ? then(undefined, err) : then(normalizeAddress(address))));
}
