/**
 * An XOR-PEER-ADDRESS of a request (CreatePermission, ChannelBind, RFC 6062 Connect): read, its
 * family checked against the allocation's (443), and the peer policy's verdict on its canonical
 * form (403).
 */
import type { Logger } from '../lib/logger.js';
import { readXorAddress, type StunAttribute, type StunMessage, type TransportAddress } from '../stun/index.js';
import type { ErrorAnswer } from './answers.js';
import type { PeerVerdict } from './peer-policy.js';

/** The peer-address check (peer-policy.ts's PeerPolicy). */
export interface PeerCheck {
  check(address: string): PeerVerdict;
}

/** The peer in canonical form, or the error to answer. */
export function checkPeerAddress(peers: PeerCheck, log: Logger, m: StunMessage, attr: StunAttribute, allocation: { hasFamily(family: 4 | 6): boolean }): TransportAddress | ErrorAnswer {
  const read = readXorAddress(attr, m.transactionId);
  if (!read.ok) return [400, 'Malformed XOR-PEER-ADDRESS'];
  const peer = read.value;
  // RFC 8656 §9.2: "If the XOR-PEER-ADDRESS attribute contains an address of an address family
  // that is not the same as that of a relayed transport address for the allocation, the server
  // MUST generate an error response with the 443 (Peer Address Family Mismatch) response code."
  if (!allocation.hasFamily(peer.family)) return [443, 'Peer Address Family Mismatch'];
  const verdict = peers.check(peer.address);
  if (!verdict.ok) {
    log.debug({ peer: peer.address, canonical: verdict.address, reason: verdict.reason }, 'TURN peer denied');
    return [403, 'Forbidden'];
  }
  // ::ffff:a.b.c.d on an IPv6 allocation is an IPv4 peer: not reachable from an IPv6 relay (a
  // dual allocation reaches it from its IPv4 relayed address)
  const family = verdict.address.includes(':') ? 6 : 4;
  if (!allocation.hasFamily(family)) return [443, 'Peer Address Family Mismatch'];
  return { family, address: verdict.address, port: peer.port };
}

export function isErrorAnswer(x: TransportAddress | ErrorAnswer): x is ErrorAnswer {
  return Array.isArray(x);
}
