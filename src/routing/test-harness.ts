/**
 * `parley/routing/testing`: unit tests for routing scripts, without sockets. A RoutingHarness is a
 * whole SIP core — transactions, digest authentication, registrar and location service, proxy —
 * over a wire that records what would be sent, with subscribers in memory and a DNS table. Hand
 * it a request; get back the routing steps the script took (the same records a trace holds), the
 * responses sent to the caller and the requests relayed downstream; answer a relayed branch to
 * drive onResponse and onFailure.
 *
 *   const h = await RoutingHarness.start({ script: 'routes.ts', subscribers: [{ user: 'alice', password: 's' }] });
 *   h.register('bob@example.com', 'sip:bob@198.51.100.7:5062');
 *   const r = await h.send(h.request('INVITE', 'sip:bob@example.com', { from: 'sip:alice@example.com' }), { credentials: { user: 'alice', password: 's' } });
 *   assert.deepEqual(r.actions, ['sanityCheck', 'looseRoute', 'authenticate', 'lookup', 'recordRoute', 'relay']);
 *   await r.respond(486);
 *   assert.equal(r.status, 486);
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger as PinoLogger } from 'pino';
import { configFromObject } from '../app/config.js';
import { buildSipCore } from '../app/sip-core.js';
import { systemClock } from '../lib/clock.js';
import {
  computeDigestResponse, computeHa1, createResponse, digestAlgorithmOf, parseAuthValue, parseMessage, parseUri, serializeToString,
  SipRequest, type AnySipMessage, type Flow, type SipResponse,
} from '../sip/index.js';
import { SipServer } from '../sip-server/sip-server.js';
import { FailureLimiter } from '../sip-server/auth/failure-limiter.js';
import type { LocalIdentity } from '../sip-server/core/local-identity.js';
import { RouteSignature, routeTarget } from '../sip-server/proxy/route-signature.js';
import type { DnsLookup } from '../sip-server/proxy/dns-resolver.js';
import { LocationService } from '../sip-server/registrar/location-service.js';
import { MessagePath, type ListenerInfo, type ResponseTarget, type Wire } from '../sip-server/transport/index.js';
import { MemorySubscriberStore } from '../store/memory-subscriber-store.js';
import type { ContactBinding } from '../store/binding-store.js';
import type { MediaControl } from '../lib/media-control.js';
import { LoadedScript } from './loaded-script.js';
import type { RoutingScript } from './routing-api.js';
import { compileScript, moduleUrl } from './script-compiler.js';
import type { ScriptHandler } from './script-handler.js';
import { TraceRecorder, type TraceReport, type TraceReportJson, type TraceSink, type TraceStep } from './trace-recorder.js';

export type { TraceStep, TraceReportJson };

export interface HarnessOptions {
  /** The script: a file (compiled as `parley serve --script` does), or its exports (an object or `import * as`). */
  readonly script: string | RoutingScript | Readonly<Record<string, unknown>>;
  /** Domains Parley serves (default `example.com`). */
  readonly domains?: readonly string[];
  /** Subscribers (domain: the first served domain unless given). */
  readonly subscribers?: ReadonlyArray<{ readonly user: string; readonly password: string; readonly domain?: string }>;
  /** `proxy.outbound` routes. */
  readonly outbound?: ReadonlyArray<{ readonly domain: string; readonly uri: string }>;
  /** `proxy.maxContextsPerSource` (default: the configuration's). */
  readonly maxContextsPerSource?: number;
  /** Host names the proxy may resolve (A records); any other name does not resolve. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** Server log level (default `silent`; `debug` to see what the core did). */
  readonly logLevel?: string;
  /** A pino logger to write to instead (to assert on log lines). */
  readonly logger?: PinoLogger;
  /**
   * A failure limiter as `auth.failureLimit` makes one (wrong passwords and `countFailure` block a
   * source after `maxFailures` within `window` seconds); none by default.
   */
  readonly failureLimit?: { readonly maxFailures?: number; readonly window?: number; readonly blockTime?: number };
  /** `auth.algorithms` (default: the configuration's, MD5 alone). */
  readonly algorithms?: ReadonlyArray<'MD5' | 'SHA-256'>;
  /** The `algorithms` of the harness's TCP listener (default: none of its own). */
  readonly tcpAlgorithms?: ReadonlyArray<'MD5' | 'SHA-256'>;
  /** A media plane for the proxy (a fake one that records the commands, in tests); none: no call is anchored. */
  readonly media?: MediaControl;
  /** `media.anchor`: the default of `relay({ media })` (default `auto` with `media`). */
  readonly mediaAnchor?: 'auto' | 'always' | 'off';
}

