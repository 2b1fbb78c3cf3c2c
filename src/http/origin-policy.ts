/**
 * Which web pages may open WebSockets to Parley, judged by the `Origin` header of the handshake
 * (RFC 6455 §4.2.1, §10.2; origins as RFC 6454 serializes them).
 *
 * A browser always sends `Origin` on a WebSocket handshake and a page cannot forge it, so the
 * check stops a page from another site from using a visitor's browser to reach Parley
 * (cross-site WebSocket hijacking). The rules:
 *
 * - no `Origin`: allowed by default (`allowMissing`). Only non-browser clients omit it (native
 *   SIP stacks, test tools), and they could send any Origin they liked anyway;
 * - the same origin as the page would have if Parley served it: the listener's scheme (`https`
 *   for a TLS listener, `http` otherwise) with the `Host` of the request — the browser phone
 *   served by Parley itself;
 * - an origin in the allow-list (`https://phone.example.com`, `http://localhost:3000`);
 *   `*` allows every origin;
 * - anything else, including the opaque origin `null` (sandboxed frames, `file:` pages) unless
 *   the list names `null`: refused (403).
 *
 * The same-origin rule trusts `Host`, which a page cannot set but DNS rebinding can make
 * anything; digest authentication, on by default, is what protects the SIP service itself.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;
  private readonly any: boolean;
  private readonly allowMissing: boolean;

  constructor(options: { readonly allowed?: readonly string[]; readonly allowMissing?: boolean } = {}) {
    const list = options.allowed ?? [];
    this.any = list.includes('*');
    const normalized = new Set<string>();
    for (const entry of list) {
      if (entry === '*') continue;
      if (entry === 'null') {
        normalized.add('null');
        continue;
      }
      const o = serializeOrigin(entry);
      if (o === undefined) throw new TypeError(`bad origin "${entry}": expected scheme://host[:port], e.g. https://phone.example.com`);
      normalized.add(o);
    }
    this.allowed = normalized;
    this.allowMissing = options.allowMissing ?? true;
  }

  /**
   * Decide on a handshake: `origin` and `host` are its headers (undefined when absent), `secure`
   * whether it came over TLS. Returns undefined when allowed, else the reason for the refusal.
   */
  refusal(origin: string | undefined, host: string | undefined, secure: boolean): string | undefined {
    if (origin === undefined) return this.allowMissing ? undefined : 'no Origin header';
    if (this.any) return undefined;
    const o = origin.trim() === 'null' ? 'null' : serializeOrigin(origin);
    if (o === undefined) return `malformed Origin "${origin.slice(0, 100)}"`;
    if (this.allowed.has(o)) return undefined;
    if (o !== 'null' && host !== undefined && serializeOrigin(`${secure ? 'https' : 'http'}://${host}`) === o) return undefined;
    return `Origin ${o} is not allowed (same origin or http.origins only)`;
  }
}

/**
 * The RFC 6454 §6.2 ASCII serialization of an origin given as text: lower-case scheme and host,
 * the port only when it is not the scheme's default, no path. Undefined for anything else than
 * an http(s) or ws(s) origin without credentials, path, query or fragment.
 */
export function serializeOrigin(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return undefined;
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) return undefined;
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined;
  if (url.pathname !== '/' && url.pathname !== '') return undefined;
  // WHATWG URL has already lower-cased scheme and host and dropped a default port
  return `${url.protocol}//${url.host}`;
}
