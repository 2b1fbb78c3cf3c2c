import { GrammarError, SipParseError } from '../errors.js';
import { contactIn, parseContact, type Contact, MAX_DELTA_SECONDS } from '../grammar/contact.js';
import { cseqIn, parseUnsigned, unsignedIn, type CSeq } from '../grammar/cseq.js';
import { authIn, parseAuthValue, type AuthValue } from '../grammar/digest.js';
import { parseMediaType, type MediaType } from '../grammar/media-type.js';
import { callIdIn, parseDate, parseTokenList } from '../grammar/misc.js';
import { addressIn, NameAddr, parseNameAddr } from '../grammar/name-addr.js';
import { listEnd, splitList } from '../grammar/scanner.js';
import { trimWs } from '../grammar/chars.js';
import { parseUri, type Uri } from '../grammar/uri.js';
import { parseVia, viaIn, type Via } from '../grammar/via.js';
import { canonicalName, headerKey } from './header-names.js';

/** One header field line as received or added. */
export interface HeaderField {
  /** The name as written (`v`, `Via`, `VIA`). */
  readonly name: string;
  /** Lower-case long form (`via`); compact forms resolved. */
  readonly key: string;
  /** The value with line folding replaced by one SP and surrounding whitespace trimmed. */
  readonly value: string;
  /** The field exactly as received (name, colon, value, folding), without the final CRLF; absent once edited. */
  readonly raw?: string;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * A field as the parser found it, kept as offsets into the received header text: the value is
 * cut out (and unfolded) only when read, and the raw text only when serialized.
 */
export class ReceivedField implements HeaderField {
  private _value: string | undefined;
  constructor(
    readonly name: string,
    readonly key: string,
    /** The received header text the offsets point into. */
    readonly src: string,
    private readonly start: number,
    private readonly end: number,
    private readonly valueStart: number,
    /** True when the value spans folded lines (then it is read from its unfolded copy, `value`). */
    readonly folded: boolean,
  ) {}

  /** Where the trimmed value starts in `src` (for reading it in place; not meaningful when folded). */
  get valueFrom(): number {
    let a = this.valueStart;
    const t = this.src;
    while (a < this.end && (t.charCodeAt(a) === 0x20 || t.charCodeAt(a) === 0x09)) a++;
    return a;
  }

  /** Where the trimmed value ends in `src`. */
  get valueTo(): number {
    let b = this.end;
    const t = this.src;
    while (b > this.valueStart && (t.charCodeAt(b - 1) === 0x20 || t.charCodeAt(b - 1) === 0x09)) b--;
    return b;
  }

  get raw(): string {
    return this.src.slice(this.start, this.end);
  }

  get value(): string {
    if (this._value === undefined) {
      let a = this.valueStart;
      let b = this.end;
      const t = this.src;
      while (a < b && (t.charCodeAt(a) === 0x20 || t.charCodeAt(a) === 0x09)) a++;
      while (b > a && (t.charCodeAt(b - 1) === 0x20 || t.charCodeAt(b - 1) === 0x09)) b--;
      let v = t.slice(a, b);
      if (this.folded) v = trimWs(v.replace(/\r?\n[ \t]+/g, ' '));
      this._value = v;
    }
    return this._value;
  }
}

/**
 * What SIP requests and responses share (RFC 3261 §7): header fields in their order and a body.
 * Typed accessors parse their header on first use and cache it; a malformed value makes the
 * accessor throw SipParseError with the place `header/<Name>`. `parseMessage` has already checked
 * the headers every element reads (top Via, From, To, Call-ID, CSeq, Max-Forwards,
 * Content-Length), so those accessors do not throw on a parsed message.
 */
export abstract class SipMessage {
  /** Header fields in order. Edit through the methods below so that caches stay right. */
  readonly fields: HeaderField[];
  private _body: Uint8Array | undefined;
  private _bodyText: string | undefined;
  // a received body as a range of the datagram or frame: the view is made only when read
  private _bodySrc: Uint8Array | undefined;
  private _bodyStart = 0;
  private _bodyEnd = 0;
  /** The received start line and header fields, while nothing has been edited (fast serialization). */
  protected pristine: string | undefined;
  private cache: Map<string, unknown> | undefined;
  // parse-once slots of the headers every element reads (a Map lookup costs more than a field)
  private _topVia: Via | undefined | null = null;
  private _from: NameAddr | undefined;
  private _to: NameAddr | undefined;
  private _callId: string | undefined;
  private _cseq: CSeq | undefined;
  private _maxForwards: number | undefined | null = null;
  private _expires: number | undefined | null = null;
  private _contentLength: number | undefined | null = null;
  // parse-once slots of the list headers a proxy or registrar reads on most requests
  private _contact: Contact[] | undefined;
  private _route: NameAddr[] | undefined;
  private _recordRoute: NameAddr[] | undefined;
  private _authorization: AuthValue[] | undefined;
  private _proxyAuthorization: AuthValue[] | undefined;

