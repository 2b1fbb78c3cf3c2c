import { unescape, type Uri } from '../../sip/index.js';

/**
 * The canonical form of an address-of-record (RFC 3261 §10.3 step 5: "converting it to a
 * canonical form … all URI parameters MUST be removed (including the user-param), and any
 * escaped characters MUST be converted to their unescaped form"): `user@domain` with the domain
 * lower-case. undefined for a URI without a user or of a scheme Parley does not register.
 */
export function addressOfRecord(uri: Uri): string | undefined {
  if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
  return `${unescape(uri.user)}@${uri.host.toLowerCase().replace(/^\[(.*)\]$/, '$1')}`;
}

/** Split a canonical AOR back into user and domain. */
export function splitAor(aor: string): { user: string; domain: string } {
  const at = aor.lastIndexOf('@');
  return { user: aor.slice(0, at), domain: aor.slice(at + 1) };
}
