// Live calls (issue 18): a real Parley (runServer in this process, two SIP worker threads,
// UDP and TCP) relays calls between sipp phones; the operator's CallOps (RunningServer.ops.calls,
// what `GET/DELETE /api/v1/calls` and `parley calls` call) lists them with both legs and hangs
// them up. Hung up answered, both sipp phones get a BYE from Parley and accept it (sipp exits
// 0 only if its scenario's `<recv request="BYE">` came and was answered); the call leaves the
// list. A call rejected (486), one cancelled by the caller, and one hung up while it rings end
// with their status; with media anchoring on, the media session is freed by the hang-up.
// Run by `npm run test:interop`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { OpsError, type CallView } from '../../src/api/operations.js';
import type { ParleyEvent } from '../../src/lib/events.js';
import { configFromObject } from '../../src/app/config.js';
import { runServer, type RunningServer } from '../../src/app/run-server.js';
import { describeCall } from './support/calls.js';
import { signalPid } from './support/child.js';
import type { ParleyServer } from './support/parley.js';
import { portPool } from './support/ports.js';
import { register } from './support/registration.js';
import { header, received } from './support/sip-trace.js';
import { reserveEndpoint, runSipp, skipWithoutSipp, startSipp, type SippEndpoint, type SippResult, type SippRun, type SippTransport } from './support/sipp.js';

const pool = portPool(import.meta.url);
const DOMAIN = '127.0.0.1';
const PASSWORD = 'callee-secret-1';
/** How long a condition on the server (a call listed, gone) may take to hold. */
const WAIT_MS = 10_000;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = WAIT_MS): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `p`, or when it fails, the failure with what both sipp phones saw (they are stopped first). */
async function orDescribe<T>(p: Promise<T>, uac: SippRun, uas: SippRun): Promise<T> {
  try {
    return await p;
  } catch (e) {
    signalPid(uac.pid, 'SIGTERM');
    signalPid(uas.pid, 'SIGTERM');
    const [caller, callee] = await Promise.all([uac.done, uas.done]);
    throw new Error(`${(e as Error).message}\n${describeCall(caller, callee)}`);
  }
}

