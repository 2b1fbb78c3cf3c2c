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
}

/** A client transaction of the proxy and what it has seen (§16.7). */
export class Branch {
  tx: ClientTransaction | undefined;
  provisional = false;
  final: SipResponse | undefined;
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

  constructor(
    readonly request: SipRequest,
    readonly serverTx: ServerTransaction,
    targets: readonly ProxyTarget[],
    private readonly launcher: BranchLauncher,
  ) {
    // §16.6 "parallel or sequential": highest q first; equal q in parallel
    const byQ = new Map<number, ProxyTarget[]>();
    for (const t of targets) byQ.set(t.q, [...(byQ.get(t.q) ?? []), t]);
    this.groups = [...byQ.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g);
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
    this.branches.push(branch);
    if (this.isInvite) this.armTimerC(branch);
  }

  /** A response from a branch's client transaction. */
  onResponse(branch: Branch, response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (status === 100) return; // §16.7 step 5: a 100 is not forwarded (the server sent its own)
      branch.provisional = true;
      if (this.isInvite) this.armTimerC(branch); // §16.7 step 2: reset Timer C on a provisional
      if (branch.cancelPending) {
        branch.cancelPending = false;
        this.cancelBranch(branch);
      }
      if (!this.finalSent) this.sendUpstream(response);
      return;
    }
    this.stopTimerC(branch);
    if (status < 300) {
      // "Any 2xx response MUST be forwarded immediately" (§16.7 step 5); the others are cancelled.
      const first = branch.final === undefined;
      branch.final = response;
      this.sendUpstream(response);
      this.finalSent = true;
      if (first) this.cancelOthers(branch);
      this.maybeRelease();
      return;
    }
    if (branch.final !== undefined) return;
    branch.final = response;
    if (this.finalSent) {
      this.maybeRelease();
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
  }

  /** Timer B/F: the branch gets a 408 of its own making (§16.7 step 1 / §16.8). */
  onTimeout(branch: Branch): void {
    this.synthesize(branch, 408);
  }

  /** The transport failed: treated as a 503 (§8.1.3.1), which §16.7 converts to 500 if chosen. */
  onTransportError(branch: Branch): void {
    this.synthesize(branch, 503);
  }

  /** No target could even be tried (resolution failed): a branch-less final. */
  onLaunchFailed(status: number, reason?: string): void {
    if (this.finalSent) return;
    this.finals.push(createResponse(this.request, status, reason === undefined ? {} : { reason }));
    this.maybeFinish();
  }

  /** CANCEL from upstream (§16.10): cancel every pending branch and create no more. */
  cancel(): void {
    this.cancelled = true;
    this.groups = [];
    for (const b of this.branches) if (b.final === undefined) this.cancelBranch(b);
    this.maybeFinish();
  }

  private synthesize(branch: Branch, status: number): void {
    this.stopTimerC(branch);
    if (branch.final !== undefined) return;
    const r = createResponse(this.request, status);
    branch.final = r;
    if (!this.finalSent) this.finals.push(r);
    this.maybeFinish();
  }

  private cancelOthers(except: Branch): void {
    this.groups = [];
    for (const b of this.branches) if (b !== except && b.final === undefined) this.cancelBranch(b);
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
    let n = 0;
    for (const b of this.branches) if (b.final === undefined) n++;
    return n;
  }

  private maybeFinish(): void {
    if (this.finalSent || this.pending() > 0) return;
    if (!this.sixxx && !this.cancelled && this.groups.length > 0) {
      this.nextGroup();
      if (this.pending() > 0 || this.finalSent) return;
    }
    const best = chooseBestResponse(this.finals);
    let out: SipResponse;
    if (best === undefined || (this.cancelled && (best.status === 408 || best.status === 503))) {
      // every branch was cancelled before it answered: the request was terminated
      out = createResponse(this.request, this.cancelled ? 487 : 408);
      this.finalSent = true;
      this.serverTx.respond(out);
      this.maybeRelease();
      return;
    }
    out = best;
    if (out.status === 503) out.setStatus(500, 'Server Internal Error'); // §16.7 step 6
    for (const [name, value] of challengesToMerge(out, this.finals)) out.append(name, value);
    this.sendUpstream(out);
    this.finalSent = true;
    this.maybeRelease();
  }

  private nextGroup(): void {
    const group = this.groups.shift();
    if (group === undefined) return;
    for (const t of group) this.launcher.launch(this, t);
  }

  /** Forward a response upstream: remove our Via (§16.7 step 3) unless we built it ourselves. */
  private sendUpstream(response: SipResponse): void {
    if (response.topVia !== undefined && this.isOurBranchResponse(response)) popVia(response);
    this.serverTx.respond(response);
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
    if (this.finalSent && this.pending() === 0) {
      for (const b of this.branches) this.stopTimerC(b);
      this.launcher.release(this);
    }
  }
}
