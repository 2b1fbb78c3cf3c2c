import { parseUri, type Flow } from '../../sip/index.js';
import type { ContactBinding } from '../../store/binding-store.js';
import type { ProxyTarget } from '../proxy/response-context.js';

/**
 * Where a proxy sends a request for a registered contact: the contact URI as Request-URI, its q,
 * and its Path as a Route set (RFC 3327 §5.3). The flow it registered from (its connection, or
 * the address the REGISTER came from: the NAT binding, RFC 5626 §5.3) goes with it when the
 * registrar decided so (`sendTo: 'source'`: NAT detected, a connection, RFC 5626 outbound; see
 * nat-detection.ts); otherwise (`contact`) the target has no flow and the proxy resolves the
 * Contact URI as it does any URI (RFC 3261 §16.5, §16.6 step 7; RFC 3263).
 */
export function bindingTarget(b: ContactBinding): ProxyTarget {
  const target = { uri: parseUri(b.contact), q: b.q, ...(b.path.length > 0 ? { route: b.path } : {}) };
  if (b.sendTo === 'contact' && b.connectionId === undefined) return target;
  // DEVIATION(RFC 3261 §16.5): the Contact stays the Request-URI but the request goes to the flow
  // the REGISTER came from (its connection, or its source address and port), not to the host and
  // port the Contact names: behind a NAT that address is unreachable (Kamailio's
  // fix_nated_register and lookup do the same with the `received` column).
  const r = b.received;
  const flow: Flow = {
    transport: r.transport,
    remoteAddress: r.address,
    remotePort: r.port,
    ...(r.localAddress === undefined ? {} : { localAddress: r.localAddress }),
    ...(r.localPort === undefined ? {} : { localPort: r.localPort }),
    ...(b.connectionId === undefined ? {} : { connectionId: b.connectionId }),
  };
  return { ...target, flow };
}
