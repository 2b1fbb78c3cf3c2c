import { SipParseError } from '../errors.js';
import { isToken, TOKEN } from '../grammar/chars.js';
import { isMethod, methodAt } from '../grammar/cseq.js';
import { checkSipUri, isSipSchemeAt, parseUri, type Uri } from '../grammar/uri.js';
import { headerKey, canonicalName } from './header-names.js';
import { DEFAULT_LIMITS, type ParseLimits } from './limits.js';
import { ReceivedField, SipRequest, SipResponse, type AnySipMessage, type HeaderField } from './sip-message.js';

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
const EMPTY_BODY = new Uint8Array(0);
const NO_OPTIONS: ParseOptions = Object.freeze({});


/**
 * Parse one SIP message from bytes or text (RFC 3261 §7, §25). Never throws on any input: a
 * malformed message gives `{ ok: false, error }` with the place it failed.
 *
 * Checked here: the start line; every header name; folding; limits; the headers every element
 * reads (top Via, From, To, Call-ID, CSeq and its method, Max-Forwards, Content-Length, Expires,
 * Date); single-valued headers that appear twice; the mandatory headers of §8.1.1; Content-Length
 * against the body. Every other header is parsed on first access.
 */
export function parseMessage(input: Uint8Array | string, options: ParseOptions = NO_OPTIONS): ParseResult {
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

// Bits for the headers the parser checks while splitting fields.
const B_VIA = 1, B_FROM = 2, B_TO = 4, B_CALLID = 8, B_CSEQ = 16, B_MAXFWD = 32, B_CLEN = 64, B_CTYPE = 128;
const B_EXPIRES = 256, B_MINEXP = 512, B_DATE = 1024;
const MANDATORY: ReadonlyArray<[number, string]> = [[B_VIA, 'Via'], [B_FROM, 'From'], [B_TO, 'To'], [B_CALLID, 'Call-ID'], [B_CSEQ, 'CSeq']];

/**
 * Header names as they are usually written, with their key (literals, so that the keys are the
 * same string objects as the accessors' and compare by identity) and their bit, for a lookup
 * without slicing or hashing.
 */
const KNOWN: ReadonlyArray<readonly [name: string, key: string, bit: number]> = [
  ['Via', 'via', B_VIA], ['v', 'via', B_VIA], ['From', 'from', B_FROM], ['f', 'from', B_FROM], ['To', 'to', B_TO],
  ['t', 'to', B_TO], ['Call-ID', 'call-id', B_CALLID], ['i', 'call-id', B_CALLID], ['CSeq', 'cseq', B_CSEQ],
  ['Max-Forwards', 'max-forwards', B_MAXFWD], ['Contact', 'contact', 0], ['m', 'contact', 0],
  ['Content-Length', 'content-length', B_CLEN], ['l', 'content-length', B_CLEN], ['Content-Type', 'content-type', B_CTYPE],
  ['c', 'content-type', B_CTYPE], ['Route', 'route', 0], ['Record-Route', 'record-route', 0], ['Allow', 'allow', 0],
  ['Supported', 'supported', 0], ['k', 'supported', 0], ['User-Agent', 'user-agent', 0], ['Server', 'server', 0],
  ['Expires', 'expires', B_EXPIRES], ['Authorization', 'authorization', 0], ['Proxy-Authorization', 'proxy-authorization', 0],
  ['WWW-Authenticate', 'www-authenticate', 0], ['Proxy-Authenticate', 'proxy-authenticate', 0], ['Require', 'require', 0],
  ['Proxy-Require', 'proxy-require', 0], ['Path', 'path', 0], ['Min-Expires', 'min-expires', B_MINEXP], ['Accept', 'accept', 0],
  ['Date', 'date', B_DATE], ['Call-Id', 'call-id', B_CALLID], ['Timestamp', 'timestamp', 0], ['Subject', 'subject', 0],
  ['s', 'subject', 0], ['Event', 'event', 0], ['o', 'event', 0], ['Allow-Events', 'allow-events', 0], ['u', 'allow-events', 0],
];
const KNOWN_NAMES = KNOWN.map((k) => k[0]);
const KNOWN_KEYS = KNOWN.map((k) => k[1]);
const KNOWN_BITS = KNOWN.map((k) => k[2]);
/** Candidates by name length, then first character: usually one, so one comparison. */
const KNOWN_BY_LENGTH: number[][] = [];
KNOWN_NAMES.forEach((n, i) => (KNOWN_BY_LENGTH[n.length] ??= []).push(i));

/** Candidates by first character (ASCII). */
const KNOWN_BY_FIRST: number[][] = [];
KNOWN_NAMES.forEach((n, i) => (KNOWN_BY_FIRST[n.charCodeAt(0)] ??= []).push(i));

/**
 * Index in KNOWN of the name that starts a field at text[start] and is followed by the colon or
 * whitespace, or -1: the usual field is recognised in one pass over its name.
 */
function knownAt(text: string, start: number, end: number): number {
  const candidates = KNOWN_BY_FIRST[text.charCodeAt(start)];
  if (candidates === undefined) return -1;
  for (let i = 0; i < candidates.length; i++) {
    const k = candidates[i]!;
    const name = KNOWN_NAMES[k]!;
    const len = name.length;
    if (start + len >= end) continue;
    // the character after the name first: it rules out the other candidates of the same initial
    const c = text.charCodeAt(start + len);
    if (c !== 0x3a && c !== 0x20 && c !== 0x09) continue;
    let j = 1;
    while (j < len && text.charCodeAt(start + j) === name.charCodeAt(j)) j++;
    if (j === len) return k;
  }
  return -1;
}

/** Index in KNOWN of the name at head[start, end), or -1 (compared by character: startsWith with a position is a slow call). */
function knownHeader(head: string, start: number, end: number): number {
  const candidates = KNOWN_BY_LENGTH[end - start];
  if (candidates === undefined) return -1;
  const c = head.charCodeAt(start);
  for (let i = 0; i < candidates.length; i++) {
    const k = candidates[i]!;
    const name = KNOWN_NAMES[k]!;
    if (name.charCodeAt(0) !== c) continue;
    let j = 1;
    while (j < name.length && head.charCodeAt(start + j) === name.charCodeAt(j)) j++;
    if (j === name.length) return k;
  }
  return -1;
}

function bitOf(key: string): number {
  switch (key) {
    case 'via': return B_VIA;
    case 'from': return B_FROM;
    case 'to': return B_TO;
    case 'call-id': return B_CALLID;
    case 'cseq': return B_CSEQ;
    case 'max-forwards': return B_MAXFWD;
    case 'content-length': return B_CLEN;
    case 'content-type': return B_CTYPE;
    case 'expires': return B_EXPIRES;
    case 'min-expires': return B_MINEXP;
    case 'date': return B_DATE;
    default: return 0;
  }
}

function parseUnsafe(input: Uint8Array | string, options: ParseOptions): ParseResult {
  const limits = options.limits === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...options.limits };
  const datagram = options.datagram ?? true;

  let head: string;
  // the text the fields are read from (see below)
  let text: string;
  let body: Uint8Array | string;
  // a body received as bytes: its range in `input`, handed to the message without a view
  let bodyBytes: Uint8Array | undefined;
  let bodyStart = 0;
  // a limit passed while the header section could still be read: the message is returned with
  // the error (as far as it was read), so that a server can answer 513 (RFC 3261 §21.5.7)
  let limitError: string | undefined;
  if (typeof input === 'string') {
    if (input.length > limits.maxMessageSize) {
      limitError = 'message size';
      input = input.slice(0, limits.maxMessageSize);
    }
    // RFC 3261 §7.5: "Implementations processing SIP messages over stream-oriented transports MUST
    // ignore any CRLF appearing before the start-line". Tolerated on datagrams too.
    if (input.charCodeAt(0) === 0x0d || input.charCodeAt(0) === 0x0a) input = input.replace(/^[\r\n]+/, '');
    let end = findHeadEndText(input);
    if (end < 0) {
      // DEVIATION(RFC 3261 §7): a datagram whose last header line ends with CRLF but has no empty
      // line after it is taken as having no body (seen in the RFC 4475 archive's baddn).
      if (limitError !== undefined) return limitFail(limitError);
      if (!datagram || !input.endsWith('\r\n')) return fail('headers', 'no empty line after the header fields');
      end = input.length - 2;
    }
    head = input.slice(0, end);
    text = input;
    const bodyStart = input.charCodeAt(end) === 0x0d ? end + 4 : end + 2;
    body = bodyStart >= input.length ? '' : input.slice(bodyStart);
  } else {
    if (input.length > limits.maxMessageSize) {
      // the header section may still be read, within the limit, so that a server can answer 513
      limitError = 'message size';
      input = input.subarray(0, limits.maxMessageSize);
    }
    if (input[0] === 0x0d || input[0] === 0x0a) {
      let p = 0;
      while (input[p] === 0x0d || input[p] === 0x0a) p++;
      input = input.subarray(p);
    }
    // The usual datagram: its first bytes read as Latin-1 (one character per byte, so offsets
    // are the same), the end of the header section found in that text, and when the header
    // section is ASCII (checked) its UTF-8 reading is the same text: no search byte by byte and
    // no second decoding. Anything else takes the byte path below.
    const window = latin1Window(input);
    let end = window === undefined ? -1 : findHeadEndLatin1(window);
    // the whole datagram when it fits the window (its body is usually ASCII too): no subarray,
    // whose view object costs as much as the check itself
    if (end >= 0 && ((input.length <= LATIN1_WINDOW && nodeIsAscii!(input)) || nodeIsAscii!(input.subarray(0, end)))) {
      text = window!;
      head = text.slice(0, end);
    } else {
      end = findHeadEndBytes(input);
      if (end < 0) {
        const n = input.length;
        if (limitError !== undefined) return limitFail(limitError);
        if (!datagram || n < 2 || input[n - 2] !== 0x0d || input[n - 1] !== 0x0a) return fail('headers', 'no empty line after the header fields');
        end = n - 2;
      }
      head = decodeHead(input, end);
      text = head;
    }
    bodyStart = input[end] === 0x0d ? end + 4 : input[end + 1] === 0x0a ? end + 2 : end + 3;
    body = EMPTY_BODY;
    bodyBytes = input;
  }

  // Fields are read from `text`, the received string itself for string input (a slice of it
  // would make every character read go through the slice), the decoded header section for bytes;
  // either way only its first head.length characters are the header section.
  const n = head.length;
  let eol = text.indexOf('\n');
  if (eol < 0 || eol > n) eol = n;
  const startLine = text.charCodeAt(eol - 1) === 0x0d ? text.slice(0, eol - 1) : text.slice(0, eol);
  let pos = eol + 1;

  // ---- header fields ----
  const fields: HeaderField[] = [];
  let seen = 0;
  let duplicate: string | undefined;
  while (pos < n) {
    const lineStart = pos;
    let valueEnd: number;
    let folded = false;
    // a field ends at a line end not followed by SP/HTAB (§7.3.1 folding)
    for (;;) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0 || nl > n) nl = n;
      pos = nl + 1;
      valueEnd = nl;
      if (pos >= n) break;
      const c = text.charCodeAt(pos);
      if (c !== 0x20 && c !== 0x09) break;
      folded = true;
    }
    const rawEnd = text.charCodeAt(valueEnd - 1) === 0x0d ? valueEnd - 1 : valueEnd;
    if (rawEnd - lineStart > limits.maxLineLength) {
      // the field is left out; the others are still read (for an answer, 513)
      limitError ??= 'header line length';
      continue;
    }
    if (fields.length >= limits.maxHeaders) {
      // past the count, only the fields an answer copies are kept (bounded: twice the limit)
      limitError ??= 'header count';
      if (fields.length >= 2 * limits.maxHeaders || !isAnswerField(text, lineStart, rawEnd)) continue;
    }
    // field-name HCOLON, HCOLON = *( SP / HTAB ) ":" SWS. The usual shape (a token, then the
    // colon) is read in one pass; anything else takes the checks below.
    let known = knownAt(text, lineStart, rawEnd);
    let nameEnd = lineStart;
    if (known >= 0) nameEnd += KNOWN_NAMES[known]!.length;
    else {
      while (nameEnd < rawEnd) {
        const c = text.charCodeAt(nameEnd);
        if (c > 127 || TOKEN[c] !== 1) break;
        nameEnd++;
      }
    }
    let colon = nameEnd;
    while (colon < rawEnd && (text.charCodeAt(colon) === 0x20 || text.charCodeAt(colon) === 0x09)) colon++;
    if (nameEnd === lineStart || colon >= rawEnd || text.charCodeAt(colon) !== 0x3a) {
      colon = text.indexOf(':', lineStart);
      if (colon < 0 || colon >= rawEnd || colon === lineStart) {
        return fail('headers', `header field without a name and colon: "${text.slice(lineStart, Math.min(rawEnd, lineStart + 40))}"`);
      }
      nameEnd = colon;
      while (nameEnd > lineStart && (text.charCodeAt(nameEnd - 1) === 0x20 || text.charCodeAt(nameEnd - 1) === 0x09)) nameEnd--;
      known = knownHeader(text, lineStart, nameEnd);
    }
    let name: string;
    let key: string;
    let bit: number;
    if (known >= 0) {
      name = KNOWN_NAMES[known]!;
      key = KNOWN_KEYS[known]!;
      bit = KNOWN_BITS[known]!;
    } else {
      name = text.slice(lineStart, nameEnd);
      if (!isToken(name)) return fail('headers', `bad header name "${name.slice(0, 40)}"`);
      key = headerKey(name);
      bit = bitOf(key);
    }
    if (bit !== 0) {
      if (seen & bit && bit !== B_VIA && duplicate === undefined) duplicate = key;
      seen |= bit;
    }
    fields.push(new ReceivedField(name, key, text, lineStart, rawEnd, colon + 1, folded));
  }

  // ---- start line (§7.1, §7.2) ----
  let message: AnySipMessage;
  let versionError: string | undefined;
  if (startLine.startsWith('SIP/')) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF
    const sp1 = startLine.indexOf(' ');
    if (sp1 < 0) return fail('start-line', 'status line without a status code');
    let sp2 = startLine.indexOf(' ', sp1 + 1);
    if (sp2 < 0) sp2 = startLine.length; // tolerate a missing SP before an empty reason
    // Status-Code = 3DIGIT, 100 to 699 (§7.2, §21)
    const c0 = startLine.charCodeAt(sp1 + 1) - 0x30;
    const c1 = startLine.charCodeAt(sp1 + 2) - 0x30;
    const c2 = startLine.charCodeAt(sp1 + 3) - 0x30;
    if (sp2 !== sp1 + 4 || !(c0 >= 1 && c0 <= 6) || !(c1 >= 0 && c1 <= 9) || !(c2 >= 0 && c2 <= 9)) {
      return fail('start-line/status', `bad status code "${startLine.slice(sp1 + 1, sp2).slice(0, 20)}"`);
    }
    const reason = sp2 + 1 >= startLine.length ? '' : startLine.slice(sp2 + 1);
    // Reason-Phrase = *(reserved / unreserved / escaped / UTF8-NONASCII / UTF8-CONT / SP / HTAB): no control characters
    for (let i = 0; i < reason.length; i++) {
      const c = reason.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) return fail('start-line/reason', 'control character in reason phrase');
    }
    if (!isSip20In(startLine, 0, sp1)) {
      const version = startLine.slice(0, sp1);
      if (version.toUpperCase() !== 'SIP/2.0') versionError = version;
    }
    message = new SipResponse(c0 * 100 + c1 * 10 + c2, reason, fields, body, startLine);
  } else {
    // Request-Line = Method SP Request-URI SP SIP-Version CRLF
    // A request whose line is malformed is still returned (as `message`) when its method can be
    // read, so that a server can answer 400 (RFC 4475 §3.1.2.7–3.1.2.11 expect one).
    const sp1 = startLine.indexOf(' ');
    const sp2 = sp1 < 0 ? -1 : startLine.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || sp2 === sp1 + 1 || sp2 === startLine.length - 1 || startLine.indexOf(' ', sp2 + 1) >= 0) {
      return fail('start-line', 'request line must be "Method SP Request-URI SP SIP-Version"', partialRequest(startLine, fields, body, bodyBytes, bodyStart));
    }
    // a common method as its shared literal (the CSeq's is the same object: compared by identity)
    const method = methodAt(startLine, 0, sp1);
    const uri = startLine.slice(sp1 + 1, sp2);
    if (!isMethod(method)) return fail('start-line/method', `bad method "${method.slice(0, 40)}"`);
    // the usual version compared in place (a slice of fewer than 13 characters is a copy)
    if (!isSip20In(startLine, sp2 + 1, startLine.length)) {
      const version = startLine.slice(sp2 + 1);
      if (!isSipVersionShape(version, 0, version.length)) return fail('start-line/version', `bad version "${version.slice(0, 20)}"`, partialRequest(startLine, fields, body, bodyBytes, bodyStart));
      if (version.toUpperCase() !== 'SIP/2.0') versionError = version;
    }
    // A SIP or SIPS Request-URI is checked here and built when the request reads it (a proxy
    // forwarding on a Route, or answering from the top Via, never does); others are built now.
    let parsedUri: Uri | string;
    let uriHeaders: boolean;
    try {
      if (isSipSchemeAt(uri, 0, uri.length)) {
        uriHeaders = checkSipUri(uri);
        parsedUri = uri;
      } else {
        const u = parseUri(uri);
        uriHeaders = u.kind === 'sip' && u.headers.size > 0;
        parsedUri = u;
      }
    } catch (e) {
      return fail('start-line/request-uri', (e as Error).message, partialRequest(startLine, fields, body, bodyBytes, bodyStart));
    }
    // RFC 3261 §19.1.1, Table 1: URI headers are "not allowed" in a Request-URI.
    if (uriHeaders) {
      return fail('start-line/request-uri', 'headers are not allowed in a Request-URI', partialRequest(startLine, fields, body, bodyBytes, bodyStart));
    }
    message = new SipRequest(method, parsedUri, fields, body, startLine);
  }

  if (bodyBytes !== undefined) message.setReceivedBody(bodyBytes, bodyStart, Math.max(bodyStart, bodyBytes.length));
  if (limitError !== undefined) return { ok: false, error: limitExceeded(limitError), message };

  // ---- headers every element reads (§8.1.1: the mandatory ones must be there) ----
  for (const [bit, name] of MANDATORY) if ((seen & bit) === 0) return fail(`header/${name}`, 'missing', message);
  if (duplicate !== undefined) return fail(`header/${canonicalName(duplicate)}`, 'appears more than once', message);
  try {
    void message.topVia;
    void message.from;
    void message.to;
    void message.callId;
    const cseq = message.cseq;
    if (seen & B_MAXFWD) void message.maxForwards;
    if (seen & B_CLEN) void message.contentLength;
    if (seen & B_EXPIRES) void message.expires;
    if (seen & B_DATE) void message.date;
    if (message.isRequest && cseq.method !== message.method) {
      return fail('header/CSeq', `method ${cseq.method} does not match the request method ${message.method}`, message);
    }
  } catch (e) {
    if (e instanceof SipParseError) return { ok: false, error: e, message };
    throw e;
  }

  // ---- body (§18.3) ----
  const cl = message.contentLength;
  if (cl === undefined) {
    if (!datagram) return fail('header/Content-Length', 'missing on a stream transport', message);
  } else {
    const have = message.bodyLength;
    if (have > cl) message.cutBody(cl);
    else if (have < cl) return fail('body', `Content-Length ${cl} is larger than the ${have} bytes of body`, message);
  }

  if (versionError !== undefined) return fail('start-line/version', `unsupported version ${versionError.slice(0, 20)}`, message);
  message.setPristine(head);
  return { ok: true, message };
}

