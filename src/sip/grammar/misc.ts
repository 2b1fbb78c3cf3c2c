import { isToken, trimWs, WORD } from './chars.js';
import { GrammarError } from '../errors.js';

/** Call-ID (RFC 3261 §20.8): `word [ "@" word ]`. */
export function parseCallId(text: string): string {
  const v = trimWs(text);
  callIdIn(v, 0, v.length);
  return v;
}

/** Check the Call-ID at `src[start, end)` (trimmed) in place and return its text. */
export function callIdIn(src: string, start: number, end: number): string {
  // one pass: word characters with at most one "@", which has a word on each side ("@" is not a word character)
  let at = -1;
  let ok = end > start;
  for (let i = start; ok && i < end; i++) {
    const c = src.charCodeAt(i);
    if (c === 0x40) {
      ok = at < 0 && i > start && i < end - 1;
      at = i;
    } else if (c > 127 || WORD[c] !== 1) ok = false;
  }
  if (!ok) throw new GrammarError('Call-ID must be word["@"word]', 0);
  return start === 0 && end === src.length ? src : src.slice(start, end);
}

/** A comma-separated list of tokens (Allow, Supported, Require, Proxy-Require, Unsupported). */
export function parseTokenList(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (v.length === 0) continue; // an empty Supported/Allow is legal
    for (const part of v.split(',')) {
      const t = trimWs(part);
      if (t.length === 0) continue;
      if (!isToken(t)) throw new GrammarError(`bad token "${t}"`, 0);
      out.push(t);
    }
  }
  return out;
}

const WKDAY = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)$/;
const MONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Date (RFC 3261 §20.17): an RFC 1123 date, which SIP restricts to "GMT".
 * `wkday "," SP 2DIGIT SP month SP 4DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT SP "GMT"`.
 */
export function parseDate(text: string): Date {
  const m = /^(\w{3}), (\d{2}) (\w{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(trimWs(text));
  if (!m || !WKDAY.test(m[1]!) || !MONTH.includes(m[3]!)) throw new GrammarError('Date must be an RFC 1123 date in GMT', 0);
  const d = new Date(Date.UTC(Number(m[4]), MONTH.indexOf(m[3]!), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7])));
  if (Number.isNaN(d.getTime())) throw new GrammarError('bad Date', 0);
  return d;
}
