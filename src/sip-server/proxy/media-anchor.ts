import type { Clock, TimerHandle } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { AnchorMode, MediaControl, MediaProfile, MediaResult, SignalingSource } from '../../lib/media-control.js';
import type { Flow, SipMessage, SipRequest, SipResponse } from '../../sip/index.js';
import type { Branch, ResponseContext } from './response-context.js';
import { RenewingMap } from '../../lib/renewing-map.js';

/**
 * What the routing asks of the media plane for a call it relays (RelayOptions.media): anchor when
 * the sides differ (`auto`), `always`, or never (`off`, and whenever the proxy has no media plane).
 */
export type MediaAnchoring = 'auto' | 'always' | 'off';

/**
 * The URI parameter Parley puts in its Record-Route entries for a call whose media it anchors (or
 * may anchor: an INVITE without an offer). RFC 3261 §16.6 step 4: "The proxy MAY include
 * parameters in the Record-Route header field value … useful for keeping state in the message
 * rather than the proxy"; both ends keep the route set "preserving all URI parameters" (§12.1.1,
 * §12.1.2), so every request of the dialog tells the proxy, without a table of calls, that its
 * re-INVITEs, UPDATEs and BYE are the media plane's business too (Kamailio scripts do the same
 * with `add_rr_param`). The flag is not signed: adding it to another dialog's route costs one
 * question the media plane answers with "no session" (mode `dialog`); removing it from one's own
 * route only breaks one's own call.
 */
export const MEDIA_ROUTE_PARAM = 'media';

/**
 * How long an offer made in a 2xx or a reliable 18x (the INVITE had none) waits for its answer in
 * the ACK or PRACK: 64*T1, as the callee waits for the ACK (RFC 3261 §13.3.1.4). The ACK for a
 * retransmitted 2xx brings the same answer again within that time.
 */
const PENDING_ANSWER_MS = 32_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** The media of one response context: the request's SDP and the branches the media plane anchored. */
export class ContextMedia {
  /** Via branches of the copies (and late offers) the media plane anchored. */
  readonly anchored = new Set<string>();
  /** The whole call was deleted (a failure went upstream): no per-branch delete after that. */
  callDeleted = false;

  constructor(
    /** `auto` or `always` for a call being set up; `dialog` for an offer inside a dialog. */
    readonly mode: AnchorMode,
    /** The offer in the request (an INVITE's or UPDATE's SDP), sent to the media plane once per branch. */
    readonly offer: string | undefined,
    /** An INVITE without a body: the first 18x or 2xx with SDP carries the callee's offer. */
    readonly lateOffer: boolean,
    /** The answer in the request (a PRACK's SDP to an offer made in a reliable 18x), and the offer's branch and tag. */
    readonly answer?: { readonly sdp: string; readonly pending: PendingAnswer },
  ) {}

  /** Something the media plane anchored may need deleting. */
  get touched(): boolean {
    return this.anchored.size > 0;
  }
}

/** An offer made in a response, waiting for its answer in an ACK or PRACK. */
interface PendingAnswer {
  readonly branch: string;
  readonly offerTag: string;
  timer: TimerHandle;
}

/**
 * The proxy's side of media anchoring (issue 17; Kamailio's `rtpengine_offer`/`rtpengine_answer`/
 * `rtpengine_delete` calls in its routes): which SDP bodies of a relayed call go to the media plane
 * (src/lib/media-control.ts), and the SDP it returns put in their place. The media plane decides
 * everything about the media; this decides only when to ask:
 *
 *   INVITE outside a dialog, anchoring `auto`/`always`:
 *     offer in the INVITE        one `offer` per branch (its Via branch), before the branch is sent
 *     18x / 2xx with SDP         `answer` on an anchored branch (the 2xx's retransmissions too)
 *     no offer in the INVITE     the first 18x / 2xx with SDP is the callee's `offer` (towards the
 *                                caller's profile); the ACK (or PRACK) with SDP its `answer`
 *   inside a dialog whose route carries `;media` (unless the script says `off`):
 *     re-INVITE / UPDATE         `offer` in mode `dialog`, `answer` in its 2xx (and 18x)
 *     BYE                        `delete` (fire and forget; the BYE is relayed regardless)
 *   endings                      a failure upstream: `delete` of the call; an anchored branch
 *                                ending without a 2xx otherwise (a fork that lost, a refused
 *                                re-INVITE): `delete` of that branch
 *
 * Bodies other than `application/sdp` (multipart, compressed) are left alone.
 */
