/**
 * What this thread's HEP capture did, as plain numbers (read at scrape time by
 * metrics/hep-metrics.ts; each thread has its own and /metrics sums them). A packet is counted
 * once per collector it was meant for: `sent` (handed to the socket), `dropped` (the queue was
 * full, the TCP collector was not reading or not connected, or the packet was over 65535 bytes);
 * `sampledOut` once per message left out by `hep.sampling`.
 */
export interface HepCounts {
  sent: number;
  dropped: number;
  sampledOut: number;
}

/** This thread's counts (module state: a worker thread has its own). */
export const hepCounts: HepCounts = { sent: 0, dropped: 0, sampledOut: 0 };
