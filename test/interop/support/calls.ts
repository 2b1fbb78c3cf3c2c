// Calls between sipp phones through Parley, for the call, call-transports and restart suites:
// a callee registered from the port its sipp UAS then listens on, a caller running a UAC
// scenario, and the checks every completed call must pass. sipp's ports come from Parley's pool.
import assert from 'node:assert/strict';
import type { ParleyServer } from './parley.js';
import { register } from './registration.js';
import { contacts, flow, header, headers, parseNameAddr, received, recordRoutes, sent, values, vias, type NameAddr } from './sip-trace.js';
import { reserveEndpoint, runSipp, startSipp, type SippEndpoint, type SippOptions, type SippResult, type SippRun, type SippTransport } from './sipp.js';
import type { Credentials } from './subscribers.js';

/** A phone registered as `who` from a new endpoint (its SIP port is the contact). */
export async function registerPhone(parley: ParleyServer, who: Credentials, transport: SippTransport = 'udp'): Promise<{ endpoint: SippEndpoint; run: SippResult }> {
  const endpoint = await reserveEndpoint(parley.pool);
  const run = await register(parley, who, { endpoint, transport, expires: 3600 });
  assert.equal(run.code, 0, `${who.user} could not register:\n${run.describe()}`);
  assert.equal(received(run.trace, { status: 200 }).length, 1, run.describe());
  return { endpoint, run };
}

/** For a UAS, -d (`pauseMs`) is the scenario's <pause/>: the ring time before answering. */
export type UasOptions = Partial<Pick<SippOptions, 'transport' | 'pauseMs' | 'recvTimeoutMs' | 'timeoutSecs'>>;

/** A sipp UAS on the endpoint a registration came from, for one call; resolves once it listens. */
export function startUas(parley: ParleyServer, endpoint: SippEndpoint, scenario: string, o: UasOptions = {}): Promise<SippRun> {
  const { transport, timeoutSecs = 15, recvTimeoutMs = 5000, pauseMs } = o;
  return startSipp({ ...parley.sippTarget(transport), scenario, endpoint, calls: 1, timeoutSecs, recvTimeoutMs, pauseMs });
}

/** For a UAC, -d (`pauseMs`, default 100 ms) is the hold time between ACK and BYE. */
export type CallOptions = Partial<Pick<SippOptions, 'transport' | 'pauseMs' | 'recvTimeoutMs' | 'callId'>> & {
  readonly caller: Credentials;
  /** The user part of the Request-URI (-s). */
  readonly callee: string;
};

/** A sipp UAC (a call-*.xml scenario) from a new endpoint, run to its end. */
export function call(parley: ParleyServer, scenario: string, o: CallOptions): Promise<SippResult> {
  return runSipp({
    ...parley.sippTarget(o.transport), scenario, calls: 1, timeoutSecs: 15, recvTimeoutMs: o.recvTimeoutMs ?? 5000,
    credentials: [o.caller], service: o.callee, pauseMs: o.pauseMs ?? 100,
    ...(o.callId === undefined ? {} : { callId: o.callId }),
  });
}

/** Both sides of a call, for failure messages. */
export function describeCall(uac: SippResult, ...uas: SippResult[]): string {
  return [`--- caller (UAC):`, uac.describe(), ...uas.flatMap((u, i) => [`--- callee ${i + 1} (UAS):`, u.describe()])].join('\n');
}

/** Is this Record-Route / Route entry Parley's own (host and port of one of its listeners)? */
export function isParley(parley: ParleyServer, a: NameAddr, transport: SippTransport): boolean {
  return a.host === parley.host && a.port === parley.portFor(transport) && a.uriParams.has('lr');
}

export interface BasicCallExpectation {
  readonly parley: ParleyServer;
  readonly uac: SippResult;
  readonly uas: SippResult;
  /** The endpoint the callee registered from (its contact). */
  readonly callee: SippEndpoint;
  /** How the caller reached Parley, and how Parley reached the callee. */
  readonly callerTransport: SippTransport;
  readonly calleeTransport: SippTransport;
}

/**
 * The checks of a completed call-basic.xml / uas-answer.xml pair: both sipp runs succeeded; the
 * caller saw INVITE/407/ACK/INVITE/180/200/ACK/BYE/200; the callee got the INVITE, the ACK and
 * the BYE from Parley (Parley's Via on top, the caller's below, Parley's Route entries
 * consumed), with Parley's Record-Route (two entries when the transports differ, RFC 3261
 * §16.6 step 4 / RFC 5658); the caller's ACK and BYE followed that route.
 */
