// A SIP phone over WebSocket (RFC 7118) for the interop suites, as a browser's JsSIP would be: the
// `ws` client with the subprotocol "sip", a made-up `.invalid` host in Via and Contact
// (transport=ws), +sip.instance/reg-id on its Contact, digest authentication (401/407, MD5),
// calls out (INVITE, ACK and BYE along the route set) and in (180, 200, then ACK and BYE).
// SIP messages are parsed and the digest computed with Parley's own library (src/sip). Every
// wait is bounded.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import {
  computeDigestResponse, computeHa1, parseMessage, type AnySipMessage, type SipRequest, type SipResponse,
} from '../../../src/sip/index.js';

export interface WsPhoneOptions {
  /** `wss://127.0.0.1:PORT/sip` */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  /** The domain of the AOR (default 127.0.0.1, the suites' domain). */
  readonly domain?: string;
  /** Trust anchor for wss (Parley's development certificate). */
  readonly ca?: string;
  /** Origin header (a browser always sends one). */
  readonly origin?: string;
  /** `urn:uuid:…` of +sip.instance (RFC 5626); default a new one. Keep it across reconnects. */
  readonly instance?: string;
  /** Answer INVITEs (180, then 200 with SDP) and BYEs (200). Default true. */
  readonly autoAnswer?: boolean;
}

/** A dialog as its UAC or UAS keeps it (RFC 3261 §12.1). */
export interface Dialog {
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  readonly localUri: string;
  readonly remoteUri: string;
  /** The remote target (the peer's Contact). */
  readonly target: string;
  /** Route set, in the order of the Route header field. */
  readonly routes: readonly string[];
  cseq: number;
}

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const WAIT_MS = 5000;
const rand = (n = 6): string => randomBytes(n).toString('hex');

export class WsPhone {
  /** Every SIP message received, in order. */
  readonly inbox: AnySipMessage[] = [];
  /** The same as received (text), parsed or not. */
  readonly texts: string[] = [];
  /** Requests the phone answered (INVITE, ACK, BYE as they arrived). */
  readonly incoming: SipRequest[] = [];
  /** The dialog of the last call answered. */
  answered: Dialog | undefined;
  /** The Via/Contact host: RFC 7118 §5: a WebSocket client has no reachable address of its own. */
  contactHost = `${rand()}.invalid`;
  readonly instance: string;
  readonly aor: string;
  /** WebSocket close code once closed. */
  closeCode: number | undefined;
  private readonly consumed = new Set<AnySipMessage>();
  private wakeUp: (() => void) | undefined;
  private regCallId = `${rand(8)}`;
  private regCseq = 0;

  private constructor(
    private readonly socket: WebSocket,
    readonly options: WsPhoneOptions,
  ) {
    this.instance = options.instance ?? `urn:uuid:${randomUUID()}`;
    this.aor = `sip:${options.user}@${this.domain}`;
    socket.on('message', (data: Buffer) => this.onMessage(data.toString('utf8')));
    socket.on('close', (code) => (this.closeCode = code));
    socket.on('error', () => {});
  }