  constructor(fields: HeaderField[] = [], body: Uint8Array | string = EMPTY) {
    this.fields = fields;
    if (typeof body === 'string') this._bodyText = body;
    else this._body = body;
  }

  /** The body bytes. */
  get body(): Uint8Array {
    if (this._body === undefined) {
      const src = this._bodySrc;
      if (src !== undefined) this._body = this._bodyEnd > this._bodyStart ? src.subarray(this._bodyStart, this._bodyEnd) : EMPTY;
      else this._body = this._bodyText ? encoder.encode(this._bodyText) : EMPTY;
    }
    return this._body;
  }
  set body(b: Uint8Array) {
    this._body = b;
    this._bodyText = undefined;
    this._bodySrc = undefined;
    this.pristine = undefined;
  }

  /**
   * The received header section (start line to the last field, without the empty line) when the
   * message is unedited and carries a Content-Length equal to its body: it can be sent as it is.
   */
  pristineHead(): string | undefined {
    if (this.pristine === undefined) return undefined;
    return this.contentLength === this.bodyLength ? this.pristine : undefined;
  }

  /** Called by the parser: the text the fields point into, valid until the first edit. */
  setPristine(head: string): void {
    this.pristine = head;
  }

  /** Length of the body in bytes, without encoding a body that arrived as text. */
  get bodyLength(): number {
    if (this._body !== undefined) return this._body.length;
    if (this._bodySrc !== undefined) return this._bodyEnd - this._bodyStart;
    return utf8Length(this._bodyText ?? '');
  }

  /** Called by the parser: the body is `src[start, end)`, not copied, viewed when first read. */
  setReceivedBody(src: Uint8Array, start: number, end: number): void {
    this._body = undefined;
    this._bodyText = undefined;
    this._bodySrc = src;
    this._bodyStart = start;
    this._bodyEnd = end;
  }

  /** Called by the parser: a datagram's body cut to its Content-Length (RFC 3261 §18.3). */
  cutBody(length: number): void {
    if (this._body === undefined && this._bodySrc !== undefined) this._bodyEnd = Math.min(this._bodyEnd, this._bodyStart + length);
    else this.body = this.body.subarray(0, length);
  }

  abstract readonly isRequest: boolean;
  /** The start line as it will be serialized. */
  abstract startLine(): string;

  // ---- raw access -------------------------------------------------------------------------

  /** The first field's value for `name` (any form: `Via`, `v`, `via`). */
  get(name: string): string | undefined {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return f.value;
    return undefined;
  }

  /** Every field's value for `name`, in order (not split at commas). */
  getAll(name: string): string[] {
    return this.valuesOf(headerKey(name));
  }

  /** Every list element for `name`, split at separating commas across all its fields. */
  list(name: string): string[] {
    const out: string[] = [];
    for (const v of this.valuesOf(headerKey(name))) for (const e of splitList(v)) out.push(e);
    return out;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    for (const f of this.fields) if (f.key === key) return true;
    return false;
  }

  /** Add a field after the last one. */
  append(name: string, value: string): this {
    const key = headerKey(name);
    this.fields.push({ name: outName(name, key), key, value });
    this.invalidate(key);
    return this;
  }

