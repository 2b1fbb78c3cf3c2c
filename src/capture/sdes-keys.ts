/**
 * What a captured SDP says about media security (`parley pcap crypto`, and the keys `parley pcap
 * decrypt` takes from the capture): per media line its address and port, each SDES a=crypto
 * (RFC 4568 §9.1: tag, suite, key-params, session-params) with its keys read, and DTLS-SRTP's
 * a=fingerprint and a=setup (RFC 8122 §5, §4), whose keys no capture holds.
 */
import { parseMessage } from '../sip/index.js';
import { getAttributes, getAttribute, hasAttribute, parseSdp, type SessionDescription } from '../sdp/index.js';
import { isSrtpSuite, parseSdesKeyParams, type SdesKey } from '../srtp/index.js';
import type { DecryptKey } from './srtp-decrypt.js';

export interface SdesCrypto {
  readonly tag: number;
  readonly suite: string;
  /** The key-params as written ("inline:…|2^31|1:4"). */
  readonly keyParams: string;
  readonly sessionParams: readonly string[];
  /** Its keys, when the suite is one Parley knows and the key-params are well formed. */
  readonly keys: readonly SdesKey[];
  /** Why there are no keys. */
  readonly problem?: string;
}

export interface MediaSecurity {
  readonly media: string;
  readonly address: string;
  readonly port: number;
  readonly proto: string;
  readonly rtcpMux: boolean;
  readonly crypto: readonly SdesCrypto[];
  readonly fingerprints: readonly { readonly algorithm: string; readonly value: string }[];
  readonly setup: string | undefined;
}

/** RFC 4568 §9.1: "a=crypto:<tag> <crypto-suite> <key-params> [<session-params>]". */
export function parseCryptoAttribute(value: string): SdesCrypto | undefined {
  const words = value.split(' ').filter((w) => w !== '');
  if (words.length < 3) return undefined;
  const tag = Number(words[0]);
  if (!Number.isInteger(tag) || tag < 0 || tag > 999_999_999) return undefined;
  const suite = words[1]!;
  const keyParams = words[2]!;
  const sessionParams = words.slice(3);
  if (!isSrtpSuite(suite)) return { tag, suite, keyParams, sessionParams, keys: [], problem: `suite ${suite} is not one Parley decrypts` };
  const keys = parseSdesKeyParams(suite, keyParams);
  if (!keys.ok) return { tag, suite, keyParams, sessionParams, keys: [], problem: keys.error };
  return { tag, suite, keyParams, sessionParams, keys: keys.value };
}

/** Each media line's security, the session-level fingerprint and setup applying where the media line has none (RFC 8122 §5). */
export function sdpSecurity(sdp: SessionDescription): MediaSecurity[] {
  const sessionFingerprints = getAttributes(sdp, 'fingerprint');
  const sessionSetup = getAttribute(sdp, 'setup');
  return sdp.media.map((m) => {
    const crypto: SdesCrypto[] = [];
    for (const v of getAttributes(m, 'crypto')) {
      const c = parseCryptoAttribute(v);
      if (c !== undefined) crypto.push(c);
    }
    const fp = getAttributes(m, 'fingerprint');
    const fingerprints = (fp.length > 0 ? fp : sessionFingerprints).map((f) => {
      const space = f.indexOf(' ');
      return space < 0 ? { algorithm: f, value: '' } : { algorithm: f.slice(0, space), value: f.slice(space + 1).trim() };
    });
    return {
      media: m.media,
      address: (m.connection ?? sdp.connection)?.address ?? '',
      port: m.port,
      proto: m.proto,
      rtcpMux: hasAttribute(m, 'rtcp-mux'),
      crypto,
      fingerprints,
      setup: getAttribute(m, 'setup') ?? sessionSetup,
    };
  });
}

const A_CRYPTO = Buffer.from('a=crypto:');

/** The SDP body of a SIP message in one datagram or segment, if it has one with a=crypto. */
export function sdpOfSipPayload(payload: Uint8Array, datagram: boolean): SessionDescription | undefined {
  const b0 = payload[0] ?? 0;
  if (b0 < 0x41 || b0 > 0x5a) return undefined; // a SIP start line begins with a method or "SIP/2.0"
  if (Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).indexOf(A_CRYPTO) < 0) return undefined;
  const m = parseMessage(payload, { datagram });
  if (!m.ok) return undefined;
  const type = m.message.get('content-type');
  if (type === undefined || !type.toLowerCase().startsWith('application/sdp')) return undefined;
  const sdp = parseSdp(Buffer.from(m.message.body).toString('utf8'));
  return sdp.ok ? sdp.value : undefined;
}

/**
 * The SDES keys a captured SIP message carries (RFC 4568 §6.1: each protects what the SDP's
 * writer sends, from its media line's address and port), for the decryptor. A message split
 * over TCP segments is not joined here: its keys come from --key.
 */
export function sdesKeysOfMessage(segment: { readonly protocol: 'udp' | 'tcp'; readonly payload: Uint8Array }): DecryptKey[] {
  const sdp = sdpOfSipPayload(segment.payload, segment.protocol === 'udp');
  if (sdp === undefined) return [];
  const keys: DecryptKey[] = [];
  for (const m of sdpSecurity(sdp)) {
    if (m.port === 0) continue;
    for (const c of m.crypto) {
      if (!isSrtpSuite(c.suite)) continue;
      for (const k of c.keys) keys.push({ suite: c.suite, master: k, source: { address: m.address, port: m.port }, origin: `a=crypto:${c.tag} of ${m.address}:${m.port}` });
    }
  }
  return keys;
}
