// sipp's message traces (-trace_msg, written by every run of support/sipp.ts): parsing, and
// reading them for assertions: headers, the message flow, Via, Record-Route and Contact values,
// and a header-by-header comparison of two responses.

/** One message from sipp's -trace_msg file. */
export interface SippTraceEntry {
  readonly direction: 'sent' | 'received';
  /** As sipp names it: UDP, TCP, TLS. */
  readonly transport: string;
  readonly time: string;
  /** The message, CRLF normalised to LF, trailing blank lines removed. */
  readonly text: string;
  readonly startLine: string;
  /** Responses: the status code. */
  readonly status?: number;
  /** Requests: the method. */
  readonly method?: string;
}

/** Parse a -trace_msg file. */
export function parseSippTrace(content: string): SippTraceEntry[] {
  const entries: SippTraceEntry[] = [];
  const chunks = content.replace(/\r\n/g, '\n').split(/^-{20,}[ \t]*(.*)$/m);
  // split with a capture group: [before, time1, body1, time2, body2, ...]
  for (let i = 1; i + 1 < chunks.length; i += 2) {
    const time = chunks[i]!.trim();
    const body = chunks[i + 1]!.replace(/^\n/, '');
    const m = /^(\w+) message (sent|received)[^\n]*\n/.exec(body);
    if (m === null) continue;
    const text = body.slice(m[0].length).replace(/^\n+/, '').replace(/\n+$/, '');
    const startLine = text.split('\n')[0] ?? '';
    const status = /^SIP\/2\.0 (\d{3})\b/.exec(startLine);
    const method = /^([A-Za-z]+) \S+ SIP\/2\.0$/.exec(startLine);
    entries.push({
      direction: m[2] as 'sent' | 'received',
      transport: m[1]!,
      time,
      text,
      startLine,
      ...(status ? { status: Number(status[1]) } : {}),
      ...(method ? { method: method[1] } : {}),
    });
  }
  return entries;
}

/**
 * The header fields of a message (a traced one, or raw text) in order, as [lower-case name,
 * value], continuation lines unfolded (RFC 3261 §7.3.1).
 */
export function headerFields(entry: SippTraceEntry | string): Array<[string, string]> {
  const text = (typeof entry === 'string' ? entry : entry.text).replace(/\r\n/g, '\n');
  const head = (text.split('\n\n')[0] ?? '').replace(/\n[ \t]+/g, ' ');
  const out: Array<[string, string]> = [];
  for (const line of head.split('\n').slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) out.push([line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()]);
  }
  return out;
}

/** Every value of the header `name` (full name, case-insensitive; one per header line, not split at commas). */
export function headers(entry: SippTraceEntry | string, name: string): string[] {
  const want = name.toLowerCase();
  return headerFields(entry).filter(([n]) => n === want).map(([, v]) => v);
}

/** Value of the first header `name` of a message. */
export function header(entry: SippTraceEntry | string, name: string): string | undefined {
  return headers(entry, name)[0];
}

/** The tag parameter of a To/From value. */
export function tagOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : /;\s*tag\s*=\s*([^;,\s>]+)/i.exec(value)?.[1];
}

/** "> INVITE" for a request sipp sent, "< 407" for a response it received (and "< INVITE", "> 200"). */
export function step(e: SippTraceEntry): string {
  const what = e.method ?? String(e.status ?? e.startLine);
  return `${e.direction === 'sent' ? '>' : '<'} ${what}`;
}

/**
 * The trace without retransmissions: a message identical to an earlier one in the same
 * direction is dropped (UDP retransmissions, when a machine under load answers later than T1;
 * a new request or response always differs in branch, CSeq or tag). The retransmission suites
 * check retransmissions themselves.
 */