  /** Add a field before the first field of the same name (or at the top when there is none). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    let i = this.fields.findIndex((f) => f.key === key);
    if (i < 0) i = 0;
    this.fields.splice(i, 0, { name: outName(name, key), key, value });
    this.invalidate(key);
    return this;
  }

  /** Replace all fields of `name` by one (in the place of the first), or append it. */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const i = this.fields.findIndex((f) => f.key === key);
    if (i < 0) return this.append(name, value);
    this.fields[i] = { name: this.fields[i]!.name, key, value };
    for (let j = this.fields.length - 1; j > i; j--) if (this.fields[j]!.key === key) this.fields.splice(j, 1);
    this.invalidate(key);
    return this;
  }

  /** Remove every field of `name`; returns how many were removed. */
  remove(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (let j = this.fields.length - 1; j >= 0; j--) {
      if (this.fields[j]!.key === key) {
        this.fields.splice(j, 1);
        n++;
      }
    }
    if (n > 0) this.invalidate(key);
    return n;
  }

  /**
   * Remove the first list element of `name` (top Via, top Route): the first field loses its first
   * value, or goes when it had only one. Returns the removed element's text.
   */
  removeFirstValue(name: string): string | undefined {
    const key = headerKey(name);
    const i = this.fields.findIndex((f) => f.key === key);
    if (i < 0) return undefined;
    const f = this.fields[i]!;
    const parts = splitList(f.value);
    if (parts.length <= 1) this.fields.splice(i, 1);
    else this.fields[i] = { name: f.name, key, value: parts.slice(1).join(', ') };
    this.invalidate(key);
    return parts[0];
  }

  /**
   * Remove the first `count` list elements of `name` (the top Route values naming this proxy):
   * what `count` calls of removeFirstValue do, in one pass over the fields, each split once (one
   * call per value split the first field again each time: quadratic on thousands of values).
   * Returns how many were removed.
   */
  removeFirstValues(name: string, count: number): number {
    const key = headerKey(name);
    let left = count;
    for (let i = 0; left > 0 && i < this.fields.length; ) {
      const f = this.fields[i]!;
      if (f.key !== key) {
        i++;
        continue;
      }
      const parts = splitList(f.value);
      if (parts.length <= left) {
        this.fields.splice(i, 1);
        left -= parts.length;
      } else {
        this.fields[i] = { name: f.name, key, value: parts.slice(left).join(', ') };
        left = 0;
      }
    }
    if (left !== count) this.invalidate(key);
    return count - left;
  }

  /**
   * Forget the parsed forms of the header fields (Via, From, To and the typed caches; they are
   * parsed again if read). For a message kept long after it was handled, such as the request of
   * a transaction waiting out Timer L or M: its text stays, its object graph goes.
   */
  dropParsed(): void {
    // a received body is a view of its datagram: kept on its own, the datagram (its whole
    // ArrayBuffer) goes (`_bodySrc`: read later, the view would keep all of it)
    const body = this._body ?? (this._bodySrc === undefined ? undefined : this.body);
    if (body !== undefined && body.byteLength < body.buffer.byteLength) {
      this._body = new Uint8Array(body);
      this._bodySrc = undefined;
    }
    this._topVia = null;
    this._from = undefined;
    this._to = undefined;
    this._maxForwards = null;
    this._expires = null;
    this._contentLength = null;
    this._contact = undefined;
    this._route = undefined;
    this._recordRoute = undefined;
    this._authorization = undefined;
    this._proxyAuthorization = undefined;
    this.cache = undefined;
  }

  protected invalidate(key: string): void {
    this.pristine = undefined;
    this.cache?.delete(key);
    switch (key) {
      case 'via':
        this._topVia = null;
        break;
      case 'from':
        this._from = undefined;
        break;
      case 'to':
        this._to = undefined;
        break;
      case 'call-id':
        this._callId = undefined;
        break;
      case 'cseq':
        this._cseq = undefined;
        break;
      case 'max-forwards':
        this._maxForwards = null;
        break;
      case 'expires':
        this._expires = null;
        break;
      case 'content-length':
        this._contentLength = null;
        break;
      case 'contact':
        this._contact = undefined;
        break;
      case 'route':
        this._route = undefined;
        break;
      case 'record-route':
        this._recordRoute = undefined;
        break;
      case 'authorization':
        this._authorization = undefined;
        break;
      case 'proxy-authorization':
        this._proxyAuthorization = undefined;
        break;
    }
  }

