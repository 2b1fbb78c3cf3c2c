import type { Clock, TimerHandle } from '../../lib/clock.js';
import {
  createResponse, popVia, type ClientTransaction, type Flow, type ServerTransaction, type SipRequest, type SipResponse, type Uri,
} from '../../sip/index.js';
import { challengesToMerge, chooseBestResponse } from './best-response.js';

/** One place to send a request to (RFC 3261 §16.5). */
export interface ProxyTarget {
  /** The Request-URI of the branch. */
  readonly uri: Uri;
  /** q-value: targets of the highest q are tried in parallel, lower ones after (serial). */
  readonly q: number;
  /** Send to this flow (a registered contact's connection or source address) instead of resolving the URI. */
  readonly flow?: Flow;
  /** Route values to put on the request before sending (a binding's Path, RFC 3327 §5.3). */
  readonly route?: readonly string[];
}

/** What the response context needs from the proxy core to create and cancel branches. */
export interface BranchLauncher {
  /** Forward a copy of the request to one target; the branch calls back on the context. */
  launch(context: ResponseContext, target: ProxyTarget): void;
  /** Send a CANCEL for a branch (§9.1), as its own transaction. */
  cancelBranch(branch: Branch): void;
  readonly clock: Clock;
  /** Timer C, ms (§16.6 step 11: more than three minutes). */
  readonly timerC: number;
  /** Called once the context has sent its final response (or the last 2xx) and holds no branch. */
  release(context: ResponseContext): void;
  /** A response is about to go upstream: the proxy may rewrite its Record-Route entries in it (§16.7 step 6). */
  signResponseRoute?(context: ResponseContext, response: SipResponse): void;
  /**
   * A branch's provisional or 2xx response is about to go upstream: a promise when its body is
   * being rewritten (media anchoring: the SDP answer from the media plane). The context sends it,
   * and every response after it, once the promise settles: a 2xx never overtakes the 183 being
   * rewritten. Undefined (at once) when there is nothing to wait for.
   */
  beforeUpstream?(context: ResponseContext, branch: Branch, response: SipResponse): Promise<void> | undefined;
  /** A branch ended without a 2xx (a final response ≥ 300, or one of the context's making), after the context acted on it. */
  branchFailed?(context: ResponseContext, branch: Branch): void;
  /** The context's final response is ≥ 300 and went upstream (or is queued to). */
  contextFailed?(context: ResponseContext, status: number): void;
}

/**
 * What the routing layer above the proxy core hears of a forwarded request (a routing script's
 * onResponse and onFailure handlers; Kamailio's onreply_route and failure_route). One observer
 * per context; its calls never throw (the routing layer catches what its handlers throw).
 */
export interface ResponseObserver {
  /** A response from a branch (any but 100), before the §16.7 rules forward or keep it. It may edit the response. */
  onBranchResponse?(context: ResponseContext, branch: Branch, response: SipResponse): void;
  /**
   * Every branch has ended without a 2xx and `best` (§16.7 step 6) is about to go upstream: the
   * failure route. Return true to take over; the observer then calls `context.resume(…)` once,
   * now or later. Not called once the request was cancelled upstream.
   */
  onFailure?(context: ResponseContext, best: SipResponse): boolean;
  /** The context is done: its final response is sent and no branch is pending. */
  onRelease?(context: ResponseContext): void;
}

/** How a failure route ends: new targets, a response of its own, or the best response as chosen. */
export type FailureOutcome =
  | { readonly kind: 'targets'; readonly targets: readonly ProxyTarget[] }
  | { readonly kind: 'response'; readonly response: SipResponse }
  | { readonly kind: 'best' };

/** Failure routes one context may run: a script that relays forever still ends. */
export const MAX_FAILURE_ROUNDS = 16;

/** A client transaction of the proxy and what it has seen (§16.7). */
export class Branch {
  tx: ClientTransaction | undefined;
  provisional = false;
  /**
   * The status of its final response, once it has one (the response itself is not kept: the
   * context's `finals` hold what the best response is chosen from).
   */
  finalStatus: number | undefined;
  /** A CANCEL was asked for before any provisional response: send it when one comes (§9.1). */
  cancelPending = false;
  cancelled = false;
  timerC: TimerHandle | undefined;
  constructor(
    readonly target: ProxyTarget,
    readonly request: SipRequest,
    readonly destination: Flow,
  ) {}
}

