import { randomBytesFromPool } from '../../lib/random-pool.js';
import { MAGIC_COOKIE, type Via } from '../grammar/via.js';
import type { NameAddr } from '../grammar/name-addr.js';
import { SipRequest, SipResponse, type HeaderField } from './sip-message.js';

/** Reason phrases of RFC 3261 §21 and the extensions Parley sends. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying', 180: 'Ringing', 181: 'Call Is Being Forwarded', 182: 'Queued', 183: 'Session Progress',
  200: 'OK', 202: 'Accepted', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Moved Temporarily',
  305: 'Use Proxy', 380: 'Alternative Service', 400: 'Bad Request', 401: 'Unauthorized',
  402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 407: 'Proxy Authentication Required', 408: 'Request Timeout', 410: 'Gone',
  413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
  416: 'Unsupported URI Scheme', 420: 'Bad Extension', 421: 'Extension Required', 423: 'Interval Too Brief',
  429: 'Too Many Requests', 430: 'Flow Failed', 439: 'First Hop Lacks Outbound Support',
  480: 'Temporarily Unavailable', 481: 'Call/Transaction Does Not Exist', 482: 'Loop Detected',
  483: 'Too Many Hops', 484: 'Address Incomplete', 485: 'Ambiguous', 486: 'Busy Here',
  487: 'Request Terminated', 488: 'Not Acceptable Here', 491: 'Request Pending', 493: 'Undecipherable',
  500: 'Server Internal Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Server Time-out', 505: 'Version Not Supported', 513: 'Message Too Large', 600: 'Busy Everywhere',
  603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable',
};

/** A new branch with the RFC 3261 magic cookie (§8.1.1.7), unique in space and time. */
export function newBranch(): string {
  return MAGIC_COOKIE + randomHex(12);
}

/** A new tag (§19.3): at least 32 bits of randomness. */
export function newTag(): string {
  return randomHex(8);
}

/** Hex of `n` random bytes (each tag or branch has randomness of its own). */
function randomHex(n: number): string {
  const bytes = randomBytesFromPool(n);
  let s = '';
  for (let i = 0; i < n; i++) {
    const x = bytes[i]!;
    s += (x < 16 ? '0' : '') + x.toString(16);
  }
  return s;
}

export interface ResponseOptions {
  readonly reason?: string;
  /** To-tag to add when the request's To has none (§8.2.6.2; not for 100 Trying). */
  readonly toTag?: string;
  /** Extra header fields, appended in order. */
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Uint8Array;
}

/**
 * Build a response to `request` (RFC 3261 §8.2.6.2): "The From field of the response MUST equal
 * the From header field of the request. The Call-ID … MUST equal … The CSeq … MUST equal …
 * The Via header field values in the response MUST equal the Via header field values in the
 * request and MUST maintain the same ordering." To is copied, with a tag added when the request
 * had none and the response is not a 100. A 100 Trying copies Timestamp (§8.2.6.1).
 */
export function createResponse(request: SipRequest, status: number, options: ResponseOptions = {}): SipResponse {
  const fields: HeaderField[] = [];
  for (const f of request.fields) {
    switch (f.key) {
      case 'via':
      case 'from':
      case 'call-id':
      case 'cseq':
        fields.push(f);
        break;
      case 'to':
        if (status > 100 && options.toTag !== undefined && !hasTag(request)) {
          fields.push({ name: f.name, key: 'to', value: `${f.value};tag=${options.toTag}` });
        } else fields.push(f);
        break;
      case 'timestamp':
        if (status === 100) fields.push(f);
        break;
      default:
        break;
    }
  }
  const response = new SipResponse(status, options.reason ?? REASON_PHRASES[status] ?? 'Unknown', fields, options.body);
  // append() resolves compact and mixed-case names to their keys
  for (const [name, value] of options.headers ?? []) response.append(name, value);
  return response;
}

/** Whether the request's To has a tag; a To that does not parse is copied as it is, untagged. */
function hasTag(request: SipRequest): boolean {
  try {
    return request.to.tag !== undefined;
  } catch {
    return true;
  }
}

/** Add a Via on top (a proxy forwarding a request, §16.6 step 8). */
export function pushVia(m: SipRequest, via: Via | string): void {
  m.prepend('Via', via.toString());
}

/** Remove the top Via (a proxy forwarding a response, §16.7 step 3); returns its text. */
export function popVia(m: SipResponse | SipRequest): string | undefined {
  return m.removeFirstValue('via');
}

/** Add a Record-Route on top (§16.6 step 4). */
export function pushRecordRoute(m: SipRequest, value: NameAddr | string): void {
  m.prepend('Record-Route', value.toString());
}

/** Remove the top Route (§16.4 loose routing, §16.12); returns its text. */
export function popRoute(m: SipRequest): string | undefined {
  return m.removeFirstValue('route');
}

/**
 * Decrement Max-Forwards (§16.6 step 3): "If the copy contains a Max-Forwards header field, the
 * proxy MUST decrement its value by one (1). If the copy does not contain a Max-Forwards header
 * field, the proxy MUST add one with a field value, which SHOULD be 70."
 * Returns the new value.
 */
export function decrementMaxForwards(m: SipRequest, initial = 70): number {
  const mf = m.maxForwards;
  const next = mf === undefined ? initial : mf - 1;
  if (mf === undefined) m.prepend('Max-Forwards', String(next));
  else m.set('Max-Forwards', String(next));
  return next;
}