  protected valuesOf(key: string): string[] {
    const out: string[] = [];
    for (const f of this.fields) if (f.key === key) out.push(f.value);
    return out;
  }

  /** The first field's value for a lower-case long name, or undefined. */
  private first(key: string): string | undefined {
    const fs = this.fields;
    for (let i = 0; i < fs.length; i++) if (fs[i]!.key === key) return fs[i]!.value;
    return undefined;
  }

  /**
   * Parse every list element of every field of `key` (a `*` Contact is left to the caller),
   * without the intermediate arrays of `valuesOf` and `splitList`: a received field is read in
   * place, any other from its value. `parseList` reads one element from its start up to the comma
   * after it and leaves that comma's index in `listEnd.pos` (-1 at the end of the value): one pass
   * over the value, not a scan for the separators and then a parse of each element.
   */
  private elements<T>(key: string, parseList: (src: string, start: number, end: number) => T): T[];
  private elements<T>(key: string, parseList: (src: string, start: number, end: number) => T, star: true): T[] | undefined;
  /** With `star`, an element that is `*` stops the reading: undefined (the caller checks `Contact: *`). */
  private elements<T>(key: string, parseList: (src: string, start: number, end: number) => T, star = false): T[] | undefined {
    // the first element as a one-element literal, not a push on `[]` (which reserves 17 slots,
    // kept with the message): most lists have one element
    let out: T[] | undefined;
    const fs = this.fields;
    try {
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i]!;
        if (f.key !== key) continue;
        let src: string;
        let from: number;
        let to: number;
        if (f instanceof ReceivedField && !f.folded) {
          src = f.src;
          from = f.valueFrom;
          to = Math.max(from, f.valueTo);
        } else {
          src = f.value;
          from = 0;
          to = src.length;
        }
        for (;;) {
          // list elements are trimmed (LWS around COMMA, §7.3.1)
          let a = from;
          while (a < to && (src.charCodeAt(a) === 0x20 || src.charCodeAt(a) === 0x09)) a++;
          if (star && a < to && src.charCodeAt(a) === 0x2a /* * */) {
            let b = a + 1;
            while (b < to && (src.charCodeAt(b) === 0x20 || src.charCodeAt(b) === 0x09)) b++;
            if (b === to || src.charCodeAt(b) === 0x2c) return undefined;
          }
          const el = parseList(src, a, to);
          if (out === undefined) out = [el];
          else out.push(el);
          const comma = listEnd.pos;
          if (comma < 0) break;
          from = comma + 1;
        }
      }
    } catch (e) {
      if (e instanceof GrammarError) throw new SipParseError(`header/${canonicalName(key)}`, e.message);
      throw e;
    }
    return out ?? [];
  }

  /** The first field of `key` parsed with `parseIn`, in place when it was received unfolded; undefined when absent. */
  private firstIn<T>(key: string, parseIn: (src: string, start: number, end: number) => T): T | undefined {
    const fs = this.fields;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f.key !== key) continue;
      try {
        return parseField(f, parseIn);
      } catch (e) {
        if (e instanceof GrammarError) throw new SipParseError(`header/${canonicalName(key)}`, e.message);
        throw e;
      }
    }
    return undefined;
  }

  /** Every field of `key` parsed whole with `parseIn` (headers whose values hold commas, like credentials), in place when received unfolded. */
  private wholeValues<T>(key: string, parseIn: (src: string, start: number, end: number) => T): T[] {
    const out: T[] = [];
    const fs = this.fields;
    try {
      for (let i = 0; i < fs.length; i++) {
        const f = fs[i]!;
        if (f.key === key) out.push(parseField(f, parseIn));
      }
    } catch (e) {
      if (e instanceof GrammarError) throw new SipParseError(`header/${canonicalName(key)}`, e.message);
      throw e;
    }
    return out;
  }

  /** Parse-once cache for typed values; `parse` gets the values of all fields of `key`. */
  protected typed<T>(key: string, cacheKey: string, parse: (values: string[]) => T): T {
    const c = (this.cache ??= new Map());
    if (c.has(cacheKey)) return c.get(cacheKey) as T;
    let v: T;
    try {
      v = parse(this.valuesOf(key));
    } catch (e) {
      if (e instanceof GrammarError) throw new SipParseError(`header/${canonicalName(key)}`, e.message);
      throw e;
    }
    c.set(cacheKey, v);
    return v;
  }

  // ---- typed access -----------------------------------------------------------------------

  /** All Via values, top first (RFC 3261 §20.42). */
  get via(): Via[] {
    return this.typed('via', 'via', (vs) => vs.flatMap((v) => splitList(v)).map(parseVia));
  }

  /** The top Via; parsed without touching the others. */
  get topVia(): Via | undefined {
    if (this._topVia === null) this._topVia = this.firstIn('via', topViaIn);
    return this._topVia;
  }

  get from(): NameAddr {
    return (this._from ??= this.firstIn('from', nameAddrIn) ?? missing('from'));
  }

  get to(): NameAddr {
    return (this._to ??= this.firstIn('to', nameAddrIn) ?? missing('to'));
  }

  get callId(): string {
    return (this._callId ??= this.firstIn('call-id', callIdIn) ?? missing('call-id'));
  }

  get cseq(): CSeq {
    return (this._cseq ??= this.firstIn('cseq', cseqIn) ?? missing('cseq'));
  }

  get maxForwards(): number | undefined {
    if (this._maxForwards === null) this._maxForwards = this.firstIn('max-forwards', maxForwardsIn);
    return this._maxForwards;
  }

  get contentLength(): number | undefined {
    if (this._contentLength === null) this._contentLength = this.firstIn('content-length', contentLengthIn);
    return this._contentLength;
  }

  get contentType(): MediaType | undefined {
    return this.typed('content-type', 'content-type', (vs) => (vs.length === 0 ? undefined : parseMediaType(vs[0]!)));
  }

  /** Contact values (RFC 3261 §20.10); empty for `Contact: *` (see `contactStar`). */
  get contact(): Contact[] {
    return (this._contact ??= this.contacts());
  }

  private contacts(): Contact[] {
    // `Contact: *` (§10.2.2) must stand alone: a `*` element sends the values to the checking path
    const contacts = this.elements('contact', contactListIn, true);
    if (contacts !== undefined) return contacts;
    try {
      return parseContacts(this.valuesOf('contact'));
    } catch (e) {
      if (e instanceof GrammarError) throw new SipParseError('header/Contact', e.message);
      throw e;
    }
  }

  /** True for `Contact: *` (remove all bindings, §10.2.2). */
  get contactStar(): boolean {
    const vs = this.valuesOf('contact');
    return vs.length === 1 && trimWs(vs[0]!) === '*';
  }

  get route(): NameAddr[] {
    return (this._route ??= this.elements('route', nameAddrListIn));
  }

  get recordRoute(): NameAddr[] {
    return (this._recordRoute ??= this.elements('record-route', nameAddrListIn));
  }

  /** Path (RFC 3327). */
  get path(): NameAddr[] {
    return this.typed('path', 'path', parseAddressList);
  }

  get expires(): number | undefined {
    if (this._expires === null) this._expires = this.firstIn('expires', expiresIn);
    return this._expires;
  }

  get minExpires(): number | undefined {
    return this.typed('min-expires', 'min-expires', (vs) =>
      vs.length === 0 ? undefined : parseUnsigned(vs[0]!, MAX_DELTA_SECONDS, 'Min-Expires'),
    );
  }

  get require(): string[] {
    return this.typed('require', 'require', parseTokenList);
  }
  get proxyRequire(): string[] {
    return this.typed('proxy-require', 'proxy-require', parseTokenList);
  }
  get supported(): string[] {
    return this.typed('supported', 'supported', parseTokenList);
  }
  get unsupported(): string[] {
    return this.typed('unsupported', 'unsupported', parseTokenList);
  }
  get allow(): string[] {
    return this.typed('allow', 'allow', parseTokenList);
  }

  get wwwAuthenticate(): AuthValue[] {
    return this.typed('www-authenticate', 'www-authenticate', (vs) => vs.map(parseAuthValue));
  }
  get authorization(): AuthValue[] {
    return (this._authorization ??= this.wholeValues('authorization', authIn));
  }
  get proxyAuthenticate(): AuthValue[] {
    return this.typed('proxy-authenticate', 'proxy-authenticate', (vs) => vs.map(parseAuthValue));
  }
  get proxyAuthorization(): AuthValue[] {
    return (this._proxyAuthorization ??= this.wholeValues('proxy-authorization', authIn));
  }

  get userAgent(): string | undefined {
    return this.get('user-agent');
  }
  get server(): string | undefined {
    return this.get('server');
  }

  get date(): Date | undefined {
    return this.typed('date', 'date', (vs) => (vs.length === 0 ? undefined : parseDate(vs[0]!)));
  }

  /**
   * Check the headers named (lower-case long names), or every header Parley can type when
   * `keys` is omitted. Returns the first error, or undefined when all parse.
   */
  validate(keys?: readonly string[]): SipParseError | undefined {
    const all = keys ?? ALL_TYPED;
    for (const k of all) {
      const getter = ACCESSORS[k];
      if (getter === undefined) continue;
      try {
        getter(this);
      } catch (e) {
        if (e instanceof SipParseError) return e;
        throw e;
      }
    }
    return undefined;
  }
}

