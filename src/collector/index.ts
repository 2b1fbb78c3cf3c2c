/**
 * The HEP collector (`parley hep listen`): UDP and TCP listeners for HEPv3, what they receive
 * summarised and stored in SQLite grouped by Call-ID, and the queries on it. See README.md.
 */
export { summariseHep, messageLabel, MAX_INFLATED_PAYLOAD, type CapturedMessage, type CaptureTransport, type SummaryFault } from './captured-message.js';
export {
  CaptureStore, CAPTURE_SCHEMA_VERSION, type CallSummary, type CaptureStoreOptions, type CaptureStoreStats, type StoredMessage, type TimeRange,
} from './capture-store.js';
export { HepCollector, DEFAULT_HEP_PORT, type DropReason, type HepCollectorOptions, type HepCollectorStats, type ListenAddress } from './hep-collector.js';