/** The request with a malformed request line, for an answer (see partialRequestUri), or undefined. */
function partialRequest(
  startLine: string, fields: HeaderField[], body: Uint8Array | string, bodyBytes: Uint8Array | undefined, bodyStart: number,
): SipRequest | undefined {
  const uri = partialRequestUri(startLine);
  if (uri === undefined) return undefined;
  const request = new SipRequest(startLine.slice(0, startLine.indexOf(' ')), uri, fields, body, startLine);
  if (bodyBytes !== undefined) request.setReceivedBody(bodyBytes, bodyStart, Math.max(bodyStart, bodyBytes.length));
  return request;
}

/**
 * The Request-URI of a malformed request line of the shape "Method SP… X SP… SIP/d.d SP…" (a
 * method, then the first word after it, then a SIP version as the last word), or undefined when
 * the line does not have that shape: a request line with the fault inside, not any text at all.
 * A single left-to-right and right-to-left scan; a regular expression with two runs of spaces
 * around a lazy middle backtracked cubically on a line of spaces (issue 14).
 */
function partialRequestUri(line: string): string | undefined {
  const sp1 = line.indexOf(' ');
  if (sp1 <= 0 || !isMethod(line.slice(0, sp1))) return undefined;
  let end = line.length;
  while (end > sp1 && line.charCodeAt(end - 1) === 0x20) end--;
  const lastSp = line.lastIndexOf(' ', end - 1);
  if (lastSp <= sp1 || !isSipVersionShape(line, lastSp + 1, end)) return undefined;
  let start = sp1 + 1;
  while (start < lastSp && line.charCodeAt(start) === 0x20) start++;
  if (start >= lastSp) return '';
  const wordEnd = line.indexOf(' ', start);
  return line.slice(start, wordEnd < 0 || wordEnd > lastSp ? lastSp : wordEnd);
}

