/**
 * Parley's HEPv3 library (the Homer Encapsulation Protocol, sipcapture/HEP): bytes in, typed
 * values out, and back. No sockets, no configuration. See README.md.
 */
export { HEP_GENERIC_VENDOR, HepChunkType, HepIpFamily, HepIpProtocol, HepProtocolType, chunkTypeName, type HepChunkTypeName } from './chunk-types.js';
export { HEP3_MAGIC, HEP_HEADER_SIZE, HEP_CHUNK_HEADER_SIZE, HEP_MAX_SIZE, type HepPacket, type HepRawChunk, type HepDecodeError } from './packet.js';
export { decodeHep, isHep3, hepTotalLength } from './decode.js';
export { encodeHep, hepEncodedSize } from './encode.js';
export { HepStreamFramer } from './stream-framer.js';
export { hepAddressFields, hepSource, hepDestination, type HepEndpoint } from './addresses.js';
