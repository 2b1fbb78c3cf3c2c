/**
 * Parley's SIP transport layer (RFC 3261 §18, RFC 3581, RFC 5626 §3.5.1 keepalives): UDP, TCP
 * and TLS listeners behind TransportLayer, with a connection table others can follow.
 * See README.md.
 */
export { TransportLayer, type TransportLayerDelegate, type TransportLayerOptions, type ListenerOptions, type TlsOptions, type RawReceiver } from './transport-layer.js';
export { MessagePath, type MessagePathOptions, type MessageObserver } from './message-path.js';
export { SipMessageCounts, COUNTED_METHODS, STATUS_CLASSES, methodIndex, type CountedMethod } from './message-counts.js';
export type { Wire } from './wire.js';
export { ConnectionTable, reservedConnections, type SipConnection, type ConnectionTableEvents, type ConnectionRefusal } from './connection-table.js';
export { AuthenticatedSources } from './authenticated-sources.js';
export { sourcePrefix } from './source-prefix.js';
export { type Flow, type FlowTransport, type StreamTransport, isStreamTransport, isWebSocketTransport, defaultPort, normalizeAddress, flowTransportOf } from './flow.js';
export type { ListenerInfo } from './listener-info.js';
export { DEFAULT_TRANSPORT_LIMITS, type TransportLimits } from './transport-limits.js';
export { TransportError } from './transport-error.js';
export { silentLogger, type Logger, type LogFn } from '../../lib/logger.js';
export { loadOrCreateCertificate, loadCertificateFiles, loadServerCertificate, CertificateFileError, DEV_CERT_FILE, DEV_KEY_FILE, type TlsCertificate } from './tls-certificate.js';
export { ListenError, listenError } from './listen-error.js';
export { TLS_MIN_VERSION, TLS_SERVER_CIPHERS } from './tls-transport.js';
export { responseTarget, sourceTarget, type ResponseTarget } from './response-target.js';
export { malformedResponse, malformedStatus, malformedWarning, readableTopVia, type MalformedStatus } from './malformed-answer.js';
export { addReceivedParameters } from './received-parameters.js';
export { WsTransport, SIP_SUBPROTOCOL, type WsTransportOptions } from './ws-transport.js';
export { WsConnection } from './ws-connection.js';
export { setWireTap, type WireTap } from './wire-tap.js';