/** line[start, end) is exactly "SIP/2.0". */
function isSip20In(line: string, start: number, end: number): boolean {
  return (
    end - start === 7 && line.charCodeAt(start) === 0x53 && line.charCodeAt(start + 1) === 0x49 &&
    line.charCodeAt(start + 2) === 0x50 && line.charCodeAt(start + 3) === 0x2f && line.charCodeAt(start + 4) === 0x32 &&
    line.charCodeAt(start + 5) === 0x2e && line.charCodeAt(start + 6) === 0x30
  );
}

/** line[start, end) is "SIP/" 1*DIGIT "." 1*DIGIT, "SIP" in any case. */
function isSipVersionShape(line: string, start: number, end: number): boolean {
  if (end - start < 7 || line.slice(start, start + 4).toUpperCase() !== 'SIP/') return false;
  let p = start + 4;
  const digits = (): boolean => {
    const from = p;
    while (p < end && line.charCodeAt(p) >= 0x30 && line.charCodeAt(p) <= 0x39) p++;
    return p > from;
  };
  if (!digits() || line.charCodeAt(p) !== 0x2e) return false;
  p++;
  return digits() && p === end;
}

function limitFail(what: string): ParseResult {
  return { ok: false, error: limitExceeded(what) };
}

function limitExceeded(what: string): SipParseError {
  return new SipParseError('message', `exceeds the ${what} limit`, 'ERR_SIP_LIMIT');
}

