/**
 * The media plane's commands (rtpengine's offer, answer and delete; src/lib/media-control.ts):
 * one MediaSession per anchored call, keyed by Call-ID. An offer decides whether to anchor
 * (mode), takes ports for the offerer's side and for the branch the offer goes out on, and
 * writes the offer Parley sends on; an answer picks the branch, makes the two legs, writes the
 * answer Parley sends back to the offerer and starts the bridge; a re-offer in the dialog (hold,
 * a new codec, a new address) updates the sender's leg and keeps every port. Sessions with no
 * media (nor signaling) for `timeoutS` seconds are deleted, as are sessions offered and never
 * answered within that time.
 *
 * Every command resolves (MediaControl never rejects): a failure inside is a 500.
 */
import { randomInt } from 'node:crypto';
import type { AnchorMode, MediaAnswerRequest, MediaControl, MediaDeleteRequest, MediaOfferRequest, MediaProfile, MediaResult, SignalingSource } from '../lib/media-control.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import type { BridgePlan, MediaCodecs } from './bridge.js';
import { MediaSession, newSideEnd, type LegFactory, type SideEnd } from './media-session.js';
import type { PortPool } from './port-pool.js';
import type { SdpFunctions, SdpRefusal } from './sdp-functions.js';
import { randomSessionId } from './sdp-side.js';
import type { CodecSpec, Direction, LocalSide, RemoteSide } from './side.js';

export interface MediaSessionsOptions {
  readonly pool: PortPool;
  /** The address written in SDP (media.advertise, default the bound address). */
  readonly advertise: string;
  /** Seconds without media (and without signaling) before a session is deleted; also the longest wait for an answer. */
  readonly timeoutS: number;
  readonly maxSessions: number;
  readonly sdp: SdpFunctions;
  readonly legs: LegFactory;
  /** Transcoders and DTMF mappers; none: calls without a codec in common are refused (488, 305). */
  readonly codecs?: MediaCodecs;
  /** Codec names the transcoders take (`opus`, `PCMU`, `PCMA`), for offerCodecs. */
  readonly transcodable?: ReadonlySet<string>;
  readonly log?: Logger;
  /** performance.now() unless a test moves time. */
  readonly now?: () => number;
}

/** RFC 3261 §20.43: "399 Miscellaneous warning". */
const WARN_MISC = 399;
/** RFC 3261 §20.43: "301 Incompatible network address formats". */
const WARN_ADDRESS_FORMAT = 301;
/** RFC 3261 §20.43: "302 Incompatible transport protocol". */
const WARN_TRANSPORT = 302;
/** RFC 3261 §20.43: "305 Incompatible media format". */
const WARN_MEDIA_FORMAT = 305;

function refused(status: number, warnCode: number, warning: string): MediaResult {
  return { ok: false, status, warnCode, warning };
}

function isRefusal(x: unknown): x is SdpRefusal {
  return typeof x === 'object' && x !== null && 'warnCode' in x && 'warning' in x;
}

/** Codecs a plain SIP phone is sure to have (RFC 3551's G.711 and G.722). */
const PHONE_CODECS = new Set(['pcmu', 'pcma', 'g722']);
/** Not audio codecs: events and comfort noise. */
const NOT_AUDIO = new Set(['telephone-event', 'cn']);

/**
 * A private or otherwise non-routable address (RFC 1918, RFC 6598 shared address space, link
 * local, RFC 4193 unique local): a side that writes one in SDP and signals from elsewhere is
 * behind NAT.
 */
export function isPrivateAddress(address: string): boolean {
  if (address.includes(':')) {
    const a = address.toLowerCase();
    return a.startsWith('fc') || a.startsWith('fd') || a.startsWith('fe8') || a.startsWith('fe9') || a.startsWith('fea') || a.startsWith('feb');
  }
  const parts = address.split('.').map(Number);
  const [x = -1, y = -1] = parts;
  return x === 10 || (x === 172 && y >= 16 && y <= 31) || (x === 192 && y === 168) || (x === 100 && y >= 64 && y <= 127) || (x === 169 && y === 254);
}

