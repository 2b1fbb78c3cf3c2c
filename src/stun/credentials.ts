/**
 * The long-term credential mechanism of RFC 8489 §9.2: key derivation (§9.2.2), the nonce cookie
 * and its security features (§9.2, §18.1), USERHASH (§14.4), PASSWORD-ALGORITHM and
 * PASSWORD-ALGORITHMS (§14.11, §14.12, §18.5). Mechanism only: which algorithms a server offers,
 * how it makes nonces and when they go stale is the server's policy.
 */
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../lib/result.js';
import type { StunAttribute, StunParseError } from './message.js';

/** The STUN Password Algorithms registry (RFC 8489 §18.5). */
export const PasswordAlgorithm = { MD5: 0x0001, SHA256: 0x0002 } as const;

export interface PasswordAlgorithmEntry {
  readonly algorithm: number;
  /** The algorithm's parameters (none for MD5 and SHA-256): a view. */
  readonly parameters: Uint8Array;
}

/**
 * The OpaqueString profile of RFC 8265 §4.2 as far as it changes text: "Additional Mapping Rule:
 * non-ASCII space characters MUST be mapped to ASCII space (U+0020)", then "Normalization Rule:
 * Unicode Normalization Form C (NFC) MUST be applied".
 * DEVIATION(RFC 8265 §4.2.2): characters the profile disallows (controls, unassigned code points)
 * are not refused: the strings come from Parley's own configuration and subscriber store, and a
 * refusal would only lock their owner out.
 */
export function opaqueString(s: string): string {
  let mapped: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // the Unicode category Zs except U+0020: U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000
    if (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x202f || c === 0x205f || c === 0x3000) {
      mapped ??= s.slice(0, i);
      mapped += ' ';
    } else if (mapped !== undefined) {
      mapped += s[i];
    }
  }
  return (mapped ?? s).normalize('NFC');
}

/**
 * RFC 8489 §9.2.2: "key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password))" and, for
 * SHA-256, "key = SHA-256(username ":" OpaqueString(realm) ":" OpaqueString(password))". The MD5
 * key is the H(A1) of SIP digest (RFC 7616) for the same user, realm and password, so a stored
 * HA1 is the key itself (`keyFromHa1`).
 */
export function longTermKey(username: string, realm: string, password: string, algorithm: 'md5' | 'sha256'): Uint8Array {
  return createHash(algorithm).update(`${username}:${opaqueString(realm)}:${opaqueString(password)}`, 'utf8').digest();
}

/** The long-term key from a stored digest HA1 in hex (32 hex digits for MD5, 64 for SHA-256); undefined when it is not hex of that size. */
export function keyFromHa1(ha1: string): Uint8Array | undefined {
  if (ha1.length !== 32 && ha1.length !== 64) return undefined;
  const key = Buffer.from(ha1, 'hex');
  return key.length * 2 === ha1.length ? key : undefined;
}

/** RFC 8489 §14.4: "userhash = SHA-256(OpaqueString(username) ":" OpaqueString(realm))", the 32-byte value of USERHASH. */
export function userHash(username: string, realm: string): Uint8Array {
  return createHash('sha256').update(`${opaqueString(username)}:${opaqueString(realm)}`, 'utf8').digest();
}

/** RFC 8489 §9.2: the nonce of a server that supports the security features begins with this "nonce cookie". */
export const NONCE_COOKIE = 'obMatJos2';

/**
 * The STUN Security Features (RFC 8489 §18.1), as bits of the 24-bit field of the nonce cookie,
 * numbered from its least significant end as verified erratum 6290 to RFC 8489 has it ("Bit 0 is
 * the rightmost bit"); the RFC's own vector (Appendix B.1, `obMatJos2AAAC…` with USERHASH) agrees.
 * Some implementations number from the other end: a client of theirs would see other bits.
 */
export const SecurityFeature = { PasswordAlgorithms: 0x000001, UsernameAnonymity: 0x000002 } as const;

/**
 * The start of a nonce with the cookie and `features` (RFC 8489 §9.2: the cookie, then the 24-bit
 * Security Feature set in base64, 4 characters); the server puts its own nonce text after these
 * 13 characters.
 */