/**
 * The response context of RFC 3261 §16.7 for one forwarded request: its branches (parallel
 * within a q group, serial across groups), the responses they returned, and the rules that pick
 * what goes upstream: provisional responses (not 100) and every 2xx at once; a 6xx cancels the
 * other branches; otherwise the best final response once every branch has finished.
 */
export class ResponseContext {
  readonly branches: Branch[] = [];
  private readonly finals: SipResponse[] = [];
  private groups: ProxyTarget[][];
  private finalSent = false;
  private cancelled = false;
  private sixxx = false;
  /** A failure route is running: no final response yet, none pending either. */
  private suspended = false;
  private failureRounds = 0;
  /** Targets handed to the launcher whose branch does not exist yet (the next hop is being resolved). */
  private launching = 0;
  private released = false;
  /**
   * Responses waiting to go upstream behind one whose body is being rewritten (beforeUpstream),
   * as one promise chain; undefined when nothing waits (then responses go at once).
   */
  private queue: Promise<void> | undefined;

  constructor(
    readonly request: SipRequest,
    readonly serverTx: ServerTransaction,
    targets: readonly ProxyTarget[],
    private readonly launcher: BranchLauncher,
    private readonly observer?: ResponseObserver,
  ) {
    this.groups = groupByQ(targets);
  }

  /** The request was cancelled upstream (§16.10): no new branch may start. */
  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** A 6xx arrived: "it MUST NOT create any new branches" (§16.7 step 5). */
  get sawGlobalFailure(): boolean {
    return this.sixxx;
  }