/** What `send` may take besides the request. */
export interface SendOptions {
  /** Where it comes from (default udp 198.51.100.1:5070). */
  readonly source?: { readonly transport?: 'udp' | 'tcp' | 'tls'; readonly address?: string; readonly port?: number };
  /** Came over the trusted listener (`auth: false`). */
  readonly trusted?: boolean;
  /** Answer a 401/407 challenge with these credentials (the challenge is `challenged` on the result). */
  readonly credentials?: { readonly user: string; readonly password: string };
}

/** Fields of a request built with `request()`. */
export interface RequestOptions {
  /** From URI (default `sip:alice@<first domain>`). */
  readonly from?: string;
  /** To URI (default: the Request-URI). */
  readonly to?: string;
  /** To tag: makes it an in-dialog request. */
  readonly toTag?: string;
  /** From tag (default: a random one). */
  readonly fromTag?: string;
  readonly callId?: string;
  readonly cseq?: number;
  readonly maxForwards?: number;
  /** Contact URI (default for INVITE and REGISTER: `sip:<user>@198.51.100.1:5070`). */
  readonly contact?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
}

/** The address the harness's Parley listens on, and its trusted listener's port. */
export const HARNESS_ADDRESS = '192.0.2.1';
export const HARNESS_PORT = 5060;
export const HARNESS_TRUSTED_PORT = 5080;

interface Sent {
  readonly message: AnySipMessage;
  readonly to: Flow | ResponseTarget;
}

class RecordingWire implements Wire {
  readonly sent: Sent[] = [];
  sendBytes(bytes: Uint8Array, destination: Flow): void {
    this.record(bytes, destination);
  }
  sendToTarget(bytes: Uint8Array, target: ResponseTarget): void {
    this.record(bytes, target);
  }
  private record(bytes: Uint8Array, to: Flow | ResponseTarget): void {
    const r = parseMessage(bytes);
    if (r.ok) this.sent.push({ message: r.message, to });
  }
}

/** Traces every request and hands the harness each report as it begins. */
class HarnessRecorder extends TraceRecorder {
  readonly begun: TraceReport[] = [];
  override begin(...args: Parameters<TraceRecorder['begin']>): TraceReport {
    const r = super.begin(...args);
    this.begun.push(r);
    return r;
  }
}

class MemorySink implements TraceSink {
  private readonly seqs = new Map<string, number>();
  readonly written: TraceReportJson[] = [];
  nextSeq(callId: string): number {
    const n = (this.seqs.get(callId) ?? 0) + 1;
    this.seqs.set(callId, n);
    return n;
  }
  write(report: TraceReportJson): void {
    this.written.push(report);
  }
}

const tableDns = (hosts: Readonly<Record<string, string>>): DnsLookup => ({
  naptr: async () => [],
  srv: async () => [],
  addresses: async (name) => (hosts[name.toLowerCase()] === undefined ? [] : [hosts[name.toLowerCase()]!]),
});

/** A turn of the event loop (timers and I/O callbacks of the core get to run). */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One request routed by the script under test, live: its steps and messages grow as the script
 * goes on (after `respond`, say).
 */
export class RoutedRequest {
  /** The 401/407 answered with `credentials`, when the harness authenticated. */
  challenged: RoutedRequest | undefined;

  constructor(
    private readonly harness: RoutingHarness,
    /** The request as Parley received it. */
    readonly request: SipRequest,
    private readonly report: TraceReport | undefined,
    private readonly sentFrom: number,
  ) {}

  /** Every routing step: handler starts and ends (with dumped variables) and actions, in order. */
  get steps(): readonly TraceStep[] {
    return this.report?.steps ?? [];
  }

  /** The actions the script took, in order (`sanityCheck`, `relay`, …), without the handler marks. */
  get actions(): string[] {
    return this.steps.filter((s) => s.action !== 'start' && s.action !== 'end').map((s) => s.action);
  }