/**
 * The field at head[start, end) is one an answer copies (Via, From, To, Call-ID, CSeq, full or
 * compact name). The colon is looked for in the first 16 characters only: a scan to the next
 * colon anywhere would make many fields without one cost quadratic time.
 */
function isAnswerField(head: string, start: number, end: number): boolean {
  const stop = Math.min(end, start + 16);
  let colon = start;
  while (colon < stop && head.charCodeAt(colon) !== 0x3a) colon++;
  if (colon >= stop) return false;
  const key = headerKey(head.slice(start, colon).trim());
  return key === 'via' || key === 'from' || key === 'to' || key === 'call-id' || key === 'cseq';
}

/** Index of the CRLF CRLF (or LF LF) that ends the header section; -1 when absent. */
function findHeadEndText(s: string): number {
  const i = s.indexOf('\r\n\r\n');
  return i >= 0 ? i : s.indexOf('\n\n');
}

function findHeadEndBytes(b: Uint8Array): number {
  // TypedArray.indexOf is a native scan: hop from LF to LF
  let i = b.indexOf(0x0a);
  while (i >= 0) {
    const next = b[i + 1];
    if (next === 0x0a) return i;
    if (next === 0x0d && b[i + 2] === 0x0a) return i >= 1 && b[i - 1] === 0x0d ? i - 1 : i;
    i = b.indexOf(0x0a, i + 1);
  }
  return -1;
}

