import type { AuthValue } from '../sip/grammar/digest.js';
import type { SipResponse } from '../sip/message/sip-message.js';
import { newTag } from '../sip/message/build.js';
import { computeDigestResponse } from '../sip/digest/digest-response.js';
import { computeHa1, digestAlgorithmOf, type DigestAlgorithm } from '../sip/digest/hash.js';

/** Who the client is and how it chooses among challenges. */
export interface DigestClientOptions {
  readonly username: string;
  readonly password: string;
  /**
   * Answer only challenges of this algorithm (a challenge set without it is refused). Default:
   * the topmost challenge whose algorithm the client computes (MD5 or SHA-256), as RFC 8760 §2.4
   * has a UAC do when a server offers several.
   */
  readonly algorithm?: DigestAlgorithm;
  /** Makes a client nonce; default 64 random bits in hex. Tests pass the RFC's. */
  readonly cnonce?: () => string;
}

/** The result of reading a 401 or 407: the challenge taken, or why none could be. */
export type ChallengeOutcome =
  | { readonly ok: true; readonly realm: string; readonly algorithm: DigestAlgorithm; readonly stale: boolean }
  | { readonly ok: false; readonly reason: string };

/** The challenge the client answers, with its nonce count. */
interface TakenChallenge {
  readonly header: 'Authorization' | 'Proxy-Authorization';
  readonly realm: string;
  readonly nonce: string;
  readonly opaque: string | undefined;
  readonly algorithm: DigestAlgorithm;
  /** `auth`, or undefined for a challenge without qop (the RFC 2069 form). */
  readonly qop: 'auth' | undefined;
  readonly ha1: string;
  nc: number;
}

/**
 * The client side of SIP digest authentication (RFC 3261 §22.2–22.3 with RFC 7616 and RFC 8760):
 * reads the challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate), keeps the one it
 * took, and writes the credentials of each later request for it, counting the nonce's uses.
 *
 * "nc: … The nc value is the hexadecimal count of the number of requests (including the current
 *  request) that the client has sent with the nonce value in this request." (RFC 7616 §3.4)
 * So the client may reuse a nonce (a re-registration sent with credentials at once, saving the
 * challenge round trip) with nc = 2, 3, …; when the server no longer accepts it, it answers with
 * stale=TRUE and the client takes the new nonce without treating it as a wrong password:
 * "If stale is TRUE (case-insensitive), the client may wish to simply retry the request with a
 *  new encrypted response, without reprompting the user for a new username and password."
 * (RFC 2617 §3.2.1)
 *
 * Only qop=auth (or no qop) is answered; auth-int needs the body's hash and no SIP server
 * in practice asks for it alone. One client serves one user and one server.
 */
export class DigestClient {
  private taken: TakenChallenge | undefined;

  constructor(private readonly options: DigestClientOptions) {}

  /** Whether a challenge has been taken (later requests carry credentials). */
  get hasChallenge(): boolean {
    return this.taken !== undefined;
  }

  /** The nonce count the next request will carry (for tests and traces). */
  get nextNc(): number | undefined {
    return this.taken === undefined ? undefined : this.taken.nc + 1;
  }

  /** Read the challenges of a 401 or 407 response. */
  acceptResponse(response: SipResponse): ChallengeOutcome {
    if (response.status === 401) return this.accept('Authorization', response.wwwAuthenticate);
    if (response.status === 407) return this.accept('Proxy-Authorization', response.proxyAuthenticate);
    return { ok: false, reason: `${response.status} is not a challenge` };
  }

