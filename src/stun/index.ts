/**
 * Parley's STUN/TURN message library (RFC 8489, RFC 8656, RFC 6062, RFC 6156 attributes,
 * RFC 7983 demultiplexing). Bytes in, typed values out, and back. No sockets, no configuration.
 * See README.md.
 */
export {
  MAGIC_COOKIE, STUN_HEADER_SIZE, StunMethod, parseStunMessage, newTransactionId, isStunMessage, messageType, methodOf, classOf,
  type StunClass, type StunAttribute, type StunMessage, type StunParseError,
} from './message.js';
export { StunAttr, attributeName, isComprehensionRequired, unknownComprehensionRequired, type StunAttrName } from './attribute-types.js';
export { StunMessageBuilder } from './builder.js';
export { readAddress, readXorAddress, FAMILY_IPV4, FAMILY_IPV6, type TransportAddress } from './address.js';
export { ipv4Bytes, ipv6Bytes, formatIpv4, formatIpv6 } from '../lib/ip-address.js';
export { verifyMessageIntegrity, verifyMessageIntegritySha256, MESSAGE_INTEGRITY_SIZE, MESSAGE_INTEGRITY_SHA256_SIZE } from './integrity.js';
export { verifyFingerprint, FINGERPRINT_XOR } from './fingerprint.js';
export { readErrorCode, STUN_REASONS } from './error-code.js';
export {
  longTermKey, keyFromHa1, userHash, opaqueString, NONCE_COOKIE, SecurityFeature, nonceCookie, nonceFeatures,
  PasswordAlgorithm, selectPasswordAlgorithm, type PasswordAlgorithmError, readPasswordAlgorithms, readPasswordAlgorithm, passwordAlgorithmsValue, type PasswordAlgorithmEntry,
} from './credentials.js';
export {
  MIN_CHANNEL_NUMBER, MAX_CHANNEL_NUMBER, isChannelNumber, readChannelNumber, channelNumberValue, readUint32, readLifetime,
  readConnectionId, TransportProtocol, readRequestedTransport, requestedTransportValue, readAddressFamily, addressFamilyValue,
  readAddressErrorCode, addressErrorCodeValue, readEvenPort, evenPortValue, readReservationToken, readDontFragment, readIcmp,
  icmpValue, readUnknownAttributes, unknownAttributesValue, TEXT_LIMITS, readText, readUserHash,
} from './attribute-values.js';
export { CHANNEL_DATA_HEADER_SIZE, parseChannelData, buildChannelData, writeChannelDataHeader } from './channel-data.js';
export { RFC5766_MAX_CHANNEL_NUMBER, StunStreamFramer, type StunStreamFramerOptions, type StunStreamHandlers } from './stream-framer.js';
export { packetKind, type PacketKind } from './demux.js';