export function distinct(trace: readonly SippTraceEntry[]): SippTraceEntry[] {
  const seen = new Set<string>();
  return trace.filter((e) => {
    const key = `${e.direction}\n${e.text}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The flow of a trace as steps, without retransmissions and 100 Trying (hop-by-hop, optional). */
export function flow(trace: readonly SippTraceEntry[]): string[] {
  return distinct(trace).filter((e) => e.status !== 100).map(step);
}

/** Messages sipp received (requests when `method` is given, responses when `status` is), without retransmissions. */
export function received(trace: readonly SippTraceEntry[], what: { method?: string; status?: number } = {}): SippTraceEntry[] {
  return distinct(trace).filter((e) => e.direction === 'received' && (what.method === undefined || e.method === what.method) && (what.status === undefined || e.status === what.status));
}

/** Messages sipp sent, without retransmissions. */
export function sent(trace: readonly SippTraceEntry[], what: { method?: string; status?: number } = {}): SippTraceEntry[] {
  return distinct(trace).filter((e) => e.direction === 'sent' && (what.method === undefined || e.method === what.method) && (what.status === undefined || e.status === what.status));
}

/** Split a header value at commas that separate values (not inside <...> or quotes). */
export function splitValues(value: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = value.slice(start).trim();
  if (last !== '') out.push(last);
  return out;
}

/** Every value of a multi-value header (Via, Record-Route, Route, Contact), in order. */
export function values(entry: SippTraceEntry, name: string): string[] {
  return headers(entry, name).flatMap(splitValues);
}

export interface ViaValue {
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ReadonlyMap<string, string>;
}

/** "SIP/2.0/UDP 127.0.0.1:5060;branch=...;rport" */
export function parseVia(value: string): ViaValue {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*(\w+)\s+(\[[^\]]+\]|[^;:\s]+)(?::(\d+))?\s*(.*)$/i.exec(value.trim());
  if (m === null) throw new Error(`not a Via value: ${value}`);
  return { transport: m[1]!.toUpperCase(), host: m[2]!, port: m[3] === undefined ? undefined : Number(m[3]), params: params(m[4]!) };
}

/** The Vias of a message, top first. */
export function vias(entry: SippTraceEntry): ViaValue[] {
  return values(entry, 'Via').map(parseVia);
}

export interface NameAddr {
  readonly uri: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly user: string | undefined;
  /** Parameters of the URI (inside <>: lr, transport...). */
  readonly uriParams: ReadonlyMap<string, string>;
  /** Parameters of the header value (after >: expires, q...). */
  readonly params: ReadonlyMap<string, string>;
}

/** `<sip:user@host:port;uriparams>;params` (or `*`, which has no URI: throws). */
export function parseNameAddr(value: string): NameAddr {
  const m = /^[^<]*<([^>]*)>(.*)$/.exec(value.trim());
  const uri = m ? m[1]! : value.trim().split(';')[0]!;
  const rest = m ? m[2]! : value.trim().slice(uri.length);
  const u = /^sips?:(?:([^@]*)@)?(\[[^\]]+\]|[^;:?]+)(?::(\d+))?(.*)$/i.exec(uri);
  if (u === null) throw new Error(`not a SIP name-addr: ${value}`);
  return { uri, user: u[1], host: u[2]!, port: u[3] === undefined ? undefined : Number(u[3]), uriParams: params(u[4]!), params: params(rest) };
}

function params(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of text.split(';')) {
    const t = p.trim();
    if (t === '') continue;
    const i = t.indexOf('=');
    out.set((i < 0 ? t : t.slice(0, i)).trim().toLowerCase(), i < 0 ? '' : t.slice(i + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

/** The Contact values of a message (a REGISTER's 200 lists every binding). */
export function contacts(entry: SippTraceEntry): NameAddr[] {
  return values(entry, 'Contact').map(parseNameAddr);
}

export function recordRoutes(entry: SippTraceEntry): NameAddr[] {
  return values(entry, 'Record-Route').map(parseNameAddr);
}

/** The digest parameters of one challenge (WWW-Authenticate / Proxy-Authenticate value). */
export function digestParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = value.replace(/^\s*Digest\s+/i, '');
  const re = /([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)/g;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) out.set(m[1]!.toLowerCase(), m[2]!.replace(/^"(.*)"$/s, '$1'));
  return out;
}