  /** Each handler's actions: `onRequest.relay`, `onFailure.relay`, … */
  get handlerActions(): string[] {
    return this.steps.filter((s) => s.action !== 'start' && s.action !== 'end').map((s) => `${s.handler}.${s.action}`);
  }

  /** The step of an action (the first with that name; `n` for a later one). */
  step(action: string, n = 0): TraceStep | undefined {
    return this.steps.filter((s) => s.action === action)[n];
  }

  /** Messages Parley sent while routing this request (answers upstream, branches, CANCELs, ACKs). */
  get sent(): AnySipMessage[] {
    return this.sentMessages();
  }

  /** Responses sent to the caller. */
  get replies(): SipResponse[] {
    const cseq = this.request.cseq;
    return this.sentMessages().filter((m): m is SipResponse => !m.isRequest && m.cseq.seq === cseq.seq && m.cseq.method === cseq.method);
  }

  /** The final response sent to the caller, if any. */
  get final(): SipResponse | undefined {
    return this.replies.filter((r) => r.status >= 200).at(-1);
  }

  /** Its status (undefined: no final response yet, or relayed and unanswered). */
  get status(): number | undefined {
    return this.final?.status;
  }

  /** The requests relayed downstream (one per branch), in order. */
  get branches(): SipRequest[] {
    return this.sentMessages().filter((m): m is SipRequest => m.isRequest && m.method === this.request.method);
  }

  /** Where each branch went (`udp:198.51.100.7:5062`). */
  get destinations(): string[] {
    return this.harness
      .sentRecords(this.sentFrom)
      .filter((s) => s.message.isRequest && s.message.callId === this.request.callId && s.message.method === this.request.method)
      .map((s) => ('remoteAddress' in s.to ? `${s.to.transport}:${s.to.remoteAddress}:${s.to.remotePort}` : `${s.to.transport}:${s.to.host}:${s.to.port}`));
  }

  /** The trace report as Parley would write it. */
  toJSON(): TraceReportJson | undefined {
    return this.report?.toJSON();
  }

  /**
   * A downstream answer to a branch (default the last one not answered with a final response):
   * the response goes through the core as if it came from that branch's target, and onResponse /
   * onFailure run. Resolves once the routing has settled again.
   */
  async respond(status: number, o: { branch?: number; reason?: string; headers?: ReadonlyArray<readonly [string, string]>; toTag?: string; body?: string; settle?: boolean } = {}): Promise<void> {
    const branches = this.branches;
    const index = o.branch ?? this.pendingBranch(branches);
    const branch = branches[index];
    if (branch === undefined) throw new Error(`respond(${status}): no branch ${index} (the request was relayed ${branches.length} times)`);
    // a body (SDP unless a Content-Type says otherwise) with its Content-Type
    const headers = o.body === undefined || (o.headers ?? []).some(([n]) => n.toLowerCase() === 'content-type') ? o.headers : [...(o.headers ?? []), ['Content-Type', 'application/sdp'] as const];
    const response = createResponse(branch, status, { toTag: o.toTag ?? `harness${index}`, ...(o.reason === undefined ? {} : { reason: o.reason }), ...(headers === undefined ? {} : { headers }), ...(o.body === undefined ? {} : { body: new TextEncoder().encode(o.body) }) });
    const to = this.harness.sentRecords(this.sentFrom).find((s) => s.message === branch)!.to as Flow;
    this.harness.feed(serializeToString(response), { transport: to.transport, remoteAddress: to.remoteAddress, remotePort: to.remotePort, localAddress: HARNESS_ADDRESS, localPort: HARNESS_PORT });
    // settle: false for a handler the test itself holds back (an onFailure awaiting something)
    if (o.settle !== false) await this.settled();
  }

  /** Wait until no handler of this request runs and nothing more is being sent. */
  async settled(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    let seen = -1;
    while (quiet < 3) {
      await turn();
      const marks = this.steps.filter((s) => s.action === 'start' || s.action === 'end' || s.action === 'throw');
      const running = marks.length > 0 && marks[marks.length - 1]!.action === 'start';
      const n = this.harness.sentCount;
      quiet = running || n !== seen ? 0 : quiet + 1;
      seen = n;
      if (Date.now() > deadline) throw new Error(`the routing script did not settle within ${timeoutMs} ms (a handler still awaits something?); steps so far: ${this.actions.join(', ')}`);
    }
  }

