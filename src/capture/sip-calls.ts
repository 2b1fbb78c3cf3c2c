/**
 * Calls out of captured SIP messages, as sngrep lists them: the messages grouped by Call-ID
 * (RFC 3261 §8.1.1.4: "Call-ID ... acts as a unique identifier to group together a series of
 * messages"), each group with what a VoIP engineer looks at first.
 *
 * A group whose first request is an INVITE is a call: its start is the first message, its answer
 * the first 2xx to the initial INVITE, its status that INVITE's final response (the first one,
 * 2xx preferred when a fork answered after a failure), its end the BYE (or the final response of
 * a failed or cancelled INVITE), its duration from answer to end. Other groups (REGISTER,
 * OPTIONS, MESSAGE, SUBSCRIBE …) are listed the same way, flagged by the method of their first
 * request: answer and duration stay empty, the status is the first request's final response and
 * the end its time.
 *
 * Memory grows with the number of SIP messages (the ladder needs them all); `keepMessages: false`
 * keeps only the figures.
 */
import type { AnySipMessage } from '../sip/index.js';
import type { CapturedSipMessage } from './sip-capture.js';

export type CallState =
  /** INVITE sent, no final response yet. */
  | 'calling'
  /** Answered, no BYE seen. */
  | 'in-call'
  /** Answered and hung up (BYE). */
  | 'completed'
  /** CANCEL before an answer (487 or no final response seen). */
  | 'cancelled'
  /** A final response 300-699 other than after a CANCEL. */
  | 'rejected'
  /** Not an INVITE: the first request's transaction is over (a final response seen). */
  | 'done'
  /** Not an INVITE, no final response seen. */
  | 'pending';

export interface SipCall {
  readonly callId: string;
  /** The method of the first request seen (INVITE for a call). */
  readonly method: string;
  /** The From and To URIs and display names of the first request (or first message). */
  readonly from: string;
  readonly to: string;
  readonly fromDisplay: string | undefined;
  readonly toDisplay: string | undefined;
  readonly fromTag: string | undefined;
  /** Capture times (ns since 1970): the first message, the first 2xx to the initial INVITE, the end. */
  readonly start: bigint;
  readonly answer: bigint | undefined;
  readonly end: bigint | undefined;
  /** The final status of the initial request; undefined before one. */
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly state: CallState;
  /** Answer to end, in seconds (undefined unless both are known). */
  readonly durationSeconds: number | undefined;
  /** Every message of the group in capture order (empty with `keepMessages: false`). */
  readonly messages: readonly CapturedSipMessage[];
  readonly messageCount: number;
  /** Transports seen (udp, tcp, ws). */
  readonly transports: readonly string[];
}

interface Building {
  callId: string;
  method: string;
  from: string;
  to: string;
  fromDisplay: string | undefined;
  toDisplay: string | undefined;
  fromTag: string | undefined;
  /** The CSeq number of the initial request. */
  cseq: number | undefined;
  start: bigint;
  answer: bigint | undefined;
  end: bigint | undefined;
  status: number | undefined;
  reason: string | undefined;
  cancelled: boolean;
  byeAt: bigint | undefined;
  messages: CapturedSipMessage[];
  messageCount: number;
  transports: Set<string>;
  haveRequest: boolean;
}

export interface SipCallsOptions {
  /** Keep each call's messages (default true; the ladder and SDP hints need them). */
  readonly keepMessages?: boolean;
}

function nameAddrParts(m: AnySipMessage, which: 'from' | 'to'): { uri: string; display: string | undefined; tag: string | undefined } {
  try {
    const a = which === 'from' ? m.from : m.to;
    return { uri: String(a.uri), display: a.displayName || undefined, tag: a.tag };
  } catch {
    const field = m.fields.find((f) => f.key === which);
    return { uri: field?.value ?? '', display: undefined, tag: undefined };
  }
}