/**
 * `auto`: is the offer one Parley must anchor? When the sides speak differently (profile), when
 * the offerer is behind NAT (a private SDP address it did not signal from, or, over UDP, any SDP
 * address other than the source's: a NAT rewrote the source), or when no codec in common is
 * likely (an offer with none of G.711/G.722 going to a plain phone).
 */
export function needsAnchor(remote: RemoteSide, source: SignalingSource, towards: MediaProfile): boolean {
  if (remote.profile !== towards) return true;
  const usable = remote.port !== 0 && remote.address !== '0.0.0.0' && remote.address !== '::';
  if (usable && remote.address !== source.address && (isPrivateAddress(remote.address) || source.transport === 'udp')) return true;
  if (towards !== 'webrtc' && !remote.codecs.some((c) => PHONE_CODECS.has(c.name.toLowerCase()))) return true;
  return false;
}

/** A side's SDP as the media plane reads it, or the 488 it refuses it with. */
export type RemoteRead = { readonly ok: true; readonly session: unknown; readonly remote: RemoteSide } | { readonly ok: false; readonly result: MediaResult };

/**
 * Read the SDP of one side (`role`: an offer or an answer): parsed, its anchored stream read, in
 * the family the media ports are bound in (`family`) and of a profile Parley serves (`supports`);
 * anything else is refused with 488 and a Warning that says why.
 */
export function readRemote(sdp: SdpFunctions, text: string, role: 'offer' | 'answer', family: 4 | 6, supports: (profile: MediaProfile) => boolean): RemoteRead {
  const parsed = sdp.parse(text);
  if (!parsed.ok) return { ok: false, result: refused(488, parsed.error.warnCode, parsed.error.warning) };
  const side = sdp.readSide(parsed.value, role);
  if (!side.ok) return { ok: false, result: refused(488, side.error.warnCode, side.error.warning) };
  if (side.value.family !== family) return { ok: false, result: refused(488, WARN_ADDRESS_FORMAT, `media is served over IPv${family} only`) };
  if (!supports(side.value.profile)) return { ok: false, result: refused(488, WARN_TRANSPORT, `media profile ${side.value.profile} is not served`) };
  return { ok: true, session: parsed.value, remote: side.value };
}

/** The direction Parley writes towards one side: what the other side said (Parley only relays). */
function mirrored(d: Direction): Direction {
  return d;
}

/** A bridge plan computed with the re-offerer as its side A, turned round to the session's A and B. */
function swapped(plan: BridgePlan): BridgePlan {
  const dtmf = plan.dtmf === undefined ? undefined : { ...(plan.dtmf.b === undefined ? {} : { a: plan.dtmf.b }), ...(plan.dtmf.a === undefined ? {} : { b: plan.dtmf.a }) };
  if (plan.kind === 'pass') return { kind: 'pass', aToB: plan.bToA, bToA: plan.aToB, ...(dtmf === undefined ? {} : { dtmf }) };
  return { kind: 'transcode', a: plan.b, b: plan.a, ...(dtmf === undefined ? {} : { dtmf }) };
}

/** The codecs of one side that the plan uses (its chosen codec, or all it maps, and its telephone-event). */
function chosenCodecs(plan: BridgePlan, side: 'a' | 'b', codecs: readonly CodecSpec[]): CodecSpec[] {
  if (plan.kind === 'transcode') {
    const dtmf = plan.dtmf?.[side];
    return [plan[side], ...(dtmf === undefined ? [] : [dtmf])];
  }
  const map = side === 'a' ? plan.aToB : plan.bToA;
  return codecs.filter((c) => map.has(c.pt) || plan.dtmf?.[side]?.pt === c.pt);
}

