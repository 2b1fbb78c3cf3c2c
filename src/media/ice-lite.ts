/**
 * An ICE-lite agent (RFC 8445 §2.5): Parley's side towards a browser has one host candidate, sends
 * no checks and answers those of the full agent, which is always the controlling one. The pair the
 * browser nominates (a check with USE-CANDIDATE) is where media goes; consent to send there lasts
 * 30 seconds after the last valid check (RFC 7675 §5.1), the browser's consent checks renewing it.
 *
 * RFC 8445 §6.1.1: "The full agent MUST take the controlling role, and the lite agent MUST take
 * the controlled role."
 */
import { StunAttr, unknownComprehensionRequired } from '../stun/attribute-types.js';
import type { TransportAddress } from '../stun/address.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { verifyFingerprint } from '../stun/fingerprint.js';
import { verifyMessageIntegrity } from '../stun/integrity.js';
import { parseStunMessage, StunMethod, type StunMessage } from '../stun/message.js';

export interface IceCredentials {
  readonly ufrag: string;
  readonly pwd: string;
}

export interface IceLiteOptions {
  readonly local: IceCredentials;
  /** The remote ufrag from the SDP; undefined: any (a check's USERNAME is then `<local ufrag>:<anything>`). */
  readonly remoteUfrag?: string;
  /** Milliseconds, monotonic (performance.now() by default). */
  readonly now?: () => number;
  /** RFC 7675 §5.1: "Consent expires after 30 seconds." */
  readonly consentMs?: number;
}

/** What handling a datagram gave: the response to send back to its source (if any). */
export interface IceCheckOutcome {
  readonly response: Uint8Array | undefined;
  /** The check was valid (authenticated, from a known ufrag). */
  readonly valid: boolean;
  /** The check nominated its pair, which is now the selected one. */
  readonly nominated: boolean;
}

const KNOWN = new Set<number>([StunAttr.USERNAME, StunAttr.MESSAGE_INTEGRITY, StunAttr.PRIORITY, StunAttr.USE_CANDIDATE]);
const NONE: IceCheckOutcome = { response: undefined, valid: false, nominated: false };
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

function sameAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

export class IceLiteAgent {
  private local: IceCredentials;
  private localKey: Uint8Array;
  private remoteUfrag: string | undefined;
  private readonly now: () => number;
  private readonly consentMs: number;
  private selectedAddress: TransportAddress | undefined;
  /** When the last valid check came from the selected address. */
  private lastConsent = 0;

  constructor(options: IceLiteOptions) {
    this.local = options.local;
    this.localKey = encoder.encode(options.local.pwd);
    this.remoteUfrag = options.remoteUfrag;
    this.now = options.now ?? (() => performance.now());
    this.consentMs = options.consentMs ?? 30_000;
  }

  /** The nominated address: where media goes. */
  get selected(): TransportAddress | undefined {
    return this.selectedAddress;
  }

  /** A pair is nominated and has consent (a valid check in the last 30 seconds). */
  get ready(): boolean {
    return this.selectedAddress !== undefined && this.now() - this.lastConsent < this.consentMs;
  }

  /** The local credentials in use (they change on restart). */
  get credentials(): IceCredentials {
    return this.local;
  }

  /**
   * An ICE restart (RFC 8445 §9): a re-offer with a new remote ufrag, and Parley's new local
   * credentials in its answer. Media keeps going to the selected pair until the browser
   * nominates one with the new credentials, so that a restart does not cut the audio.
   */
  restart(remoteUfrag: string | undefined, local?: IceCredentials): void {
    this.remoteUfrag = remoteUfrag;
    if (local !== undefined) {
      this.local = local;
      this.localKey = encoder.encode(local.pwd);
    }
  }