  private sentMessages(): AnySipMessage[] {
    return this.harness.sentSince(this.sentFrom).filter((m) => m.callId === this.request.callId);
  }

  private pendingBranch(branches: SipRequest[]): number {
    const answered = new Set<string>();
    for (const s of this.harness.fedResponses) if (s.status >= 200) answered.add(s.topVia?.branch ?? '');
    for (let i = branches.length - 1; i >= 0; i--) if (!answered.has(branches[i]!.topVia?.branch ?? '')) return i;
    return branches.length - 1;
  }
}

/** A SIP core running a routing script, without sockets (see the module comment). */
export class RoutingHarness {
  readonly fedResponses: SipResponse[] = [];
  private cseq = 1;

  private constructor(
    private readonly sip: SipServer,
    private readonly path: MessagePath,
    private readonly wire: RecordingWire,
    private readonly recorder: HarnessRecorder,
    readonly location: LocationService,
    readonly handler: ScriptHandler,
    readonly domains: readonly string[],
    private readonly identity: LocalIdentity,
    private readonly routeSignature: RouteSignature,
    /** The failure limiter (HarnessOptions.failureLimit), if any. */
    readonly limiter: FailureLimiter | undefined,
    private readonly cleanUp: () => Promise<void>,
  ) {}

  static async start(o: HarnessOptions): Promise<RoutingHarness> {
    const domains = o.domains ?? ['example.com'];
    let dir: string | undefined;
    let script: LoadedScript;
    if (typeof o.script === 'string') {
      dir = await mkdtemp(join(tmpdir(), 'parley-harness-'));
      const out = join(dir, 'script.mjs');
      const compiled = await compileScript(o.script, out);
      await writeFile(out, compiled.code);
      process.setSourceMapsEnabled(true);
      script = await LoadedScript.import(moduleUrl(out), 1, o.script);
    } else {
      script = LoadedScript.fromModule(o.script as Record<string, unknown>, 1, 'harness');
    }
    const config = configFromObject({
      sip: {
        domains,
        listen: [
          { transport: 'udp', address: HARNESS_ADDRESS, port: HARNESS_PORT },
          { transport: 'tcp', address: HARNESS_ADDRESS, port: HARNESS_PORT, ...(o.tcpAlgorithms === undefined ? {} : { algorithms: o.tcpAlgorithms }) },
          { transport: 'udp', address: HARNESS_ADDRESS, port: HARNESS_TRUSTED_PORT, auth: false },
        ],
      },
      ...(o.algorithms === undefined ? {} : { auth: { algorithms: o.algorithms } }),
      proxy: { outbound: o.outbound ?? [], ...(o.maxContextsPerSource === undefined ? {} : { maxContextsPerSource: o.maxContextsPerSource }) },
    });
    const listeners: ListenerInfo[] = config.sip.listen.map((l) => ({ transport: l.transport, address: l.address, port: l.port }));
    const log = o.logger ?? pino({ level: o.logLevel ?? 'silent' });
    const wire = new RecordingWire();
    const path = new MessagePath({ wire, limits: { maxMessageSize: 65535, maxHeaders: 256 } });
    const sip = new SipServer({ path, log });
    const subscribers = new MemorySubscriberStore();
    for (const s of o.subscribers ?? []) await subscribers.add({ username: s.user, domain: s.domain ?? domains[0]!, password: s.password });
    const location = new LocationService({ clock: systemClock });
    await location.start();
    const sink = new MemorySink();
    const recorder = new HarnessRecorder('', sink);
    const routeSecret = randomBytes(32);
    const limiter = o.failureLimit === undefined ? undefined : new FailureLimiter({ ...o.failureLimit, clock: systemClock });
    const { routing, identity } = buildSipCore({
      config,
      sip,
      listeners,
      subscribers,
      location,
      clock: systemClock,
      log,
      nonceSecret: randomBytes(32),
      routeSecret,
      ...(limiter === undefined ? {} : { limiter }),
      script,
      dns: tableDns(Object.fromEntries(Object.entries(o.hosts ?? {}).map(([k, v]) => [k.toLowerCase(), v]))),
      ...(o.media === undefined ? {} : { media: o.media }),
      ...(o.mediaAnchor === undefined ? {} : { mediaAnchor: o.mediaAnchor }),
      // every request is traced: its steps are what the harness reports
      tracer: recorder,
    });
    return new RoutingHarness(sip, path, wire, recorder, location, routing, domains, identity, new RouteSignature(routeSecret), limiter, async () => {
      await sip.stop();
      await location.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    });
  }