  /**
   * Take one of `values` (the WWW-Authenticate or Proxy-Authenticate values of one response, in
   * order). `header` names where the credentials go: Authorization for a 401, Proxy-Authorization
   * for a 407 (RFC 3261 §22.2, §22.3).
   */
  accept(header: 'Authorization' | 'Proxy-Authorization', values: readonly AuthValue[]): ChallengeOutcome {
    const digests = values.filter((v) => v.isDigest);
    if (digests.length === 0) {
      return { ok: false, reason: values.length === 0 ? 'the challenge has no authenticate header' : `no Digest challenge (schemes: ${values.map((v) => v.scheme).join(', ')})` };
    }
    const wanted = this.options.algorithm;
    let chosen: { value: AuthValue; algorithm: DigestAlgorithm; qop: 'auth' | undefined } | undefined;
    const refused: string[] = [];
    for (const v of digests) {
      const algorithm = digestAlgorithmOf(v.algorithm);
      if (algorithm === undefined) {
        refused.push(`algorithm ${v.algorithm}`);
        continue;
      }
      if (wanted !== undefined && algorithm !== wanted) {
        refused.push(`algorithm ${algorithm} (only ${wanted} allowed)`);
        continue;
      }
      // qop-options is a quoted list ("auth,auth-int"): take auth when it is offered
      const qopText = v.qop;
      let qop: 'auth' | undefined;
      if (qopText !== undefined) {
        const offered = qopText.split(',').map((q) => q.trim().toLowerCase());
        if (!offered.includes('auth')) {
          refused.push(`qop ${qopText}`);
          continue;
        }
        qop = 'auth';
      }
      if (v.nonce === undefined || v.realm === undefined) {
        refused.push(`a challenge without ${v.nonce === undefined ? 'nonce' : 'realm'}`);
        continue;
      }
      chosen = { value: v, algorithm, qop };
      break;
    }
    if (chosen === undefined) return { ok: false, reason: `no challenge the client can answer (${refused.join('; ')})` };

    const realm = chosen.value.realm!;
    const previous = this.taken;
    // HA1 depends only on user, realm, password and algorithm: keep it across nonces
    const ha1 =
      previous !== undefined && previous.realm === realm && previous.algorithm === chosen.algorithm
        ? previous.ha1
        : computeHa1(chosen.algorithm, this.options.username, realm, this.options.password);
    this.taken = {
      header,
      realm,
      nonce: chosen.value.nonce!,
      opaque: chosen.value.opaque,
      algorithm: chosen.algorithm,
      qop: chosen.qop,
      ha1,
      nc: 0,
    };
    return { ok: true, realm, algorithm: chosen.algorithm, stale: chosen.value.stale };
  }

  /**
   * The credentials header for a request (`[name, value]`), counting one more use of the nonce;
   * undefined before any challenge was taken. `digestUri` is the Request-URI (RFC 3261 §22.4:
   * the uri parameter is the Request-URI of the request).
   */
  authorization(method: string, digestUri: string): [string, string] | undefined {
    const t = this.taken;
    if (t === undefined) return undefined;
    t.nc++;
    const parts = [
      `username=${quote(this.options.username)}`,
      `realm=${quote(t.realm)}`,
      `nonce=${quote(t.nonce)}`,
      `uri=${quote(digestUri)}`,
    ];
    let response: string;
    if (t.qop === undefined) {
      response = computeDigestResponse({ algorithm: t.algorithm, ha1: t.ha1, method, digestUri, nonce: t.nonce });
      parts.push(`response="${response}"`, `algorithm=${t.algorithm}`);
    } else {
      const nc = t.nc.toString(16).padStart(8, '0');
      const cnonce = this.options.cnonce?.() ?? newTag() + newTag();
      response = computeDigestResponse({ algorithm: t.algorithm, ha1: t.ha1, method, digestUri, nonce: t.nonce, qop: t.qop, nc, cnonce });
      parts.push(`response="${response}"`, `algorithm=${t.algorithm}`, `cnonce=${quote(cnonce)}`, `qop=${t.qop}`, `nc=${nc}`);
    }
    if (t.opaque !== undefined) parts.push(`opaque=${quote(t.opaque)}`);
    return [t.header, `Digest ${parts.join(', ')}`];
  }

  /** Drop the challenge taken (the next request goes without credentials). */
  forget(): void {
    this.taken = undefined;
  }
}

/** quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 §25.1). */
function quote(value: string): string {
  return `"${value.replace(/(["\\])/g, '\\$1')}"`;
}
