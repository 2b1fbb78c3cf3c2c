import { HepIpProtocol, HepProtocolType } from '../../hep/index.js';
import type { Logger } from '../../lib/logger.js';
import { setWireTap, type FlowTransport } from '../../sip-server/transport/index.js';
import type { HepConfig } from '../config.js';
import { parseCollectorAddress } from './collector-address.js';
import { hepCounts, type HepCounts } from './hep-counts.js';
import { openOutlet, type HepOutlet } from './hep-outlet.js';
import { HepQueue, type Schedule } from './hep-queue.js';
import { MethodSampling } from './method-sampling.js';
import { HepWriter } from './hep-writer.js';

const CR = 0x0d;
const LF = 0x0a;

/** Seconds and microseconds since the Unix epoch, now (below a millisecond: performance.now). */
export type HepClock = () => { readonly seconds: number; readonly microseconds: number };

export const hepNow: HepClock = () => {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const seconds = Math.floor(us / 1_000_000);
  return { seconds, microseconds: us - seconds * 1_000_000 };
};

export interface HepCaptureOptions {
  readonly config: HepConfig;
  readonly outlets: readonly HepOutlet[];
  readonly sampling: MethodSampling;
  readonly counts?: HepCounts;
  readonly clock?: HepClock;
  readonly schedule?: Schedule;
}

/**
 * One thread's HEP agent: SIP messages as the sockets read and write them (a WireTap) and RTCP of
 * the media thread become HEPv3 packets (src/hep) at once, with the time they were seen, and
 * wait in a HepQueue for the end of the event-loop turn, when each collector gets the batch.
 * Sampling (`hep.sampling`) is decided before anything is built.
 */
export class HepCapture {
  private readonly queue: HepQueue;
  private readonly counts: HepCounts;
  private readonly clock: HepClock;
  private readonly writer: HepWriter;

  constructor(private readonly options: HepCaptureOptions) {
    this.counts = options.counts ?? hepCounts;
    this.clock = options.clock ?? hepNow;
    const c = options.config;
    this.writer = new HepWriter({ captureAgentId: c.captureId, authKey: c.authKey, nodeName: c.nodeName });
    const outlets = options.outlets;
    this.queue = new HepQueue(
      c.queue,
      outlets.length,
      this.counts,
      (batch, bytes) => {
        for (const o of outlets) o.send(batch, bytes);
      },
      options.schedule,
    );
  }

  /** A SIP message's bytes as a socket read or wrote them (the WireTap). */
  readonly sip = (bytes: Uint8Array, transport: FlowTransport, sourceAddress: string, sourcePort: number, destinationAddress: string, destinationPort: number): void => {
    // CRLF keepalives (RFC 5626 §3.5.1) are not SIP messages
    const first = bytes[0];
    if (first === CR || first === LF || bytes.length === 0) return;
    if (!this.options.sampling.keep(bytes)) {
      this.counts.sampledOut++;
      return;
    }
    const t = this.clock();
    // TLS and WebSocket ride on TCP; HEP has no chunk for what is above IP
    const protocol = transport === 'udp' ? HepIpProtocol.UDP : HepIpProtocol.TCP;
    this.add(this.writer.write(bytes, protocol, HepProtocolType.SIP, sourceAddress, sourcePort, destinationAddress, destinationPort, t.seconds, t.microseconds));
  };

  /**
   * An RTCP packet (or an RTP header: `protocolType` RTP) of an anchored call, as the media
   * thread's socket read it, correlated with its call by the Call-ID (HEP chunk 0x0011) as Homer
   * joins RTCP to SIP.
   */
  media(bytes: Uint8Array, protocolType: number, callId: string, sourceAddress: string, sourcePort: number, destinationAddress: string, destinationPort: number): void {
    const t = this.clock();
    this.add(this.writer.write(bytes, HepIpProtocol.UDP, protocolType, sourceAddress, sourcePort, destinationAddress, destinationPort, t.seconds, t.microseconds, callId));
  }

  /** Send what waits now. */
  flush(): void {
    this.queue.run();
  }

  close(): void {
    this.queue.run();
    for (const o of this.options.outlets) o.close();
  }

  /** A packet for the collectors; none (an address that is not one, over 65535 bytes): dropped and counted. */
  private add(packet: Uint8Array | undefined): void {
    if (packet === undefined) this.counts.dropped += this.options.outlets.length;
    else this.queue.push(packet);
  }
}

/**
 * This thread's HEP capture when `hep.collectors` names any, its tap installed on the SIP
 * sockets; undefined (and nothing installed) otherwise. Bad collector or sampling text is a
 * configuration error (thrown at start).
 */
export function startHepCapture(config: HepConfig, log: Logger, options: { readonly sip?: boolean } = {}): HepCapture | undefined {
  if (config.collectors.length === 0) return undefined;
  const sampling = MethodSampling.parse(config.sampling);
  if (!sampling.ok) throw new Error(`hep.sampling: ${sampling.error}`);
  const outlets: HepOutlet[] = [];
  for (const text of config.collectors) {
    const a = parseCollectorAddress(text);
    if (!a.ok) throw new Error(`hep.collectors: ${a.error}`);
    outlets.push(openOutlet(a.value, hepCounts, config.maxWriteBuffer, log));
  }
  const capture = new HepCapture({ config, outlets, sampling: sampling.value });
  if (options.sip !== false) setWireTap(capture.sip);
  return capture;
}

/** Remove this thread's tap and close its collector sockets. */
export function stopHepCapture(capture: HepCapture | undefined): void {
  if (capture === undefined) return;
  setWireTap(undefined);
  capture.close();
}
