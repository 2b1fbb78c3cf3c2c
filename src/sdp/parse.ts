/**
 * parseSdp: text → SessionDescription (RFC 8866 §5, §9 grammar), never throwing. An error names
 * the line (1-based) and what was wrong with it. Only the lines Parley interprets are checked
 * (v=, o=, s=, c=, m=); every other line is kept as written, in order, for a rewrite to keep.
 */
import { err, ok, type Result } from '../lib/result.js';
import type { MediaDescription, SdpConnection, SdpLine, SdpOrigin, SessionDescription } from './session-description.js';

/** Limits on what Parley reads (an SDP body of a SIP message is a few kilobytes). */
export const SDP_LIMITS = { maxLength: 64 * 1024, maxLines: 1000, maxMedia: 32 } as const;

export interface SdpError {
  /** 1-based line number of the fault; 0 for the description as a whole. */
  readonly line: number;
  /** What was wrong, as a sentence fragment (`c= needs "IN IP4|IP6 <address>"`). */
  readonly reason: string;
  /** `line 4: c= needs ...`, for a log or a SIP Warning. */
  readonly message: string;
}

function fault(line: number, reason: string): { readonly ok: false; readonly error: SdpError } {
  return err({ line, reason, message: line > 0 ? `line ${line}: ${reason}` : reason });
}

/** Fields of a line separated by single spaces; runs of spaces and tabs tolerated (phones write them). */
function fields(value: string): string[] {
  const out: string[] = [];
  let start = -1;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 0x20;
    if (c === 0x20 || c === 0x09) {
      if (start >= 0) out.push(value.slice(start, i));
      start = -1;
    } else if (start < 0) {
      start = i;
    }
  }
  return out;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** A decimal integer of at most `maxDigits` digits, or undefined. */
function integer(text: string, maxDigits: number): number | undefined {
  if (!isDigits(text) || text.length > maxDigits) return undefined;
  return Number(text);
}

function parseConnection(value: string): SdpConnection | undefined {
  const f = fields(value);
  if (f.length !== 3) return undefined;
  return { netType: f[0]!, addrType: f[1]!, address: f[2]! };
}

function parseOrigin(value: string): SdpOrigin | undefined {
  const f = fields(value);
  if (f.length !== 6) return undefined;
  // RFC 8866 §5.2: <sess-id> is a numeric string; <sess-version> is a version number.
  if (!isDigits(f[1]!) || !isDigits(f[2]!)) return undefined;
  return { username: f[0]!, sessionId: f[1]!, sessionVersion: f[2]!, netType: f[3]!, addrType: f[4]!, address: f[5]! };
}

function parseMediaLine(value: string, lineNo: number): Result<MediaDescription, SdpError> {
  const f = fields(value);
  const usage = 'm= needs "<media> <port>[/<count>] <proto> <fmt> ..."';
  if (f.length < 3) return fault(lineNo, usage);
  const portText = f[1]!;
  const slash = portText.indexOf('/');
  const port = integer(slash < 0 ? portText : portText.slice(0, slash), 5);
  if (port === undefined || port > 65535) return fault(lineNo, `m= port "${portText}" is not a port number`);
  let portCount: number | undefined;
  if (slash >= 0) {
    portCount = integer(portText.slice(slash + 1), 5);
    if (portCount === undefined || portCount === 0) return fault(lineNo, `m= port count "${portText}" is not a number of ports`);
  }
  const formats = f.slice(3);
  // RFC 8866 §9: media-field = %s"m" "=" media SP port ["/" integer] SP proto 1*(SP fmt) CRLF
  // DEVIATION(RFC 8866 §9): a rejected m-line (port 0) without formats is accepted; some
  // implementations write `m=video 0 RTP/AVP` when they refuse a stream.
  if (formats.length === 0 && port !== 0) return fault(lineNo, usage);
  const media: MediaDescription = { media: f[0]!, port, proto: f[2]!, formats, lines: [] };
  if (portCount !== undefined) media.portCount = portCount;
  return ok(media);
}

/**
 * RFC 8866 §5: "An SDP description consists of a number of lines of text of the form
 * <type>=<value> where <type> is exactly one case-significant character and <value> is
 * structured text whose format depends on <type>." ... "The sequence CRLF (0x0d0a) is used to end
 * a line, although parsers SHOULD be tolerant and also accept lines terminated with a single
 * newline character."
 */
