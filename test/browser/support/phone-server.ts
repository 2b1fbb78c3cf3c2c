// Parley for the browser suites: the interop launcher (support/parley.ts) with SIP over UDP for
// sipp peers and HTTPS for the browsers (the /phone page and SIP over WSS at /sip), on ports of
// the test file's slice, with its own data directory and the development certificate.
import { ParleyServer } from '../../interop/support/parley.js';
import type { PortPool } from '../../interop/support/ports.js';
import type { Subscriber } from '../../interop/support/subscribers.js';

export interface PhoneServer {
  readonly parley: ParleyServer;
  /** https://127.0.0.1:<port>: the phone page is at <origin>/phone. */
  readonly origin: string;
}

export async function startPhoneServer(o: { pool: PortPool; subscribers: readonly Subscriber[]; config?: Readonly<Record<string, unknown>> }): Promise<PhoneServer> {
  const parley = await ParleyServer.start({
    pool: o.pool, transports: ['udp'], webSockets: { wss: 'auth' }, subscribers: o.subscribers, logLevel: 'debug', ...(o.config === undefined ? {} : { config: o.config }),
  });
  return { parley, origin: parley.httpsOrigin };
}
