/**
 * The client side of TURN (RFC 8656) that `parley turn-check` needs: Binding, Allocate with the
 * long-term credential mechanism (RFC 8489 §9.2), CreatePermission, ChannelBind, Refresh, Send
 * indications and ChannelData out; Data indications and ChannelData in.
 *
 * Authentication (RFC 8489 §9.2.3-§9.2.5): the first request goes without credentials; the
 * server's 401 carries REALM and NONCE (and, with the "obMatJos2" nonce cookie and the
 * password-algorithms bit, PASSWORD-ALGORITHMS). The request is sent again with USERNAME, REALM,
 * NONCE and MESSAGE-INTEGRITY (HMAC-SHA1 over the key MD5(username:realm:password)); when the
 * server offers SHA-256, with PASSWORD-ALGORITHM SHA-256, PASSWORD-ALGORITHMS echoed and
 * MESSAGE-INTEGRITY-SHA256 (§9.2.4: "the client MUST use ... MESSAGE-INTEGRITY-SHA256" once the
 * server listed it). A 438 (Stale Nonce) gives a new NONCE: the request is sent once more with it.
 * Later requests reuse realm, nonce and key. Responses that carry MESSAGE-INTEGRITY are checked
 * with the key: a mismatch is reported, not ignored.
 */
import { StunAttr } from '../stun/attribute-types.js';
import { readAddress, readXorAddress, type TransportAddress } from '../stun/address.js';
import { channelNumberValue, readLifetime, requestedTransportValue, TransportProtocol, readText, readUnknownAttributes } from '../stun/attribute-values.js';
import { StunMessageBuilder } from '../stun/builder.js';
import { buildChannelData } from '../stun/channel-data.js';
import { longTermKey, nonceFeatures, PasswordAlgorithm, passwordAlgorithmsValue, readPasswordAlgorithms, SecurityFeature } from '../stun/credentials.js';
import { readErrorCode } from '../stun/error-code.js';
import { verifyMessageIntegrity, verifyMessageIntegritySha256 } from '../stun/integrity.js';
import { newTransactionId, StunMethod, type StunMessage } from '../stun/message.js';
import type { StunTransactions, TransactionResult } from './stun-transactions.js';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** What the server said when it refused (an error response). */
export interface StunRefusal {
  readonly code: number;
  readonly reason: string;
  /** The REALM of a 401/438, if any. */
  readonly realm?: string;
  /** UNKNOWN-ATTRIBUTES of a 420. */
  readonly unknown?: readonly number[];
  /** ALTERNATE-SERVER of a 300. */
  readonly alternate?: TransportAddress;
}

export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly ms: number }
  | { readonly ok: false; readonly refusal: StunRefusal; readonly ms: number };

export interface Allocation {
  readonly relayed: TransportAddress;
  readonly mapped: TransportAddress | undefined;
  readonly lifetime: number;
  readonly realm: string;
  readonly algorithm: 'MD5' | 'SHA-256';
}

/** A response whose MESSAGE-INTEGRITY does not match the key: the server derives another key. */
export class IntegrityMismatch extends Error {}

const SOFTWARE = 'parley turn-check';

export class TurnClient {
  private realm: string | undefined;
  private nonce: string | undefined;
  private key: Uint8Array | undefined;
  private sha256 = false;
  private offeredAlgorithms: Uint8Array | undefined;

  constructor(
    private readonly tx: StunTransactions,
    private readonly credentials: Credentials | undefined,
  ) {}

  /** The realm the server announced (after the first 401). */
  get serverRealm(): string | undefined {
    return this.realm;
  }

  /** Binding (RFC 8489 §7): this client's address as the server sees it. */
  async binding(): Promise<Outcome<TransportAddress>> {
    const r = await this.tx.request((id) => new StunMessageBuilder(StunMethod.Binding, 'request', id).addString(StunAttr.SOFTWARE, SOFTWARE).addFingerprint().build());
    return this.outcome(r, (m) => {
      const a = m.get(StunAttr.XOR_MAPPED_ADDRESS);
      const addr = a === undefined ? undefined : readXorAddress(a, m.transactionId);
      if (addr === undefined || !addr.ok) throw new Error('the Binding response has no readable XOR-MAPPED-ADDRESS');
      return addr.value;
    });
  }