  /** Stop the core (timers) and remove the compiled script. */
  async close(): Promise<void> {
    await this.cleanUp();
  }

  /** A registration of `aor` (`bob@example.com`) at `contact`, as if a REGISTER had made it. */
  register(aor: string, contact: string, o: { q?: number; expires?: number; path?: readonly string[] } = {}): void {
    const m = /^sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?/.exec(contact);
    if (m === null) throw new Error(`register: ${contact} is not a sip URI`);
    const transport = /;transport=(tcp|tls)/i.exec(contact)?.[1]?.toLowerCase() as 'tcp' | 'tls' | undefined;
    const now = Date.now();
    const bare = aor.replace(/^sips?:/, '');
    const at = bare.lastIndexOf('@');
    if (at <= 0) throw new Error(`register: ${aor} is not user@domain`);
    const binding: ContactBinding = {
      aor: `${bare.slice(0, at)}@${bare.slice(at + 1).toLowerCase()}`,
      contact,
      expires: now + (o.expires ?? 3600) * 1000,
      q: o.q ?? 1,
      callId: `harness-reg-${now}-${Math.random()}`,
      cseq: 1,
      path: o.path ?? [],
      received: { transport: transport ?? 'udp', address: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(m[2] ?? (transport === 'tls' ? 5061 : 5060)) },
      node: 'local',
      updatedAt: now,
    };
    const current = this.location.lookup(binding.aor).filter((b) => b.contact !== contact);
    void this.location.update(binding.aor, [...current, binding]);
  }

  /**
   * The Record-Route entry Parley writes for a dialog-creating request with this Call-ID and From
   * tag, for the dialog's requests to `target` (the other party's Contact; signed for both:
   * `;rrsig=…`), facing `transport`: what an in-dialog request to `target` carries back in its
   * Route when it follows the route Parley recorded. Something else in that place (no signature,
   * another dialog's, another target's) is a Route Parley did not record.
   */
  recordRoute(callId: string, fromTag: string, target: string, transport: 'udp' | 'tcp' | 'tls' = 'udp'): string {
    return this.identity.recordRoute(transport, undefined, this.routeSignature.sign(callId, fromTag, routeTarget(parseUri(target))));
  }

  /**
   * A request as text: Via from the source (default udp 198.51.100.1:5070) with a fresh branch,
   * From with a tag, To (a tag makes it in-dialog), Call-ID, CSeq, Max-Forwards, Contact.
   */
  request(method: string, ruri: string, o: RequestOptions = {}): string {
    const from = o.from ?? `sip:alice@${this.domains[0]}`;
    const to = o.to ?? ruri;
    const user = /^sips?:([^@]+)@/.exec(from)?.[1] ?? 'caller';
    const lines = [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/UDP 198.51.100.1:5070;branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `Max-Forwards: ${o.maxForwards ?? 70}`,
      `From: <${from}>;tag=${o.fromTag ?? randomBytes(4).toString('hex')}`,
      `To: <${to}>${o.toTag === undefined ? '' : `;tag=${o.toTag}`}`,
      `Call-ID: ${o.callId ?? `harness-${randomBytes(6).toString('hex')}`}`,
      `CSeq: ${o.cseq ?? this.cseq++} ${method}`,
    ];
    const contact = o.contact ?? (method === 'INVITE' || method === 'REGISTER' || method === 'SUBSCRIBE' ? `sip:${user}@198.51.100.1:5070` : undefined);
    if (contact !== undefined) lines.push(`Contact: <${contact}>`);
    for (const [name, value] of o.headers ?? []) lines.push(`${name}: ${value}`);
    const body = o.body ?? '';
    if (body.length > 0 && !(o.headers ?? []).some(([n]) => n.toLowerCase() === 'content-type')) lines.push('Content-Type: application/sdp');
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
    return lines.join('\r\n') + '\r\n\r\n' + body;
  }

