/**
 * JsSIP 3.13.x adapter.
 *
 * API: `require('jssip/lib/Parser.js').parseMessage(data: string, ua)` returns
 * an IncomingRequest / IncomingResponse (or undefined on error). `ua` is only
 * stored on IncomingRequest (used by reply()), so parsing needs no UA at all.
 * JsSIP's package has no "exports" map and does not re-export the parser from
 * its main entry, hence the deep require (same one JsSIP's Transport uses).
 *
 * At parse time JsSIP parses: top Via, From, To, Call-ID, CSeq, Contact,
 * Record-Route, Content-Length, Content-Type, Max-Forwards (and a few
 * UA-side headers). Everything else (Route, Authorization, Expires, ...) is
 * kept raw and parsed lazily by `parseHeader(name, idx)`, if JsSIP has a
 * grammar rule for it.
 *
 * Quirks found:
 *  - No grammar rule for Authorization / Proxy-Authorization (JsSIP is a UA:
 *    it only parses challenges). auth.* is therefore n/a, and on the REGISTER
 *    JsSIP does *not* parse the ~250-byte Authorization header at all.
 *  - `parseHeader('route')` on a comma-separated Route value ("<a>, <b>")
 *    returns only the LAST route (with a bogus `password` field), so Route is
 *    read with the `Record_Route` rule (same ABNF) via JsSIP's own Grammar.
 *  - The valueless `rport` Via param is dropped from the parsed Via.
 *  - `getHeader('content-length')` is the raw string; the number comes from
 *    `parseHeader('content-length')` (cached by the parser).
 *  - `parseHeader()` deletes the header from the message when it fails.
 */
import { createRequire } from 'node:module';
import { NA, numOrNull, type Adapter, type ContactFields, type Fields, type Input, type RouteFields } from '../fields.js';

interface JsUri {
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  hasParam(key: string): boolean;
}
interface JsNameAddr {
  readonly uri: JsUri;
  getParam(key: string): string | null | undefined;
}
interface JsVia {
  host: string;
  port?: number;
  branch?: string;
}
interface JsIncomingMessage {
  via: JsVia;
  from_tag: string | undefined;
  to_tag: string | undefined;
  call_id: string;
  hasHeader(name: string): boolean;
  getHeaders(name: string): string[];
  parseHeader(name: string, idx?: number): unknown;
}
interface JsRecordRouteItem {
  parsed: JsNameAddr;
}

const require = createRequire(import.meta.url);
const Parser = require('jssip/lib/Parser.js') as {
  parseMessage(data: string, ua: unknown): JsIncomingMessage | undefined;
};
const Grammar = require('jssip/lib/Grammar.js') as { parse(input: string, rule: string): unknown };

function route(na: JsNameAddr): RouteFields {
  const u = na.uri;
  return { host: u.host, port: numOrNull(u.port), lr: u.hasParam('lr') };
}

function extract(input: Input): Fields {
  const m = Parser.parseMessage(input as string, undefined);
  if (m === undefined) throw new Error('jssip: parseMessage() failed');

  const cseq = m.parseHeader('cseq') as { value: number; method: string };
  const mf = m.parseHeader('max-forwards') as number | undefined;
  const cl = m.parseHeader('content-length') as number | undefined;

  const routes: RouteFields[] = [];
  if (m.hasHeader('route')) {
    for (const raw of m.getHeaders('route')) {
      const items = Grammar.parse(raw, 'Record_Route');
      if (!Array.isArray(items)) throw new Error('jssip: bad Route');
      for (const it of items as JsRecordRouteItem[]) routes.push(route(it.parsed));
    }
  }
  const rr: RouteFields[] = [];
  if (m.hasHeader('record-route')) {
    const count = m.getHeaders('record-route').length;
    for (let i = 0; i < count; i++) rr.push(route(m.parseHeader('record-route', i) as JsNameAddr));
  }
  const contact: ContactFields[] = [];
  if (m.hasHeader('contact')) {
    const count = m.getHeaders('contact').length;
    for (let i = 0; i < count; i++) {
      const c = m.parseHeader('contact', i) as JsNameAddr;
      const u = c.uri;
      contact.push({ user: u.user ?? null, host: u.host, port: numOrNull(u.port), expires: numOrNull(c.getParam('expires')) });
    }
  }

  return {
    viaHost: m.via.host,
    viaPort: numOrNull(m.via.port),
    viaBranch: m.via.branch ?? null,
    fromTag: m.from_tag ?? null,
    toTag: m.to_tag ?? null,
    callId: m.call_id,
    cseqSeq: cseq.value,
    cseqMethod: cseq.method,
    maxForwards: mf ?? null,
    route: routes,
    recordRoute: rr,
    contact,
    contentLength: cl ?? null,
    auth: m.hasHeader('authorization') ? NA : null,
  };
}

export const jssipAdapter: Adapter = { name: 'jssip', input: 'string', extract };