export class MediaAnchor {
  private readonly contexts = new WeakMap<ResponseContext, ContextMedia>();
  /** Offers made in responses, by Call-ID, the offerer's tag and the answerer's tag. */
  private readonly pending = new RenewingMap<string, PendingAnswer>();

  constructor(
    readonly media: MediaControl,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** How Parley names itself to a side (the host of its Via), for Warning. */
    private readonly hostFor: (source: Flow) => string,
  ) {}

  /** The media of a context, if it has any. */
  of(context: ResponseContext): ContextMedia | undefined {
    return this.contexts.get(context);
  }

  /**
   * What a request about to be forwarded means for the media (ProxyCore.forward): a context with
   * media when its SDP goes to the media plane; a BYE of an anchored dialog deletes the call.
   * `routeFlagged`: the request came along a route of ours carrying `;media`.
   */
  begin(context: ResponseContext, anchoring: MediaAnchoring | undefined, routeFlagged: boolean): void {
    const request = context.request;
    if (anchoring === 'off') return;
    const method = request.method;
    const inDialog = tagOf(request, 'to') !== undefined;
    if (!inDialog) {
      if (method !== 'INVITE' || anchoring === undefined) return;
      const sdp = sdpOf(request);
      if (sdp === undefined && request.bodyLength > 0) return; // multipart or not SDP: not ours to read
      this.contexts.set(context, new ContextMedia(anchoring, sdp, sdp === undefined));
      return;
    }
    if (method === 'PRACK') {
      const sdp = sdpOf(request);
      const pending = sdp === undefined ? undefined : this.pendingFor(request);
      if (pending !== undefined) this.contexts.set(context, new ContextMedia('dialog', undefined, false, { sdp: sdp!, pending }));
      return;
    }
    if (!routeFlagged) return;
    if (method === 'BYE') {
      void this.media.delete({ callId: request.callId, reason: 'bye' }).catch((e: unknown) => this.failed('delete', e));
      return;
    }
    if (method !== 'INVITE' && method !== 'UPDATE') return;
    const sdp = sdpOf(request);
    if (sdp === undefined && (request.bodyLength > 0 || method === 'UPDATE')) return;
    this.contexts.set(context, new ContextMedia('dialog', sdp, sdp === undefined));
  }

  /**
   * The offer of one branch (ProxyCore.launch, before the branch is sent). Resolves the result
   * with `copy`'s body already replaced when anchored, or undefined when there is nothing to ask.
   * A refusal is the caller's to answer (`warning`).
   */
  async launch(context: ResponseContext, cm: ContextMedia, copy: SipRequest, branch: string, dest: Flow): Promise<MediaResult | undefined> {
    const request = context.request;
    if (cm.answer !== undefined) {
      // a PRACK answering the offer of a reliable 18x
      const { sdp, pending } = cm.answer;
      const r = await this.ask('answer', () =>
        this.media.answer({ callId: request.callId, fromTag: pending.offerTag, toTag: tagOf(request, 'from') ?? '', branch: pending.branch, sdp, source: signalingSource(context.serverTx.source) }),
      );
      this.apply(copy, r, 'keep');
      return r.ok ? r : undefined; // an answer refused: the PRACK goes on as it came
    }
    if (cm.offer === undefined) return undefined;
    const r = await this.ask('offer', () =>
      this.media.offer({
        callId: request.callId,
        fromTag: tagOf(request, 'from') ?? '',
        branch,
        sdp: cm.offer!,
        source: signalingSource(context.serverTx.source),
        towards: profileOf(dest),
        mode: cm.mode,
      }),
    );
    if (r.ok && r.anchored) {
      cm.anchored.add(branch);
      replaceBody(copy, r.sdp);
    }
    return r;
  }