const ACCESSORS: Record<string, (m: SipMessage) => unknown> = {
  via: (m) => m.via,
  'via#top': (m) => m.topVia,
  from: (m) => m.from,
  to: (m) => m.to,
  'call-id': (m) => m.callId,
  cseq: (m) => m.cseq,
  'max-forwards': (m) => m.maxForwards,
  'content-length': (m) => m.contentLength,
  'content-type': (m) => m.contentType,
  contact: (m) => m.contact,
  route: (m) => m.route,
  'record-route': (m) => m.recordRoute,
  path: (m) => m.path,
  expires: (m) => m.expires,
  'min-expires': (m) => m.minExpires,
  require: (m) => m.require,
  'proxy-require': (m) => m.proxyRequire,
  supported: (m) => m.supported,
  unsupported: (m) => m.unsupported,
  allow: (m) => m.allow,
  'www-authenticate': (m) => m.wwwAuthenticate,
  authorization: (m) => m.authorization,
  'proxy-authenticate': (m) => m.proxyAuthenticate,
  'proxy-authorization': (m) => m.proxyAuthorization,
  date: (m) => m.date,
};

type ByteLength = (s: string, enc: 'utf8') => number;
const nodeByteLength: ByteLength | undefined = (globalThis as { Buffer?: { byteLength: ByteLength } }).Buffer?.byteLength;

