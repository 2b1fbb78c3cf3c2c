// The loopback ports of the interop suites, and the one allocator every helper takes them from.
//
// Scheme: the suites use 127.0.0.1 ports 15000-32749 only (never 5060/5061, 3478/5349; below Linux's
// ephemeral ports, 32768 up). The range is cut in slices of 250 ports, and each test file owns one
// (PORT_SLICES, keyed by the file's name): slices 0-26 are 26000-32749, slices 27-50 are
// 20000-25999, slices 51-70 are 15000-19999 (sliceFirst).
// Node's test runner runs each file in a process of its own, in parallel with the others: as no
// two files share a slice, they never hand out the same port. Inside a file one PortPool hands
// out every port (Parley's listeners, sipp's -p/-cp/-mp, the TLS relay, UDP probes), each once.
// A port is also checked free for UDP and TCP before it is handed out, for what runs beside the
// suites (bench/sip uses 26000-26999). A new test file needs a slice here: portPool() fails for
// a file that has none.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PORT_RANGE = { first: 15000, last: 32749 } as const;
export const SLICE_SIZE = 250;

/** The first port of slice i: 26000 + 250 i for slices 0-26, 20000 + 250 (i - 27) for 27-50, 15000 + 250 (i - 51) for 51-70. */
export function sliceFirst(slice: number): number {
  if (!Number.isInteger(slice) || slice < 0 || slice > 70) throw new Error(`port slice ${slice} does not exist (0-70)`);
  if (slice < 27) return 26000 + slice * SLICE_SIZE;
  return slice < 51 ? 20000 + (slice - 27) * SLICE_SIZE : 15000 + (slice - 51) * SLICE_SIZE;
}

/** The slice of each test file (sliceFirst gives its ports). */
export const PORT_SLICES: Readonly<Record<string, number>> = {
  'options.test.ts': 0, // 26000-26249
  'retransmission.test.ts': 1, // 26250-26499
  'rfc4475.test.ts': 2, // 26500-26749
  'registrar.test.ts': 3, // 26750-26999
  'call.test.ts': 4, // 27000-27249
  'call-transports.test.ts': 5, // 27250-27499
  'restart.test.ts': 6, // 27500-27749
  'workers.test.ts': 7, // 27750-27999: SIP cores in worker threads
  'ws.test.ts': 8, // 28000-28249: SIP over WebSocket
  'ws-bridge.test.ts': 9, // 28250-28499: WebSocket <-> UDP calls
  'phone-call.test.ts': 10, // 28500-28749 (test/browser: browser to browser)
  'phone-sipp.test.ts': 11, // 28750-28999 (test/browser: browser and sipp)
  'load-kamailio.test.ts': 12, // 29000-29249
  'load-parley.test.ts': 13, // 29250-29499
  'packaging.test.ts': 14, // 29500-29749: npm pack, installed parley, signals
  'nat-contact.test.ts': 15, // 29750-29999: source address or Contact for UDP bindings
  // 14-15 (29500-29999): bench/ws (capacity.ts)
  'routing-reload.test.ts': 16, // 30000-30249
  'routing-trace.test.ts': 17, // 30250-30499
  'fuzz.test.ts': 18, // 30500-30749: mutation fuzzing over UDP, TCP and WSS
  'worker-watchdog.test.ts': 19, // 30750-30999: bounded worker queues, a hung worker replaced
  'in-dialog-relay.test.ts': 20, // 31000-31249: signed Record-Route, forged routes refused
  'enumeration.test.ts': 21, // 31250-31499: unknown and known users answered alike
  'malformed.test.ts': 22, // 31500-31749: malformed requests answered statelessly
  'durability.test.ts': 23, // 31750-31999: kill -9 under REGISTER load
  'connection-limits.test.ts': 24, // 32000-32249
  'tls-profile.test.ts': 25, // 32250-32499
  'clients.test.ts': 26, // 32500-32749: Debian's baresip, sipsak and linphone register (and call) with the defaults
  'stun-keepalive.test.ts': 27, // 20000-20249: STUN Binding on the SIP UDP port (RFC 5626 keepalive)
  'turn.test.ts': 28, // 20250-20499: the TURN server against coturn's clients (listeners; relay ports in 29)
  'turn-relay-ports.test.ts': 29, // 20500-20749: reserved: relayed-address ports of turn.test.ts
  'turn-coturn.test.ts': 30, // 20750-20999: coturn's turnserver, the same commands for comparison
  'turn-security.test.ts': 31, // 21000-21249: denied peers, quotas, amplification
  'turn-check.test.ts': 32, // 21250-21499: parley turn-check
  'turn-browser.test.ts': 33, // 21500-21749 (test/browser: two phone pages over a TURN relay)
  'media-gateway.test.ts': 34, // 21750-21999: anchored calls between SIP peers (sipp RTP), ports freed, bad SDP
  'media-ng.test.ts': 35, // 22000-22249: the media plane's ng control protocol (rtpengine's), Kamailio's rtpengine module
  'media-rtpengine.test.ts': 36, // 22250-22499: the same calls through Kamailio + rtpengine (the reference)
  'media-baresip.test.ts': 37, // 22500-22749 (test/browser: the phone page and baresip through the media gateway)
  'media-sipp.test.ts': 38, // 22750-22999 (test/browser: the phone page and sipp with RTP; transcoding; DTMF)
  'phone-layout.test.ts': 39, // 23000-23249 (test/browser: the phone page's layout at phone and laptop sizes)
  'ops-metrics.test.ts': 40, // 23250-23499: /metrics scraped by Prometheus; the Grafana dashboard's queries
  'ops-calls.test.ts': 41, // 23500-23749: live calls listed and hung up (sipp)
  'ops-api.test.ts': 42, // 23750-23999: the REST API: tokens, subscribers, bindings, errors
  'ops-cli.test.ts': 43, // 24000-24249: the operator's CLI against a running server
  'dashboard.test.ts': 44, // 24250-24499 (test/browser: the dashboard at phone and laptop sizes)
  'ops-packaging.test.ts': 45, // 24500-24749: systemd unit, SIGHUP reload of the configuration
  'ops-events.test.ts': 46, // 24750-24999: the event stream (WebSocket, SSE) and the log lines
  'ops-bench.test.ts': 47, // 25000-25249: spare for bench/ops smoke runs
  'hep-kamailio.test.ts': 48, // 25250-25499: Kamailio's sipcapture module decodes Parley's HEP
  'hep-send.test.ts': 49, // 25500-25749: Parley sends its SIP messages and RTCP over HEP
  'hep-listen.test.ts': 50, // 25750-25999: `parley hep listen` collects Kamailio's siptrace
  'pcap-calls.test.ts': 51, // 15000-15249: `parley pcap calls|ladder` against captures of sipp calls (UDP, TCP, WS)
  'pcap-streams.test.ts': 52, // 15250-15499: `parley pcap streams` against tshark's rtp,streams
  'pcap-srtp.test.ts': 53, // 15500-15749: `parley pcap crypto|decrypt` on SRTP captures
  'pcap-wav.test.ts': 54, // 15750-15999: `parley pcap wav|split`
  'hep-dashboard.test.ts': 55, // 16000-16249 (test/browser: HEP-captured calls on the dashboard's ladder)
  'pcap-bench.test.ts': 56, // 16250-16499: spare for bench/pcap smoke runs
};

