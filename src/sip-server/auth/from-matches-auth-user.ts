import type { NameAddr, SipRequest } from '../../sip/index.js';

/**
 * True when the From URI names the authenticated user: a sip/sips URI whose user part equals
 * `username` and whose host equals `realm` (Parley's realm is the subscriber's domain). The
 * server answers 403 otherwise, so that alice cannot call as bob with her own password (Kamailio's
 * `auth_check(…, 1)` does the same check).
 *
 * "Comparison of the userinfo of SIP and SIPS URIs is case-sensitive." (RFC 3261 §19.1.4) The user
 * is compared unescaped (`%61lice` is `alice`); the host case-insensitively. A tel URI or a From
 * that does not parse never matches.
 */
export function fromMatchesAuthUser(request: SipRequest, username: string, realm: string): boolean {
  return addressMatches(() => request.from, username, realm);
}

/**
 * The same check on the To URI: for REGISTER, whose To names the address-of-record being bound
 * ("the registrar MUST … determine if the authorized user has authority to modify registrations
 * for this address-of-record", RFC 3261 §10.3 step 6), the registrar checks To.
 */
export function toMatchesAuthUser(request: SipRequest, username: string, realm: string): boolean {
  return addressMatches(() => request.to, username, realm);
}

function addressMatches(read: () => NameAddr, username: string, realm: string): boolean {
  let address: NameAddr;
  try {
    address = read();
  } catch {
    return false;
  }
  const uri = address.uri;
  if (uri.kind !== 'sip') return false;
  return uri.userUnescaped === username && uri.host.toLowerCase() === realm.toLowerCase();
}
