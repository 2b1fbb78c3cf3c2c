import { SipParseError } from '../errors.js';
import { isToken, trimWs } from '../grammar/chars.js';
import { isMethod } from '../grammar/cseq.js';
import { parseUri } from '../grammar/uri.js';
import { headerKey, SINGLE_HEADERS, canonicalName } from './header-names.js';
import { DEFAULT_LIMITS, type ParseLimits } from './limits.js';
import { SipRequest, SipResponse, type AnySipMessage, type HeaderField } from './sip-message.js';

export interface ParseOptions {
  /**
   * The message came in one datagram (UDP): a body longer than Content-Length is cut to it, a
   * shorter one is an error, and no Content-Length means the body runs to the end (RFC 3261 §18.3).
   * For stream transports the framer has already cut the message; pass `false` so that a missing
   * Content-Length is an error. Default true.
   */
  readonly datagram?: boolean;
  readonly limits?: Partial<ParseLimits>;
}

/**
 * The outcome of parsing. On failure `message` is there when the start line and header fields
 * could be split, so that a server can still try to answer (400, or 505 for a version).
 */
export type ParseResult =
  | { readonly ok: true; readonly message: AnySipMessage }
  | { readonly ok: false; readonly error: SipParseError; readonly message?: AnySipMessage };

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** Headers checked by parseMessage on every message, in this order of precedence. */
const EAGER: ReadonlyArray<string> = ['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-length', 'expires', 'date'];

/**
 * Parse one SIP message from bytes or text (RFC 3261 §7, §25). Never throws on any input: a
 * malformed message gives `{ ok: false, error }` with the place it failed.
 *
 * Checked here: the start line; every header name; folding; limits; the headers every element
 * reads (top Via, From, To, Call-ID, CSeq and its method, Max-Forwards, Content-Length, Expires,
 * Date); single-valued headers that appear twice; the mandatory headers of §8.1.1; Content-Length
 * against the body. Every other header is parsed on first access.
 */
export function parseMessage(input: Uint8Array | string, options: ParseOptions = {}): ParseResult {
  try {
    return parseUnsafe(input, options);
  } catch (e) {
    // The parser is written not to throw; this is a last line of defence for network input.
    return fail('message', `parser failure: ${(e as Error).message}`);
  }
}

function fail(place: string, detail: string, message?: AnySipMessage): ParseResult {
  const error = new SipParseError(place, detail);
  return message === undefined ? { ok: false, error } : { ok: false, error, message };
}