/**
 * Is `port` free on 127.0.0.1 for UDP and (when asked) TCP? Binds and releases at once; another
 * process can still take the port in between, so callers retry on a bind failure.
 */
export async function portIsFree(port: number, tcp = true): Promise<boolean> {
  const udpFree = await new Promise<boolean>((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  if (!udpFree || !tcp) return udpFree;
  return new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Hands out blocks of consecutive ports, free for UDP and TCP on 127.0.0.1, from one slice. */
export class PortPool {
  private readonly handedOut = new Set<number>();
  /** Where the next search starts, as an offset in the slice. */
  private next: number;

  constructor(
    readonly first: number,
    readonly last: number,
    /** For error messages: whose slice this is. */
    readonly owner = `${first}-${last}`,
  ) {
    if (first < PORT_RANGE.first || last > PORT_RANGE.last || first > last) throw new Error(`ports ${first}-${last} are outside ${PORT_RANGE.first}-${PORT_RANGE.last}`);
    // a random start: a run right after another does not reuse its ports at once (a TCP
    // connection sipp made from a port may still be in TIME_WAIT, which a bind does not see)
    this.next = Math.floor(Math.random() * (last - first + 1));
  }

  /** The block() call in progress: calls run one after the other. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `count` consecutive free ports, never handed out before by this pool. The search goes on
   * from the end of the last block and wraps around, so the slice does not fragment. Calls made
   * at the same time (Promise.all of two starts) are served one after the other: each search
   * awaits the free-port checks, and two searches at once could pick the same ports.
   */
  block(count: number): Promise<number> {
    const next = this.queue.then(() => this.search(count));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async search(count: number): Promise<number> {
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const start = this.first + ((this.next + i) % size);
      if (start + count - 1 > this.last) continue;
      let ok = true;
      for (let p = start; p < start + count && ok; p++) ok = !this.handedOut.has(p) && (await portIsFree(p));
      if (!ok) continue;
      for (let p = start; p < start + count; p++) this.handedOut.add(p);
      this.next = (start - this.first + count) % size;
      return start;
    }
    throw new Error(`no block of ${count} free ports in ${this.first}-${this.last} (${this.owner})`);
  }
}

/** The pool of a test file, from its slice: `const pool = portPool(import.meta.url)`. */
export function portPool(testFileUrl: string): PortPool {
  const file = basename(testFileUrl.startsWith('file:') ? fileURLToPath(testFileUrl) : testFileUrl);
  const slice = PORT_SLICES[file];
  if (slice === undefined) throw new Error(`${file} has no port slice: give it one in test/interop/support/ports.ts (PORT_SLICES)`);
  const first = sliceFirst(slice);
  return new PortPool(first, first + SLICE_SIZE - 1, file);
}