type NodeBufferLike = Uint8Array & { utf8Slice?: (start: number, end: number) => string; latin1Slice?: (start: number, end: number) => string };

/** How much of a datagram is read as Latin-1 to find its header section (a larger one takes the byte path). */
const LATIN1_WINDOW = 4096;

/**
 * Node's `isAscii` (SIMD), looked up at run time rather than imported: this folder runs in the
 * browser phone too, where it is absent and the byte path is taken.
 */
const nodeIsAscii = (globalThis as { process?: { getBuiltinModule?: (id: string) => { isAscii?: (b: Uint8Array) => boolean } | undefined } })
  .process?.getBuiltinModule?.('node:buffer')?.isAscii;

/** The first bytes of a Node Buffer as Latin-1 text (one character per byte), or undefined. */
function latin1Window(b: Uint8Array): string | undefined {
  const nb = b as NodeBufferLike;
  if (typeof nb.latin1Slice !== 'function' || nodeIsAscii === undefined) return undefined;
  return nb.latin1Slice(0, Math.min(b.length, LATIN1_WINDOW));
}

/**
 * findHeadEndBytes on the Latin-1 reading of the bytes (the same offsets): the first LF followed
 * by LF or CRLF. A match cut by the end of the window is not seen: then -1, and the byte path
 * finds it.
 */
function findHeadEndLatin1(s: string): number {
  let i = s.indexOf('\n');
  while (i >= 0) {
    const next = s.charCodeAt(i + 1);
    if (next === 0x0a) return i;
    if (next === 0x0d && s.charCodeAt(i + 2) === 0x0a) return i >= 1 && s.charCodeAt(i - 1) === 0x0d ? i - 1 : i;
    i = s.indexOf('\n', i + 1);
  }
  return -1;
}

function decodeHead(b: Uint8Array, end: number): string {
  // Node's Buffer decodes UTF-8 several times faster than TextDecoder for short strings.
  const nb = b as NodeBufferLike;
  if (typeof nb.utf8Slice === 'function') return nb.utf8Slice(0, end);
  return decoder.decode(b.subarray(0, end));
}
