import type { Logger } from '../../../lib/logger.js';
import { newBranch, parseNameAddr, parseUri, SipRequest, splitList, type ClientTransactionUser, type Flow, type SipResponse } from '../../../sip/index.js';
import type { LocalIdentity } from '../../core/local-identity.js';
import type { SipServer } from '../../sip-server.js';
import type { MediaAnchor } from '../media-anchor.js';
import type { Branch, ResponseContext } from '../response-context.js';
import type { CallRecord, CallSide } from './call-record.js';
import type { CallTracker } from './call-tracker.js';
import { routeSetsOf } from './route-sets.js';
import { RenewingMap } from '../../../lib/renewing-map.js';

/**
 * The proxy's side of call tracking: what the messages of a call relayed with Parley's
 * Record-Route mean for its record (call-tracker.ts), and the operator's hang-up. ProxyCore calls
 * it at the points it already has — a request forwarded, a branch's response, the context's
 * failure and release — and it never throws into the proxy (a message it cannot read leaves the
 * record as it was).
 *
 *   INVITE outside a dialog, record-routed   a record: trying (the caller's From, tag, Contact,
 *                                             flow and CSeq)
 *   18x of a branch                           ringing
 *   first 2xx of a branch (a fork's winner)   answered: the callee's To, tag, Contact, the branch's
 *                                             flow, the route sets of both directions
 *   a final ≥ 300 upstream                    ended: `cancel` (after a CANCEL, 487) or `rejected`
 *   a request in the dialog                   its sender's highest CSeq; a BYE: ending, ended
 *                                             (`bye`) when its transaction has a final response
 *   hang-up, answered                         BYE to both sides (Parley's own client
 *                                             transactions), ended (`hangup`) once both finished
 *   hang-up before the answer                 the context cancelled as by a CANCEL (487 upstream)
 */
export class ProxyCalls {
  /** Initial INVITEs' contexts and their calls. */
  private readonly invites = new WeakMap<ResponseContext, CallRecord>();
  /** Contexts of BYEs relayed in a call. */
  private readonly byes = new WeakMap<ResponseContext, CallRecord>();
  /** Contexts of calls not answered yet, for a hang-up (by record). */
  private readonly pending = new RenewingMap<CallRecord, ResponseContext>();

  constructor(
    readonly tracker: CallTracker,
    private readonly server: SipServer,
    private readonly identity: LocalIdentity,
    private readonly media: MediaAnchor | undefined,
    private readonly log: Logger,
  ) {}

  /**
   * A request is being forwarded in `context` (ProxyCore.forward; again from anchorAndSend when
   * the media plane made the call record-routed). `recordRouted`: Parley puts its Record-Route
   * on it, so the dialog's requests will come back through Parley.
   */
  forwarded(context: ResponseContext, recordRouted: boolean): void {
    try {
      const request = context.request;
      const to = request.to;
      if (to.tag === undefined) {
        if (request.method !== 'INVITE' || !recordRouted || this.invites.has(context)) return;
        const from = request.from;
        const record = this.tracker.start({
          callId: request.callId,
          caller: {
            uri: from.uri.toString(),
            field: request.get('from'),
            tag: from.tag,
            contact: request.contact[0]?.uri.toString(),
            flow: context.serverTx.source,
            cseq: request.cseq.seq,
          },
          calleeUri: to.uri.toString(),
          media: this.media?.of(context) !== undefined,
        });
        if (record === undefined) return;
        this.invites.set(context, record);
        this.pending.set(record, context);
        return;
      }
      const found = this.tracker.find(request.callId, request.from.tag, to.tag);
      if (found === undefined) return;
      const { record, fromCaller } = found;
      const side = fromCaller ? record.caller : record.callee;
      const seq = request.cseq.seq;
      if (request.method !== 'ACK' && seq > side.cseq) side.cseq = seq;
      if (request.method === 'BYE') {
        record.state = 'ending';
        this.byes.set(context, record);
      }
    } catch (e) {
      this.log.debug({ err: (e as Error).message }, 'call tracking: request not read');
    }
  }

  /** A response of a branch, before the response context acts on it. */
  branchResponse(context: ResponseContext, branch: Branch, response: SipResponse): void {
    const record = this.invites.get(context);
    if (record === undefined || record.ended) return;
    const status = response.status;
    if (status >= 180 && status < 200) {
      this.tracker.ringing(record);
      return;
    }
    if (status < 200 || status >= 300 || record.answeredAt !== undefined) return;
    try {
      const callee = record.callee;
      callee.field = response.get('to');
      callee.tag = response.to.tag;
      callee.contact = response.contact[0]?.uri.toString();
      callee.flow = branch.destination;
      const entries = response.getAll('record-route').flatMap((field) => splitList(field, true).map((v) => v.trim()));
      record.routes = routeSetsOf(entries, (entry) => {
        try {
          return this.identity.isLocalUri(parseNameAddr(entry).uri);
        } catch {
          return false;
        }
      });
    } catch (e) {
      this.log.debug({ err: (e as Error).message, callId: record.callId }, 'call tracking: 2xx not read');
    }
    const cm = this.media?.of(context);
    if (cm !== undefined) record.media = cm.touched;
    this.pending.delete(record);
    this.tracker.answer(record, status);
    // the operator hung up while it rang, and the callee answered before the CANCEL reached it
    if (record.hangupRequested) this.byeBoth(record);
  }

