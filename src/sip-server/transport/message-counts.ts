/**
 * Counts of the SIP messages that cross a MessagePath, by direction, method and (responses)
 * status class: what `/metrics` exposes as `parley_sip_requests_total` and
 * `parley_sip_responses_total`. Plain numbers in fixed arrays, so that counting a message costs
 * an index and an increment (no allocation on the message path); the operator's side reads them
 * when it is asked (app/metrics).
 *
 * Every message on the wire counts, as a packet capture would see it: received messages that
 * parsed (retransmissions included; malformed input is counted apart, SipServerStats.parseErrors)
 * and sent ones (retransmissions by the transaction layer included).
 */

/**
 * The methods counted by name: RFC 3261's six and the extensions Parley meets (RFC 3262 PRACK,
 * RFC 6665 SUBSCRIBE/NOTIFY, RFC 3903 PUBLISH, RFC 6086 INFO, RFC 3515 REFER, RFC 3428 MESSAGE,
 * RFC 3311 UPDATE). Anything else is `other`: the label set stays bounded whatever a peer sends.
 */
export const COUNTED_METHODS = ['INVITE', 'ACK', 'BYE', 'CANCEL', 'REGISTER', 'OPTIONS', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE', 'other'] as const;
export type CountedMethod = (typeof COUNTED_METHODS)[number];

const OTHER = COUNTED_METHODS.length - 1;

/** The index of a method in COUNTED_METHODS (`other` for any method not listed). */
export function methodIndex(method: string): number {
  switch (method) {
    case 'INVITE': return 0;
    case 'ACK': return 1;
    case 'BYE': return 2;
    case 'CANCEL': return 3;
    case 'REGISTER': return 4;
    case 'OPTIONS': return 5;
    case 'PRACK': return 6;
    case 'SUBSCRIBE': return 7;
    case 'NOTIFY': return 8;
    case 'PUBLISH': return 9;
    case 'INFO': return 10;
    case 'REFER': return 11;
    case 'MESSAGE': return 12;
    case 'UPDATE': return 13;
    default: return OTHER;
  }
}

/** RFC 3261 §7.2: "1xx: Provisional" … "6xx: Global Failure": six classes. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', '6xx'] as const;

export type Direction = 'in' | 'out';

export class SipMessageCounts {
  /** Requests by method index: received, sent. */
  readonly requestsIn = new Float64Array(COUNTED_METHODS.length);
  readonly requestsOut = new Float64Array(COUNTED_METHODS.length);
  /** Responses by method index × 6 + class index (the CSeq method: what the response answers). */
  readonly responsesIn = new Float64Array(COUNTED_METHODS.length * STATUS_CLASSES.length);
  readonly responsesOut = new Float64Array(COUNTED_METHODS.length * STATUS_CLASSES.length);

  request(direction: Direction, method: string): void {
    (direction === 'in' ? this.requestsIn : this.requestsOut)[methodIndex(method)]!++;
  }

  /** A status outside 100-699 (the parser refuses those) is not counted. */
  response(direction: Direction, method: string, status: number): void {
    const c = Math.floor(status / 100) - 1;
    if (c < 0 || c >= STATUS_CLASSES.length) return;
    (direction === 'in' ? this.responsesIn : this.responsesOut)[methodIndex(method) * STATUS_CLASSES.length + c]!++;
  }

  /** Every non-zero count, for the metrics endpoint. */
  *entries(): Generator<{ readonly kind: 'request'; readonly direction: Direction; readonly method: CountedMethod; readonly value: number } | { readonly kind: 'response'; readonly direction: Direction; readonly method: CountedMethod; readonly class: string; readonly value: number }> {
    for (const [direction, counts] of [['in', this.requestsIn], ['out', this.requestsOut]] as const) {
      for (let m = 0; m < counts.length; m++) if (counts[m]! > 0) yield { kind: 'request', direction, method: COUNTED_METHODS[m]!, value: counts[m]! };
    }
    for (const [direction, counts] of [['in', this.responsesIn], ['out', this.responsesOut]] as const) {
      for (let i = 0; i < counts.length; i++) {
        if (counts[i]! > 0) yield { kind: 'response', direction, method: COUNTED_METHODS[Math.floor(i / STATUS_CLASSES.length)]!, class: STATUS_CLASSES[i % STATUS_CLASSES.length]!, value: counts[i]! };
      }
    }
  }

  /** Sum of all requests (or responses) of one direction. */
  total(kind: 'request' | 'response', direction: Direction): number {
    const counts = kind === 'request' ? (direction === 'in' ? this.requestsIn : this.requestsOut) : direction === 'in' ? this.responsesIn : this.responsesOut;
    let n = 0;
    for (const v of counts) n += v;
    return n;
  }
}
