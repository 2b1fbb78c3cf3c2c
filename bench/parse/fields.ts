/**
 * The values a proxy reads from an incoming message, as extracted by one
 * parser adapter. Every adapter builds exactly this shape (same property
 * order, so one hidden class) from its own library's API.
 *
 *   null  = the header / parameter is absent from the message
 *   NA    = the library offers no API that yields this value ("n/a")
 */
export const NA: unique symbol = Symbol('n/a');
export type NA = typeof NA;

export interface RouteFields {
  host: string;
  port: number | null;
  lr: boolean;
}

export interface ContactFields {
  user: string | null;
  host: string;
  port: number | null;
  /** the contact's `expires` parameter (REGISTER); null when absent */
  expires: number | null;
}

export interface DigestFields {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
}

export interface Fields {
  viaHost: string;
  viaPort: number | null;
  viaBranch: string | null;
  fromTag: string | null;
  toTag: string | null;
  callId: string;
  cseqSeq: number;
  cseqMethod: string;
  maxForwards: number | null;
  route: RouteFields[] | NA;
  recordRoute: RouteFields[] | NA;
  contact: ContactFields[];
  contentLength: number | null;
  /** first Authorization header, null when absent */
  auth: DigestFields | null | NA;
}

export type Input = string | Uint8Array;

export interface Adapter {
  /** row label in the result tables */
  name: string;
  /** 'string' or 'buffer': what the adapter is fed */
  input: 'string' | 'buffer';
  /** parse the input and read every field a proxy needs */
  extract(input: Input): Fields;
}

/** Number | null → number, without allocating. */
function n(v: number | null): number {
  return v === null ? 0 : v;
}
function s(v: string | null): number {
  return v === null ? 0 : v.length;
}

/**
 * Cheap, allocation-free checksum over every touched value. Consumed by the
 * timing loop so the JIT cannot drop the parse or the field reads; also
 * compared (count × per-message value) after every round.
 */
export function checksum(f: Fields): number {
  let h = f.viaHost.length + n(f.viaPort) + s(f.viaBranch);
  h += s(f.fromTag) + s(f.toTag) + f.callId.length;
  h += f.cseqSeq + f.cseqMethod.length + n(f.maxForwards) + n(f.contentLength);
  if (f.route !== NA) {
    for (let i = 0; i < f.route.length; i++) {
      const r = f.route[i]!;
      h += r.host.length + n(r.port) + (r.lr ? 1 : 0);
    }
  }
  if (f.recordRoute !== NA) {
    for (let i = 0; i < f.recordRoute.length; i++) {
      const r = f.recordRoute[i]!;
      h += r.host.length + n(r.port) + (r.lr ? 1 : 0);
    }
  }
  for (let i = 0; i < f.contact.length; i++) {
    const c = f.contact[i]!;
    h += s(c.user) + c.host.length + n(c.port) + n(c.expires);
  }
  const a = f.auth;
  if (a !== null && a !== NA) {
    h += a.username.length + a.realm.length + a.nonce.length + a.uri.length + a.response.length;
  }
  return h;
}

/** Human-readable flat view, used for the verification table. */
export function flatten(f: Fields): Array<[string, string]> {
  const show = (v: string | number | null | NA): string =>
    v === NA ? 'n/a' : v === null ? '-' : String(v);
  const routes = (rs: RouteFields[] | NA): string =>
    rs === NA
      ? 'n/a'
      : rs.length === 0
        ? '-'
        : rs.map((r) => r.host + (r.port === null ? '' : ':' + r.port) + (r.lr ? ';lr' : '')).join(' , ');
  const out: Array<[string, string]> = [
    ['via.host', show(f.viaHost)],
    ['via.port', show(f.viaPort)],
    ['via.branch', show(f.viaBranch)],
    ['from.tag', show(f.fromTag)],
    ['to.tag', show(f.toTag)],
    ['call-id', show(f.callId)],
    ['cseq', f.cseqSeq + ' ' + f.cseqMethod],
    ['max-forwards', show(f.maxForwards)],
    ['route', routes(f.route)],
    ['record-route', routes(f.recordRoute)],
    [
      'contact',
      f.contact.length === 0
        ? '-'
        : f.contact
            .map(
              (c) =>
                (c.user === null ? '' : c.user + '@') +
                c.host +
                (c.port === null ? '' : ':' + c.port) +
                (c.expires === null ? '' : ' expires=' + c.expires),
            )
            .join(' , '),
    ],
    ['content-length', show(f.contentLength)],
  ];
  const a = f.auth;
  for (const k of ['username', 'realm', 'nonce', 'uri', 'response'] as const) {
    out.push(['auth.' + k, a === NA ? 'n/a' : a === null ? '-' : a[k]]);
  }
  return out;
}

/**
 * "3600" → 3600; undefined / null / '' → null; a numeric NaN (the `sip`
 * package's parseUri yields NaN for an absent port) → null; a string that is
 * not a number → NaN (shows up as a mismatch).
 */
export function numOrNull(v: string | number | null | undefined): number | null {
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'number' ? (Number.isNaN(v) ? null : v) : Number(v);
}

/** Strip one pair of surrounding double quotes (for libraries that keep them). */
export function unquote(v: string): string {
  return v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34 ? v.slice(1, -1) : v;
}
