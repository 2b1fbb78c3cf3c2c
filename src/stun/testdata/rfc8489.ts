/**
 * RFC 8489 Appendix B.1, "Sample Request with Long-Term Authentication with
 * MESSAGE-INTEGRITY-SHA256 and USERHASH", in the corrected form of RFC 8489 erratum 6268.
 * Transcribed as hex, 4 bytes a group. Its MESSAGE-INTEGRITY-SHA256 checks out under the SHA-256
 * long-term key of the parameters below (and not under the MD5 one).
 */
import { hex } from './rfc5769.js';

export const SAMPLE_SHA256_REQUEST = hex(`
  00010090 2112a442 78ad3433 c6ad72c0 29da412e
  001e0020 4a3cf38f ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704
  00150029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464 364f4c33 346f4c39 46535476 79363473 41000000
  0014000b 6578616d 706c652e 6f726700
  001d0004 00020000
  001c0020 b5c7bf00 5b6c52a2 1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65`);

export const SAMPLE_SHA256_PARAMS = {
  username: '\u30de\u30c8\u30ea\u30c3\u30af\u30b9', // "unaffected by OpaqueString processing"
  // The RFC gives the password as "The<U+00AD>M<U+00AA>tr<U+2168>" before OpaqueString and
  // "TheMatrIX" after, a pair inherited from SASLprep (RFC 5769): OpaqueString as RFC 8265 defines
  // it (NFC, spaces) keeps those characters. The key is made from the string after.
  password: 'TheMatrIX',
  nonce: 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA',
  realm: 'example.org',
  transactionId: hex('78ad3433 c6ad72c0 29da412e'),
};
