export type { CaptureError, CaptureErrorKind } from './capture-error.js';
export type { CaptureRecord } from './capture-record.js';
export { CaptureReader, readCapture, type CaptureReaderOptions, type CaptureSummary } from './capture-reader.js';
export { LinkType, networkLayer, type NetworkLayer } from './link-layer.js';
export { parseIp, parseIpv4, parseIpv6, IPPROTO_TCP, IPPROTO_UDP, type IpPacket, type IpFragment } from './ip-packet.js';
export { IpReassembler, type ReassemblyOptions, type ReassemblyCounts } from './ip-reassembly.js';
export { parseTcp, parseUdp, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpHeader, type TransportHeader } from './transport-segment.js';
export { PacketDecoder, type Decoded, type TransportSegment } from './packet-decoder.js';