  get domain(): string {
    return this.options.domain ?? '127.0.0.1';
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Open the WebSocket (subprotocol "sip"); rejects with the HTTP status when it is refused. */
  static async connect(options: WsPhoneOptions): Promise<WsPhone> {
    const socket = new WebSocket(options.url, 'sip', {
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      handshakeTimeout: WAIT_MS,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused: HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    });
    return new WsPhone(socket, options);
  }

  send(text: string): void {
    this.socket.send(text);
  }

  /** Close the WebSocket (close handshake) and wait until it is closed. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close(1000);
    await bounded(closed, 'the WebSocket to close');
  }

  /** Drop the TCP connection without a close handshake (a browser tab killed, a network gone). */
  terminate(): void {
    this.socket.terminate();
  }

  /** The first unconsumed message matching `predicate`, waiting for it (bounded). */
  async next(predicate: (m: AnySipMessage) => boolean, what: string, ms = WAIT_MS): Promise<AnySipMessage> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.inbox.find((m) => !this.consumed.has(m) && predicate(m));
      if (found !== undefined) {
        this.consumed.add(found);
        return found;
      }
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${this.options.user}: timed out after ${ms} ms waiting for ${what}; got:\n${this.inbox.map((m) => `  ${m.isRequest ? (m as SipRequest).method : (m as SipResponse).status} ${m.callId}`).join('\n')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wakeUp = () => (clearTimeout(t), resolve());
      });
    }
  }

  /** The final response to the request with this Call-ID and CSeq (provisional ones are skipped). */
  async finalResponse(callId: string, cseq: number, method: string, ms = WAIT_MS): Promise<SipResponse> {
    return (await this.next((m) => !m.isRequest && m.callId === callId && m.cseq.seq === cseq && m.cseq.method === method && (m as SipResponse).status >= 200, `the final response to ${method} ${cseq}`, ms)) as SipResponse;
  }

  /**
   * REGISTER (with Authorization after a 401) this phone's contact, with +sip.instance and reg-id
   * (RFC 5626), as JsSIP does; `expires` 0 removes it. Returns the final response.
   */
  async register(o: { expires?: number; regId?: number } = {}): Promise<SipResponse> {
    const contact = `<sip:${this.options.user}@${this.contactHost};transport=ws>;+sip.instance="<${this.instance}>";reg-id=${o.regId ?? 1};expires=${o.expires ?? 600}`;
    const build = (authorization?: string): string =>
      this.request('REGISTER', `sip:${this.domain}`, {
        callId: this.regCallId,
        cseq: ++this.regCseq,
        from: `<${this.aor}>;tag=${rand()}`,
        to: `<${this.aor}>`,
        extra: [`Contact: ${contact}`, 'Supported: path, outbound', ...(authorization ? [`Authorization: ${authorization}`] : [])],
      });
    this.send(build());
    let r = await this.finalResponse(this.regCallId, this.regCseq, 'REGISTER');
    if (r.status === 401) {
      this.send(build(this.credentials(r, 'REGISTER', `sip:${this.domain}`, 'www-authenticate')));
      r = await this.finalResponse(this.regCallId, this.regCseq, 'REGISTER');
    }
    return r;
  }

  /** The AOR's current bindings: an authenticated REGISTER without Contact (RFC 3261 §10.2.3). */
  async bindings(): Promise<string[]> {
    const build = (authorization?: string): string =>
      this.request('REGISTER', `sip:${this.domain}`, {
        callId: this.regCallId,
        cseq: ++this.regCseq,
        from: `<${this.aor}>;tag=${rand()}`,
        to: `<${this.aor}>`,
        extra: authorization ? [`Authorization: ${authorization}`] : [],
      });
    this.send(build());
    let r = await this.finalResponse(this.regCallId, this.regCseq, 'REGISTER');
    if (r.status === 401) {
      this.send(build(this.credentials(r, 'REGISTER', `sip:${this.domain}`, 'www-authenticate')));
      r = await this.finalResponse(this.regCallId, this.regCseq, 'REGISTER');
    }
    assert.equal(r.status, 200, `the bindings query got ${r.status}`);
    return r.getAll('contact').flatMap(splitValues);
  }

  /**
   * Call `callee` (a user of the domain): INVITE, 407 → ACK → INVITE with Proxy-Authorization,
   * then the final response; a 2xx is acknowledged along the route set and its dialog returned.
   */
  async call(callee: string, ms = WAIT_MS): Promise<{ status: number; response: SipResponse; dialog?: Dialog }> {
    const callId = `${rand(8)}@ws`;
    const fromTag = rand();
    const ruri = `sip:${callee}@${this.domain}`;
    const invite = (cseq: number, auth?: string): { text: string; branch: string } => {
      const branch = `z9hG4bK${rand(8)}`;
      return {
        branch,
        text: this.request('INVITE', ruri, {
          callId, cseq, branch,
          from: `<${this.aor}>;tag=${fromTag}`,
          to: `<${ruri}>`,
          extra: [`Contact: <sip:${this.options.user}@${this.contactHost};transport=ws;ob>`, 'Content-Type: application/sdp', ...(auth ? [`Proxy-Authorization: ${auth}`] : [])],
          body: SDP,
        }),
      };
    };
    const first = invite(1);
    this.send(first.text);
    let r = await this.finalResponse(callId, 1, 'INVITE', ms);
    let cseq = 1;
    if (r.status === 407) {
      // the ACK of a non-2xx final response is hop-by-hop, with the INVITE's branch (§17.1.1.3)
      this.send(this.request('ACK', ruri, { callId, cseq: 1, branch: first.branch, from: `<${this.aor}>;tag=${fromTag}`, to: r.get('to')!, ack: true }));
      cseq = 2;
      this.send(invite(2, this.credentials(r, 'INVITE', ruri, 'proxy-authenticate')).text);
      r = await this.finalResponse(callId, 2, 'INVITE', ms);
    }
    if (r.status >= 300) {
      if (r.status !== 407) this.send(this.request('ACK', ruri, { callId, cseq, from: `<${this.aor}>;tag=${fromTag}`, to: r.get('to')!, ack: true }));
      return { status: r.status, response: r };
    }
    // §12.1.2: the route set is the Record-Route of the 2xx in reverse order; the target its Contact
    const dialog: Dialog = {
      callId,
      localTag: fromTag,
      remoteTag: r.to.tag!,
      localUri: this.aor,
      remoteUri: ruri,
      target: r.contact[0]!.uri.toString(),
      routes: r.getAll('record-route').flatMap(splitValues).reverse(),
      cseq,
    };
    this.send(this.inDialog('ACK', dialog, dialog.cseq));
    return { status: r.status, response: r, dialog };
  }

  /** A re-INVITE in `dialog` (an offer again), acknowledged when it gets a 2xx; resolves with the final response. */
  async reinvite(dialog: Dialog): Promise<SipResponse> {
    dialog.cseq++;
    const cseq = dialog.cseq;
    this.send(this.inDialog('INVITE', dialog, cseq, [`Contact: <sip:${this.options.user}@${this.contactHost};transport=ws;ob>`, 'Content-Type: application/sdp'], SDP));
    const r = await this.finalResponse(dialog.callId, cseq, 'INVITE');
    if (r.status < 300) this.send(this.inDialog('ACK', dialog, cseq));
    return r;
  }

  /** BYE in `dialog`; resolves with the final response. */
  async bye(dialog: Dialog): Promise<SipResponse> {
    dialog.cseq++;
    this.send(this.inDialog('BYE', dialog, dialog.cseq));
    return this.finalResponse(dialog.callId, dialog.cseq, 'BYE');
  }

  private inDialog(method: string, d: Dialog, cseq: number, extra: string[] = [], body?: string): string {
    return this.request(method, d.target, {
      callId: d.callId,
      cseq,
      from: `<${d.localUri}>;tag=${d.localTag}`,
      to: `<${d.remoteUri}>;tag=${d.remoteTag}`,
      extra: [...d.routes.map((r) => `Route: ${r}`), ...extra],
      ack: method === 'ACK',
      ...(body === undefined ? {} : { body }),
    });
  }

  private request(method: string, ruri: string, o: { callId: string; cseq: number; from: string; to: string; branch?: string; extra?: string[]; body?: string; ack?: boolean }): string {
    const body = o.body ?? '';
    return [
      `${method} ${ruri} SIP/2.0`,
      `Via: SIP/2.0/WSS ${this.contactHost};branch=${o.branch ?? `z9hG4bK${rand(8)}`}`,
      'Max-Forwards: 70',
      `From: ${o.from}`,
      `To: ${o.to}`,
      `Call-ID: ${o.callId}`,
      `CSeq: ${o.cseq} ${o.ack ? 'ACK' : method}`,
      ...(o.extra ?? []),
      'User-Agent: parley-interop-ws',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }

  /**
   * Digest credentials (RFC 7616, qop=auth) answering the challenge of `response` the way the
   * browsers' stacks do: JsSIP and SIP.js keep only the last WWW-/Proxy-Authenticate field and
   * compute MD5 only, giving up otherwise.
   */
  private credentials(response: SipResponse, method: string, uri: string, header: 'www-authenticate' | 'proxy-authenticate'): string {
    const challenge = (header === 'www-authenticate' ? response.wwwAuthenticate : response.proxyAuthenticate).at(-1);
    assert.ok(challenge !== undefined && challenge.algorithm.toUpperCase() === 'MD5', `the last challenge of the ${response.status} is not MD5 (a browser would give up): ${response.getAll(header).join(' | ')}`);
    const realm = challenge.realm ?? '';
    const nonce = challenge.nonce ?? '';
    const cnonce = rand(8);
    const nc = '00000001';
    const ha1 = computeHa1('MD5', this.options.user, realm, this.options.password);
    const digest = computeDigestResponse({ algorithm: 'MD5', ha1, method, digestUri: uri, nonce, qop: 'auth', nc, cnonce });
    const opaque = challenge.params.get('opaque');
    return `Digest username="${this.options.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${digest}", algorithm=MD5, qop=auth, nc=${nc}, cnonce="${cnonce}"${opaque === undefined ? '' : `, opaque="${opaque}"`}`;
  }

  private onMessage(text: string): void {
    this.texts.push(text);
    const r = parseMessage(text);
    if (!r.ok) return;
    const m = r.message;
    this.inbox.push(m);
    if (m.isRequest && (this.options.autoAnswer ?? true)) this.answer(m as SipRequest);
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** The callee's side: 180 and 200 to an INVITE (keeping its dialog), 200 to a re-INVITE and a BYE. */
  private answer(request: SipRequest): void {
    const method = request.method;
    if (method === 'INVITE' && request.to.tag !== undefined) {
      // a re-INVITE in a dialog of ours (either side's): the answer only, the dialog unchanged
      this.incoming.push(request);
      this.send(this.response(request, 200, 'OK', undefined, SDP));
    } else if (method === 'INVITE') {
      this.incoming.push(request);
      const tag = rand();
      this.send(this.response(request, 180, 'Ringing', tag));
      this.send(this.response(request, 200, 'OK', tag, SDP));
      // §12.1.1: the UAS's route set is the Record-Route of the request, in order
      this.answered = {
        callId: request.callId,
        localTag: tag,
        remoteTag: request.from.tag!,
        localUri: request.to.uri.toString(),
        remoteUri: request.from.uri.toString(),
        target: request.contact[0]!.uri.toString(),
        routes: request.getAll('record-route').flatMap(splitValues),
        cseq: 100,
      };
    } else if (method === 'ACK') {
      this.incoming.push(request);
    } else if (method === 'BYE' || method === 'OPTIONS') {
      this.incoming.push(request);
      this.send(this.response(request, 200, 'OK'));
    }
  }

  private response(request: SipRequest, status: number, reason: string, toTag?: string, body = ''): string {
    const to = request.get('to')!;
    return [
      `SIP/2.0 ${status} ${reason}`,
      ...request.getAll('via').map((v) => `Via: ${v}`),
      ...request.getAll('record-route').map((v) => `Record-Route: ${v}`),
      `From: ${request.get('from')}`,
      `To: ${to}${toTag !== undefined && !/;\s*tag=/i.test(to) ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${request.callId}`,
      `CSeq: ${request.get('cseq')}`,
      `Contact: <sip:${this.options.user}@${this.contactHost};transport=ws>`,
      ...(body ? ['Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  }
}

/** `<a>, <b>` → [`<a>`, `<b>`] (name-addr values never contain a comma outside <> here). */
function splitValues(field: string): string[] {
  return field.split(/,(?=\s*<)/).map((v) => v.trim());
}

async function bounded<T>(p: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}
