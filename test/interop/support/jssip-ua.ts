// JsSIP (the SIP stack of the browser phone), run in Node for the parts that need no media:
// registration over a WebSocket, and its recovery after the connection drops. Node 20 has no
// WebSocket global; the `ws` client stands in for the browser's (trusting Parley's development
// certificate), and every socket JsSIP opens is kept so that a test can cut it.
import JsSIP from 'jssip';
import WebSocket from 'ws';

export interface JsSipPhone {
  readonly ua: JsSIP.UA;
  /** The WebSockets JsSIP opened, oldest first. */
  readonly sockets: WebSocket[];
  /** Resolves once the UA has been registered `n` times in all (bounded). */
  registered(n: number, ms?: number): Promise<void>;
  stop(): void;
}

/** A JsSIP UA registering `user`@`domain` over `url` (wss, trusting `ca`), with quick connection recovery. */
export function startJsSip(o: { url: string; ca: string; user: string; password: string; domain?: string }): JsSipPhone {
  const sockets: WebSocket[] = [];
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca: o.ca });
      sockets.push(this);
    }
  };
  const socket = new JsSIP.WebSocketInterface(o.url);
  const ua = new JsSIP.UA({
    sockets: [socket],
    uri: `sip:${o.user}@${o.domain ?? '127.0.0.1'}`,
    password: o.password,
    register: true,
    connection_recovery_min_interval: 1,
    connection_recovery_max_interval: 2,
  });
  let count = 0;
  let failure: string | undefined;
  ua.on('registered', () => void count++);
  ua.on('registrationFailed', (e: { cause?: string }) => void (failure = e.cause ?? 'registration failed'));
  ua.start();
  return {
    ua,
    sockets,
    registered: async (n, ms = 10_000) => {
      const end = Date.now() + ms;
      while (count < n) {
        if (failure !== undefined) throw new Error(`JsSIP: ${failure}`);
        if (Date.now() > end) throw new Error(`JsSIP registered ${count} times, not ${n}, within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => {
      ua.stop();
      for (const s of sockets) s.terminate();
    },
  };
}