/** The first Via value of a field, read in place up to the comma after it (the others are not read). */
function topViaIn(src: string, start: number, end: number): Via {
  return viaIn(src, start, end, undefined, true);
}

/** One element of a Route or Record-Route list, up to the comma after it (see SipMessage.elements). */
const nameAddrListIn = (src: string, start: number, end: number): NameAddr => addressIn(src, start, end, NameAddr, undefined, true);
/** One element of a Contact list, up to the comma after it. */
const contactListIn = (src: string, start: number, end: number): Contact => contactIn(src, start, end, undefined, true);

const nameAddrIn = (src: string, start: number, end: number): NameAddr => addressIn(src, start, end, NameAddr);

/** `f` parsed whole with `parseIn`: in place in the received text when it came unfolded, else its value. */
function parseField<T>(f: HeaderField, parseIn: (src: string, start: number, end: number) => T): T {
  if (f instanceof ReceivedField && !f.folded) {
    const from = f.valueFrom;
    return parseIn(f.src, from, Math.max(from, f.valueTo));
  }
  const v = f.value;
  return parseIn(v, 0, v.length);
}

function missing(key: string): never {
  throw new SipParseError(`header/${canonicalName(key)}`, 'missing');
}
const maxForwardsIn = (t: string, a: number, b: number): number => unsignedIn(t, a, b, 255, 'Max-Forwards');
const expiresIn = (t: string, a: number, b: number): number => unsignedIn(t, a, b, MAX_DELTA_SECONDS, 'Expires');
const contentLengthIn = (t: string, a: number, b: number): number => unsignedIn(t, a, b, 2 ** 31 - 1, 'Content-Length');

