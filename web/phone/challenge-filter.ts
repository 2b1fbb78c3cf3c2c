/**
 * Digest challenges as JsSIP can answer them. JsSIP 3.13 (like SIP.js 0.21) keeps only the LAST
 * `WWW-Authenticate` / `Proxy-Authenticate` header field of a response (its parser replaces the
 * header at each occurrence) and computes MD5 only: a server that offers MD5 and then SHA-256
 * (RFC 8760 §2.4) would get no answer at all. Parley puts MD5 last on WebSockets; the phone does
 * not rely on that order and removes, from a 401/407 it receives, the challenges of other
 * algorithms whenever an MD5 one is there, before JsSIP parses the response. Pure string work
 * (no DOM), tested under Node.
 */

export interface FilteredMessage {
  /** The message to hand to JsSIP. */
  readonly message: string;
  /** Algorithms the response challenged with (upper case, MD5 when a challenge names none); empty for anything else. */
  readonly offered: readonly string[];
}

const CHALLENGE = /^(www-authenticate|proxy-authenticate)[ \t]*:/i;

/** The algorithm of one challenge header value (RFC 7616 §3.3: absent means MD5). */
export function challengeAlgorithm(value: string): string {
  // auth-params after the scheme: name=token or name="quoted string" (RFC 7235 §2.1), comma separated
  const params = /([A-Za-z0-9_-]+)[ \t]*=[ \t]*("(?:[^"\\]|\\.)*"|[^,\s]*)/g;
  for (let m = params.exec(value); m !== null; m = params.exec(value)) {
    if (m[1]!.toLowerCase() === 'algorithm') return m[2]!.replace(/^"(.*)"$/, '$1').toUpperCase();
  }
  return 'MD5';
}

/** Keep only the MD5 digest challenges of a 401/407 (when it has one); any other message is returned as it is. */
export function keepMd5Challenges(message: string): FilteredMessage {
  if (!/^SIP\/2\.0[ \t]+40[17][ \t]/.test(message)) return { message, offered: [] };
  const end = message.search(/\r?\n\r?\n/);
  const head = end < 0 ? message : message.slice(0, end);
  const rest = end < 0 ? '' : message.slice(end);
  const eol = head.includes('\r\n') ? '\r\n' : '\n';
  const lines = head.split(/\r?\n/);
  const challenges = lines.map((line, i) => ({ line, i, value: line.replace(CHALLENGE, '') })).filter((c) => CHALLENGE.test(c.line));
  // only header fields with one challenge each (the way Parley and most servers send them)
  const single = challenges.filter((c) => !/,[ \t]*[A-Za-z]+[ \t]+[A-Za-z]+=/.test(c.value.replace(/"[^"]*"/g, '""')));
  const offered = challenges.map((c) => challengeAlgorithm(c.value));
  const md5 = single.filter((c) => /^\s*digest\s/i.test(c.value) && challengeAlgorithm(c.value) === 'MD5');
  if (md5.length === 0 || single.length !== challenges.length || md5.length === challenges.length) return { message, offered };
  const drop = new Set(challenges.filter((c) => !md5.includes(c)).map((c) => c.i));
  return { message: lines.filter((_, i) => !drop.has(i)).join(eol) + rest, offered };
}