export function parseSdp(text: string): Result<SessionDescription, SdpError> {
  if (text.length > SDP_LIMITS.maxLength) return fault(0, `description longer than ${SDP_LIMITS.maxLength} characters`);
  let version: number | undefined;
  let origin: SdpOrigin | undefined;
  let sessionName: string | undefined;
  let sessionConnection: SdpConnection | undefined;
  const sessionLines: SdpLine[] = [];
  const media: MediaDescription[] = [];
  let current: MediaDescription | undefined;
  let lineNo = 0;
  let lineCount = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const next = end + 1;
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
    const line = text.slice(start, end);
    start = next;
    lineNo++;
    // DEVIATION(RFC 8866 §5): empty lines (a trailing blank line, CRLF CRLF after the body)
    // are skipped rather than refused; phones send them.
    if (line.length === 0) continue;
    if (++lineCount > SDP_LIMITS.maxLines) return fault(lineNo, `more than ${SDP_LIMITS.maxLines} lines`);
    // RFC 8866 §5: "Whitespace separators are not used on either side of the "=" sign".
    if (line.length < 2 || line.charCodeAt(1) !== 0x3d) return fault(lineNo, 'not a "<type>=<value>" line');
    const type = line[0]!;
    const c = type.charCodeAt(0);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a))) return fault(lineNo, `"${type}" is not a line type (one letter)`);
    const value = line.slice(2);

    if (version === undefined) {
      // RFC 8866 §5: the session-level section starts with a "v=" line.
      if (type !== 'v') return fault(lineNo, 'a description starts with v=');
      // RFC 8866 §5.1: "The "v=" line (protocol-version) gives the version of the Session
      // Description Protocol. This memo defines version 0."
      if (value !== '0') return fault(lineNo, `v=${value}: only version 0 exists`);
      version = 0;
      continue;
    }
    switch (type) {
      case 'v':
        return fault(lineNo, 'a second v= line');
      case 'o': {
        if (current !== undefined || origin !== undefined) return fault(lineNo, 'o= only once, at session level');
        origin = parseOrigin(value);
        if (origin === undefined) return fault(lineNo, 'o= needs "<username> <sess-id> <sess-version> IN IP4|IP6 <address>" (ids in digits)');
        continue;
      }
      case 's':
        if (current !== undefined || sessionName !== undefined) return fault(lineNo, 's= only once, at session level');
        // RFC 8866 §5.3: "There MUST be one and only one "s=" line per session description. The
        // "s=" line MUST NOT be empty." DEVIATION(RFC 8866 §5.3): an empty s= is accepted
        // (and written back as it came); refusing a call for it helps no one.
        sessionName = value;
        continue;
      case 'c': {
        const connection = parseConnection(value);
        if (connection === undefined) return fault(lineNo, 'c= needs "IN IP4|IP6 <address>"');
        const holder = current ?? undefined;
        if (holder !== undefined) {
          if (holder.connection !== undefined) return fault(lineNo, 'a second c= in the media description');
          holder.connection = connection;
        } else {
          if (sessionConnection !== undefined) return fault(lineNo, 'a second c= at session level');
          sessionConnection = connection;
        }
        continue;
      }
      case 'm': {
        if (media.length >= SDP_LIMITS.maxMedia) return fault(lineNo, `more than ${SDP_LIMITS.maxMedia} m= lines`);
        const parsed = parseMediaLine(value, lineNo);
        if (!parsed.ok) return parsed;
        current = parsed.value;
        media.push(current);
        continue;
      }
      default:
        // RFC 8866 §5: "An SDP parser MUST completely ignore or reject any session description
        // that contains a type letter that it does not understand." DEVIATION(RFC 8866 §5):
        // Parley keeps such a line as written, in its place, rather than refusing the call.
        (current?.lines ?? sessionLines).push({ type, value });
    }
  }
  if (version === undefined) return fault(0, 'empty description (no v= line)');
  if (origin === undefined) return fault(0, 'no o= line');
  if (sessionName === undefined) return fault(0, 'no s= line');
  const session: SessionDescription = { version, origin, sessionName, lines: sessionLines, media };
  if (sessionConnection !== undefined) session.connection = sessionConnection;
  return ok(session);
}
