import { GrammarError } from '../errors.js';
import { TOKEN, trimWs } from './chars.js';

/**
 * A cursor over one header value (folding already replaced by SP). The grammar functions of this
 * folder read with it; a mismatch throws GrammarError, which the message layer turns into a
 * SipParseError with the header's place. Whitespace handling follows RFC 3261 §25.1: LWS/SWS may
 * stand around the separators (HCOLON, SEMI, COMMA, EQUAL, SLASH, LAQUOT, RAQUOT).
 */
export class Scanner {
  pos: number;
  /** Where the value ends in `text` (a value may be read in place, inside the header section). */
  readonly end: number;
  constructor(
    readonly text: string,
    start = 0,
    end = text.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  peek(): number {
    return this.pos < this.end ? this.text.charCodeAt(this.pos) : -1;
  }

  fail(what: string): never {
    throw new GrammarError(what, this.pos);
  }

  skipWs(): void {
    const t = this.text;
    let p = this.pos;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (c !== 0x20 && c !== 0x09) break;
      p++;
    }
    this.pos = p;
  }

  /** Consume `ch` (with optional whitespace around it) if it is next; report whether it was. */
  eat(ch: number): boolean {
    const save = this.pos;
    this.skipWs();
    if (this.peek() === ch) {
      this.pos++;
      this.skipWs();
      return true;
    }
    this.pos = save;
    return false;
  }

  expect(ch: number, what: string): void {
    if (!this.eat(ch)) this.fail(`expected ${what}`);
  }

  /** Read a token (RFC 3261 §25.1) or fail. */
  token(what = 'token'): string {
    const t = this.text;
    const start = this.pos;
    let p = start;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (c > 127 || TOKEN[c] !== 1) break;
      p++;
    }
    if (p === start) this.fail(`expected ${what}`);
    this.pos = p;
    return t.slice(start, p);
  }

  /** Read characters while `table[c] === 1` (ASCII only). May return ''. */
  run(table: Uint8Array): string {
    const t = this.text;
    const start = this.pos;
    let p = start;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (c > 127 || table[c] !== 1) break;
      p++;
    }
    this.pos = p;
    return t.slice(start, p);
  }

  /**
   * quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE. Returns the content with
   * quoted-pairs resolved. qdtext admits UTF8-NONASCII; quoted-pair escapes any byte but CR/LF.
   */
  quotedString(): string {
    this.skipWs();
    const t = this.text;
    if (this.peek() !== 0x22) this.fail('expected quoted-string');
    let p = this.pos + 1;
    let out = '';
    let runStart = p;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        out += t.slice(runStart, p);
        this.pos = p + 1;
        return out;
      }
      if (c === 0x5c) {
        out += t.slice(runStart, p);
        if (p + 1 >= this.end) break;
        const n = t.charCodeAt(p + 1);
        if (n === 0x0a || n === 0x0d) this.fail('bad quoted-pair');
        out += t[p + 1];
        p += 2;
        runStart = p;
        continue;
      }
      p++;
    }
    this.fail('unterminated quoted-string');
  }

  /** Step over a quoted-string (as quotedString reads it) without building its content. */
  skipQuotedString(): void {
    this.skipWs();
    const t = this.text;
    if (this.peek() !== 0x22) this.fail('expected quoted-string');
    let p = this.pos + 1;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (c === 0x22) {
        this.pos = p + 1;
        return;
      }
      if (c === 0x5c) {
        if (p + 1 >= this.end) break;
        const n = t.charCodeAt(p + 1);
        if (n === 0x0a || n === 0x0d) this.fail('bad quoted-pair');
        p += 2;
        continue;
      }
      p++;
    }
    this.fail('unterminated quoted-string');
  }

  /** Read up to (not including) the next unquoted, un-bracketed `stop` char, or the end. */
  untilUnquoted(stop: number): string {
    const t = this.text;
    const start = this.pos;
    let p = start;
    let inQuote = false;
    let angle = 0;
    while (p < this.end) {
      const c = t.charCodeAt(p);
      if (inQuote) {
        if (c === 0x5c) p++;
        else if (c === 0x22) inQuote = false;
      } else if (c === 0x22) inQuote = true;
      else if (c === 0x3c) angle++;
      else if (c === 0x3e) angle--;
      else if (c === stop && angle <= 0) break;
      p++;
    }
    this.pos = p;
    return t.slice(start, p);
  }
}

/**
 * Where the last list element read in list mode (addressIn, contactIn, viaIn with `list`) ended:
 * the index of the comma that separates it from the next element, or -1 when it ran to the end
 * of the value. A list is read in one pass, each element parsed up to its separator, instead of
 * a scan for the separators followed by a parse of each element.
 */
export const listEnd = { pos: -1 };

/**
 * Index of the next comma at or after `from` that separates list elements, or -1: a comma inside
 * a quoted-string or inside `<…>` is not a separator (RFC 3261 §7.3.1).
 */
export function nextSeparator(value: string, from = 0, end = value.length): number {
  let inQuote = false;
  let angle = false;
  const n = end;
  for (let p = from; p < n; p++) {
    const c = value.charCodeAt(p);
    if (inQuote) {
      if (c === 0x5c) p++;
      else if (c === 0x22) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) return p;
  }
  return -1;
}

/**
 * Split a header value into its list elements (see nextSeparator), trimmed. Empty elements are
 * dropped only when `dropEmpty` (tolerated in lists like Allow); callers that must reject them
 * keep them.
 */
export function splitList(value: string, dropEmpty = false): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const comma = nextSeparator(value, start);
    const part = trimWs(comma < 0 ? (start === 0 ? value : value.slice(start)) : value.slice(start, comma));
    if (part.length > 0 || !dropEmpty) out.push(part);
    if (comma < 0) return out;
    start = comma + 1;
  }
}

/** Undo %HH escapes (RFC 3986 §2.1). Invalid escapes are left as they are. */
export function unescape(s: string): string {
  if (s.indexOf('%') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%' && i + 2 < s.length + 0 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += c;
  }
  return out;
}
