import type { TimerHandle } from '../../../lib/clock.js';
import type { Flow } from '../../../sip/index.js';
import type { RouteSets } from './route-sets.js';

/** Where a call is: INVITE relayed, a 18x came, a 2xx came, a BYE (or a hang-up) is on its way. */
export type CallState = 'trying' | 'ringing' | 'answered' | 'ending';

/** Why a call ended (src/lib/events.ts CallEvent `reason`). */
export type CallEndReason = 'bye' | 'cancel' | 'rejected' | 'timeout' | 'hangup';

/** One side of a call as Parley saw it. */
export interface CallSide {
  /** From URI (caller) or To URI (callee). */
  readonly uri: string;
  /** The From (caller) or To (callee, from the 2xx) header field as the side wrote it, with its tag. */
  field: string | undefined;
  tag: string | undefined;
  /** Its Contact URI (the INVITE's, the 2xx's). */
  contact: string | undefined;
  /** The flow Parley reaches it over: the INVITE's source; the answering branch's destination. */
  flow: Flow | undefined;
  /** The highest CSeq number of a request it sent in the dialog (0: none yet). */
  cseq: number;
}

/**
 * A call (an INVITE dialog Parley relayed with its own Record-Route), kept from the INVITE to
 * its end (call-tracker.ts). Kamailio's dialog module keeps the same (dlg_cell).
 */
export class CallRecord {
  state: CallState = 'trying';
  /** ms since the epoch. */
  readonly startedAt: number;
  answeredAt: number | undefined;
  /** The final status of the INVITE (the winning 2xx, or the failure sent upstream). */
  status: number | undefined;
  /** The media plane anchors it. */
  media: boolean;
  /** From the 2xx (route-sets.ts); undefined before, or when no Record-Route of Parley's was in it. */
  routes: RouteSets | undefined;
  /** The operator asked to hang up (the call ends with reason `hangup` whatever comes next). */
  hangupRequested = false;
  /** The call timeout (proxy.callTimeout); cleared at the end. */
  timer: TimerHandle | undefined;
  ended = false;

  constructor(
    readonly callId: string,
    readonly caller: CallSide,
    readonly callee: CallSide,
    startedAt: number,
    media: boolean,
  ) {
    this.startedAt = startedAt;
    this.media = media;
  }

  /** Plain data for the operator's API (src/api/operations.ts CallView, less the core). */
  snapshot(now: number): CallSnapshot {
    return {
      callId: this.callId,
      state: this.state,
      caller: legOf(this.caller),
      callee: legOf(this.callee),
      startedAt: new Date(this.startedAt).toISOString(),
      ...(this.answeredAt === undefined ? {} : { answeredAt: new Date(this.answeredAt).toISOString() }),
      duration: Math.max(0, Math.floor((now - this.startedAt) / 1000)),
      talkTime: this.answeredAt === undefined ? 0 : Math.max(0, Math.floor((now - this.answeredAt) / 1000)),
      media: this.media,
    };
  }
}

/** A call as the operator sees it: plain JSON (it crosses threads and HTTP). */
export interface CallSnapshot {
  readonly callId: string;
  readonly state: CallState;
  readonly caller: CallLegSnapshot;
  readonly callee: CallLegSnapshot;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly answeredAt?: string;
  /** Seconds since start. */
  readonly duration: number;
  /** Seconds since answer (0 before). */
  readonly talkTime: number;
  readonly media: boolean;
}

export interface CallLegSnapshot {
  readonly uri: string;
  readonly contact?: string;
  /** `udp:198.51.100.7:5060`. */
  readonly source?: string;
  readonly tag?: string;
}

function legOf(side: CallSide): CallLegSnapshot {
  return {
    uri: side.uri,
    ...(side.contact === undefined ? {} : { contact: side.contact }),
    ...(side.flow === undefined ? {} : { source: flowText(side.flow) }),
    ...(side.tag === undefined ? {} : { tag: side.tag }),
  };
}

/** `udp:198.51.100.7:5060`, `tcp:[2001:db8::1]:5060`. */
export function flowText(flow: Flow): string {
  const address = flow.remoteAddress.includes(':') ? `[${flow.remoteAddress}]` : flow.remoteAddress;
  return `${flow.transport}:${address}:${flow.remotePort}`;
}