  /** Handles one datagram that demultiplexed as STUN (RFC 7983) from `source`. Never throws. */
  handle(bytes: Uint8Array, source: TransportAddress): IceCheckOutcome {
    const parsed = parseStunMessage(bytes);
    if (!parsed.ok) return NONE;
    const m = parsed.value;
    // Binding indications (keepalives) and responses (a lite agent sends no requests) need nothing.
    if (m.method !== StunMethod.Binding || m.class !== 'request') return NONE;
    // RFC 8445 §7.2.2 has FINGERPRINT in every check; RFC 8489 §7.3: a message whose FINGERPRINT
    // does not check out is not STUN: dropped.
    if (m.get(StunAttr.FINGERPRINT) !== undefined && !verifyFingerprint(m)) return NONE;
    // RFC 8489 §9.1.3: "If the message does not contain both a MESSAGE-INTEGRITY and a USERNAME
    // attribute ... the server MUST reject the request with an error response. This response
    // MUST use an error code of 400 (Bad Request)."
    const username = m.get(StunAttr.USERNAME);
    const integrity = m.get(StunAttr.MESSAGE_INTEGRITY);
    if (username === undefined || integrity === undefined) return this.error(m, 400, 'Bad Request');
    // RFC 8445 §7.3: the USERNAME of a check is "RFRAG:LFRAG" from the sender's view, so here
    // `<local ufrag>:<remote ufrag>`. RFC 8489 §9.1.3: "If the USERNAME does not contain a
    // username value currently valid within the server ... 401 (Unauthenticated)", and
    // "If the resulting value does not match the contents of the MESSAGE-INTEGRITY attribute
    // ... 401". Neither error carries MESSAGE-INTEGRITY.
    if (!this.usernameValid(decoder.decode(username.value))) return this.error(m, 401, 'Unauthenticated');
    if (!verifyMessageIntegrity(m, this.localKey)) return this.error(m, 401, 'Unauthenticated');
    // RFC 8489 §6.3.1: unknown comprehension-required attributes: 420 with UNKNOWN-ATTRIBUTES.
    const unknown = unknownComprehensionRequired(m, KNOWN);
    if (unknown.length > 0) {
      const values = new Uint8Array(unknown.length * 2);
      unknown.forEach((t, i) => { values[2 * i] = t >> 8; values[2 * i + 1] = t & 0xff; });
      const b = new StunMessageBuilder(StunMethod.Binding, 'error', m.transactionId)
        .addErrorCode(420, 'Unknown Attribute').add(StunAttr.UNKNOWN_ATTRIBUTES, values)
        .addMessageIntegrity(this.localKey).addFingerprint();
      return { response: b.build().slice(), valid: false, nominated: false };
    }
    // RFC 8445 §7.3.1.1: "If the agent is in the controlled role, and the ICE-CONTROLLED attribute
    // is present in the request: If the agent's tiebreaker value is larger than or equal to the
    // contents of the ICE-CONTROLLED attribute, the agent generates a Binding error response and
    // includes an ERROR-CODE attribute with a value of 487 (Role Conflict)". A lite agent cannot
    // take the controlling role (§6.1.1), so it answers as one whose tiebreaker is the largest.
    if (m.get(StunAttr.ICE_CONTROLLED) !== undefined) {
      const b = new StunMessageBuilder(StunMethod.Binding, 'error', m.transactionId)
        .addErrorCode(487, 'Role Conflict').addMessageIntegrity(this.localKey).addFingerprint();
      return { response: b.build().slice(), valid: false, nominated: false };
    }
    const response = new StunMessageBuilder(StunMethod.Binding, 'success', m.transactionId)
      .addXorAddress(StunAttr.XOR_MAPPED_ADDRESS, source)
      .addMessageIntegrity(this.localKey)
      .addFingerprint()
      .build()
      .slice();
    // RFC 8445 §7.3.1.5: a valid check with USE-CANDIDATE nominates its pair, and the selected
    // pair is the nominated one.
    // DEVIATION(RFC 8445 §8.1.1): with two nominated pairs the RFC uses the one of highest
    // priority; we follow the latest nomination, as libwebrtc moves a call to another pair (a
    // network change) by nominating it after the first.
    let nominated = false;
    if (m.get(StunAttr.USE_CANDIDATE) !== undefined) {
      nominated = this.selectedAddress === undefined || !sameAddress(this.selectedAddress, source);
      if (nominated) this.selectedAddress = { family: source.family, address: source.address, port: source.port };
    }
    // RFC 7675: consent is renewed by a valid check on the pair; a lite agent sends none, so the
    // browser's consent checks on the selected pair (every 5 s or so) renew it.
    if (this.selectedAddress !== undefined && sameAddress(this.selectedAddress, source)) this.lastConsent = this.now();
    return { response, valid: true, nominated };
  }

  private usernameValid(username: string): boolean {
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== this.local.ufrag) return false;
    return this.remoteUfrag === undefined || username.slice(colon + 1) === this.remoteUfrag;
  }

  private error(m: StunMessage, code: number, reason: string): IceCheckOutcome {
    const b = new StunMessageBuilder(StunMethod.Binding, 'error', m.transactionId).addErrorCode(code, reason).addFingerprint();
    return { response: b.build().slice(), valid: false, nominated: false };
  }
}
