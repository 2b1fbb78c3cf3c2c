import { TOKEN } from './chars.js';
import { Scanner } from './scanner.js';

/**
 * Credentials or a challenge from an authentication header (RFC 3261 §20.7, §20.27, §20.28,
 * §20.44; RFC 7616 digest; RFC 8760 SHA-256): the scheme and its auth-params. `params` holds the
 * values unquoted, with lower-case names. A scheme Parley does not know keeps its text in `raw`.
 */
export class AuthValue {
  constructor(
    readonly scheme: string,
    readonly params: ReadonlyMap<string, string>,
    readonly raw: string,
  ) {}

  get isDigest(): boolean {
    return this.scheme.toLowerCase() === 'digest';
  }
  get username(): string | undefined {
    return this.params.get('username');
  }
  get realm(): string | undefined {
    return this.params.get('realm');
  }
  get nonce(): string | undefined {
    return this.params.get('nonce');
  }
  get uri(): string | undefined {
    return this.params.get('uri');
  }
  get response(): string | undefined {
    return this.params.get('response');
  }
  /** Algorithm as written (MD5 when absent, RFC 7616 §3.3). */
  get algorithm(): string {
    return this.params.get('algorithm') ?? 'MD5';
  }
  get qop(): string | undefined {
    return this.params.get('qop');
  }
  get nc(): string | undefined {
    return this.params.get('nc');
  }
  get cnonce(): string | undefined {
    return this.params.get('cnonce');
  }
  get opaque(): string | undefined {
    return this.params.get('opaque');
  }
  get stale(): boolean {
    return (this.params.get('stale') ?? '').toLowerCase() === 'true';
  }

  toString(): string {
    return this.raw;
  }
}

/**
 * Parse `scheme LWS auth-param *(COMMA auth-param)`. For Digest a bad parameter list is an error;
 * for other schemes the text is kept as it is (RFC 4475 §3.3.8: an unknown scheme is not malformed).
 */
export function parseAuthValue(text: string): AuthValue {
  const s = new Scanner(text);
  s.skipWs();
  const scheme = s.token('auth scheme');
  const params = new Map<string, string>();
  const digest = scheme.length === 6 && scheme.toLowerCase() === 'digest';
  const t = text;
  const n = t.length;
  let p = s.pos;
  const fail = (what: string): never => {
    s.pos = p;
    return s.fail(what);
  };
  try {
    const afterScheme = p;
    while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    if (p === afterScheme && p < n) fail('expected whitespace after scheme');
    let first = true;
    while (p < n) {
      if (!first) {
        // COMMA = SWS "," SWS
        if (t.charCodeAt(p) !== 0x2c) fail('expected ,');
        p++;
        while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
      }
      first = false;
      const nameStart = p;
      let upper = false;
      while (p < n) {
        const c = t.charCodeAt(p);
        if (c > 127 || TOKEN[c] !== 1) break;
        if (c >= 0x41 && c <= 0x5a) upper = true;
        p++;
      }
      if (p === nameStart) fail('expected auth-param name');
      let name = t.slice(nameStart, p);
      if (upper) name = name.toLowerCase();
      while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
      if (t.charCodeAt(p) !== 0x3d) fail('expected =');
      p++;
      while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
      let value: string;
      if (t.charCodeAt(p) === 0x22) {
        // quoted-string: take the run up to the closing quote; resolve quoted-pairs only if any
        const vStart = p + 1;
        let q = t.indexOf('"', vStart);
        const backslash = t.indexOf('\\', vStart);
        let escaped = false;
        if (backslash >= 0 && (q < 0 || backslash < q)) {
          // quoted-pairs: walk the value so that an escaped quote does not end it
          escaped = true;
          q = vStart;
          while (q < n) {
            const c = t.charCodeAt(q);
            if (c === 0x22) break;
            if (c === 0x5c) q++;
            q++;
          }
        }
        if (q < 0 || q >= n) fail('unterminated quoted-string');
        value = t.slice(vStart, q);
        if (escaped) value = value.replace(/\\(.)/g, '$1');
        p = q + 1;
      } else {
        const vStart = p;
        // token, plus "/" ":" "@" which some clients leave unquoted in uri
        while (p < n) {
          const c = t.charCodeAt(p);
          if (c > 127 || (TOKEN[c] !== 1 && c !== 0x2f && c !== 0x3a && c !== 0x40)) break;
          p++;
        }
        if (p === vStart) fail('expected auth-param value');
        value = t.slice(vStart, p);
      }
      if (!params.has(name)) params.set(name, value);
      while (p < n && (t.charCodeAt(p) === 0x20 || t.charCodeAt(p) === 0x09)) p++;
    }
  } catch (e) {
    if (digest) throw e;
    return new AuthValue(scheme, new Map(), text);
  }
  return new AuthValue(scheme, params, text);
}