  /**
   * A response of a branch about to go upstream (ResponseContext keeps them in order while this
   * runs): an answer, or a late offer, rewritten by the media plane. Undefined (at once) when the
   * response is none of the media plane's business.
   */
  beforeUpstream(context: ResponseContext, branch: Branch, response: SipResponse): Promise<void> | undefined {
    const cm = this.contexts.get(context);
    if (cm === undefined || cm.answer !== undefined) return undefined;
    const status = response.status;
    if (status < 101 || status >= 300) return undefined;
    const method = context.request.method;
    if (method !== 'INVITE' && !(method === 'UPDATE' && status >= 200)) return undefined;
    const sdp = sdpOf(response);
    if (sdp === undefined) return undefined;
    const viaBranch = branch.request.topVia?.branch;
    const toTag = tagOf(response, 'to');
    if (viaBranch === undefined || toTag === undefined) return undefined;
    const request = context.request;
    const callId = request.callId;
    const fromTag = tagOf(request, 'from') ?? '';
    const source = signalingSource(branch.destination);
    const refused = status >= 200 ? 'keep' : 'drop';
    if (cm.offer !== undefined) {
      if (!cm.anchored.has(viaBranch)) return undefined;
      return this.ask('answer', () => this.media.answer({ callId, fromTag, toTag, branch: viaBranch, sdp, source })).then((r) => this.apply(response, r, refused));
    }
    if (!cm.lateOffer) return undefined;
    // RFC 3261 §13.2.1: "If the initial offer is in the first reliable non-failure message from
    // the UAS back to the UAC, the answer MUST be in the acknowledgement for that message"
    return this.ask('offer', () =>
      this.media.offer({ callId, fromTag: toTag, branch: viaBranch, sdp, source, towards: profileOf(context.serverTx.source), mode: cm.mode }),
    ).then((r) => {
      if (r.ok && r.anchored) {
        cm.anchored.add(viaBranch);
        this.expectAnswer(callId, toTag, fromTag, viaBranch);
      }
      this.apply(response, r, refused);
    });
  }

  /**
   * An ACK for a 2xx about to go on (ProxyCore.forwardAck): the answer to an offer its 2xx
   * carried, rewritten by the media plane. Undefined (at once) when it is none of its business.
   */
  ack(ack: SipRequest, source: Flow | undefined): Promise<void> | undefined {
    if (this.pending.size === 0) return undefined;
    const sdp = sdpOf(ack);
    const pending = sdp === undefined ? undefined : this.pendingFor(ack);
    if (pending === undefined) return undefined;
    const request = { callId: ack.callId, fromTag: pending.offerTag, toTag: tagOf(ack, 'from') ?? '', branch: pending.branch, sdp: sdp!, source: source === undefined ? NO_SOURCE : signalingSource(source) };
    return this.ask('answer', () => this.media.answer(request)).then((r) => this.apply(ack, r, 'keep'));
  }

  /** An anchored branch ended without a 2xx (after the context acted on it). */
  branchFailed(context: ResponseContext, branch: Branch): void {
    const cm = this.contexts.get(context);
    const viaBranch = branch.request.topVia?.branch;
    if (cm === undefined || cm.callDeleted || viaBranch === undefined || !cm.anchored.has(viaBranch)) return;
    cm.anchored.delete(viaBranch);
    const reason = `failure ${branch.finalStatus ?? 0}`;
    void this.media.delete({ callId: context.request.callId, branch: viaBranch, reason }).catch((e: unknown) => this.failed('delete', e));
  }

  /** A final response ≥ 300 went upstream: the call being set up is over (not a re-INVITE's: its branch goes alone). */
  contextFailed(context: ResponseContext, status: number): void {
    const cm = this.contexts.get(context);
    if (cm === undefined || cm.mode === 'dialog' || !cm.touched || cm.callDeleted) return;
    cm.callDeleted = true;
    const reason = context.isCancelled ? 'cancel' : `failure ${status}`;
    void this.media.delete({ callId: context.request.callId, reason }).catch((e: unknown) => this.failed('delete', e));
  }

  /**
   * `Warning: <code> <host> "<text>"` for a refusal of the media plane, RFC 3261 §20.43: "The
   * warn-agent … is the name or pseudonym of the server adding the Warning header field".
   */
  warning(result: { readonly warnCode: number; readonly warning: string }, towards: Flow): readonly [string, string] {
    return ['Warning', `${result.warnCode} ${this.hostFor(towards)} "${quotable(result.warning)}"`];
  }

