import { hash } from 'node:crypto';
import { REASON_PHRASES, SipResponse, TOKEN, type HeaderField, type SipParseError, type SipRequest } from '../../sip/index.js';

/**
 * The stateless answer to a request that is not well formed (RFC 3261 §8.2, §21.4.1 400, §21.5.6
 * 505, §21.5.7 513; RFC 4475 §3.1.2, §3.3): its status and reason for a parse error, and the
 * response itself, built from the raw text of what the request carried.
 */
export interface MalformedStatus {
  readonly status: number;
  readonly reason: string;
}

/**
 * The status for a parse error: 505 for a SIP version other than 2.0 (RFC 3261 §8.2.1 style,
 * RFC 4475 §3.1.2.16), 513 when a size limit was passed ("The server was unable to process the
 * request since the message length exceeded its capabilities", RFC 3261 §21.5.7), and otherwise 400 with the place of the fault in the reason phrase.
 */
export function malformedStatus(error: SipParseError): MalformedStatus {
  if (error.place === 'start-line/version') return { status: 505, reason: REASON_PHRASES[505]! };
  if (error.code === 'ERR_SIP_LIMIT' || (error.code === 'ERR_SIP_FRAMING' && /size limit/.test(error.detail))) {
    return { status: 513, reason: `Message Too Large (${error.detail.slice(0, 60)})` };
  }
  return { status: 400, reason: `Bad Request (${error.place})` };
}

/** The Warning of such an answer: code 399 (miscellaneous), the agent `parley`, the fault in words. */
export function malformedWarning(error: SipParseError): readonly [string, string] {
  return ['Warning', `399 parley "${error.detail.replace(/["\\\r\n\x00-\x1f\x7f]/g, ' ').slice(0, 120)}"`];
}

/**
 * The sent-protocol and sent-by of the request's top Via, read leniently: the first Via field
 * begins `protocol-name SLASH protocol-version SLASH transport LWS host`, whatever follows (empty
 * parameters, stray separators, RFC 4475 §3.1.2.1). Undefined when even that is not there: a
 * client matches a response to its request by that Via (RFC 3261 §17.1.3, its branch when it has
 * one), so without it "no response is possible".
 */
export function readableTopVia(request: SipRequest): string | undefined {
  const field = request.fields.find((f) => f.key === 'via');
  if (field === undefined) return undefined;
  const v = field.value;
  let p = 0;
  const n = v.length;
  const ws = (): void => {
    while (p < n && (v.charCodeAt(p) === 0x20 || v.charCodeAt(p) === 0x09)) p++;
  };
  const token = (): boolean => {
    const from = p;
    while (p < n && isTokenChar(v.charCodeAt(p))) p++;
    return p > from;
  };
  for (let part = 0; part < 3; part++) {
    ws();
    if (!token()) return undefined;
    ws();
    if (part < 2) {
      if (v.charCodeAt(p) !== 0x2f) return undefined;
      p++;
    }
  }
  const hostStart = p;
  while (p < n && isHostChar(v.charCodeAt(p))) p++;
  if (p === hostStart) return undefined;
  return v.slice(0, p);
}

/**
 * The response to a malformed request (RFC 3261 §8.2.6.2, from what can be copied): every Via
 * field as received (the client matches by the top one), then the first From, To, Call-ID and
 * CSeq as raw text, even when they are what is broken (RFC 4475 §3.1.2 expects a 400 for a broken
 * To or CSeq), and none when absent (RFC 4475 §3.3.1). To gets a tag when it parses and has none;
 * the tag is a hash of the request's raw fields, so a retransmission gets the same answer.
 * Undefined when the top Via cannot be read, or for an ACK (never answered, §17.2.3 / §8.2).
 */
export function malformedResponse(
  request: SipRequest,
  answer: MalformedStatus,
  extraHeaders: ReadonlyArray<readonly [string, string]>,
): SipResponse | undefined {
  if (request.method === 'ACK' || readableTopVia(request) === undefined) return undefined;
  const fields: HeaderField[] = [];
  const firsts = new Map<string, HeaderField>();
  for (const f of request.fields) {
    if (f.key === 'via') fields.push(copy(f));
    else if ((f.key === 'from' || f.key === 'to' || f.key === 'call-id' || f.key === 'cseq') && !firsts.has(f.key)) firsts.set(f.key, f);
  }
  for (const key of ['from', 'to', 'call-id', 'cseq']) {
    const f = firsts.get(key);
    if (f === undefined) continue;
    if (key === 'to' && answer.status > 100 && toWithoutTag(request)) {
      fields.push({ name: f.name, key: 'to', value: `${f.value};tag=${statelessTag(request)}` });
    } else fields.push(copy(f));
  }
  const response = new SipResponse(answer.status, answer.reason, fields);
  for (const [name, value] of extraHeaders) response.append(name, value);
  return response;
}

/** A field as received, raw text included (the parser's fields point into the request's text). */
function copy(f: HeaderField): HeaderField {
  return f.raw === undefined ? { name: f.name, key: f.key, value: f.value } : { name: f.name, key: f.key, value: f.value, raw: f.raw };
}

/** True when To parses and has no tag; a To that does not parse is echoed as it came. */
function toWithoutTag(request: SipRequest): boolean {
  try {
    return request.to.tag === undefined;
  } catch {
    return false;
  }
}

/** A tag from what identifies the request, read as raw text (Kamailio's sl module derives it likewise). */
function statelessTag(request: SipRequest): string {
  let s = request.startLine();
  for (const f of request.fields) if (f.key === 'via' || f.key === 'from' || f.key === 'call-id' || f.key === 'cseq') s += `\0${f.value}`;
  return hash('sha1', s, 'hex').slice(0, 16);
}

/** A token character (RFC 3261 §25.1), by the grammar's own table. */
function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** Characters of a host or host:port (names, IPv4, bracketed IPv6, the port). */
function isHostChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x3a || c === 0x5b || c === 0x5d;
}
