/**
 * Parley's SIP message library (RFC 3261 §7, §19, §20, §25; RFC 3581; RFC 5626 parameters;
 * RFC 7616/8760 digest header syntax). Bytes in, typed values out, and back. No sockets.
 */
export { SipParseError } from './errors.js';
export { parseMessage, type ParseOptions, type ParseResult } from './message/parse.js';
export { serialize, serializeHead, serializeToString } from './message/serialize.js';
export { SipMessage, SipRequest, SipResponse, type AnySipMessage, type HeaderField } from './message/sip-message.js';
export { StreamFramer, type FrameEvent, type StreamFramerOptions } from './message/stream-framer.js';
export { DEFAULT_LIMITS, type ParseLimits } from './message/limits.js';
export { headerKey, canonicalName } from './message/header-names.js';
export {
  createResponse, pushVia, popVia, pushRecordRoute, popRoute, decrementMaxForwards, newBranch, newTag,
  REASON_PHRASES, type ResponseOptions,
} from './message/build.js';
export { SipUri, TelUri, AbsoluteUri, parseUri, parseSipUri, uriEquals, uriMatchKey, hostKind, type Uri, type HostKind } from './grammar/uri.js';
export { NameAddr, parseNameAddr } from './grammar/name-addr.js';
export { Via, parseVia, MAGIC_COOKIE } from './grammar/via.js';
export { Contact, parseContact } from './grammar/contact.js';
export { AuthValue, parseAuthValue } from './grammar/digest.js';
export { parseCSeq, type CSeq } from './grammar/cseq.js';
export type { MediaType } from './grammar/media-type.js';
export { Params } from './grammar/params.js';
export { splitList, unescape } from './grammar/scanner.js';
export { TOKEN } from './grammar/chars.js';
export * from './transaction/index.js';
export * from './digest/index.js';
