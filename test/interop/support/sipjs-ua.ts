// SIP.js (the other browser SIP stack) run in Node for registration and keepalives, with the
// `ws` client standing in for the browser's WebSocket (trusting Parley's development
// certificate). Every WebSocket message it receives is recorded.
import { Registerer, RegistererState, UserAgent } from 'sip.js';
import WebSocket from 'ws';

export interface SipJsPhone {
  readonly ua: UserAgent;
  readonly registerer: Registerer;
  /** Text of every WebSocket message SIP.js received, in order. */
  readonly received: string[];
  stop(): Promise<void>;
}

/** Start a SIP.js UA for `user`, register it (bounded), with CRLF keepalives every `keepAliveInterval` s. */
export async function startSipJs(o: { url: string; ca: string; user: string; password: string; domain?: string; keepAliveInterval?: number }): Promise<SipJsPhone> {
  const received: string[] = [];
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket = class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { ca: o.ca });
      this.on('message', (d: Buffer) => received.push(d.toString('utf8')));
    }
  };
  const ua = new UserAgent({
    uri: UserAgent.makeURI(`sip:${o.user}@${o.domain ?? '127.0.0.1'}`),
    authorizationUsername: o.user,
    authorizationPassword: o.password,
    transportOptions: { server: o.url, keepAliveInterval: o.keepAliveInterval ?? 0 },
    logLevel: 'error',
  });
  await ua.start();
  const registerer = new Registerer(ua);
  const registered = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`SIP.js not registered within 10 s (state ${registerer.state})`)), 10_000);
    registerer.stateChange.addListener((s) => {
      if (s === RegistererState.Registered) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  await registerer.register({ requestDelegate: { onReject: (r) => received.push(`rejected ${r.message.statusCode}`) } });
  await registered;
  return { ua, registerer, received, stop: () => ua.stop() };
}