/** Bytes of the UTF-8 encoding of `s` (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8Length(s: string): number {
  if (nodeByteLength !== undefined) return nodeByteLength(s, 'utf8');
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** Every typed header (the top Via is covered by `via`). */
const ALL_TYPED = Object.keys(ACCESSORS).filter((k) => k !== 'via#top');

function outName(name: string, key: string): string {
  return name.length === 1 || name === key ? canonicalName(key) : name;
}

function required(vs: string[], what: string): string {
  if (vs.length === 0) throw new GrammarError(what, 0);
  return vs[0]!;
}

function parseContacts(vs: string[]): Contact[] {
  const out: Contact[] = [];
  let star = false;
  for (const v of vs) {
    for (const e of splitList(v)) {
      if (e === '*') star = true;
      else out.push(parseContact(e));
    }
  }
  if (star && (out.length > 0 || vs.length > 1)) throw new GrammarError('"*" must be the only Contact', 0);
  return out;
}

function parseAddressList(vs: string[]): NameAddr[] {
  const out: NameAddr[] = [];
  for (const v of vs) for (const e of splitList(v)) out.push(parseNameAddr(e));
  return out;
}

/** A SIP request (RFC 3261 §7.1). */
export class SipRequest extends SipMessage {
  readonly isRequest = true as const;
  private _method: string;
  private _uri: string;
  private _parsedUri: Uri | undefined;
  private _startLine: string | undefined;

  constructor(method: string, uri: string | Uri, fields?: HeaderField[], body?: Uint8Array | string, startLine?: string) {
    super(fields, body);
    this._method = method;
    this._uri = typeof uri === 'string' ? uri : uri.toString();
    if (typeof uri !== 'string') this._parsedUri = uri;
    this._startLine = startLine;
  }

  get method(): string {
    return this._method;
  }
  set method(m: string) {
    this._method = m;
    this._startLine = undefined;
    this.pristine = undefined;
  }

  /** The Request-URI as text. */
  get uri(): string {
    return this._uri;
  }

  /** The Request-URI, parsed (checked by parseMessage, so this does not throw on a parsed request). */
  get requestUri(): Uri {
    if (this._parsedUri === undefined) {
      try {
        this._parsedUri = parseUri(this._uri);
      } catch (e) {
        throw new SipParseError('start-line/request-uri', (e as Error).message);
      }
    }
    return this._parsedUri;
  }

  /** Rewrite the Request-URI (a proxy retargeting, §16.5). */
  set requestUri(uri: Uri) {
    this._parsedUri = uri;
    this._uri = uri.toString();
    this._startLine = undefined;
    this.pristine = undefined;
  }

  startLine(): string {
    return (this._startLine ??= `${this._method} ${this._uri} SIP/2.0`);
  }
}

/** A SIP response (RFC 3261 §7.2). */
export class SipResponse extends SipMessage {
  readonly isRequest = false as const;
  private _status: number;
  private _reason: string;
  private _startLine: string | undefined;

  constructor(status: number, reason: string, fields?: HeaderField[], body?: Uint8Array | string, startLine?: string) {
    super(fields, body);
    this._status = status;
    this._reason = reason;
    this._startLine = startLine;
  }

  get status(): number {
    return this._status;
  }
  get reason(): string {
    return this._reason;
  }
  setStatus(status: number, reason: string): void {
    this._status = status;
    this._reason = reason;
    this._startLine = undefined;
    this.pristine = undefined;
  }

  startLine(): string {
    return (this._startLine ??= `SIP/2.0 ${this._status} ${this._reason}`);
  }
}

export type AnySipMessage = SipRequest | SipResponse;
