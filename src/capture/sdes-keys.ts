/**
 * The SDES keys of a capture's SDP (media-hints.ts reads the a=crypto lines): for `parley pcap
 * crypto`, each line with its key and salt, lifetime and MKI read (RFC 4568 §9.1); for `parley
 * pcap decrypt`, the keys bound to the sender they protect (RFC 4568 §6.1: "the key ... in the
 * offer/answer is the key used by the sender of that SDP": the address and port of its media
 * line, RTCP at its RTCP port).
 */
import { parseSdp } from '../sdp/index.js';
import { isSrtpSuite, parseSdesKeyParams, type SdesKey } from '../srtp/index.js';
import { mediaOf, sdpBody, type CryptoHint, type MediaHint } from './media-hints.js';
import type { CapturedSipMessage } from './sip-capture.js';
import type { DecryptKey } from './srtp-decrypt.js';

export interface SdesCryptoReport {
  readonly tag: number;
  readonly suite: string;
  /** The key-params as written. */
  readonly keyParams: string;
  readonly sessionParams: readonly string[];
  /** Each key: key ‖ salt in base64 as written, the key and the salt in hex, lifetime and MKI. */
  readonly keys: readonly {
    readonly keySalt: string;
    readonly key: string;
    readonly salt: string;
    readonly lifetime?: string;
    readonly mki?: number;
    readonly mkiLength?: number;
  }[];
  /** Why the keys could not be read (a suite Parley does not know, bad base64, a wrong length). */
  readonly problem?: string;
}

/** One a=crypto line read. */
export function cryptoReport(c: CryptoHint): SdesCryptoReport {
  const base = { tag: c.tag, suite: c.suite, keyParams: c.keyParams, sessionParams: c.sessionParams };
  if (!isSrtpSuite(c.suite)) return { ...base, keys: [], problem: `suite ${c.suite} is not one Parley reads` };
  const keys = parseSdesKeyParams(c.suite, c.keyParams);
  if (!keys.ok) return { ...base, keys: [], problem: keys.error };
  return {
    ...base,
    keys: keys.value.map((k: SdesKey) => ({
      keySalt: k.keySalt,
      key: Buffer.from(k.key).toString('hex'),
      salt: Buffer.from(k.salt).toString('hex'),
      ...(k.lifetime === undefined ? {} : { lifetime: k.lifetime }),
      ...(k.mkiValue === undefined ? {} : { mki: k.mkiValue, mkiLength: k.mkiLength }),
    })),
  };
}

/** The decryption keys of one SDP's media lines, each bound to the sender it protects. */
export function sdesKeysOfMedia(media: readonly MediaHint[]): DecryptKey[] {
  const keys: DecryptKey[] = [];
  for (const m of media) {
    if (m.port === 0) continue;
    for (const c of m.crypto) {
      if (!isSrtpSuite(c.suite)) continue;
      const parsed = parseSdesKeyParams(c.suite, c.keyParams);
      if (!parsed.ok) continue;
      for (const k of parsed.value) {
        keys.push({
          suite: c.suite,
          master: k,
          source: { address: m.address, port: m.port },
          rtcpSource: { address: m.rtcpAddress, port: m.rtcpPort },
          origin: `a=crypto:${c.tag} of ${m.address}:${m.port}`,
        });
      }
    }
  }
  return keys;
}

/** The decryption keys a captured SIP message's SDP carries (none without SDP or a=crypto). */
export function sdesKeysOfMessage(c: CapturedSipMessage): DecryptKey[] {
  const text = sdpBody(c.message);
  if (text === undefined || !text.includes('a=crypto:')) return [];
  const sdp = parseSdp(text);
  return sdp.ok ? sdesKeysOfMedia(mediaOf(sdp.value)) : [];
}

/** DTLS-SRTP (RFC 5764) keys come out of the DTLS handshake: a capture holds neither them nor the secrets they are made from. */
export const DTLS_KEYS_NOTE = 'DTLS-SRTP: the keys come from the DTLS handshake and are not in the capture (they need the endpoints\' key log)';

export interface MediaSecurityReport {
  readonly media: string;
  readonly address: string;
  readonly port: number;
  readonly proto: string;
  readonly crypto: readonly SdesCryptoReport[];
  readonly fingerprint: string | undefined;
  readonly setup: string | undefined;
  /** DTLS_KEYS_NOTE when the line offers DTLS-SRTP (a fingerprint). */
  readonly note?: string;
}

export interface SdpSecurityReport {
  readonly role: 'offer' | 'answer';
  readonly carriedBy: string;
  /** Capture time, ns since 1970, as a decimal string (JSON has no bigint). */
  readonly time: string;
  readonly src: string;
  readonly srcPort: number;
  readonly dst: string;
  readonly dstPort: number;
  readonly media: readonly MediaSecurityReport[];
}

/** What each SDP of a call says about its media's security, in capture order. */
export function sdpSecurity(sdps: readonly import('./media-hints.js').SdpHint[]): SdpSecurityReport[] {
  return sdps.map((s) => ({
    role: s.role,
    carriedBy: s.carriedBy,
    time: String(s.time),
    src: s.src,
    srcPort: s.srcPort,
    dst: s.dst,
    dstPort: s.dstPort,
    media: s.media.map((m) => ({
      media: m.media,
      address: m.address,
      port: m.port,
      proto: m.proto,
      crypto: m.crypto.map(cryptoReport),
      fingerprint: m.fingerprint,
      setup: m.setup,
      ...(m.fingerprint === undefined ? {} : { note: DTLS_KEYS_NOTE }),
    })),
  }));
}
