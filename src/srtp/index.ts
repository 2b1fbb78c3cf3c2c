/**
 * Parley's SRTP library (RFC 3711, RFC 7714): SRTP and SRTCP protect and unprotect for the media
 * plane and for `parley pcap decrypt`. No sockets, no configuration. See README.md.
 */
export {
  SRTP_SUITES,
  SRTP_SUITE_PARAMETERS,
  MASTER_KEY_LENGTH,
  MASTER_SALT_LENGTH,
  isSrtpSuite,
  isAesCmSuite,
  type SrtpSuite,
  type SrtpSuiteParameters,
  type SrtpMasterKey,
} from './srtp-suite.js';
export { SrtpContext, estimateRoc, rtpHeaderLength, type SrtpContextOptions } from './srtp-context.js';
export { aesCounterModeKeystream, deriveSessionKey } from './aes-counter-mode.js';
export { AesGcmTransform, type GcmSessionKeys } from './aes-gcm-transform.js';
export { parseSdesKeyParam, parseSdesKeyParams, type SdesKey } from './sdes-key-params.js';
