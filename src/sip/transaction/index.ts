/**
 * Parley's SIP transaction layer (RFC 3261 §17, as updated by RFC 6026): the four transaction
 * state machines and the layer that matches messages to them. Pure protocol code: time comes
 * from an injected Clock, bytes go out through an injected TransactionTransport.
 */
export {
  TransactionLayer,
  type TransactionLayerOptions,
  type ReceiveRequestResult,
  type ReceiveResponseResult,
  type TransactionLayerDump,
} from './transaction-layer.js';
export { InviteClientTransaction, type InviteClientTransactionState } from './invite-client-transaction.js';
export { NonInviteClientTransaction, type NonInviteClientTransactionState } from './non-invite-client-transaction.js';
export { InviteServerTransaction, type InviteServerTransactionState } from './invite-server-transaction.js';
export { NonInviteServerTransaction, type NonInviteServerTransactionState } from './non-invite-server-transaction.js';
export { ClientTransaction } from './client-transaction.js';
export { ServerTransaction } from './server-transaction.js';
export {
  Transaction,
  type TransactionState,
  type ActiveState,
  type TransactionKind,
  type TimerName,
  type TransactionEnvironment,
  type TransactionDump,
} from './transaction.js';
export type { ClientTransactionUser, ServerTransactionUser } from './transaction-user.js';
export { isReliable, type Flow, type FlowTransport, type SentResponse, type TransactionTransport } from './transaction-transport.js';
export { Timers, DEFAULT_TIMER_CONFIG, type TimerConfig } from './timers.js';