export function assertBasicCall(x: BasicCallExpectation): void {
  const { parley, uac, uas, callee } = x;
  const both = describeCall(uac, uas);
  assert.equal(uac.code, 0, `the caller's sipp failed:\n${both}`);
  assert.equal(uas.code, 0, `the callee's sipp failed:\n${both}`);

  const callerSteps = flow(uac.trace).filter((s, i, all) => !(s === '< 180' && all[i - 1] === '< 180'));
  assert.deepEqual(callerSteps, ['> INVITE', '< 407', '> ACK', '> INVITE', '< 180', '< 200', '> ACK', '> BYE', '< 200'], both);
  assert.deepEqual(flow(uas.trace), ['< INVITE', '> 180', '> 200', '< ACK', '< BYE', '> 200'], both);

  const contact = `sip:127.0.0.1:${callee.port};transport=${x.calleeTransport.toUpperCase()}`;
  const registered = `sip:bob@127.0.0.1:${callee.port};transport=${x.calleeTransport.toUpperCase()}`;
  const [invite] = received(uas.trace, { method: 'INVITE' });
  const [ack] = received(uas.trace, { method: 'ACK' });
  const [bye] = received(uas.trace, { method: 'BYE' });
  const callerInvite = sent(uac.trace, { method: 'INVITE' })[1]!;
  const callerPort = Number(/:(\d+);/.exec(header(callerInvite, 'Contact') ?? '')?.[1]);

  // the INVITE went to the registered contact, with credentials consumed and a Record-Route
  assert.equal(invite!.startLine, `INVITE ${registered} SIP/2.0`, both);
  assert.ok(header(callerInvite, 'Proxy-Authorization'), 'the second INVITE carries credentials');
  assert.equal(header(invite!, 'Proxy-Authorization'), undefined, 'Parley forwarded credentials meant for itself (RFC 3261 §22.3)');
  assert.equal(header(invite!, 'Call-ID'), header(callerInvite, 'Call-ID'));
  assert.equal(header(invite!, 'Max-Forwards'), '69');
  const rr = recordRoutes(invite!);
  if (x.callerTransport === x.calleeTransport) {
    assert.equal(rr.length, 1, `one Record-Route entry:\n${invite!.text}`);
    assert.ok(isParley(parley, rr[0]!, x.calleeTransport), `Record-Route is not Parley's ${parley.host}:${parley.port};lr:\n${invite!.text}`);
  } else {
    // one entry per side: the top one faces the callee, the other the caller
    assert.equal(rr.length, 2, `two Record-Route entries when the caller used ${x.callerTransport} and the callee ${x.calleeTransport}:\n${invite!.text}`);
    assert.ok(isParley(parley, rr[0]!, x.calleeTransport), `top Record-Route should be Parley's ${x.calleeTransport} side:\n${invite!.text}`);
    assert.ok(isParley(parley, rr[1]!, x.callerTransport), `second Record-Route should be Parley's ${x.callerTransport} side:\n${invite!.text}`);
    for (const [entry, t] of [[rr[0]!, x.calleeTransport], [rr[1]!, x.callerTransport]] as const) {
      const param = entry.uriParams.get('transport')?.toLowerCase();
      if (t !== 'udp') assert.equal(param, t === 'tls' ? 'tls' : 'tcp', `the ${t} Record-Route entry names its transport: ${entry.uri}`);
      if (t === 'tls') assert.ok(entry.uri.startsWith('sip:') || entry.uri.startsWith('sips:'));
    }
  }

  // each request bob received came from Parley: its Via on top, alice's below
  for (const request of [invite!, ack!, bye!]) {
    const v = vias(request);
    assert.equal(v.length, 2, `${request.method}: Parley's Via and the caller's:\n${request.text}`);
    assert.deepEqual([v[0]!.transport, v[0]!.host, v[0]!.port], [x.calleeTransport.toUpperCase(), parley.host, parley.port], `${request.method}: top Via is not Parley's:\n${request.text}`);
    assert.ok(v[0]!.params.get('branch')?.startsWith('z9hG4bK'), request.text);
    assert.deepEqual([v[1]!.transport, v[1]!.port], [x.callerTransport.toUpperCase(), callerPort], `${request.method}: second Via is not the caller's:\n${request.text}`);
    assert.deepEqual(headers(request, 'Route'), [], `${request.method}: Parley left a Route entry (its own should be consumed):\n${request.text}`);
  }
  assert.equal(ack!.startLine, `ACK ${contact} SIP/2.0`);
  assert.equal(bye!.startLine, `BYE ${contact} SIP/2.0`);
  assert.equal(header(bye!, 'Call-ID'), header(invite!, 'Call-ID'));

  // the caller's ACK and BYE carried the route set from the 200 (Parley's Record-Route, reversed)
  const [ok] = received(uac.trace, { status: 200 });
  assert.deepEqual(contacts(ok!).map((c) => c.uri), [contact]);
  const routeSet = values(ok!, 'Record-Route').reverse();
  assert.ok(routeSet.length >= 1);
  for (const m of ['ACK', 'BYE']) {
    const inDialog = sent(uac.trace, { method: m }).at(-1)!;
    assert.equal(inDialog.startLine, `${m} ${contact} SIP/2.0`);
    assert.deepEqual(values(inDialog, 'Route').map((r) => parseNameAddr(r).uri), routeSet.map((r) => parseNameAddr(r).uri), `${m} did not follow the route set:\n${inDialog.text}`);
  }
}