function parseUnsafe(input: Uint8Array | string, options: ParseOptions): ParseResult {
  const limits = options.limits === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...options.limits };
  const datagram = options.datagram ?? true;

  let head: string;
  let body: Uint8Array;
  if (typeof input === 'string') {
    if (input.length > limits.maxMessageSize) return limitFail('message size');
    // RFC 3261 §7.5: "Implementations processing SIP messages over stream-oriented transports MUST
    // ignore any CRLF appearing before the start-line". Tolerated on datagrams too.
    if (input.charCodeAt(0) === 0x0d || input.charCodeAt(0) === 0x0a) input = input.replace(/^[\r\n]+/, '');
    let end = findHeadEndText(input);
    if (end < 0) {
      // DEVIATION(RFC 3261 §7): a datagram whose last header line ends with CRLF but has no empty
      // line after it is taken as having no body (seen in the RFC 4475 archive's baddn).
      if (!datagram || !input.endsWith('\r\n')) return fail('headers', 'no empty line after the header fields');
      end = input.length - 2;
    }
    head = input.slice(0, end);
    const bodyStart = input.charCodeAt(end) === 0x0d ? end + 4 : end + 2;
    body = bodyStart >= input.length ? new Uint8Array(0) : encoder.encode(input.slice(bodyStart));
  } else {
    if (input.length > limits.maxMessageSize) return limitFail('message size');
    if (input[0] === 0x0d || input[0] === 0x0a) {
      let p = 0;
      while (input[p] === 0x0d || input[p] === 0x0a) p++;
      input = input.subarray(p);
    }
    let end = findHeadEndBytes(input);
    if (end < 0) {
      const n = input.length;
      if (!datagram || n < 2 || input[n - 2] !== 0x0d || input[n - 1] !== 0x0a) return fail('headers', 'no empty line after the header fields');
      end = n - 2;
    }
    head = decodeHead(input, end);
    const bodyStart = input[end] === 0x0d ? end + 4 : end + 2;
    body = bodyStart >= input.length ? new Uint8Array(0) : input.subarray(bodyStart);
  }

  let pos = 0;
  let eol = head.indexOf('\n', pos);
  if (eol < 0) eol = head.length;
  const startLine = head.charCodeAt(eol - 1) === 0x0d ? head.slice(pos, eol - 1) : head.slice(pos, eol);
  pos = eol + 1;

  // ---- header fields ----
  const fields: HeaderField[] = [];
  while (pos < head.length) {
    const lineStart = pos;
    let valueEnd: number;
    // a field ends at a line end not followed by SP/HTAB (§7.3.1 folding)
    for (;;) {
      let nl = head.indexOf('\n', pos);
      if (nl < 0) nl = head.length;
      pos = nl + 1;
      valueEnd = nl;
      if (pos >= head.length) break;
      const c = head.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09) break;
    }
    const rawEnd = head.charCodeAt(valueEnd - 1) === 0x0d ? valueEnd - 1 : valueEnd;
    if (rawEnd - lineStart > limits.maxLineLength) return limitFail('header line length');
    if (fields.length >= limits.maxHeaders) return limitFail('header count');
    const raw = head.slice(lineStart, rawEnd);
    const colon = raw.indexOf(':');
    if (colon <= 0) return fail('headers', `header field without a name and colon: "${raw.slice(0, 40)}"`);
    // HCOLON = *( SP / HTAB ) ":" SWS
    let nameEnd = colon;
    while (nameEnd > 0 && (raw.charCodeAt(nameEnd - 1) === 0x20 || raw.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
    const name = raw.slice(0, nameEnd);
    if (!isToken(name)) return fail('headers', `bad header name "${name.slice(0, 40)}"`);
    let value = raw.slice(colon + 1);
    if (value.indexOf('\n') >= 0) value = value.replace(/\r?\n[ \t]+/g, ' ');
    fields.push({ name, key: headerKey(name), value: trimWs(value), raw });
  }

  // ---- start line (§7.1, §7.2) ----
  let message: AnySipMessage;
  let versionError: string | undefined;
  if (startLine.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    const sp1 = startLine.indexOf(' ');
    if (sp1 < 0) return fail('start-line', 'status line without a status code');
    const version = startLine.slice(0, sp1);
    let sp2 = startLine.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = startLine.length; // tolerate a missing SP before an empty reason
    const code = startLine.slice(sp1 + 1, sp2);
    if (!/^[1-6]\d\d$/.test(code)) return fail('start-line/status', `bad status code "${code.slice(0, 20)}"`);
    const reason = startLine.slice(sp2 + 1);
    if (/[\x00-\x08\x0a-\x1f\x7f]/.test(reason)) return fail('start-line/reason', 'control character in reason phrase');
    if (version.toUpperCase() !== 'SIP/2.0') versionError = version;
    message = new SipResponse(Number(code), reason, fields, body, startLine);
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF
    const parts = startLine.split(' ');
    if (parts.length !== 3 || parts[0] === '' || parts[1] === '' || parts[2] === '') {
      return fail('start-line', 'request line must be "Method SP Request-URI SP SIP-Version"');
    }
    const [method, uri, version] = parts as [string, string, string];
    if (!isMethod(method)) return fail('start-line/method', `bad method "${method.slice(0, 40)}"`);
    if (!/^SIP\/\d+\.\d+$/i.test(version)) return fail('start-line/version', `bad version "${version.slice(0, 20)}"`);
    let parsedUri;
    try {
      parsedUri = parseUri(uri);
    } catch (e) {
      return fail('start-line/request-uri', (e as Error).message);
    }
    // RFC 3261 §19.1.1, Table 1: URI headers are "not allowed" in a Request-URI.
    if (parsedUri.kind === 'sip' && parsedUri.headers.size > 0) {
      return fail('start-line/request-uri', 'headers are not allowed in a Request-URI');
    }
    if (version.toUpperCase() !== 'SIP/2.0') versionError = version;
    message = new SipRequest(method, parsedUri, fields, body, startLine);
  }

  // ---- headers every element reads ----
  for (const key of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!fields.some((f) => f.key === key)) return fail(`header/${canonicalName(key)}`, 'missing', message);
  }
  for (const key of SINGLE_HEADERS) {
    let n = 0;
    for (const f of fields) if (f.key === key) n++;
    if (n > 1) return fail(`header/${canonicalName(key)}`, 'appears more than once', message);
  }
  for (const key of EAGER) {
    const err = message.validate([key === 'via' ? 'via#top' : key]);
    if (err) return { ok: false, error: err, message };
  }
  if (message.isRequest && message.cseq.method !== message.method) {
    return fail('header/CSeq', `method ${message.cseq.method} does not match the request method ${message.method}`, message);
  }

  // ---- body (§18.3) ----
  const cl = message.contentLength;
  if (cl === undefined) {
    if (!datagram) return fail('header/Content-Length', 'missing on a stream transport', message);
  } else if (body.length > cl) {
    message.body = body.subarray(0, cl);
  } else if (body.length < cl) {
    return fail('body', `Content-Length ${cl} is larger than the ${body.length} bytes of body`, message);
  }

  if (versionError !== undefined) return fail('start-line/version', `unsupported version ${versionError.slice(0, 20)}`, message);
  return { ok: true, message };
}

function limitFail(what: string): ParseResult {
  return { ok: false, error: new SipParseError('message', `exceeds the ${what} limit`, 'ERR_SIP_LIMIT') };
}

/** Index of the CRLF CRLF (or LF LF) that ends the header section; -1 when absent. */
function findHeadEndText(s: string): number {
  const i = s.indexOf('\r\n\r\n');
  if (i >= 0) {
    const j = s.indexOf('\n\n');
    return j >= 0 && j < i ? j : i;
  }
  return s.indexOf('\n\n');
}

function findHeadEndBytes(b: Uint8Array): number {
  const n = b.length;
  for (let i = 0; i + 1 < n; i++) {
    if (b[i] === 0x0a) {
      if (b[i + 1] === 0x0a) return i;
      if (b[i + 1] === 0x0d && b[i + 2] === 0x0a) return i - 1 >= 0 && b[i - 1] === 0x0d ? i - 1 : -1;
    }
  }
  return -1;
}

type NodeBufferLike = Uint8Array & { utf8Slice?: (start: number, end: number) => string };

function decodeHead(b: Uint8Array, end: number): string {
  // Node's Buffer decodes UTF-8 several times faster than TextDecoder for short strings.
  const nb = b as NodeBufferLike;
  if (typeof nb.utf8Slice === 'function') return nb.utf8Slice(0, end);
  return decoder.decode(b.subarray(0, end));
}
