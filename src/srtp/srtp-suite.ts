/**
 * The SRTP crypto suites Parley knows, by their SDES names (RFC 4568 §6.2, RFC 7714 §14.2), with
 * the master key and salt lengths and tag lengths each one fixes.
 */

export type SrtpSuite = 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' | 'AEAD_AES_128_GCM' | 'AEAD_AES_256_GCM';

export interface SrtpSuiteParameters {
  /** AES-CM with HMAC-SHA1 (RFC 3711) or AES-GCM (RFC 7714). */
  readonly transform: 'aes-cm' | 'aes-gcm';
  /** Master (and session encryption) key bytes. */
  readonly keyLength: number;
  /** Master salt bytes: 112 bits for AES-CM (RFC 3711 §8.2), 96 bits for AES-GCM (RFC 7714 §12). */
  readonly saltLength: number;
  /** SRTP authentication tag bytes. */
  readonly rtpTagLength: number;
  /** SRTCP authentication tag bytes. */
  readonly rtcpTagLength: number;
}

export const SRTP_SUITE_PARAMETERS: Readonly<Record<SrtpSuite, SrtpSuiteParameters>> = {
  // RFC 4568 §6.2.1, §6.2.2: SRTCP's tag is 80 bits in both AES-CM suites
  AES_CM_128_HMAC_SHA1_80: { transform: 'aes-cm', keyLength: 16, saltLength: 14, rtpTagLength: 10, rtcpTagLength: 10 },
  AES_CM_128_HMAC_SHA1_32: { transform: 'aes-cm', keyLength: 16, saltLength: 14, rtpTagLength: 4, rtcpTagLength: 10 },
  // RFC 7714 §12: "AEAD_AES_128_GCM ... master key 128 bits, master salt 96 bits, auth tag 128 bits" (its table, abridged)
  AEAD_AES_128_GCM: { transform: 'aes-gcm', keyLength: 16, saltLength: 12, rtpTagLength: 16, rtcpTagLength: 16 },
  AEAD_AES_256_GCM: { transform: 'aes-gcm', keyLength: 32, saltLength: 12, rtpTagLength: 16, rtcpTagLength: 16 },
};

export const SRTP_SUITES: readonly SrtpSuite[] = ['AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32', 'AEAD_AES_128_GCM', 'AEAD_AES_256_GCM'];

/** Master key and salt lengths of the AES-CM suites (RFC 3711 §8.2: 128-bit key, 112-bit salt). */
export const MASTER_KEY_LENGTH = 16;
export const MASTER_SALT_LENGTH = 14;

export function isSrtpSuite(s: string): s is SrtpSuite {
  return Object.hasOwn(SRTP_SUITE_PARAMETERS, s);
}

/** The two AES-CM/HMAC-SHA1 suites (what the media gateway offers and accepts today). */
export function isAesCmSuite(s: string): s is 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32' {
  return s === 'AES_CM_128_HMAC_SHA1_80' || s === 'AES_CM_128_HMAC_SHA1_32';
}

export interface SrtpMasterKey {
  readonly key: Uint8Array;
  readonly salt: Uint8Array;
  /**
   * The Master Key Identifier (RFC 3711 §3.1) this key is named by, when the packets carry one
   * (RFC 4568 §6.1 `|MKI:length`): written into what is protected, and what is unprotected must
   * carry it. Absent: no MKI field.
   */
  readonly mki?: Uint8Array;
}
