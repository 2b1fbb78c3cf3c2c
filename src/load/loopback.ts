import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** 127.0.0.0/8, ::1, and 127.0.0.0/8 mapped into IPv6 (::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.replace(/^\[|\]$/g, '').toLowerCase();
  if (isIP(a) === 4) return a.startsWith('127.');
  if (isIP(a) === 6) {
    if (/^(0{0,4}:){2,7}0{0,3}1$/.test(a) || a === '::1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
    return mapped !== null && mapped[1]!.startsWith('127.');
  }
  return false;
}

/** How host names are resolved (tests pass their own). */
export type AddressLookup = (host: string) => Promise<readonly string[]>;

const systemLookup: AddressLookup = async (host) => (await lookup(host, { all: true })).map((r) => r.address);

/**
 * Undefined when every address `host` stands for is a loopback address (an IP literal, or a name
 * that resolves only to loopback addresses, such as localhost); otherwise a sentence saying why
 * not. A load tool must not load a machine on the network by a typo.
 */
export async function nonLoopbackReason(host: string, resolve: AddressLookup = systemLookup): Promise<string | undefined> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) !== 0) return isLoopbackAddress(bare) ? undefined : `${bare} is not a loopback address`;
  let addresses: readonly string[];
  try {
    addresses = await resolve(bare);
  } catch (e) {
    return `${bare} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  if (addresses.length === 0) return `${bare} does not resolve`;
  const remote = addresses.filter((a) => !isLoopbackAddress(a));
  return remote.length === 0 ? undefined : `${bare} resolves to ${remote.join(', ')}, not a loopback address`;
}
