import type { SipRequest } from '../../sip/index.js';
import { normalizeAddress, type Flow } from './flow.js';

/**
 * Tag the top Via of a request just received with where it really came from
 * (RFC 3261 §18.2.1 `received`, RFC 3581 §4 `rport`), so that responses find their way back
 * through NATs. Returns true when the Via was changed.
 */
export function addReceivedParameters(request: SipRequest, source: Flow): boolean {
  let via;
  try {
    via = request.topVia;
  } catch {
    return false; // parseMessage has checked the top Via; a hand-built request may not have
  }
  if (via === undefined) return false;
  const sourceAddress = normalizeAddress(source.remoteAddress);
  let tagged = via;

  if (via.rport === null) {
    // "If this Via header field value contains an "rport" parameter with no value, it MUST set
    //  the value of the parameter to the source port of the request. [...] In addition, the
    //  server MUST insert a "received" parameter containing the source IP address that the
    //  request came from, even if it is identical to the value of the "sent-by" component."
    //  (RFC 3581 §4)
    tagged = tagged.withParam('rport', String(source.remotePort)).withParam('received', sourceAddress);
  } else if (normalizeAddress(via.host) !== sourceAddress) {
    // "If the host portion of the "sent-by" parameter contains a domain name, or if it contains
    //  an IP address that differs from the packet source address, the server MUST add a
    //  "received" parameter to that Via header field value. This parameter MUST contain the
    //  source address from which the packet was received." (RFC 3261 §18.2.1)
    if (via.received === sourceAddress) return false;
    tagged = tagged.withParam('received', sourceAddress);
  } else {
    return false;
  }

  // Replace the top Via value through the message's editing API (which keeps its caches right).
  // The new value goes before the remaining Via fields, so the order of Via values is unchanged.
  request.removeFirstValue('via');
  request.prepend('via', tagged.toString());
  return true;
}
