// Registrations made by sipp for the call and registrar suites: register a contact from a given
// sipp endpoint, list an AOR's bindings, remove them all. sipp's ports come from Parley's pool.
import type { ParleyServer } from './parley.js';
import { contacts, received, type NameAddr } from './sip-trace.js';
import { runSipp, type SippOptions, type SippResult } from './sipp.js';
import type { Credentials } from './subscribers.js';

/**
 * `endpoint`: the sipp endpoint whose SIP port is the contact (a UAS then listens there);
 * `callId` and `baseCseq`: for refreshes of one registration; `expires`: the scenario's [expires].
 */
export type RegisterOptions = Partial<Pick<SippOptions, 'endpoint' | 'transport' | 'callId' | 'baseCseq'>> & { readonly expires?: number };

/**
 * One registration scenario (reg-*.xml) run by sipp as `who` against Parley: bounded to 10 s,
 * 3 s for each answer.
 */
export function registrationRun(parley: ParleyServer, scenario: string, who: Credentials, o: RegisterOptions = {}): Promise<SippResult> {
  const { transport, endpoint, callId, baseCseq, expires } = o;
  return runSipp({
    ...parley.sippTarget(transport), scenario, endpoint, callId, baseCseq, calls: 1, timeoutSecs: 10, recvTimeoutMs: 3000, credentials: [who],
    ...(expires === undefined ? {} : { keys: { expires: String(expires) } }),
  });
}

/** reg-register.xml: REGISTER -> 401 -> REGISTER + Authorization -> 200 (Expires default 3600). */
export function register(parley: ParleyServer, who: Credentials, o: RegisterOptions = {}): Promise<SippResult> {
  return registrationRun(parley, 'reg-register.xml', who, { ...o, expires: o.expires ?? 3600 });
}

/** reg-query.xml: the bindings listed in the 200 of an authenticated REGISTER without Contact. */
export async function queryBindings(parley: ParleyServer, who: Credentials): Promise<{ run: SippResult; bindings: NameAddr[] }> {
  const run = await registrationRun(parley, 'reg-query.xml', who);
  const ok = received(run.trace, { status: 200 });
  if (run.code !== 0 || ok.length !== 1) throw new Error(`the query REGISTER for ${who.user} failed:\n${run.describe()}`);
  return { run, bindings: contacts(ok[0]!) };
}

/** reg-clear.xml: Contact: * with Expires: 0 removes every binding of the AOR; throws unless 200. */
export async function clearBindings(parley: ParleyServer, who: Credentials): Promise<SippResult> {
  const run = await registrationRun(parley, 'reg-clear.xml', who);
  if (run.code !== 0) throw new Error(`removing the bindings of ${who.user} (Contact: *) failed:\n${run.describe()}`);
  return run;
}
