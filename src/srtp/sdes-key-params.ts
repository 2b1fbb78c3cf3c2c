/**
 * The key parameters of an SDES `a=crypto` line (RFC 4568 §9.1), read into master keys:
 *
 *   key-params = key-method ":" key-info        ; "inline" is the only method SRTP defines
 *   key-info   = key-salt ["|" lifetime] ["|" mki]
 *   lifetime   = ["2^"] 1*DIGIT
 *   mki        = mki-value ":" mki-length       ; decimal value, length in bytes (1-128)
 *
 * Several key-params are separated by ";" (RFC 4568 §6.1, one per master key). Returns results:
 * the text comes from captured SDP and is never trusted.
 */
import { err, ok, type Result } from '../lib/result.js';
import { SRTP_SUITE_PARAMETERS, type SrtpMasterKey, type SrtpSuite } from './srtp-suite.js';

export interface SdesKey extends SrtpMasterKey {
  /** The key-salt as written (base64). */
  readonly keySalt: string;
  /** The lifetime as written ("2^31", "1048576"), when given. */
  readonly lifetime?: string;
  /** The MKI value and its length in bytes, when given. */
  readonly mkiValue?: number;
  readonly mkiLength?: number;
}

/** Base64 without padding or with, standard alphabet only (RFC 4568 §6.1 uses RFC 3548's). */
function isBase64(s: string): boolean {
  if (s.length === 0 || s.length % 4 === 1) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!(alnum || c === 43 || c === 47 || (c === 61 && i >= s.length - 2))) return false;
  }
  return true;
}

function isDigits(s: string): boolean {
  if (s.length === 0 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return false;
  return true;
}

/** One key-param ("inline:KEY||SALT|2^31|1:4") of `suite`. */
export function parseSdesKeyParam(suite: SrtpSuite, text: string): Result<SdesKey, string> {
  const p = SRTP_SUITE_PARAMETERS[suite];
  if (!text.startsWith('inline:')) return err(`key method is not "inline": ${text.slice(0, 20)}`);
  const parts = text.slice('inline:'.length).split('|');
  const keySalt = parts[0]!;
  if (!isBase64(keySalt)) return err('key-salt is not base64');
  const bytes = Buffer.from(keySalt, 'base64');
  if (bytes.length !== p.keyLength + p.saltLength) return err(`${suite} takes ${p.keyLength + p.saltLength} bytes of key and salt, not ${bytes.length}`);
  let lifetime: string | undefined;
  let mkiValue: number | undefined;
  let mkiLength: number | undefined;
  for (const part of parts.slice(1)) {
    const colon = part.indexOf(':');
    if (colon < 0) {
      if (!isDigits(part.startsWith('2^') ? part.slice(2) : part)) return err(`lifetime is not a number: ${part.slice(0, 20)}`);
      lifetime = part;
      continue;
    }
    const v = part.slice(0, colon);
    const l = part.slice(colon + 1);
    if (!isDigits(v) || !isDigits(l)) return err(`MKI is not value:length: ${part.slice(0, 20)}`);
    mkiValue = Number(v);
    mkiLength = Number(l);
    if (mkiLength < 1 || mkiLength > 128) return err(`MKI length ${mkiLength} is not 1-128`);
  }
  let mki: Uint8Array | undefined;
  if (mkiLength !== undefined && mkiValue !== undefined) {
    mki = new Uint8Array(mkiLength);
    let v = mkiValue;
    for (let i = mkiLength - 1; i >= 0 && v > 0; i--) {
      mki[i] = v % 256;
      v = Math.floor(v / 256);
    }
  }
  return ok({
    key: bytes.subarray(0, p.keyLength),
    salt: bytes.subarray(p.keyLength),
    keySalt,
    ...(lifetime === undefined ? {} : { lifetime }),
    ...(mki === undefined ? {} : { mki, mkiValue, mkiLength }),
  });
}

/** Every key-param of a key-params list ("inline:…;inline:…"). */
export function parseSdesKeyParams(suite: SrtpSuite, text: string): Result<SdesKey[], string> {
  const keys: SdesKey[] = [];
  for (const one of text.split(';')) {
    const k = parseSdesKeyParam(suite, one.trim());
    if (!k.ok) return k;
    keys.push(k.value);
  }
  return ok(keys);
}