export class MediaSessions implements MediaControl {
  private readonly sessions = new Map<string, MediaSession>();
  /** The command running for each call: commands of one call run one after another. */
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly transcodable: ReadonlySet<string>;
  private timer: NodeJS.Timeout | undefined;
  /** Sessions deleted for lack of media or of an answer, since the start. */
  timedOut = 0;
  /** Packets of the legs of closed sessions (packets()). */
  private readonly closedPackets = { in: 0, out: 0 };

  constructor(private readonly options: MediaSessionsOptions) {
    this.log = options.log ?? silentLogger;
    this.now = options.now ?? (() => performance.now());
    this.transcodable = options.codecs === undefined ? new Set() : (options.transcodable ?? new Set(['opus', 'PCMU', 'PCMA']));
  }

  /** Sessions open now. */
  get size(): number {
    return this.sessions.size;
  }

  /**
   * Packets received from the sides and sent to them since start: the legs of closed sessions
   * (counted when their session closes) and of open ones.
   */
  packets(): { readonly in: number; readonly out: number } {
    let packetsIn = this.closedPackets.in;
    let packetsOut = this.closedPackets.out;
    for (const s of this.sessions.values()) {
      for (const end of sideEnds(s)) {
        const st = end.leg?.stats();
        if (st === undefined) continue;
        packetsIn += st.packetsIn;
        packetsOut += st.packetsOut;
      }
    }
    return { in: packetsIn, out: packetsOut };
  }

  /** The open sessions as plain data (the operator's API: MediaOps.sessions). */
  list(): MediaSessionInfo[] {
    return [...this.sessions.values()].map((s) => ({
      callId: s.callId,
      startedAt: s.startedAt,
      legs: [...sideEnds(s)].map((end) => {
        const st = end.leg?.stats();
        return {
          tag: end.tag ?? '',
          local: end.local === undefined ? '' : hostPort(end.local.address, end.local.port),
          ...(end.remote === undefined ? {} : { remote: hostPort(end.remote.address, end.remote.port) }),
          protocol: end.profile,
          ...(end.remote?.codecs[0] === undefined ? {} : { codec: end.remote.codecs[0].name }),
          packetsIn: st?.packetsIn ?? 0,
          packetsOut: st?.packetsOut ?? 0,
        };
      }),
    }));
  }

  /** Sockets open now (the port pool's count). */
  get sockets(): number {
    return this.options.pool.inUse;
  }

  /** The session of a call (tests, diagnostics). */
  session(callId: string): MediaSession | undefined {
    return this.sessions.get(callId);
  }

  /** Check for silent sessions every `periodMs` (a quarter of the timeout, at most 5 s). */
  startTimer(periodMs = Math.min(5000, (this.options.timeoutS * 1000) / 4)): void {
    this.timer ??= setInterval(() => this.tick(), periodMs);
    this.timer.unref();
  }

  /** Delete the sessions silent for longer than the timeout. */
  tick(): void {
    const limit = this.now() - this.options.timeoutS * 1000;
    for (const s of [...this.sessions.values()]) {
      if (s.lastActivity() >= limit) continue;
      this.timedOut++;
      this.log.info({ callId: s.callId, answered: s.chosen !== undefined, timeoutS: this.options.timeoutS }, s.chosen === undefined ? 'media session deleted: no answer in time' : 'media session deleted: no media');
      this.remove(s);
    }
  }