export function nonceCookie(features: number): string {
  const bytes = Buffer.of((features >>> 16) & 0xff, (features >>> 8) & 0xff, features & 0xff);
  return NONCE_COOKIE + bytes.toString('base64');
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The security features of a nonce that begins with the cookie; undefined for any other nonce. Reads bytes (the NONCE value) or text. */
export function nonceFeatures(nonce: Uint8Array | string): number | undefined {
  const at = (i: number): number => (typeof nonce === 'string' ? nonce.charCodeAt(i) : nonce[i]!);
  if (nonce.length < 13) return undefined;
  for (let i = 0; i < 9; i++) if (at(i) !== NONCE_COOKIE.charCodeAt(i)) return undefined;
  let value = 0;
  for (let i = 9; i < 13; i++) {
    const digit = BASE64.indexOf(String.fromCharCode(at(i)));
    if (digit < 0) return undefined;
    value = (value << 6) | digit;
  }
  return value;
}

function fail(reason: string, offset: number): { readonly ok: false; readonly error: StunParseError } {
  return err({ reason, offset });
}

/**
 * PASSWORD-ALGORITHMS (RFC 8489 §14.11): a list of algorithm (16 bits), parameters length (16 bits)
 * and parameters padded to a multiple of 4 bytes.
 */
export function readPasswordAlgorithms(a: StunAttribute): Result<PasswordAlgorithmEntry[], StunParseError> {
  const v = a.value;
  const list: PasswordAlgorithmEntry[] = [];
  let i = 0;
  while (i < v.length) {
    if (v.length - i < 4) return fail('PASSWORD-ALGORITHMS entry cut short', a.offset + 4 + i);
    const algorithm = (v[i]! << 8) | v[i + 1]!;
    const length = (v[i + 2]! << 8) | v[i + 3]!;
    const padded = (length + 3) & ~3;
    if (padded > v.length - i - 4) return fail(`PASSWORD-ALGORITHMS parameters of ${length} bytes run past the attribute`, a.offset + 4 + i);
    list.push({ algorithm, parameters: v.subarray(i + 4, i + 4 + length) });
    i += 4 + padded;
  }
  return ok(list);
}

/** PASSWORD-ALGORITHM (RFC 8489 §14.12): one entry of the same form, unpadded parameters allowed at the end. */
export function readPasswordAlgorithm(a: StunAttribute): Result<PasswordAlgorithmEntry, StunParseError> {
  const v = a.value;
  if (v.length < 4) return fail(`PASSWORD-ALGORITHM of ${v.length} bytes is shorter than 4`, a.offset + 2);
  const length = (v[2]! << 8) | v[3]!;
  if (4 + length > v.length) return fail(`PASSWORD-ALGORITHM parameters of ${length} bytes run past the attribute`, a.offset + 6);
  return ok({ algorithm: (v[0]! << 8) | v[1]!, parameters: v.subarray(4, 4 + length) });
}

/** The value of PASSWORD-ALGORITHMS (a list) or, with one entry, of PASSWORD-ALGORITHM. */
export function passwordAlgorithmsValue(entries: readonly (number | PasswordAlgorithmEntry)[]): Uint8Array {
  let size = 0;
  for (const e of entries) size += 4 + ((typeof e === 'number' ? 0 : (e.parameters.length + 3) & ~3));
  const out = new Uint8Array(size);
  let i = 0;
  for (const e of entries) {
    const algorithm = typeof e === 'number' ? e : e.algorithm;
    const parameters = typeof e === 'number' ? new Uint8Array(0) : e.parameters;
    out[i] = algorithm >> 8;
    out[i + 1] = algorithm & 0xff;
    out[i + 2] = parameters.length >> 8;
    out[i + 3] = parameters.length & 0xff;
    out.set(parameters, i + 4);
    i += 4 + ((parameters.length + 3) & ~3);
  }
  return out;
}

/** A request's password algorithm could not be accepted: the server answers 400. */
export interface PasswordAlgorithmError {
  readonly code: 400;
  readonly reason: string;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The algorithm a server derives the long-term key with for request `m` (RFC 8489 §9.2.4), given
 * the PASSWORD-ALGORITHMS value it sent with the nonce (`offered`; undefined when it sent none):
 * neither PASSWORD-ALGORITHM nor PASSWORD-ALGORITHMS in the request means MD5 (a client of RFC
 * 5389); otherwise both must be there, PASSWORD-ALGORITHMS must be byte for byte what the server
 * offered (a bid-down check), and PASSWORD-ALGORITHM one of its entries, else 400. An algorithm
 * other than MD5 and SHA-256 is a 400 too, as the server never offers one.
 */
export function selectPasswordAlgorithm(
  m: { get(type: number): StunAttribute | undefined },
  offered: Uint8Array | undefined,
): Result<'md5' | 'sha256', PasswordAlgorithmError> {
  const one = m.get(0x001d); // PASSWORD-ALGORITHM
  const list = m.get(0x8002); // PASSWORD-ALGORITHMS
  if (one === undefined && list === undefined) return ok('md5');
  const refuse = (reason: string): { readonly ok: false; readonly error: PasswordAlgorithmError } => err({ code: 400, reason });
  if (one === undefined || list === undefined) return refuse('PASSWORD-ALGORITHM and PASSWORD-ALGORITHMS go together');
  if (offered === undefined || !sameBytes(list.value, offered)) return refuse('PASSWORD-ALGORITHMS is not the list this server sent');
  const chosen = readPasswordAlgorithm(one);
  const entries = readPasswordAlgorithms(list);
  if (!chosen.ok || !entries.ok) return refuse('malformed PASSWORD-ALGORITHM(S)');
  const c = chosen.value;
  if (!entries.value.some((e) => e.algorithm === c.algorithm && sameBytes(e.parameters, c.parameters))) {
    return refuse('PASSWORD-ALGORITHM is not one of PASSWORD-ALGORITHMS');
  }
  if (c.algorithm === PasswordAlgorithm.MD5) return ok('md5');
  if (c.algorithm === PasswordAlgorithm.SHA256) return ok('sha256');
  return refuse(`password algorithm ${c.algorithm} is not supported`);
}
