/**
 * Parley adapter (src/sip). Fed either the decoded string or the raw
 * datagram bytes (Buffer / Uint8Array) - both go through the same
 * `parseMessage()` and the same field reads.
 *
 * Parley parses lazily: headers are indexed at parse time and decoded when
 * first read through their getters (`via`, `topVia`, `from`, `contact`,
 * `authorization`, ...). Every field below is read through those getters, so
 * the lazy work is inside the timed region.
 */
import { parseMessage, type NameAddr } from '../../../dist/sip/index.js';
import type { Adapter, ContactFields, DigestFields, Fields, Input, RouteFields } from '../fields.js';

function route(na: NameAddr): RouteFields {
  const u = na.uri;
  if (u.kind === 'sip') return { host: u.host, port: u.port ?? null, lr: u.lr };
  return { host: u.toString(), port: null, lr: false }; // tel: / absoluteURI (not in these messages)
}

function extract(input: Input): Fields {
  const r = parseMessage(input);
  if (!r.ok) throw new Error('parley: ' + r.error.place + ': ' + r.error.detail);
  const m = r.message;
  const via = m.topVia; // parsed without touching the other Via values
  if (via === undefined) throw new Error('parley: no Via');

  const routes: RouteFields[] = [];
  for (const na of m.route) routes.push(route(na));
  const rr: RouteFields[] = [];
  for (const na of m.recordRoute) rr.push(route(na));

  const contact: ContactFields[] = [];
  for (const c of m.contact) {
    const u = c.uri;
    contact.push(
      u.kind === 'sip'
        ? { user: u.user ?? null, host: u.host, port: u.port ?? null, expires: c.expires ?? null }
        : { user: null, host: u.toString(), port: null, expires: c.expires ?? null },
    );
  }

  const a = m.authorization[0];
  const auth: DigestFields | null =
    a === undefined
      ? null
      : { username: a.username ?? '', realm: a.realm ?? '', nonce: a.nonce ?? '', uri: a.uri ?? '', response: a.response ?? '' };

  return {
    viaHost: via.host,
    viaPort: via.port ?? null,
    viaBranch: via.branch ?? null,
    fromTag: m.from.tag ?? null,
    toTag: m.to.tag ?? null,
    callId: m.callId,
    cseqSeq: m.cseq.seq,
    cseqMethod: m.cseq.method,
    maxForwards: m.maxForwards ?? null,
    route: routes,
    recordRoute: rr,
    contact,
    contentLength: m.contentLength ?? null,
    auth,
  };
}

export const parleyStringAdapter: Adapter = { name: 'parley', input: 'string', extract };
export const parleyBufferAdapter: Adapter = { name: 'parley (Buffer)', input: 'buffer', extract };
