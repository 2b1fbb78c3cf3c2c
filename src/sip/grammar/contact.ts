import { GrammarError } from '../errors.js';
import { NameAddr, parseNameAddr } from './name-addr.js';
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

const QVALUE = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/;

export function parseContact(text: string): Contact {
  const c = Contact.from(parseNameAddr(text));
  const q = c.params.get('q');
  if (q !== undefined && (q === null || !QVALUE.test(q))) throw new GrammarError('bad q-value', 0);
  const e = c.params.get('expires');
  if (e !== undefined && (e === null || !/^\d+$/.test(e) || e.replace(/^0+(?=\d)/, '').length > 10 || Number(e) > MAX_DELTA_SECONDS)) {
    throw new GrammarError('bad expires parameter', 0);
  }
  const r = c.params.get('reg-id');
  if (r !== undefined && (r === null || !/^\d{1,10}$/.test(r))) throw new GrammarError('bad reg-id', 0);
  return c;
}
