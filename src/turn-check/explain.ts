/**
 * Why a step of the check failed, in words an operator can act on. Each function takes what the
 * step saw (an error, a refusal, a timeout) and what the check knows (URL, user, realm) and returns
 * one or two sentences; the same failure always gives the same text.
 */
import type { IceServerUrl } from './ice-server-url.js';
import type { StunRefusal } from './turn-client.js';
import { ConnectError, UDP_PORT_UNREACHABLE } from './server-connection.js';
import { ConnectionLost, TransactionTimeout } from './stun-transactions.js';

export interface ExplainContext {
  readonly url: IceServerUrl;
  readonly username?: string;
  /** The realm the operator expects (--realm), when given. */
  readonly expectedRealm?: string;
  /** The credentials are time-limited REST credentials made from a secret (--secret). */
  readonly rest?: boolean;
}

const where = (c: ExplainContext): string => `${c.url.host}:${c.url.port}`;
const transportName = (c: ExplainContext): string => (c.url.transport === 'tls' ? 'TLS' : c.url.transport.toUpperCase());

/** A failure to reach the server: DNS, connect, TLS, no answer, connection lost. */
export function explainTransportError(e: unknown, c: ExplainContext): string {
  if (e instanceof TransactionTimeout) {
    if (e.transport === 'udp') {
      return `no answer from ${where(c)} over UDP after ${e.sends} tries in ${(e.waitedMs / 1000).toFixed(1)} s: nothing listens on UDP port ${c.url.port} there, or a firewall drops UDP to or from it (try turn:...?transport=tcp to tell which).`;
    }
    return `the server accepted the ${transportName(c)} connection but did not answer the STUN request within ${(e.waitedMs / 1000).toFixed(1)} s: is it a STUN/TURN server on that port?`;
  }
  if (e instanceof ConnectionLost && e.message === UDP_PORT_UNREACHABLE) {
    return `nothing listens on UDP port ${c.url.port} at ${c.url.host}: its host answered "port unreachable" (ICMP).`;
  }
  if (e instanceof ConnectionLost) return `the server closed the ${transportName(c)} connection (${e.message}) before it answered.`;
  if (e instanceof ConnectError) {
    switch (e.code) {
      case 'ECONNREFUSED':
        return `connection refused: nothing listens on TCP port ${c.url.port} at ${c.url.host}.`;
      case 'ETIMEDOUT':
        return e.stage === 'tls'
          ? `the TCP connection opened but the TLS handshake did not finish: is port ${c.url.port} a TLS port (turns:), or plain TURN (turn:...?transport=tcp)?`
          : `no TCP connection to ${where(c)}: a firewall drops the port, or the host is down.`;
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
        return `${c.url.host} cannot be reached from this machine (no route: ${e.code}).`;
      case 'ECONNRESET':
        return e.stage === 'tls' ? `the server reset the connection during the TLS handshake: it may not speak TLS on port ${c.url.port}, or refuses TLS 1.2+.` : `the server reset the connection.`;
      case 'ERR_TLS_CERT_ALTNAME_INVALID':
        return `TLS name mismatch: the server's certificate does not name "${c.url.host}" (${afterPrefix(e.message, "Hostname/IP does not match certificate's altnames: ")}); use the name the certificate was issued for, or fix the certificate.`;
      case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      case 'SELF_SIGNED_CERT_IN_CHAIN':
        return `TLS: the server's certificate is self-signed, so browsers will refuse it too (--insecure skips the check here).`;
      case 'CERT_HAS_EXPIRED':
        return `TLS: the server's certificate has expired.`;
      case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
        return `TLS: the server's certificate cannot be verified (unknown issuer or missing intermediate certificate).`;
      case 'ERR_SSL_WRONG_VERSION_NUMBER':
      case 'EPROTO':
        return `TLS handshake failed: port ${c.url.port} does not answer with TLS (a plain TURN port? use turn:...?transport=tcp), or only offers TLS older than 1.2.`;
      default:
        return `${transportName(c)} connection failed: ${e.code ?? ''} ${e.message}`.trim();
    }
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOTFOUND') return `the host name ${c.url.host} does not resolve (DNS: not found).`;
  if (err?.code === 'EAI_AGAIN') return `the host name ${c.url.host} could not be resolved (DNS failed; try again).`;
  return err instanceof Error ? err.message : String(e);
}

/** An error response to Allocate. */
export function explainAllocateRefusal(r: StunRefusal, c: ExplainContext, realm: string | undefined): string {
  switch (r.code) {
    case 401: {
      const realmNote =
        c.expectedRealm !== undefined && realm !== undefined && c.expectedRealm !== realm
          ? ` The server's realm is "${realm}", not "${c.expectedRealm}": the key is derived from the realm, so a password set up for "${c.expectedRealm}" cannot work here.`
          : '';
      if (c.rest === true) {
        return `the server refused the time-limited credentials of "${c.username ?? ''}" in realm "${realm ?? '?'}": the secret differs from the server's (use-auth-secret / turn.restSecrets), the server does not accept REST credentials, or its clock is far from this one.${realmNote}`;
      }
      return `wrong password or unknown user: the server refused "${c.username ?? ''}" in realm "${realm ?? '?'}" (a TURN server answers both alike).${realmNote}`;
    }
    case 437:
      return `allocation mismatch (437): the server already has an allocation for this client address and port; wait for it to expire.`;
    case 438:
      return `the server kept calling the nonce stale (438): its nonces may expire too fast, or its clock jumps.`;
    case 440:
      return `the server does not support the address family asked for (440).`;
    case 442:
      return `the server does not relay UDP (442 Unsupported Transport Protocol).`;
    case 486:
      return `allocation quota reached (486) for "${c.username ?? ''}": too many allocations for this user, or on the server.`;
    case 508:
      return `the server has no relay port free (508 Insufficient Capacity): its relay port range is used up or cannot be bound.`;
    case 420:
      return `the server does not understand attributes this check sent (420 Unknown Attribute: ${(r.unknown ?? []).map((t) => `0x${t.toString(16).padStart(4, '0')}`).join(', ')}).`;
    case 300:
      return `the server redirects to ${r.alternate ? `${r.alternate.address}:${r.alternate.port}` : 'another server'} (300 Try Alternate).`;
    case 403:
      return `the server forbids this allocation (403 ${r.reason}).`;
    default:
      return `the server refused: ${r.code} ${r.reason}.`;
  }
}

/** An error response to CreatePermission or ChannelBind for the check's own peer address. */
export function explainPeerRefusal(r: StunRefusal, peer: string, method: string): string {
  if (r.code === 403) {
    return `relay to peer denied: the server refuses to relay to ${peer} (403 ${r.reason}). TURN servers deny loopback, private and link-local peers by default, and this check uses this machine as the peer: run it from a public address, or allow the range on the server (Parley: turn.peers.allow; coturn: allowed-peer-ip).`;
  }
  if (r.code === 400 && method === 'ChannelBind') return `the server refused the channel binding (400 ${r.reason}).`;
  if (r.code === 508) return `the server has no room for another permission or channel (508 ${r.reason}).`;
  return `${method} refused: ${r.code} ${r.reason}.`;
}

/** Data sent through the relay did not arrive. */
export function explainNoRelayedData(direction: 'out' | 'in', relayed: string, peer: string, waitedMs: number): string {
  const s = (waitedMs / 1000).toFixed(1);
  return direction === 'out'
    ? `data sent through the relay did not reach ${peer} within ${s} s: the relay ${relayed} cannot reach this machine there (a firewall or NAT between them?), or the server drops Send indications.`
    : `data sent from ${peer} to the relayed address ${relayed} did not come back through the server within ${s} s: a firewall in front of the relay's port range (the relay ports must be open to the peers), or the permission was not installed.`;
}

function afterPrefix(s: string, prefix: string): string {
  return s.startsWith(prefix) ? s.slice(prefix.length) : s;
}
