import { GrammarError } from '../errors.js';
import { addressIn, NameAddr } from './name-addr.js';
import { unquote } from './params.js';

/** Largest delta-seconds value (RFC 3261 §20.19: "between 0 and (2**32)-1"). */
export const MAX_DELTA_SECONDS = 2 ** 32 - 1;

/**
 * One Contact value (RFC 3261 §20.10) with the parameters a registrar reads: `expires` and `q`
 * (§10.2.1.2), and RFC 5626's `+sip.instance` and `reg-id`.
 */
export class Contact extends NameAddr {
  get expires(): number | undefined {
    const v = this.params.get('expires');
    return v === null || v === undefined ? undefined : Number(v);
  }

  /** q-value in [0, 1]; undefined when absent. */
  get q(): number | undefined {
    const v = this.params.get('q');
    return v === null || v === undefined ? undefined : Number(v);
  }

  /** `+sip.instance` without its quotes, e.g. `<urn:uuid:…>` (RFC 5626 §4.1). */
  get instance(): string | undefined {
    return unquote(this.params.get('+sip.instance'));
  }

  get regId(): number | undefined {
    const v = this.params.get('reg-id');
    return v === null || v === undefined ? undefined : Number(v);
  }

  static from(na: NameAddr): Contact {
    return new Contact(na.uri, na.displayName, na.params, na.raw);
  }
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 §25.1). */
function isQValue(v: string): boolean {
  const n = v.length;
  const c0 = v.charCodeAt(0);
  if ((c0 !== 0x30 && c0 !== 0x31) || n > 5) return false;
  if (n === 1) return true;
  if (v.charCodeAt(1) !== 0x2e) return false;
  for (let i = 2; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c0 === 0x31 ? c !== 0x30 : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** 1*DIGIT, at most `max` digits after leading zeros. */
function isDigitRun(v: string, max: number): boolean {
  if (v.length === 0) return false;
  let zeros = 0;
  while (zeros < v.length - 1 && v.charCodeAt(zeros) === 0x30) zeros++;
  for (let i = zeros; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return v.length - zeros <= max;
}

export function parseContact(text: string): Contact {
  return contactIn(text, 0, text.length, text);
}

/**
 * Parse the Contact value at `src[start, end)` in place; `raw` is its text when the caller has
 * it. With `list`, up to the comma after it (see addressIn).
 */
export function contactIn(src: string, start: number, end: number, raw?: string, list = false): Contact {
  const c = addressIn(src, start, end, Contact, raw, list);
  const params = c.params;
  if (params.size === 0) return c;
  const q = params.get('q');
  if (q !== undefined && (q === null || !isQValue(q))) throw new GrammarError('bad q-value', 0);
  const e = params.get('expires');
  if (e !== undefined && (e === null || !isDigitRun(e, 10) || Number(e) > MAX_DELTA_SECONDS)) {
    throw new GrammarError('bad expires parameter', 0);
  }
  const r = params.get('reg-id');
  // reg-id = 1*DIGIT (RFC 5626 §4.1), held to 10 digits as before
  if (r !== undefined && (r === null || r.length > 10 || !isDigitRun(r, 10))) throw new GrammarError('bad reg-id', 0);
  return c;
}
