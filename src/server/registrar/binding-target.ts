import { parseUri, type Flow } from '../../sip/index.js';
import type { ContactBinding } from '../../store/binding-store.js';
import type { ProxyTarget } from '../proxy/response-context.js';

/**
 * Where a proxy sends a request for a registered contact: the contact URI as Request-URI, its q,
 * the flow it registered from (its connection, or the address the REGISTER came from: the NAT
 * binding, RFC 5626 §5.3), and its Path as a Route set (RFC 3327 §5.3).
 */
export function bindingTarget(b: ContactBinding): ProxyTarget {
  const r = b.received;
  const flow: Flow = {
    transport: r.transport,
    remoteAddress: r.address,
    remotePort: r.port,
    ...(r.localAddress === undefined ? {} : { localAddress: r.localAddress }),
    ...(r.localPort === undefined ? {} : { localPort: r.localPort }),
    ...(b.connectionId === undefined ? {} : { connectionId: b.connectionId }),
  };
  return { uri: parseUri(b.contact), q: b.q, flow, ...(b.path.length > 0 ? { route: b.path } : {}) };
}