export class SipCalls {
  private readonly calls = new Map<string, Building>();
  private readonly keep: boolean;

  constructor(options: SipCallsOptions = {}) {
    this.keep = options.keepMessages ?? true;
  }

  get size(): number {
    return this.calls.size;
  }

  add(captured: CapturedSipMessage): void {
    const m = captured.message;
    const callId = m.callId;
    let c = this.calls.get(callId);
    if (c === undefined) {
      const from = nameAddrParts(m, 'from');
      const to = nameAddrParts(m, 'to');
      c = {
        callId,
        method: m.isRequest ? m.method : m.cseq.method,
        from: from.uri,
        to: to.uri,
        fromDisplay: from.display,
        toDisplay: to.display,
        fromTag: from.tag,
        cseq: m.cseq.seq,
        start: captured.time,
        answer: undefined,
        end: undefined,
        status: undefined,
        reason: undefined,
        cancelled: false,
        byeAt: undefined,
        messages: [],
        messageCount: 0,
        transports: new Set(),
        haveRequest: m.isRequest,
      };
      this.calls.set(callId, c);
    } else if (!c.haveRequest && m.isRequest) {
      // the capture began with a response: the first request names the call better
      const from = nameAddrParts(m, 'from');
      const to = nameAddrParts(m, 'to');
      Object.assign(c, { method: m.method, from: from.uri, to: to.uri, fromDisplay: from.display, toDisplay: to.display, fromTag: from.tag, cseq: m.cseq.seq, haveRequest: true });
    }
    c.messageCount++;
    c.transports.add(captured.transport);
    if (this.keep) c.messages.push(captured);
    const cseq = m.cseq;
    if (m.isRequest) {
      if (m.method === 'CANCEL' && c.status === undefined) c.cancelled = true;
      if (m.method === 'BYE' && c.byeAt === undefined) c.byeAt = captured.time;
      return;
    }
    // a final response to the initial request (same CSeq number and method)
    const status = m.status;
    if (status < 200 || cseq.method !== c.method || cseq.seq !== c.cseq) return;
    if (status < 300) {
      if (c.answer === undefined) c.answer = captured.time;
      if (c.status === undefined || c.status >= 300) {
        c.status = status;
        c.reason = m.reason;
      }
    } else if (c.status === undefined) {
      c.status = status;
      c.reason = m.reason;
      c.end = captured.time;
    }
  }

  /** The groups in the order their first message was seen. */
  list(): SipCall[] {
    const out: SipCall[] = [];
    for (const c of this.calls.values()) out.push(finishCall(c));
    return out;
  }

  get(callId: string): SipCall | undefined {
    const c = this.calls.get(callId);
    return c === undefined ? undefined : finishCall(c);
  }
}

function finishCall(c: Building): SipCall {
  const invite = c.method === 'INVITE';
  let state: CallState;
  let end = c.end;
  if (!invite) {
    state = c.status === undefined ? 'pending' : 'done';
  } else if (c.answer !== undefined && c.status !== undefined && c.status < 300) {
    state = c.byeAt !== undefined ? 'completed' : 'in-call';
    end = c.byeAt;
  } else if (c.status !== undefined) {
    state = c.cancelled && c.status === 487 ? 'cancelled' : 'rejected';
  } else {
    state = c.cancelled ? 'cancelled' : 'calling';
  }
  const duration = invite && c.answer !== undefined && end !== undefined ? Number(end - c.answer) / 1e9 : undefined;
  return {
    callId: c.callId,
    method: c.method,
    from: c.from,
    to: c.to,
    fromDisplay: c.fromDisplay,
    toDisplay: c.toDisplay,
    fromTag: c.fromTag,
    start: c.start,
    answer: invite ? c.answer : undefined,
    end,
    status: c.status,
    reason: c.reason,
    state,
    durationSeconds: duration,
    messages: c.messages,
    messageCount: c.messageCount,
    transports: [...c.transports],
  };
}
