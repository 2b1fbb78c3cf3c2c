/**
 * SIP.js 0.21.x adapter.
 *
 * API: `Core.Parser.parseMessage(data: string, logger)` (exported from the
 * package root as `Core.Parser`, also as lib/core/messages/parser.js) returns
 * an IncomingRequestMessage / IncomingResponseMessage, or undefined on error.
 * The logger is only used on errors; we pass a real one from Core.LoggerFactory.
 *
 * The parser is a TypeScript port of JsSIP's (same header set parsed eagerly:
 * top Via, From, To, Call-ID, CSeq, Contact, Record-Route, Content-Length,
 * Content-Type, Max-Forwards, ...), with a different generated PEG grammar.
 *
 * Quirks found:
 *  - The grammar has NO start rule for Route nor Authorization:
 *    `parseHeader('route')` fails and *removes* the Route header from the
 *    message. Route is read with the `Record_Route` rule (same ABNF) through
 *    the exported `Grammar.parse`; auth.* is n/a (SIP.js only parses
 *    challenges), so on the REGISTER it does not parse Authorization at all.
 *  - `message.cseq` is the number only; the CSeq method is on
 *    `parseHeader('cseq').method` (`message.method` is the request method).
 *  - Header names in `headers` are "headerized" ("Record-Route"), lookups go
 *    through a string-munging `headerize()` on every getHeader/parseHeader.
 */
import { Core, Grammar } from 'sip.js';
import { NA, numOrNull, type Adapter, type ContactFields, type Fields, type Input, type RouteFields } from '../fields.js';

type NameAddrHeader = Core.NameAddrHeader;
type IncomingMessage = Core.IncomingMessage;

const logger = new Core.LoggerFactory().getLogger('sip.parser');

function route(na: NameAddrHeader): RouteFields {
  const u = na.uri;
  return { host: u.host, port: numOrNull(u.port), lr: u.hasParam('lr') };
}

function extract(input: Input): Fields {
  const m: IncomingMessage | undefined = Core.Parser.parseMessage(input as string, logger);
  if (m === undefined) throw new Error('sip.js: parseMessage() failed');

  const cseq = m.parseHeader('cseq') as { value: number; method: string };
  const mf = m.parseHeader('max-forwards') as number | undefined;
  const cl = m.parseHeader('content-length') as number | undefined;
  // `via` is declared as {host, port} in the .d.ts; the grammar also sets branch.
  const via = m.via as { host: string; port?: number; branch?: string };

  const routes: RouteFields[] = [];
  if (m.hasHeader('route')) {
    for (const raw of m.getHeaders('route')) {
      const items: unknown = Grammar.parse(raw, 'Record_Route');
      if (!Array.isArray(items)) throw new Error('sip.js: bad Route');
      for (const it of items as Array<{ parsed: NameAddrHeader }>) routes.push(route(it.parsed));
    }
  }
  const rr: RouteFields[] = [];
  if (m.hasHeader('record-route')) {
    const count = m.getHeaders('record-route').length;
    for (let i = 0; i < count; i++) rr.push(route(m.parseHeader('record-route', i) as NameAddrHeader));
  }
  const contact: ContactFields[] = [];
  if (m.hasHeader('contact')) {
    const count = m.getHeaders('contact').length;
    for (let i = 0; i < count; i++) {
      const c = m.parseHeader('contact', i) as NameAddrHeader;
      const u = c.uri;
      contact.push({ user: u.user ?? null, host: u.host, port: numOrNull(u.port), expires: numOrNull(c.getParam('expires')) });
    }
  }

  return {
    viaHost: via.host,
    viaPort: numOrNull(via.port),
    viaBranch: m.viaBranch ?? null,
    fromTag: m.fromTag ?? null,
    toTag: m.toTag ?? null,
    callId: m.callId,
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

export const sipjsAdapter: Adapter = { name: 'sip.js', input: 'string', extract };