  /** The context's final response ≥ 300 went upstream. */
  contextFailed(context: ResponseContext, status: number): void {
    const record = this.invites.get(context);
    if (record === undefined || record.answeredAt !== undefined) return;
    record.status = status;
    this.pending.delete(record);
    this.tracker.end(record, context.isCancelled ? 'cancel' : 'rejected', status);
  }

  /** The context is done (ProxyCore.release). */
  released(context: ResponseContext): void {
    const record = this.invites.get(context);
    if (record !== undefined) {
      this.invites.delete(context);
      this.pending.delete(record);
      // a context ends with a final response: one that left no answer nor failure behind ends the call
      if (record.answeredAt === undefined) this.tracker.end(record, 'rejected', record.status ?? 500);
      return;
    }
    const call = this.byes.get(context);
    if (call === undefined) return;
    this.byes.delete(context);
    // RFC 3261 §15.1.2: "the UAC MUST consider the session terminated (and therefore the BYE
    // transaction) … whatever the response" — any final ends the call
    this.tracker.end(call, 'bye', call.status ?? 200);
  }

  /**
   * The operator hangs up every open call with this Call-ID: answered ones get a BYE on each
   * side, the others are cancelled as a CANCEL from the caller would. False when there is none.
   */
  hangup(callId: string): boolean {
    const records = this.tracker.withCallId(callId);
    if (records.length === 0) return false;
    for (const record of [...records]) {
      // hung up already, or a BYE of a side is on its way: it ends by itself
      if (record.hangupRequested || record.state === 'ending') continue;
      record.hangupRequested = true;
      if (record.answeredAt !== undefined) {
        this.byeBoth(record);
        continue;
      }
      record.state = 'ending';
      const context = this.pending.get(record);
      // §16.10 as for a CANCEL from upstream: the pending branches are cancelled (after their
      // provisional response, §9.1), and 487 goes to the caller
      if (context !== undefined) context.cancel();
      else this.tracker.end(record, 'hangup', 487);
    }
    return true;
  }

  /**
   * BYE to both sides of an answered call (a B2BUA's move, as Kamailio's dlg.end_dlg does), and
   * the media session deleted. The call ends once both BYE transactions have ended, whatever
   * their outcome.
   */
  private byeBoth(record: CallRecord): void {
    record.state = 'ending';
    if (this.media !== undefined && record.media) {
      void this.media.media.delete({ callId: record.callId, reason: 'hangup' }).catch((e: unknown) => this.log.warn({ err: e, callId: record.callId }, 'media delete failed'));
    }
    let open = 2;
    const done = (): void => {
      if (--open === 0) this.tracker.end(record, 'hangup', record.status ?? 200);
    };
    this.bye(record, record.callee, record.caller, record.routes?.towardsCallee ?? [], done);
    this.bye(record, record.caller, record.callee, record.routes?.towardsCaller ?? [], done);
  }

  /**
   * A BYE to `to`, as the other side `from` would send it in the dialog (RFC 3261 §12.2.1.1):
   * "The URI in the To field of the request MUST be set to the remote URI from the dialog state.
   * The tag in the To header field of the request MUST be set to the remote tag of the dialog ID.
   * The From URI of the request MUST be set to the local URI from the dialog state. The tag in the
   * From header field of the request MUST be set to the local tag of the dialog ID." — "The
   * Call-ID of the request MUST be set to the Call-ID of the dialog." — "the CSeq header field
   * value MUST be … the local sequence number … incremented by one". Its Request-URI is `to`'s
   * Contact (the remote target), its Route the route set beyond Parley (Parley is the hop that
   * sends it), and it leaves over the flow `to` uses.
   */
  private bye(record: CallRecord, to: CallSide, from: CallSide, route: readonly string[], done: () => void): void {
    const flow: Flow | undefined = to.flow;
    if (flow === undefined || to.contact === undefined || to.field === undefined || from.field === undefined) {
      this.log.warn({ callId: record.callId }, 'hang-up: a side of the call is not known well enough to send it a BYE');
      done();
      return;
    }
    let request: SipRequest;
    try {
      request = new SipRequest('BYE', parseUri(to.contact));
    } catch (e) {
      this.log.warn({ err: (e as Error).message, callId: record.callId }, 'hang-up: the Contact does not parse');
      done();
      return;
    }
    const { host, port } = this.identity.sentBy(flow.transport);
    // DEVIATION(RFC 3261 §16): a proxy does not originate requests in a dialog it relays; Parley
    // sends BYE to both sides when the operator hangs up (as Kamailio's dlg_end_dlg does), with
    // the sequence number each side's peer would use next.
    request.append('Via', `SIP/2.0/${flow.transport.toUpperCase()} ${host}:${port};branch=${newBranch()};rport`);
    request.append('Max-Forwards', '70');
    if (route.length > 0) request.append('Route', route.join(', '));
    request.append('From', from.field);
    request.append('To', to.field);
    request.append('Call-ID', record.callId);
    from.cseq += 1;
    request.append('CSeq', `${from.cseq} BYE`);
    let finished = false;
    const once = (): void => {
      if (finished) return;
      finished = true;
      done();
    };
    const user: ClientTransactionUser = {
      onResponse: (response) => {
        if (response.status >= 200) once();
      },
      onTimeout: once,
      onTransportError: once,
    };
    try {
      this.server.transactions.createClientTransaction(request, flow, user);
    } catch (e) {
      this.log.warn({ err: (e as Error).message, callId: record.callId }, 'hang-up: BYE not sent');
      once();
    }
  }
}
