/**
 * Character classes of RFC 3261 §25.1, as lookup tables indexed by char code (ASCII only;
 * code points above 0x7f are allowed only where UTF8-NONASCII is, which callers check).
 */

function table(chars: string, ranges: Array<[number, number]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  for (const [a, b] of ranges) for (let c = a; c <= b; c++) t[c] = 1;
  return t;
}

const ALNUM: Array<[number, number]> = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x61, 0x7a],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", ALNUM);

/** word (Call-ID): token chars plus ( ) < > : \ DQUOTE / [ ] ? { } */
export const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}', ALNUM);

/** unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")" */
export const UNRESERVED = table("-_.!~*'()", ALNUM);

/** user = 1*( unreserved / escaped / user-unreserved ); user-unreserved = & = + $ , ; ? / */
export const USER = table("-_.!~*'()&=+$,;?/%", ALNUM);

/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table("-_.!~*'()&=+$,%", ALNUM);

/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $ */
export const PARAMCHAR = table("-_.!~*'()[]/:&+$%", ALNUM);

/** hname / hvalue chars: hnv-unreserved / unreserved / escaped; hnv-unreserved = [ ] / ? : + $ */
export const HNVCHAR = table("-_.!~*'()[]/?:+$%", ALNUM);

/** host name characters (hostname, IPv4address; IPv6 is handled separately) */
export const HOSTCHAR = table('-.', ALNUM);

/** uric for absoluteURI opaque parts: reserved / unreserved / escaped */
export const URIC = table(";/?:@&=+$,-_.!~*'()%[]#", ALNUM);

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TOKEN[c] !== 1) return false;
  }
  return true;
}

export function isWord(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || WORD[c] !== 1) return false;
  }
  return true;
}

/** True for SP and HTAB, the only whitespace left in a header value once folding is undone. */
export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Trim SP and HTAB only. `String.prototype.trim` also strips U+FEFF and other Unicode spaces,
 * which are data in a SIP header value (RFC 4475 §3.1.1.2 has a header value starting with a BOM).
 */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