/** A Parley in this process, and what the sipp helpers need of one (ParleyServer's sippTarget). */
class InProcessParley {
  /** call.* events since the last take(), when this build has an event hub (EventOps). */
  private readonly events: ParleyEvent[] = [];
  eventsAvailable = false;
  private constructor(
    readonly server: RunningServer,
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(o: { media?: { min: number; max: number } } = {}): Promise<InProcessParley> {
    const port = await pool.block(1);
    const dir = mkdtempSync(join(tmpdir(), 'parley-ops-calls-'));
    const config = configFromObject({
      dataDir: dir,
      sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port }, { transport: 'tcp', address: '127.0.0.1', port }], workers: 2, domains: [DOMAIN] },
      http: { listen: [] },
      routing: { watch: false },
      // the call-end lines of the SIP workers go to this process's stdout: info is the unit tests' business
      log: { level: 'warn' },
      turn: { enabled: false },
      media: o.media === undefined ? { enabled: false } : { anchor: 'always', ports: o.media },
    });
    const server = await runServer(config, pino({ level: 'silent' }));
    const p = new InProcessParley(server, port, dir);
    try {
      server.ops.events.subscribe(new Set(['call.started', 'call.answered', 'call.ended']), (e) => p.events.push(e));
      p.eventsAvailable = true;
    } catch (e) {
      // the event hub is another part of issue 18 (EventOps); until it is in the build, 503
      if (!(e instanceof OpsError && e.status === 503)) throw e;
    }
    return p;
  }

  /** The sipp helpers take a ParleyServer for its sippTarget and pool only. */
  get asTarget(): ParleyServer {
    return { pool, sippTarget: (transport: SippTransport = 'udp') => ({ host: '127.0.0.1', port: this.port, transport, pool }) } as unknown as ParleyServer;
  }

  /**
   * `user` registered with the Contact of a new endpoint, where a sipp UAS then listens over
   * `transport`. Over UDP it registers from that endpoint; a TCP phone's registration is sent
   * over UDP from another port with a `transport=TCP` Contact (a binding made over TCP would go
   * with the registering sipp's connection), so Parley connects to the UAS to call it.
   */
  async phone(user: string, transport: SippTransport): Promise<SippEndpoint> {
    await this.server.subscribers.add({ username: user, domain: DOMAIN, password: PASSWORD });
    const endpoint = await reserveEndpoint(pool);
    const credentials = { user, password: PASSWORD };
    let run: SippResult;
    if (transport === 'udp') run = await register(this.asTarget, credentials, { endpoint, transport, expires: 3600 });
    else {
      const from = await reserveEndpoint(pool);
      run = await runSipp({
        host: '127.0.0.1', port: this.port, transport: 'udp', pool, scenario: 'reg-contact.xml', endpoint: from, calls: 1, timeoutSecs: 10, recvTimeoutMs: 3000, credentials: [credentials],
        keys: { via_sent_by: `127.0.0.1:${from.port}`, contact: `<sip:${user}@127.0.0.1:${endpoint.port};transport=TCP>` },
      });
    }
    assert.equal(run.code, 0, `${user} could not register:\n${run.describe()}`);
    return endpoint;
  }

  uas(endpoint: SippEndpoint, scenario: string, transport: SippTransport): Promise<SippRun> {
    return startSipp({ host: '127.0.0.1', port: this.port, transport, pool, scenario, endpoint, calls: 1, timeoutSecs: 30, recvTimeoutMs: 20_000 });
  }

  uac(scenario: string, callee: string, transport: SippTransport): Promise<SippRun> {
    return startSipp({ host: '127.0.0.1', port: this.port, transport, pool, scenario, service: callee, calls: 1, timeoutSecs: 30, recvTimeoutMs: 20_000 }, false);
  }

  /** The one call to `callee` in the list once it is in `state`. */
  callTo(callee: string, state: CallView['state']): Promise<CallView> {
    return until(`a call to ${callee} ${state}`, async () => (await this.server.ops.calls.list({ search: `${callee}@` })).items.find((c) => c.state === state));
  }

  gone(callId: string): Promise<true> {
    return until(`call ${callId} to leave the list`, async () => ((await this.server.ops.calls.list({ search: callId })).total === 0 ? true : undefined));
  }

  /** The call.* events of `callId` as `type[ status reason]`. */
  eventsOf(callId: string): string[] {
    return this.events.filter((e) => 'callId' in e && e.callId === callId).map((e) => (e.type === 'call.ended' ? `${e.type} ${e.status} ${e.reason}` : e.type));
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('live calls: listed and hung up through a real Parley with two SIP workers (sipp on both sides)', { skip: skipWithoutSipp() }, () => {
  let parley: InProcessParley;
  before(async () => {
    parley = await InProcessParley.start();
  });
  after(() => parley?.stop());

  for (const transport of ['udp', 'tcp'] as const) {
    it(`${transport}: an answered call is listed with both legs and a growing duration; hung up, both phones accept a BYE from Parley and the call leaves the list`, async () => {
      const user = `bob-${transport}`;
      const endpoint = await parley.phone(user, transport);
      const uas = await parley.uas(endpoint, 'ops-call-uas.xml', transport);
      const uac = await parley.uac('ops-call-uac.xml', user, transport);
      const call = await orDescribe(parley.callTo(user, 'answered'), uac, uas);
      const calls = parley.server.ops.calls;

      assert.equal(call.caller.uri, 'sip:carol@visitor.example');
      assert.ok(call.caller.tag);
      assert.match(call.caller.contact ?? '', /^sip:carol@127\.0\.0\.1:\d+/);
      assert.match(call.caller.source ?? '', new RegExp(`^${transport}:127\\.0\\.0\\.1:\\d+$`));
      assert.equal(call.callee.uri, `sip:${user}@${DOMAIN}`);
      assert.ok(call.callee.tag);
      assert.match(call.callee.contact ?? '', new RegExp(`^sip:127\\.0\\.0\\.1:${endpoint.port};transport=${transport.toUpperCase()}$`));
      assert.equal(call.callee.source, `${transport}:127.0.0.1:${endpoint.port}`);
      assert.ok(call.answeredAt);
      assert.equal(call.media, false);
      assert.equal((await calls.get(call.callId)).state, 'answered');
      assert.equal((await calls.list({ search: 'carol@visitor' })).items.some((c) => c.callId === call.callId), true);
      // the duration grows while the call lasts
      await until('the duration to grow', async () => ((await calls.get(call.callId)).duration > call.duration ? true : undefined), 5000);

      await calls.hangup(call.callId);
      const [callee, caller] = await Promise.all([uas.done, uac.done]);
      assert.equal(callee.code, 0, `the callee did not get and accept the BYE:\n${describeCall(caller, callee)}`);
      assert.equal(caller.code, 0, `the caller did not get and accept the BYE:\n${describeCall(caller, callee)}`);
      // each BYE as that side's peer would send it: the callee's with the caller's next CSeq
      const [byeToCallee] = received(callee.trace, { method: 'BYE' });
      const [byeToCaller] = received(caller.trace, { method: 'BYE' });
      assert.equal(header(byeToCallee!, 'CSeq'), '2 BYE');
      assert.match(header(byeToCallee!, 'From') ?? '', new RegExp(`;tag=${call.caller.tag}$`));
      assert.match(header(byeToCallee!, 'To') ?? '', new RegExp(`;tag=${call.callee.tag}$`));
      assert.match(header(byeToCaller!, 'From') ?? '', new RegExp(`;tag=${call.callee.tag}$`));
      assert.match(header(byeToCaller!, 'To') ?? '', new RegExp(`;tag=${call.caller.tag}$`));
      assert.equal(byeToCaller!.startLine, `BYE ${call.caller.contact} SIP/2.0`);

      await parley.gone(call.callId);
      await assert.rejects(calls.hangup(call.callId), (e: unknown) => e instanceof OpsError && e.status === 404);
      await assert.rejects(calls.get(call.callId), (e: unknown) => e instanceof OpsError && e.status === 404);
      if (parley.eventsAvailable) assert.deepEqual(parley.eventsOf(call.callId), ['call.started', 'call.answered', 'call.ended 200 hangup']);
    });
  }

  it('a call rejected by the callee (486) ends with its status', async () => {
    const endpoint = await parley.phone('bob-busy', 'udp');
    const uas = await parley.uas(endpoint, 'uas-busy.xml', 'udp');
    const uac = await parley.uac('ops-call-486-uac.xml', 'bob-busy', 'udp');
    const [callee, caller] = await Promise.all([uas.done, uac.done]);
    assert.equal(caller.code, 0, describeCall(caller, callee));
    assert.equal(callee.code, 0, describeCall(caller, callee));
    const callId = header(received(callee.trace, { method: 'INVITE' })[0]!, 'Call-ID')!;
    await parley.gone(callId);
    if (parley.eventsAvailable) assert.deepEqual(parley.eventsOf(callId), ['call.started', 'call.ended 486 rejected']);
  });

  it('a call the caller cancels ends with 487; one the operator hangs up while it rings: CANCEL to the callee, 487 to the caller', async () => {
    for (const [user, uacScenario, reason] of [['bob-cancel', 'ops-call-cancel-uac.xml', 'cancel'], ['bob-ringing', 'ops-call-487-uac.xml', 'hangup']] as const) {
      const endpoint = await parley.phone(user, 'udp');
      const uas = await parley.uas(endpoint, 'uas-ring-cancel.xml', 'udp');
      const uac = await parley.uac(uacScenario, user, 'udp');
      if (reason === 'hangup') {
        const ringing = await orDescribe(parley.callTo(user, 'ringing'), uac, uas);
        await parley.server.ops.calls.hangup(ringing.callId);
      }
      const [callee, caller] = await Promise.all([uas.done, uac.done]);
      assert.equal(caller.code, 0, describeCall(caller, callee));
      assert.equal(callee.code, 0, describeCall(caller, callee));
      const callId = header(received(callee.trace, { method: 'INVITE' })[0]!, 'Call-ID')!;
      await parley.gone(callId);
      if (parley.eventsAvailable) assert.deepEqual(parley.eventsOf(callId), ['call.started', `call.ended 487 ${reason}`]);
    }
  });
});

describe('live calls with media anchoring: the hang-up frees the media session', { skip: skipWithoutSipp() }, () => {
  let parley: InProcessParley;
  before(async () => {
    const first = await pool.block(20);
    parley = await InProcessParley.start({ media: { min: first, max: first + 19 } });
  });
  after(() => parley?.stop());

  it('an anchored call (media: true) hung up leaves no media session', async () => {
    const endpoint = await parley.phone('bob-media', 'udp');
    const uas = await parley.uas(endpoint, 'ops-call-uas.xml', 'udp');
    const uac = await parley.uac('ops-call-uac.xml', 'bob-media', 'udp');
    const call = await orDescribe(parley.callTo('bob-media', 'answered'), uac, uas);
    assert.equal(call.media, true);
    assert.equal((await parley.server.media!.stats()).sessions, 1);
    await parley.server.ops.calls.hangup(call.callId);
    const [callee, caller] = await Promise.all([uas.done, uac.done]);
    assert.equal(callee.code, 0, describeCall(caller, callee));
    assert.equal(caller.code, 0, describeCall(caller, callee));
    await parley.gone(call.callId);
    await until('the media session to go', async () => ((await parley.server.media!.stats()).sessions === 0 ? true : undefined));
  });
});
