import type { FlowTransport } from './flow.js';

/**
 * A bound listener: its transport and where it listens (the real port when 0 was asked for).
 * `ws`/`wss` are the HTTP(S) listeners that carry SIP over WebSocket (src/http).
 */
export interface ListenerInfo {
  readonly transport: FlowTransport;
  readonly address: string;
  readonly port: number;
}
