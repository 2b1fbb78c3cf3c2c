import type { FlowTransport } from './flow.js';

/**
 * Sees the bytes of every SIP message where they meet a socket: as read (a UDP datagram, a message
 * framed out of a TCP/TLS stream, a WebSocket message) and as written, with the addresses and
 * ports of that socket. The HEP capture (app/hep) installs one per thread when collectors are
 * configured; unset, each socket site pays one comparison. It must not throw and must not keep
 * the thread: it queues and returns.
 */
export type WireTap = (bytes: Uint8Array, transport: FlowTransport, sourceAddress: string, sourcePort: number, destinationAddress: string, destinationPort: number) => void;

/** This thread's tap (module state: each worker thread has its own). */
export let wireTap: WireTap | undefined;

/** Install (or, with undefined, remove) this thread's tap. */
export function setWireTap(tap: WireTap | undefined): void {
  wireTap = tap;
}