  private expectAnswer(callId: string, offerTag: string, answerTag: string, branch: string): void {
    const key = pendingKey(callId, offerTag, answerTag);
    const old = this.pending.get(key);
    if (old !== undefined) this.clock.clearTimeout(old.timer);
    const entry: PendingAnswer = { branch, offerTag, timer: this.clock.setTimeout(() => this.pending.delete(key), PENDING_ANSWER_MS) };
    this.pending.set(key, entry);
  }

  /** The offer a request from the answerer (From: its tag, To: the offerer's) answers. */
  private pendingFor(request: SipRequest): PendingAnswer | undefined {
    const from = tagOf(request, 'from');
    const to = tagOf(request, 'to');
    if (from === undefined || to === undefined) return undefined;
    return this.pending.get(pendingKey(request.callId, to, from));
  }

  /** Put the media plane's SDP in place; a refusal keeps the body as it came, or drops it (an 18x). */
  private apply(message: SipMessage, r: MediaResult, refused: 'keep' | 'drop'): void {
    if (r.ok) {
      if (r.anchored) replaceBody(message, r.sdp);
      return;
    }
    this.log.warn({ callId: message.callId, status: r.status, warning: r.warning }, refused === 'drop' ? 'media plane refused the SDP: forwarded without it' : 'media plane refused the SDP: forwarded as it came');
    if (refused === 'drop') {
      // DEVIATION(RFC 3264 §6): the callee's answer is dropped from the 18x: the caller's offer was
      // rewritten, so it names what the caller was never offered (a 2xx keeps it: it cannot be taken back)
      message.body = EMPTY;
      message.remove('Content-Type');
    }
  }

  /** A command, with a rejection (the contract says there is none) turned into a refusal. */
  private ask(command: string, run: () => Promise<MediaResult>): Promise<MediaResult> {
    let p: Promise<MediaResult>;
    try {
      p = run();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.catch((e: unknown) => {
      this.failed(command, e);
      return { ok: false, status: 500, warnCode: 399, warning: 'Media plane failed' } as const;
    });
  }

  private failed(command: string, e: unknown): void {
    this.log.error({ err: e instanceof Error ? e.message : String(e), command }, 'media plane command failed');
  }
}

const NO_SOURCE: SignalingSource = { transport: 'udp', address: '', port: 0 };

function pendingKey(callId: string, offerTag: string, answerTag: string): string {
  return `${callId}\0${offerTag}\0${answerTag}`;
}

/** The body of a message when it is SDP (`application/sdp`, not encoded); undefined otherwise. */
export function sdpOf(message: SipMessage): string | undefined {
  if (message.bodyLength === 0 || message.has('content-encoding')) return undefined;
  try {
    const type = message.contentType;
    if (type === undefined || type.type !== 'application' || type.subtype !== 'sdp') return undefined;
  } catch {
    return undefined; // a Content-Type that does not parse: not a body Parley reads
  }
  return decoder.decode(message.body);
}

/** The body replaced (Content-Length follows it when the message is serialized). */
function replaceBody(message: SipMessage, sdp: string): void {
  message.body = encoder.encode(sdp);
}

/** A tag of From or To; undefined without one, or when the field does not parse. */
function tagOf(message: SipMessage, field: 'from' | 'to'): string | undefined {
  try {
    return field === 'from' ? message.from.tag : message.to.tag;
  } catch {
    return undefined;
  }
}

/** What a side speaks, from the transport of its signaling: a WebSocket client is a browser. */
export function profileOf(flow: Flow): MediaProfile {
  return flow.transport === 'ws' || flow.transport === 'wss' ? 'webrtc' : 'rtp';
}

function signalingSource(flow: Flow): SignalingSource {
  return { transport: flow.transport, address: flow.remoteAddress, port: flow.remotePort };
}

/** Text that fits in a quoted-string (RFC 3261 §25.1): no quote, backslash or control character; at most 120 characters. */
function quotable(text: string): string {
  let out = '';
  for (let i = 0; i < text.length && out.length < 120; i++) {
    const c = text.charCodeAt(i);
    out += c < 0x20 || c === 0x7f || c === 0x22 || c === 0x5c ? ' ' : text[i];
  }
  return out;
}
