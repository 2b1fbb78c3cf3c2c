// A registrar in memory for the load tool's unit tests: its digest policy is Parley's own
// server-side DigestAuthenticator (nonces, nonce counts, stale=TRUE), and each user's flow is a
// ClientConnection whose far end is this registrar. The interop suites use Kamailio and Parley.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { DigestAuthenticator } from '../../sip-server/auth/authenticator.js';
import { NonceManager } from '../../sip-server/auth/nonce-manager.js';
import { createResponse, parseMessage, serializeToString, type AnySipMessage, type SipRequest } from '../../sip/index.js';
import type { NewSubscriber, Subscriber, SubscriberStore } from '../../store/subscriber-store.js';
import type { ClientConnection, ClientConnectionDelegate } from '../client-connection.js';

const hash = (alg: 'md5' | 'sha256', s: string): string => createHash(alg).update(s, 'utf8').digest('hex');

/** Subscribers in memory (HA1 computed here with node:crypto). */
export class MemoryStore implements SubscriberStore {
  private readonly rows = new Map<string, Subscriber>();
  constructor(domain: string, users: Record<string, string>) {
    for (const [u, p] of Object.entries(users)) {
      this.rows.set(u, { username: u, domain, ha1Md5: hash('md5', `${u}:${domain}:${p}`), ha1Sha256: hash('sha256', `${u}:${domain}:${p}`), createdAt: 0 });
    }
  }
  async get(username: string): Promise<Subscriber | undefined> {
    return this.rows.get(username);
  }
  async add(_s: NewSubscriber): Promise<Subscriber> {
    throw new Error('not used');
  }
  async addMany(): Promise<number> {
    throw new Error('not used');
  }
  async remove(): Promise<boolean> {
    return false;
  }
  async setPassword(): Promise<boolean> {
    return false;
  }
  async list(): Promise<Subscriber[]> {
    return [...this.rows.values()];
  }
  async count(): Promise<number> {
    return this.rows.size;
  }
}

/**
 * What the registrar does with a REGISTER: `auth` (challenge or accept with Parley's
 * authenticator, then 200 echoing the Contact with expires), `no-auth` (200 at once), a fixed
 * status, or silence.
 */
export type Behaviour = 'auth' | 'no-auth' | 'silent' | { status: number; headers?: Array<[string, string]> };

export interface MemoryRegistrarOptions {
  readonly domain: string;
  readonly users: Record<string, string>;
  readonly clock: Clock;
  /** Nonce lifetime, seconds (default 300). */
  readonly nonceLifetime?: number;
  /** Longest expiry granted (default 600). */
  readonly maxExpires?: number;
}

/** The registrar: hands out flows, answers their REGISTERs. */
export class MemoryRegistrar {
  readonly auth: DigestAuthenticator;
  readonly flows: MemoryFlow[] = [];
  /** Default behaviour of new flows. */
  script: Behaviour[] = ['auth'];

  constructor(readonly options: MemoryRegistrarOptions) {
    const wall = 1_700_000_000_000;
    this.auth = new DigestAuthenticator({
      realms: [options.domain],
      subscribers: new MemoryStore(options.domain, options.users),
      nonces: new NonceManager({ lifetime: options.nonceLifetime ?? 300, now: () => wall + options.clock.now() }),
    });
  }

  /** A new flow to this registrar. */
  connect(): MemoryFlow {
    const flow = new MemoryFlow(this, this.flows.length);
    flow.script = [...this.script];
    this.flows.push(flow);
    return flow;
  }

  /** Bindings now: flows whose last REGISTER got a 200 with a non-zero expiry and are open. */
  get bound(): number {
    return this.flows.filter((f) => f.open && f.bound).length;
  }
}

/** One user's flow; its far end is the registrar. */
export class MemoryFlow implements ClientConnection {
  readonly viaTransport = 'WSS' as const;
  readonly localHost: string;
  readonly contactTransport = 'ws';
  reliable = true;
  delegate: ClientConnectionDelegate | undefined;
  readonly requests: SipRequest[] = [];
  readonly sentResponses: AnySipMessage[] = [];
  pings = 0;
  open = true;
  bound = false;
  /** Answer keepalives (default true). */
  pong = true;
  /** One behaviour per REGISTER, in order; the last one repeats. */
  script: Behaviour[] = ['auth'];

  constructor(
    private readonly registrar: MemoryRegistrar,
    readonly index: number,
  ) {
    this.localHost = `flow${index}.invalid`;
  }

  send(text: string): boolean {
    if (!this.open) return false;
    const r = parseMessage(text);
    assert.ok(r.ok, `the user agent sent a message that does not parse: ${text}`);
    if (!r.message.isRequest) {
      this.sentResponses.push(r.message);
      return true;
    }
    this.requests.push(r.message);
    const b = this.script.length > 1 ? this.script.shift()! : this.script[0]!;
    void this.answer(r.message, b);
    return true;
  }

  ping(): boolean {
    if (!this.open) return false;
    this.pings++;
    if (this.pong) queueMicrotask(() => this.delegate?.onPong());
    return true;
  }

  close(): void {
    this.open = false;
  }

  /** The registrar side closes the flow. */
  drop(reason: string): void {
    this.open = false;
    this.delegate?.onClose(reason);
  }

  /** Deliver a message from the server. */
  deliver(text: string): void {
    const r = parseMessage(text);
    assert.ok(r.ok);
    this.delegate?.onMessage(r.message);
  }

  private async answer(req: SipRequest, b: Behaviour): Promise<void> {
    if (b === 'silent') return;
    let response;
    if (typeof b === 'object') {
      response = createResponse(req, b.status, { toTag: 'srv', headers: b.headers ?? [] });
    } else {
      const result = b === 'auth' ? await this.registrar.auth.authenticate(req, { remoteAddress: '192.0.2.1' }) : ({ ok: true } as const);
      if (!result.ok) {
        response = createResponse(req, result.status, { toTag: 'srv', headers: result.challenges.map((c) => [result.challengeHeader!, c] as [string, string]) });
      } else {
        const expires = Math.min(Number(req.get('Expires')), this.registrar.options.maxExpires ?? 600);
        this.bound = expires > 0;
        response = createResponse(req, 200, { toTag: 'srv', headers: expires === 0 ? [] : [['Contact', `${req.get('Contact')};expires=${expires}`]] });
      }
    }
    // the answer arrives in a later turn, as over a socket
    await Promise.resolve();
    if (!this.open) return;
    this.delegate?.onMessage(parseMessage(serializeToString(response)).message as AnySipMessage);
  }
}