  /** Close every session and stop the timer. */
  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const s of [...this.sessions.values()]) this.remove(s);
  }

  offer(request: MediaOfferRequest): Promise<MediaResult> {
    return this.serial(request.callId, () => this.doOffer(request));
  }

  answer(request: MediaAnswerRequest): Promise<MediaResult> {
    return this.serial(request.callId, () => this.doAnswer(request));
  }

  delete(request: MediaDeleteRequest): Promise<void> {
    return this.serial(request.callId, async () => {
      const s = this.sessions.get(request.callId);
      if (s === undefined) return { ok: true, anchored: false };
      if (request.branch !== undefined) {
        s.closeBranch(request.branch);
        this.log.debug({ callId: request.callId, branch: request.branch, reason: request.reason }, 'media branch deleted');
      } else {
        this.remove(s);
        this.log.debug({ callId: request.callId, reason: request.reason }, 'media session deleted');
      }
      return { ok: true, anchored: false };
    }).then(() => undefined);
  }

  /** Run `step` after the call's previous command; a throw is a 500, never a rejection. */
  private serial(callId: string, step: () => Promise<MediaResult>): Promise<MediaResult> {
    const previous = this.chains.get(callId) ?? Promise.resolve();
    const run = previous.then(step).catch((e: unknown) => {
      this.log.error({ callId, err: e }, 'media command failed');
      return refused(500, WARN_MISC, 'media plane error');
    });
    this.chains.set(callId, run);
    void run.then(() => {
      if (this.chains.get(callId) === run) this.chains.delete(callId);
    });
    return run;
  }

  private remove(s: MediaSession): void {
    if (!s.closed) {
      for (const end of sideEnds(s)) {
        const st = end.leg?.stats();
        if (st === undefined) continue;
        this.closedPackets.in += st.packetsIn;
        this.closedPackets.out += st.packetsOut;
      }
    }
    s.close();
    if (this.sessions.get(s.callId) === s) this.sessions.delete(s.callId);
  }

  private read(sdp: string, role: 'offer' | 'answer'): RemoteRead {
    return readRemote(this.options.sdp, sdp, role, this.options.pool.family, (p) => this.options.legs.supports(p));
  }

  private async doOffer(request: MediaOfferRequest): Promise<MediaResult> {
    const existing = this.sessions.get(request.callId);
    if (existing !== undefined) {
      // the same offer on a branch already known: the same result
      const known = existing.branches.get(request.branch);
      if (known !== undefined && known.lastSdp !== undefined && existing.chosen === undefined && existing.a.sdp === request.sdp && request.fromTag === existing.a.tag) {
        return { ok: true, anchored: true, sdp: known.lastSdp };
      }
      if (existing.pending !== undefined && existing.pending.branch === request.branch && existing.pending.sdp === request.sdp) return existing.pending.result;
      // a new branch of the first offer (forking, or a failure route's next target)
      if (existing.chosen === undefined && request.fromTag === existing.a.tag && existing.pending === undefined) return this.addBranch(existing, request, request.towards);
      return this.reOffer(existing, request);
    }
    if (request.mode === 'dialog') return { ok: true, anchored: false };
    const read = this.read(request.sdp, 'offer');
    if (!read.ok) return read.result;
    const { remote } = read;
    if (request.mode === 'auto' && !needsAnchor(remote, request.source, request.towards)) return { ok: true, anchored: false };
    if (!this.options.legs.supports(request.towards)) return refused(488, WARN_TRANSPORT, `media profile ${request.towards} is not served`);
    if (this.sessions.size >= this.options.maxSessions) return refused(503, WARN_MISC, 'too many media sessions');
    const ports = await this.options.pool.allocate(remote.profile !== 'webrtc');
    if (ports === undefined) return refused(503, WARN_MISC, 'no media ports');
    const a = newSideEnd(remote.profile, ports, this.options.legs.secrets(remote.profile, { address: this.options.advertise, port: ports.port, rtcpPort: ports.rtcpPort }, remote), randomInt(1, 2 ** 32 - 1), randomSessionId());
    a.tag = request.fromTag;
    a.sdp = request.sdp;
    a.session = read.session;
    a.remote = remote;
    const s = new MediaSession(request.callId, a, this.now());
    this.sessions.set(request.callId, s);
    const result = await this.addBranch(s, request, request.towards);
    // a session whose first branch could not be offered holds nothing
    if (!result.ok && s.branches.size === 0) this.remove(s);
    return result;
  }

  /** Ports towards a branch and the offer Parley sends there. */
  private async addBranch(s: MediaSession, request: MediaOfferRequest, towards: MediaProfile): Promise<MediaResult> {
    const remote = s.a.remote!;
    const ports = await this.options.pool.allocate(towards !== 'webrtc');
    if (ports === undefined) return refused(503, WARN_MISC, 'no media ports');
    if (s.closed) {
      ports.close();
      return refused(500, WARN_MISC, 'media session closed');
    }
    const end = newSideEnd(towards, ports, this.options.legs.secrets(towards, { address: this.options.advertise, port: ports.port, rtcpPort: ports.rtcpPort }), randomInt(1, 2 ** 32 - 1), randomSessionId());
    s.branches.get(request.branch)?.ports.close();
    s.branches.set(request.branch, end);
    const codecs = this.options.sdp.offerCodecs(remote.codecs, towards, this.transcodable);
    if (codecs.length === 0) {
      s.closeBranch(request.branch);
      return refused(488, WARN_MEDIA_FORMAT, 'no codec of the offer can be sent on');
    }
    const sdp = this.write(end, codecs, mirrored(remote.direction), remote.ptime, { kind: 'offer' });
    s.lastSignal = this.now();
    return { ok: true, anchored: true, sdp };
  }

  /** Write what Parley says to `end` (its ports, these codecs), bumping the o= version when it changed. */
  private write(end: SideEnd, codecs: readonly CodecSpec[], direction: Direction, ptime: number | undefined, shape: { kind: 'offer' } | { kind: 'answer'; offer: unknown; mIndex: number }): string {
    const pool = this.options.pool;
    const local: LocalSide = {
      profile: end.profile,
      address: this.options.advertise,
      family: pool.family,
      port: end.ports.port,
      rtcpPort: end.ports.rtcpPort,
      rtcpMux: end.profile === 'webrtc',
      direction,
      codecs,
      ...(ptime === undefined ? {} : { ptime }),
      ...end.secrets,
      ...(end.secrets.dtls === undefined ? {} : { dtls: { ...end.secrets.dtls, setup: dtlsSetup(shape.kind, end.secrets.dtls.setup) } }),
      ssrc: end.ssrc,
    };
    const origin = (version: number) => ({ username: 'parley', sessionId: end.originId, version, address: this.options.advertise, family: pool.family });
    const make = (version: number): string => this.options.sdp.writeSide(local, shape.kind === 'offer' ? { kind: 'offer', origin: origin(version) } : { kind: 'answer', origin: origin(version), offer: shape.offer, mIndex: shape.mIndex });
    // RFC 3264 §8: "the version in the origin field MUST increment by one from the previous SDP";
    // an SDP the same as the last keeps its version (RFC 3264 §8: no change, same version)
    let sdp = make(end.version);
    if (end.lastSdp !== undefined && sdp !== end.lastSdp) {
      end.version++;
      sdp = make(end.version);
    }
    end.lastSdp = sdp;
    end.local = local;
    return sdp;
  }

  private async doAnswer(request: MediaAnswerRequest): Promise<MediaResult> {
    const s = this.sessions.get(request.callId);
    if (s === undefined) return { ok: true, anchored: false };
    const key = `${request.branch}\n${request.toTag}\n${request.sdp}`;
    const cached = s.answers.get(key);
    if (cached !== undefined) return { ok: true, anchored: true, sdp: cached };
    if (s.pending !== undefined) return this.reAnswer(s, request, key);
    const end = s.branches.get(request.branch);
    if (end === undefined) return refused(488, WARN_MISC, 'answer on a branch that was not offered');
    const read = this.read(request.sdp, 'answer');
    if (!read.ok) return read.result;
    const { remote } = read;
    if (remote.profile !== end.profile) return refused(488, WARN_TRANSPORT, `answer in ${remote.profile}, offered ${end.profile}`);
    const a = s.a;
    const plan = this.options.sdp.bridgeCodecs(a.remote!.codecs, remote.codecs);
    if (isRefusal(plan)) return refused(488, plan.warnCode, plan.warning);
    if (plan.kind === 'transcode' && this.options.codecs === undefined) return refused(488, WARN_MEDIA_FORMAT, `no codec in common (${plan.a.name} and ${plan.b.name}) and no transcoder`);
    // another branch answered before (early media from one fork, the 2xx from another): this one now
    if (s.chosen !== undefined && s.chosen !== request.branch) {
      s.bridge?.close();
      s.bridge = undefined;
      const old = s.branches.get(s.chosen);
      old?.leg?.close();
      if (old !== undefined) old.leg = undefined;
    }
    end.tag = request.toTag;
    end.sdp = request.sdp;
    end.session = read.session;
    end.remote = remote;
    if (end.leg === undefined) end.leg = this.options.legs.create(end.profile, end.ports, localAddress(this.options.advertise, end), remote, end.secrets);
    else end.leg.update?.(remote);
    a.leg ??= this.options.legs.create(a.profile, a.ports, localAddress(this.options.advertise, a), a.remote!, a.secrets);
    end.leg.callId = a.leg.callId = s.callId;
    s.chosen = request.branch;
    const sdp = this.write(a, this.options.sdp.answerCodecs(a.remote!.codecs, chosenCodecs(plan, 'a', a.remote!.codecs)), mirrored(remote.direction), remote.ptime, { kind: 'answer', offer: a.session, mIndex: a.remote!.mIndex });
    s.startBridge(plan, this.options.codecs);
    s.lastSignal = this.now();
    s.answers.set(key, sdp);
    return { ok: true, anchored: true, sdp };
  }

  /** An offer within the dialog from one of the two sides: its leg updated, the offer written to the other side on the same ports. */
  private reOffer(s: MediaSession, request: MediaOfferRequest): MediaResult {
    const b = s.b;
    if (b === undefined) return refused(488, WARN_MISC, 'offer on a call not yet answered');
    const from = request.fromTag === s.a.tag ? 'a' : request.fromTag === b.tag ? 'b' : undefined;
    if (from === undefined) return refused(488, WARN_MISC, 'offer from a tag the call does not know');
    const read = this.read(request.sdp, 'offer');
    if (!read.ok) return read.result;
    const { remote } = read;
    const sender = from === 'a' ? s.a : b;
    const other = from === 'a' ? b : s.a;
    if (remote.profile !== sender.profile) return refused(488, WARN_TRANSPORT, `re-offer in ${remote.profile}, the call is ${sender.profile}`);
    const codecs = this.options.sdp.offerCodecs(remote.codecs, other.profile, this.transcodable);
    if (codecs.length === 0) return refused(488, WARN_MEDIA_FORMAT, 'no codec of the offer can be sent on');
    const sdp = this.write(other, codecs, mirrored(remote.direction), remote.ptime, { kind: 'offer' });
    const result = { ok: true, anchored: true, sdp } as const;
    s.pending = { from, branch: request.branch, sdp: request.sdp, session: read.session, remote, result };
    s.lastSignal = this.now();
    return result;
  }

  /** The answer to an offer within the dialog: both legs updated, the bridge restarted with the new plan. */
  private reAnswer(s: MediaSession, request: MediaAnswerRequest, key: string): MediaResult {
    const p = s.pending!;
    const b = s.b!;
    const read = this.read(request.sdp, 'answer');
    if (!read.ok) return read.result;
    const { remote } = read;
    const offerer = p.from === 'a' ? s.a : b;
    const answerer = p.from === 'a' ? b : s.a;
    if (remote.profile !== answerer.profile) return refused(488, WARN_TRANSPORT, `answer in ${remote.profile}, the call is ${answerer.profile}`);
    const planFromOfferer = this.options.sdp.bridgeCodecs(p.remote.codecs, remote.codecs);
    if (isRefusal(planFromOfferer)) return refused(488, planFromOfferer.warnCode, planFromOfferer.warning);
    if (planFromOfferer.kind === 'transcode' && this.options.codecs === undefined) return refused(488, WARN_MEDIA_FORMAT, 'no codec in common and no transcoder');
    // the offerer's view (its side A) turned to the session's
    const plan = p.from === 'a' ? planFromOfferer : swapped(planFromOfferer);
    // RFC 8445 §9 (ICE restart): a re-offer with a new ice-ufrag restarts ICE, and "the agent MUST
    // change the password and the username fragment" of its own in the answer
    const restart = offerer.secrets.ice !== undefined && p.remote.ice !== undefined && p.remote.ice.ufrag !== offerer.remote?.ice?.ufrag;
    let ice: { ufrag: string; pwd: string } | undefined;
    if (restart) {
      const fresh = this.options.legs.secrets(offerer.profile, localAddress(this.options.advertise, offerer), p.remote).ice;
      if (fresh !== undefined) {
        offerer.secrets = { ...offerer.secrets, ice: fresh };
        ice = { ufrag: fresh.ufrag, pwd: fresh.pwd };
      }
    }
    offerer.sdp = p.sdp;
    offerer.session = p.session;
    offerer.remote = p.remote;
    if (ice !== undefined && offerer.leg?.restartIce !== undefined) offerer.leg.restartIce(p.remote, ice);
    else offerer.leg?.update?.(p.remote);
    answerer.sdp = request.sdp;
    answerer.session = read.session;
    answerer.remote = remote;
    answerer.leg?.update?.(remote);
    const sdp = this.write(offerer, this.options.sdp.answerCodecs(p.remote.codecs, chosenCodecs(planFromOfferer, 'a', p.remote.codecs)), mirrored(remote.direction), remote.ptime, {
      kind: 'answer',
      offer: p.session,
      mIndex: p.remote.mIndex,
    });
    s.pending = undefined;
    s.startBridge(plan, this.options.codecs);
    s.lastSignal = this.now();
    s.answers.set(key, sdp);
    return { ok: true, anchored: true, sdp };
  }
}

