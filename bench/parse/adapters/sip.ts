/**
 * `sip` 0.0.6 (kirm/sip.js, CommonJS, no types) adapter.
 *
 * API: `require('sip').parse(data)` returns a plain object
 * `{ method, uri, version, headers, content }` (or `{ status, reason, ... }`),
 * undefined on a bad start line. Header names are lower-cased, compact forms
 * expanded. Parsed eagerly: via (ALL Via values), to, from, contact, route,
 * record-route, path, cseq, content-length, *-authenticate, *-authorization,
 * authentication-info, refer-to. Everything else is the raw string (repeated
 * headers joined with ',').
 *
 * Quirks found:
 *  - `headers['max-forwards']` (and `expires`) are raw strings → Number().
 *  - Contact/From/To `uri` is the raw URI string; Route/Record-Route URIs are
 *    parsed. Contact URIs are parsed here with the package's own
 *    `sip.parseUri()` (a proxy needs host/port).
 *  - parseUri() returns `port: NaN` when the URI has no port (Via gives
 *    undefined) - normalised to "absent".
 *  - Authorization values keep their double quotes (`username: '"bob"'`);
 *    the package's `unq()` helper lives in digest.js but is not exported, so
 *    the adapter strips them with an equivalent one-liner.
 *  - Exceptions thrown by a header parser are swallowed (the header is just
 *    missing), and parse() calls `data.toString('binary')`, so a Buffer would
 *    be decoded as latin1.
 *  - `require('sip')` also loads its transports (net, dgram, tls, ws).
 */
import { createRequire } from 'node:module';
import { numOrNull, unquote, type Adapter, type ContactFields, type Fields, type Input, type RouteFields } from '../fields.js';

interface KUri {
  schema: string;
  user?: string;
  host: string;
  port: number; // NaN when absent
  params: Record<string, string | null>;
}
interface KAor<U> {
  name?: string;
  uri: U;
  params: Record<string, string | null>;
}
interface KVia {
  host: string;
  port?: number;
  params: Record<string, string | null>;
}
interface KAuth {
  scheme: string;
  [param: string]: string;
}
interface KHeaders {
  via: KVia[];
  from: KAor<string>;
  to: KAor<string>;
  'call-id': string;
  cseq: { seq: number; method: string };
  'max-forwards'?: string;
  route?: KAor<KUri>[];
  'record-route'?: KAor<KUri>[];
  contact?: KAor<string>[] | '*';
  'content-length'?: number;
  authorization?: KAuth[];
}
interface KMessage {
  headers: KHeaders;
}

const require = createRequire(import.meta.url);
const sip = require('sip') as {
  parse(data: string): KMessage | undefined;
  parseUri(s: string): KUri | undefined;
};

function route(r: KAor<KUri>): RouteFields {
  const u = r.uri;
  return { host: u.host, port: numOrNull(u.port), lr: 'lr' in u.params };
}

function extract(input: Input): Fields {
  const m = sip.parse(input as string);
  if (m === undefined) throw new Error('sip: parse() failed');
  const h = m.headers;
  const via = h.via[0]!;

  const routes: RouteFields[] = [];
  if (h.route !== undefined) for (const r of h.route) routes.push(route(r));
  const rr: RouteFields[] = [];
  if (h['record-route'] !== undefined) for (const r of h['record-route']) rr.push(route(r));

  const contact: ContactFields[] = [];
  const hc = h.contact;
  if (hc !== undefined && hc !== '*') {
    for (const c of hc) {
      const u = sip.parseUri(c.uri);
      if (u === undefined) throw new Error('sip: bad Contact URI');
      contact.push({ user: u.user ?? null, host: u.host, port: numOrNull(u.port), expires: numOrNull(c.params['expires']) });
    }
  }

  const a = h.authorization?.[0];
  const mf = h['max-forwards'];

  return {
    viaHost: via.host,
    viaPort: numOrNull(via.port),
    viaBranch: via.params['branch'] ?? null,
    fromTag: h.from.params['tag'] ?? null,
    toTag: h.to.params['tag'] ?? null,
    callId: h['call-id'],
    cseqSeq: h.cseq.seq,
    cseqMethod: h.cseq.method,
    maxForwards: mf === undefined ? null : Number(mf),
    route: routes,
    recordRoute: rr,
    contact,
    contentLength: numOrNull(h['content-length']),
    auth:
      a === undefined
        ? null
        : {
            username: unquote(a['username'] ?? ''),
            realm: unquote(a['realm'] ?? ''),
            nonce: unquote(a['nonce'] ?? ''),
            uri: unquote(a['uri'] ?? ''),
            response: unquote(a['response'] ?? ''),
          },
  };
}

export const sipAdapter: Adapter = { name: 'sip', input: 'string', extract };
