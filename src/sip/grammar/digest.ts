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
  const digest = scheme.toLowerCase() === 'digest';
  try {
    const before = s.pos;
    s.skipWs();
    if (s.pos === before && !s.done) s.fail('expected whitespace after scheme');
    let first = true;
    while (!s.done) {
      if (!first) s.expect(0x2c, ',');
      first = false;
      const name = s.token('auth-param name').toLowerCase();
      s.expect(0x3d, '=');
      let value: string;
      if (s.peek() === 0x22) value = s.quotedString();
      else {
        const t = s.text;
        const start = s.pos;
        let p = start;
        // token, plus "/" and ":" which some clients leave unquoted in uri
        while (p < t.length) {
          const c = t.charCodeAt(p);
          if (c > 127 || (TOKEN[c] !== 1 && c !== 0x2f && c !== 0x3a && c !== 0x40)) break;
          p++;
        }
        if (p === start) s.fail('expected auth-param value');
        value = t.slice(start, p);
        s.pos = p;
      }
      if (!params.has(name)) params.set(name, value);
      s.skipWs();
    }
  } catch (e) {
    if (digest) throw e;
    return new AuthValue(scheme, new Map(), text);
  }
  return new AuthValue(scheme, params, text);
}