  /**
   * Route a request (text or a SipRequest) as if it came from `source`; resolves once the script
   * has finished with it (answered, relayed, dropped, or thrown). With `credentials`, a 401/407
   * is answered as a phone would (same Call-ID, next CSeq) and the authenticated request is
   * returned, the challenge in `challenged`.
   */
  async send(request: string | SipRequest, o: SendOptions = {}): Promise<RoutedRequest> {
    const text = typeof request === 'string' ? request : serializeToString(request);
    const first = await this.sendOnce(text, o);
    const status = first.status;
    if (o.credentials === undefined || (status !== 401 && status !== 407)) return first;
    const second = this.withCredentials(first, o.credentials);
    const routed = await this.sendOnce(second, o);
    routed.challenged = first;
    return routed;
  }

  /** Bytes as if from the network (a response from a branch, a raw request). */
  feed(text: string, flow: Flow): void {
    const parsed = parseMessage(text);
    if (parsed.ok && !parsed.message.isRequest) this.fedResponses.push(parsed.message);
    this.path.receiveDatagram(new TextEncoder().encode(text), flow);
  }

  /** Messages sent since the `n`-th. */
  sentSince(n: number): AnySipMessage[] {
    return this.wire.sent.slice(n).map((s) => s.message);
  }

  sentRecords(n: number): readonly Sent[] {
    return this.wire.sent.slice(n);
  }

  get sentCount(): number {
    return this.wire.sent.length;
  }

  private async sendOnce(text: string, o: SendOptions): Promise<RoutedRequest> {
    const parsed = parseMessage(text);
    if (!parsed.ok) throw new Error(`send: the request does not parse: ${parsed.error.place}: ${parsed.error.detail}`);
    if (!parsed.message.isRequest) throw new Error('send: a request, not a response');
    const transport = o.source?.transport ?? 'udp';
    const flow: Flow = {
      transport,
      remoteAddress: o.source?.address ?? '198.51.100.1',
      remotePort: o.source?.port ?? 5070,
      localAddress: HARNESS_ADDRESS,
      localPort: o.trusted === true ? HARNESS_TRUSTED_PORT : HARNESS_PORT,
      ...(transport === 'udp' ? {} : { connectionId: 1 }),
    };
    const begun = this.recorder.begun.length;
    const sentFrom = this.wire.sent.length;
    this.feed(text, flow);
    const reports = this.recorder.begun.slice(begun);
    const report = reports.at(-1);
    const routed = new RoutedRequest(this, parsed.message, report, sentFrom);
    if (report !== undefined) await routed.settled();
    return routed;
  }

  /** The request again with credentials for the challenge it got (CSeq + 1, a new branch). */
  private withCredentials(challenged: RoutedRequest, creds: { user: string; password: string }): string {
    const response = challenged.final!;
    const header = response.status === 401 ? 'WWW-Authenticate' : 'Proxy-Authenticate';
    const challenge = parseAuthValue(response.get(header)!);
    const algorithm = digestAlgorithmOf(challenge.algorithm) ?? 'MD5';
    const realm = challenge.realm!;
    const nonce = challenge.nonce!;
    const request = challenged.request;
    const uri = request.uri;
    const cnonce = randomBytes(8).toString('hex');
    const nc = '00000001';
    const ha1 = computeHa1(algorithm, creds.user, realm, creds.password);
    const digest = computeDigestResponse({ algorithm, ha1, method: request.method, digestUri: uri, nonce, qop: 'auth', nc, cnonce });
    const again = new SipRequest(request.method, request.requestUri, [...request.fields], request.body);
    again.set('CSeq', `${request.cseq.seq + 1} ${request.method}`);
    const via = request.topVia!;
    again.set('Via', via.toString().replace(/branch=[^;,\s]+/, `branch=z9hG4bK${randomBytes(6).toString('hex')}`).replace(/;received=[^;,\s]+/, '').replace(/;rport=\d+/, ';rport'));
    again.append(response.status === 401 ? 'Authorization' : 'Proxy-Authorization', `Digest username="${creds.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${digest}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}"`);
    return serializeToString(again);
  }
}