  /** The final response went upstream. */
  get finished(): boolean {
    return this.finalSent;
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  /** Start the first group of targets. */
  start(): void {
    this.nextGroup();
  }

  /** Add a branch the launcher created (it sends the request right after). */
  add(branch: Branch): void {
    if (this.launching > 0) this.launching--;
    this.branches.push(branch);
    if (this.isInvite) this.armTimerC(branch);
    // resolved after a CANCEL, a 6xx or a 2xx elsewhere: it goes out only to be cancelled (§9.1:
    // once it has had a provisional response)
    if (this.cancelled || this.sixxx || this.finalSent) this.cancelBranch(branch);
  }

  /** A response from a branch's client transaction. */
  onResponse(branch: Branch, response: SipResponse): void {
    const status = response.status;
    if (status === 100) return; // §16.7 step 5: a 100 is not forwarded (the server sent its own)
    this.observer?.onBranchResponse?.(this, branch, response);
    if (status < 200) {
      branch.provisional = true;
      if (this.isInvite) this.armTimerC(branch); // §16.7 step 2: reset Timer C on a provisional
      if (branch.cancelPending) {
        branch.cancelPending = false;
        this.cancelBranch(branch);
      }
      if (!this.finalSent) this.sendUpstream(response, branch);
      return;
    }
    this.stopTimerC(branch);
    if (status < 300) {
      // "Any 2xx response MUST be forwarded immediately" (§16.7 step 5); the others are cancelled.
      const first = branch.finalStatus === undefined;
      branch.finalStatus = status;
      this.sendUpstream(response, branch);
      this.finalSent = true;
      if (first) this.cancelOthers(branch);
      this.maybeRelease();
      return;
    }
    if (branch.finalStatus !== undefined) return;
    branch.finalStatus = status;
    if (this.finalSent) {
      this.maybeRelease();
      this.launcher.branchFailed?.(this, branch);
      return;
    }
    this.finals.push(response);
    if (status >= 600) {
      // "If a 6xx response is received, it is not immediately forwarded, but the stateful proxy
      //  SHOULD cancel all client pending transactions … and it MUST NOT create any new branches"
      this.sixxx = true;
      this.cancelOthers(branch);
    }
    this.maybeFinish();
    this.launcher.branchFailed?.(this, branch);
  }

  /** Timer B/F: the branch gets a 408 of its own making (§16.7 step 1 / §16.8). */
  onTimeout(branch: Branch): void {
    this.synthesize(branch, 408);
  }

  /** The transport failed: treated as a 503 (§8.1.3.1), which §16.7 converts to 500 if chosen. */
  onTransportError(branch: Branch): void {
    this.synthesize(branch, 503);
  }

  /**
   * No target could even be tried (resolution failed, the media plane refused the offer): a
   * branch-less final, with `headers` (a Warning) when it goes upstream.
   */
  onLaunchFailed(status: number, reason?: string, headers?: ReadonlyArray<readonly [string, string]>, toTag?: string): void {
    if (this.launching > 0) this.launching--;
    if (this.finalSent) {
      this.maybeRelease();
      return;
    }
    this.finals.push(createResponse(this.request, status, { ...(reason === undefined ? {} : { reason }), ...(headers === undefined ? {} : { headers }), ...(toTag === undefined ? {} : { toTag }) }));
    this.maybeFinish();
  }

  /** CANCEL from upstream (§16.10): cancel every pending branch and create no more. */
  cancel(): void {
    this.cancelled = true;
    this.groups = [];
    for (const b of this.branches) if (b.finalStatus === undefined) this.cancelBranch(b);
    // a failure route still running is overtaken: the request ends now (its resume is ignored)
    this.suspended = false;
    this.maybeFinish();
  }

  /**
   * The end of a failure route (ResponseObserver.onFailure returned true). New targets start
   * as a new serial step (grouped by q like the first ones); the responses of the earlier
   * branches still take part in choosing the best one. Ignored once the context has finished
   * (a CANCEL overtook the failure route).
   */
  resume(outcome: FailureOutcome): void {
    if (!this.suspended || this.finalSent) return;
    this.suspended = false;
    if (outcome.kind === 'targets' && !this.cancelled && !this.sixxx && outcome.targets.length > 0) {
      this.groups = groupByQ(outcome.targets);
      this.nextGroup();
      if (this.pending() > 0 || this.finalSent) return;
    }
    if (outcome.kind === 'response' && !this.cancelled) {
      this.finalSent = true;
      this.deliver(outcome.response);
      if (outcome.response.status >= 300) this.launcher.contextFailed?.(this, outcome.response.status);
      this.maybeRelease();
      return;
    }
    this.maybeFinish(true);
  }

  private synthesize(branch: Branch, status: number): void {
    this.stopTimerC(branch);
    if (branch.finalStatus !== undefined) return;
    const r = createResponse(this.request, status);
    branch.finalStatus = status;
    if (!this.finalSent) this.finals.push(r);
    this.maybeFinish();
    this.launcher.branchFailed?.(this, branch);
  }

  private cancelOthers(except: Branch): void {
    this.groups = [];
    for (const b of this.branches) if (b !== except && b.finalStatus === undefined) this.cancelBranch(b);
  }

  /** §9.1: "If no provisional response has been received, the CANCEL request MUST NOT be sent." */
  private cancelBranch(b: Branch): void {
    if (b.cancelled || !this.isInvite) return;
    if (!b.provisional) {
      b.cancelPending = true;
      return;
    }
    b.cancelled = true;
    this.launcher.cancelBranch(b);
  }

  private pending(): number {
    // a target still being resolved counts: its branch is on its way
    let n = this.launching;
    for (const b of this.branches) if (b.finalStatus === undefined) n++;
    return n;
  }

  private maybeFinish(afterFailureRoute = false): void {
    if (this.finalSent || this.suspended || this.pending() > 0) return;
    if (!this.sixxx && !this.cancelled && this.groups.length > 0) {
      this.nextGroup();
      if (this.pending() > 0 || this.finalSent) return;
    }
    const best = chooseBestResponse(this.finals);
    const onFailure = this.observer?.onFailure;
    if (!afterFailureRoute && onFailure !== undefined && best !== undefined && !this.cancelled && this.failureRounds < MAX_FAILURE_ROUNDS) {
      this.failureRounds++;
      this.suspended = true;
      if (onFailure.call(this.observer, this, best)) return;
      this.suspended = false;
    }
    let out: SipResponse;
    if (best === undefined || (this.cancelled && (best.status === 408 || best.status === 503))) {
      // every branch was cancelled before it answered: the request was terminated
      out = createResponse(this.request, this.cancelled ? 487 : 408);
      this.finalSent = true;
      this.deliver(out);
      this.launcher.contextFailed?.(this, out.status);
      this.maybeRelease();
      return;
    }
    out = best;
    if (out.status === 503) out.setStatus(500, 'Server Internal Error'); // §16.7 step 6
    for (const [name, value] of challengesToMerge(out, this.finals)) out.append(name, value);
    this.sendUpstream(out);
    this.finalSent = true;
    this.launcher.contextFailed?.(this, out.status);
    this.maybeRelease();
  }

  private nextGroup(): void {
    const group = this.groups.shift();
    if (group === undefined) return;
    this.launching += group.length;
    for (const t of group) this.launcher.launch(this, t);
  }

  /**
   * Forward a response upstream: remove our Via (§16.7 step 3) unless we built it ourselves. A
   * branch's response may first have its body rewritten (beforeUpstream); responses go upstream
   * in the order they came, whatever waits.
   */
  private sendUpstream(response: SipResponse, branch?: Branch): void {
    if (response.topVia !== undefined && this.isOurBranchResponse(response)) popVia(response);
    this.launcher.signResponseRoute?.(this, response);
    const rewrite = branch === undefined ? undefined : this.launcher.beforeUpstream?.(this, branch, response);
    if (rewrite === undefined) {
      this.deliver(response);
      return;
    }
    this.enqueue(() => rewrite.then(() => this.serverTx.respond(response)));
  }

  /** Send a response upstream now, or after those waiting. */
  private deliver(response: SipResponse): void {
    if (this.queue === undefined) this.serverTx.respond(response);
    else this.enqueue(() => this.serverTx.respond(response));
  }

  private enqueue(step: () => void | Promise<void>): void {
    const next = (this.queue ?? Promise.resolve()).then(step).catch(() => undefined);
    this.queue = next;
    void next.then(() => {
      if (this.queue !== next) return;
      this.queue = undefined;
      this.maybeRelease(); // the context waited for its last response to go
    });
  }

  private isOurBranchResponse(response: SipResponse): boolean {
    // responses synthesized from the original request carry its Vias only
    const top = response.topVia?.branch;
    return top !== undefined && this.branches.some((b) => b.request.topVia?.branch === top);
  }

  private armTimerC(branch: Branch): void {
    this.stopTimerC(branch);
    branch.timerC = this.launcher.clock.setTimeout(() => {
      branch.timerC = undefined;
      // §16.8: "If the client transaction has received a provisional response, the proxy MUST
      // generate a CANCEL request matching that transaction. If the client transaction has not
      // received a provisional response, the proxy MUST behave as if the transaction received
      // a 408 (Request Timeout) response."
      if (branch.provisional) this.cancelBranch(branch);
      else this.synthesize(branch, 408);
    }, this.launcher.timerC);
  }

  private stopTimerC(branch: Branch): void {
    if (branch.timerC !== undefined) this.launcher.clock.clearTimeout(branch.timerC);
    branch.timerC = undefined;
  }

  private maybeRelease(): void {
    if (this.finalSent && this.pending() === 0 && this.queue === undefined) {
      for (const b of this.branches) this.stopTimerC(b);
      this.launcher.release(this);
      if (!this.released) {
        this.released = true;
        this.observer?.onRelease?.(this);
        // The INVITE transactions outlive the context by Timers L and M (32 s, RFC 6026), and
        // keep its messages: only their text, from here on.
        this.request.dropParsed();
        for (const b of this.branches) b.request.dropParsed();
        this.finals.length = 0;
      }
    }
  }
}

/** §16.6 "parallel or sequential": highest q first; equal q in parallel. */
function groupByQ(targets: readonly ProxyTarget[]): ProxyTarget[][] {
  if (targets.length === 1) return [[targets[0]!]]; // one contact, every in-dialog request
  const byQ = new Map<number, ProxyTarget[]>();
  for (const t of targets) {
    const group = byQ.get(t.q);
    if (group === undefined) byQ.set(t.q, [t]);
    else group.push(t);
  }
  return [...byQ.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g);
}
