// Registrations made by sipp for the call and registrar suites: register a contact from a given
// sipp endpoint, list an AOR's bindings, remove them all.
import type { ParleyServer } from './parley-server.js';
import type { PortPool } from './port-pool.js';
import { contacts, received, type NameAddr } from './sip-trace.js';
import { runSippPeer, type SippEndpoint, type SippPeerResult } from './sipp-peer.js';
import type { SippTransport } from './sipp.js';

export interface Registrant {
  readonly user: string;
  readonly password: string;
}

export interface RegisterOptions {
  /** The sipp endpoint whose SIP port is the contact (a UAS then listens there). */
  readonly endpoint?: SippEndpoint;
  readonly expires?: number;
  readonly transport?: SippTransport;
  /** A fixed Call-ID and the first CSeq, for refreshes of one registration. */
  readonly callId?: string;
  readonly baseCseq?: number;
}

function target(parley: ParleyServer, transport: SippTransport): number {
  const port = transport === 'tls' ? parley.tlsPort : parley.port;
  if (port === undefined) throw new Error(`Parley does not listen on ${transport}`);
  return port;
}

/** reg-register.xml: REGISTER -> 401 -> REGISTER + Authorization -> 200. */
export function register(parley: ParleyServer, pool: PortPool, who: Registrant, o: RegisterOptions = {}): Promise<SippPeerResult> {
  const transport = o.transport ?? 'udp';
  return runSippPeer({
    scenario: 'reg-register.xml',
    host: parley.host,
    port: target(parley, transport),
    transport,
    pool,
    ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
    calls: 1,
    timeoutSecs: 10,
    recvTimeoutMs: 3000,
    credentials: [who],
    keys: { expires: String(o.expires ?? 3600) },
    ...(o.callId === undefined ? {} : { callId: o.callId }),
    ...(o.baseCseq === undefined ? {} : { baseCseq: o.baseCseq }),
  });
}

/** reg-query.xml: the bindings listed in the 200 of an authenticated REGISTER without Contact. */
export async function queryBindings(parley: ParleyServer, pool: PortPool, who: Registrant): Promise<{ run: SippPeerResult; bindings: NameAddr[] }> {
  const run = await runSippPeer({
    scenario: 'reg-query.xml', host: parley.host, port: target(parley, 'udp'), transport: 'udp', pool,
    calls: 1, timeoutSecs: 10, recvTimeoutMs: 3000, credentials: [who],
  });
  const ok = received(run.trace, { status: 200 });
  if (run.code !== 0 || ok.length !== 1) throw new Error(`the query REGISTER for ${who.user} failed:\n${run.describe()}`);
  return { run, bindings: contacts(ok[0]!) };
}

/** reg-clear.xml: Contact: * with Expires: 0 removes every binding of the AOR; throws unless 200. */
export async function clearBindings(parley: ParleyServer, pool: PortPool, who: Registrant): Promise<SippPeerResult> {
  const run = await runSippPeer({
    scenario: 'reg-clear.xml', host: parley.host, port: target(parley, 'udp'), transport: 'udp', pool,
    calls: 1, timeoutSecs: 10, recvTimeoutMs: 3000, credentials: [who],
  });
  if (run.code !== 0) throw new Error(`removing the bindings of ${who.user} (Contact: *) failed:\n${run.describe()}`);
  return run;
}