function localAddress(advertise: string, end: SideEnd): { address: string; port: number; rtcpPort: number } {
  return { address: advertise, port: end.ports.port, rtcpPort: end.ports.rtcpPort };
}


export type { AnchorMode };

/**
 * a=setup in what Parley writes to a browser (RFC 8842 §5.5, RFC 5763 §5): every offer, the
 * first and each re-offer, says `actpass` (Chromium refuses any other value in an offer: "Offerer
 * must use actpass value for setup attribute"); an answer keeps the role Parley took: the one it
 * chose answering the browser's first offer, or `passive` after an offer of its own (the
 * browser answers `active` to an actpass offer), so that the DTLS association stays as it is.
 */
export function dtlsSetup(kind: 'offer' | 'answer', chosen: 'active' | 'passive' | 'actpass'): 'active' | 'passive' | 'actpass' {
  if (kind === 'offer') return 'actpass';
  return chosen === 'actpass' ? 'passive' : chosen;
}

/** One open session as MediaSessions.list gives it. */
export interface MediaSessionInfo {
  readonly callId: string;
  /** ms since the epoch. */
  readonly startedAt: number;
  readonly legs: ReadonlyArray<{ readonly tag: string; readonly local: string; readonly remote?: string; readonly protocol: string; readonly codec?: string; readonly packetsIn: number; readonly packetsOut: number }>;
}

/** Side A's end, then each branch's. */
function* sideEnds(s: MediaSession): Generator<SideEnd> {
  yield s.a;
  yield* s.branches.values();
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