  /**
   * One Allocate without credentials: a TURN server answers 401 with its realm and a nonce
   * (remembered for the next requests). Returns the refusal (expected) or, from a server that
   * does not authenticate, the allocation.
   */
  async probe(): Promise<Outcome<Allocation>> {
    const r = await this.tx.request((id) => this.allocateRequest(id, 600, false));
    if (r.response.class === 'error') this.learnChallenge(r.response);
    return this.outcome(r, (m) => this.allocation(m));
  }

  /** Allocate a UDP relay with the credentials (challenge first when none is known). */
  async allocate(lifetime = 600): Promise<Outcome<Allocation>> {
    return this.authenticated((id) => this.allocateRequest(id, lifetime, true), (m) => this.allocation(m));
  }

  /** CreatePermission for one peer (RFC 8656 §9). */
  createPermission(peer: TransportAddress): Promise<Outcome<void>> {
    return this.authenticated(
      (id) => this.sign(new StunMessageBuilder(StunMethod.CreatePermission, 'request', id).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer)),
      () => undefined,
    );
  }

  /** ChannelBind (RFC 8656 §11). */
  channelBind(channel: number, peer: TransportAddress): Promise<Outcome<void>> {
    return this.authenticated(
      (id) => this.sign(new StunMessageBuilder(StunMethod.ChannelBind, 'request', id).add(StunAttr.CHANNEL_NUMBER, channelNumberValue(channel)).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer)),
      () => undefined,
    );
  }

  /** Refresh (RFC 8656 §7); lifetime 0 deletes the allocation. */
  refresh(lifetime: number): Promise<Outcome<number>> {
    return this.authenticated(
      (id) => this.sign(new StunMessageBuilder(StunMethod.Refresh, 'request', id).addUint32(StunAttr.LIFETIME, lifetime)),
      (m) => {
        const a = m.get(StunAttr.LIFETIME);
        const l = a === undefined ? undefined : readLifetime(a);
        return l !== undefined && l.ok ? l.value : lifetime;
      },
    );
  }

  /** A Send indication (RFC 8656 §10.1): no credentials, no answer. */
  sendIndication(peer: TransportAddress, data: Uint8Array): void {
    const id = newTransactionId();
    this.tx.send(new StunMessageBuilder(StunMethod.Send, 'indication', id).addXorAddress(StunAttr.XOR_PEER_ADDRESS, peer).add(StunAttr.DATA, data).build());
  }

  /** ChannelData (RFC 8656 §12.4); padded over streams. */
  sendChannelData(channel: number, data: Uint8Array, padded: boolean): void {
    this.tx.send(buildChannelData(channel, data, padded));
  }

  private allocateRequest(id: Uint8Array, lifetime: number, signed: boolean): Uint8Array {
    const b = new StunMessageBuilder(StunMethod.Allocate, 'request', id)
      .add(StunAttr.REQUESTED_TRANSPORT, requestedTransportValue(TransportProtocol.UDP))
      .addUint32(StunAttr.LIFETIME, lifetime)
      .addString(StunAttr.SOFTWARE, SOFTWARE);
    return signed ? this.sign(b) : b.addFingerprint().build();
  }

  /** Add the credentials of the long-term mechanism and the integrity, then FINGERPRINT. */
  private sign(b: StunMessageBuilder): Uint8Array {
    if (this.credentials === undefined || this.realm === undefined || this.nonce === undefined || this.key === undefined) return b.addFingerprint().build();
    b.addString(StunAttr.USERNAME, this.credentials.username).addString(StunAttr.REALM, this.realm).addString(StunAttr.NONCE, this.nonce);
    if (this.sha256) {
      b.add(StunAttr.PASSWORD_ALGORITHM, passwordAlgorithmsValue([PasswordAlgorithm.SHA256]));
      if (this.offeredAlgorithms !== undefined) b.add(StunAttr.PASSWORD_ALGORITHMS, this.offeredAlgorithms);
      b.addMessageIntegritySha256(this.key);
    } else b.addMessageIntegrity(this.key);
    return b.addFingerprint().build();
  }

  /** Remember realm and nonce of a 401 or 438 and derive the key. */
  private learnChallenge(m: StunMessage): void {
    const realm = m.get(StunAttr.REALM);
    const nonce = m.get(StunAttr.NONCE);
    if (realm === undefined || nonce === undefined) return;
    const r = readText(realm);
    const n = readText(nonce);
    if (!r.ok || !n.ok) return;
    this.realm = r.value;
    this.nonce = n.value;
    this.sha256 = false;
    this.offeredAlgorithms = undefined;
    const features = nonceFeatures(n.value);
    const offered = m.get(StunAttr.PASSWORD_ALGORITHMS);
    if (features !== undefined && (features & SecurityFeature.PasswordAlgorithms) !== 0 && offered !== undefined) {
      const list = readPasswordAlgorithms(offered);
      if (list.ok && list.value.some((e) => e.algorithm === PasswordAlgorithm.SHA256)) {
        this.sha256 = true;
        this.offeredAlgorithms = offered.value.slice();
      }
    }
    if (this.credentials !== undefined) this.key = longTermKey(this.credentials.username, this.realm, this.credentials.password, this.sha256 ? 'sha256' : 'md5');
  }

  /** Send `build`'s request signed; on 401 (first time) or 438, learn the challenge and send it once more. */
  private async authenticated<T>(build: (id: Uint8Array) => Uint8Array, read: (m: StunMessage) => T): Promise<Outcome<T>> {
    const started = performance.now();
    let r = await this.tx.request(build);
    for (let round = 0; round < 2 && r.response.class === 'error'; round++) {
      const e = errorOf(r.response);
      const firstChallenge = e.code === 401 && this.key === undefined;
      if (!(firstChallenge || e.code === 438)) break;
      this.learnChallenge(r.response);
      if (this.key === undefined) break; // no credentials to answer with
      r = await this.tx.request(build);
    }
    const out = this.outcome(r, read);
    return { ...out, ms: performance.now() - started } as Outcome<T>;
  }

  private outcome<T>(r: TransactionResult, read: (m: StunMessage) => T): Outcome<T> {
    const m = r.response;
    if (m.class === 'error') return { ok: false, refusal: errorOf(m), ms: r.ms };
    if (this.key !== undefined) {
      if (m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) !== undefined && !verifyMessageIntegritySha256(m, this.key)) throw new IntegrityMismatch('the response MESSAGE-INTEGRITY-SHA256 does not match our key');
      else if (m.get(StunAttr.MESSAGE_INTEGRITY) !== undefined && m.get(StunAttr.MESSAGE_INTEGRITY_SHA256) === undefined && !verifyMessageIntegrity(m, this.key)) throw new IntegrityMismatch('the response MESSAGE-INTEGRITY does not match our key');
    }
    return { ok: true, value: read(m), ms: r.ms };
  }

  private allocation(m: StunMessage): Allocation {
    const relayedAttr = m.get(StunAttr.XOR_RELAYED_ADDRESS);
    const relayed = relayedAttr === undefined ? undefined : readXorAddress(relayedAttr, m.transactionId);
    if (relayed === undefined || !relayed.ok) throw new Error('the Allocate success response has no readable XOR-RELAYED-ADDRESS');
    const mappedAttr = m.get(StunAttr.XOR_MAPPED_ADDRESS);
    const mapped = mappedAttr === undefined ? undefined : readXorAddress(mappedAttr, m.transactionId);
    const lifetimeAttr = m.get(StunAttr.LIFETIME);
    const lifetime = lifetimeAttr === undefined ? undefined : readLifetime(lifetimeAttr);
    return {
      relayed: relayed.value,
      mapped: mapped !== undefined && mapped.ok ? mapped.value : undefined,
      lifetime: lifetime !== undefined && lifetime.ok ? lifetime.value : 0,
      realm: this.realm ?? '',
      algorithm: this.sha256 ? 'SHA-256' : 'MD5',
    };
  }
}

function errorOf(m: StunMessage): StunRefusal {
  const a = m.get(StunAttr.ERROR_CODE);
  const e = a === undefined ? undefined : readErrorCode(a);
  const code = e !== undefined && e.ok ? e.value.code : 0;
  const reason = e !== undefined && e.ok ? e.value.reason : 'an error response without a readable ERROR-CODE';
  const realmAttr = m.get(StunAttr.REALM);
  const realm = realmAttr === undefined ? undefined : readText(realmAttr);
  const unknownAttr = m.get(StunAttr.UNKNOWN_ATTRIBUTES);
  const unknown = unknownAttr === undefined ? undefined : readUnknownAttributes(unknownAttr);
  const altAttr = m.get(StunAttr.ALTERNATE_SERVER);
  // ALTERNATE-SERVER is a plain address, not XOR'd (RFC 8489 §14.15)
  const alt = altAttr === undefined ? undefined : readAddress(altAttr);
  return {
    code,
    reason,
    ...(realm !== undefined && realm.ok ? { realm: realm.value } : {}),
    ...(unknown !== undefined && unknown.ok ? { unknown: unknown.value } : {}),
    ...(alt !== undefined && alt.ok ? { alternate: alt.value } : {}),
  };
}
