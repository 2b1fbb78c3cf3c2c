/**
 * Header names (RFC 3261 §7.3.3, §20): compact forms, canonical spelling for places and output,
 * and which headers are lists (comma-separated values may be split, §7.3.1) or single-valued.
 */

/** Compact form → long form, lower-case (RFC 3261 §7.3.3 and the IANA header registry). */
const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  o: 'event',
  u: 'allow-events',
  r: 'refer-to',
  b: 'referred-by',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
  n: 'identity-info',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'rack': 'RAck',
  'rseq': 'RSeq',
  'p-asserted-identity': 'P-Asserted-Identity',
  'sip-etag': 'SIP-ETag',
  'sip-if-match': 'SIP-If-Match',
};

/** Headers whose values form a comma-separated list (RFC 3261 §7.3.1 and §20 grammar). */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route', 'allow', 'supported', 'require',
  'proxy-require', 'unsupported', 'accept', 'accept-encoding', 'accept-language', 'alert-info',
  'call-info', 'content-encoding', 'content-language', 'error-info', 'in-reply-to', 'warning',
  'allow-events', 'reply-to',
]);

/** Headers that may appear once at most (RFC 3261 §20, Table 2 and the single-value grammar). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'call-id', 'cseq', 'from', 'to', 'max-forwards', 'content-length', 'content-type', 'expires',
  'min-expires', 'date',
]);

const keyCache = new Map<string, string>();

/** The lower-case long form of a header name: `v` → `via`, `Call-Id` → `call-id`. */
export function headerKey(name: string): string {
  const cached = keyCache.get(name);
  if (cached !== undefined) return cached;
  const lower = name.toLowerCase();
  const key = COMPACT[lower] ?? lower;
  if (keyCache.size < 1024) keyCache.set(name, key);
  return key;
}

/** The usual spelling of a header for output and error places: `call-id` → `Call-ID`. */
export function canonicalName(key: string): string {
  const special = CANONICAL[key];
  if (special !== undefined) return special;
  return key.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}
