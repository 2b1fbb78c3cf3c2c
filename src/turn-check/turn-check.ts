/**
 * The ICE troubleshooting people do by hand, as steps: resolve the server, connect (TCP/TLS),
 * Binding (the server-reflexive candidate), Allocate without and then with credentials (the relayed
 * candidate), and then this machine as its own peer: a UDP socket of the check learns its address
 * as the server sees it, gets a permission, receives data sent through the relay (Send
 * indication) and sends data back to the relayed address (Data indication), then the same over a
 * channel (ChannelBind, ChannelData both ways), and the allocation is released (Refresh 0).
 * Each step has its latency; the first failure ends the check (later steps are "skipped") with a
 * cause in words (explain.ts).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import type { TransportAddress } from '../stun/address.js';
import { StunAttr } from '../stun/attribute-types.js';
import { readXorAddress } from '../stun/address.js';
import { newTransactionId, parseStunMessage, StunMethod } from '../stun/message.js';
import { StunMessageBuilder } from '../stun/builder.js';
import type { IceServerUrl } from './ice-server-url.js';
import { connectToServer, type ServerConnection } from './server-connection.js';
import { StunTransactions } from './stun-transactions.js';
import { IntegrityMismatch, TurnClient, type Allocation, type Credentials } from './turn-client.js';
import { explainAllocateRefusal, explainNoRelayedData, explainPeerRefusal, explainTransportError, type ExplainContext } from './explain.js';

export type StepName = 'resolve' | 'connect' | 'binding' | 'challenge' | 'allocate' | 'peer' | 'permission' | 'relay-out' | 'relay-in' | 'channel' | 'release';
export type StepStatus = 'ok' | 'failed' | 'skipped';

export interface CheckStep {
  readonly name: StepName;
  readonly title: string;
  readonly status: StepStatus;
  /** How long the step took, ms (absent when skipped). */
  readonly ms?: number;
  /** What it found (ok) or what went wrong (failed), one line. */
  readonly detail: string;
}

export interface CheckReport {
  readonly url: string;
  readonly ok: boolean;
  readonly steps: readonly CheckStep[];
  /** The candidates a browser would gather from this server. */
  readonly candidates: { readonly srflx?: string; readonly relay?: string };
  readonly realm?: string;
}

export interface CheckOptions {
  readonly url: IceServerUrl;
  readonly credentials?: Credentials;
  /** The credentials are REST credentials made from a shared secret (changes the words of a 401). */
  readonly rest?: boolean;
  /** The realm the operator expects; a different server realm is pointed out. */
  readonly expectedRealm?: string;
  /** TLS: accept any certificate; trusted CAs; the name to check (default the URL's host). */
  readonly insecure?: boolean;
  readonly ca?: string | Buffer;
  /** How long to wait for relayed data, a connection or a stream response, ms (default 3,000). */
  readonly timeoutMs?: number;
  /** Sends of a UDP request before giving up (default 4: 7.5 s). */
  readonly tries?: number;
  /** First UDP retransmission interval, ms (default 500). */
  readonly rtoMs?: number;
  /** Test the channel (ChannelBind, ChannelData) as well (default true). */
  readonly channel?: boolean;
  /** Name resolution (tests). */
  readonly lookup?: (host: string) => Promise<{ address: string; family: number }>;
  /** Called as each step ends (progress on a terminal). */
  readonly onStep?: (step: CheckStep) => void;
}

const TITLES: Readonly<Record<StepName, string>> = {
  resolve: 'resolve the server name',
  connect: 'connect',
  binding: 'STUN Binding (server-reflexive candidate)',
  challenge: 'Allocate without credentials (realm and nonce)',
  allocate: 'Allocate with credentials (relayed candidate)',
  peer: 'this machine as the peer',
  permission: 'CreatePermission for the peer',
  'relay-out': 'data through the relay to the peer (Send indication)',
  'relay-in': 'data from the peer back through the relay (Data indication)',
  channel: 'ChannelBind and ChannelData both ways',
  release: 'release the allocation (Refresh 0)',
};

const fmt = (a: TransportAddress): string => (a.family === 6 ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

/** A failure that ends the check: the step's detail. */
class StepFailed extends Error {}

export async function runTurnCheck(o: CheckOptions): Promise<CheckReport> {
  const steps: CheckStep[] = [];
  const candidates: { srflx?: string; relay?: string } = {};
  const context: ExplainContext = {
    url: o.url,
    ...(o.credentials ? { username: o.credentials.username } : {}),
    ...(o.expectedRealm !== undefined ? { expectedRealm: o.expectedRealm } : {}),
    ...(o.rest === true ? { rest: true } : {}),
  };
  const timeoutMs = o.timeoutMs ?? 3000;
  const isTurn = o.url.scheme === 'turn' || o.url.scheme === 'turns';
  const plan: StepName[] = ['resolve', ...(o.url.transport === 'udp' ? [] : (['connect'] as StepName[])), 'binding'];
  if (isTurn) {
    plan.push('challenge', 'allocate', 'peer', 'permission', 'relay-out', 'relay-in');
    if (o.channel !== false) plan.push('channel');
    plan.push('release');
  }

  let connection: ServerConnection | undefined;
  let peerSocket: UdpSocket | undefined;
  const tx = new StunTransactions({ ...(o.rtoMs !== undefined ? { rtoMs: o.rtoMs } : {}), ...(o.tries !== undefined ? { tries: o.tries } : {}), streamTimeoutMs: Math.max(timeoutMs, 3000) });
  const client = new TurnClient(tx, o.credentials);
  const channelData = new Waiters<Uint8Array>();
  const dataIndications = new Waiters<Uint8Array>();
  tx.onIndication = (m) => {
    if (m.method !== StunMethod.Data) return;
    const d = m.get(StunAttr.DATA);
    if (d !== undefined) dataIndications.deliver(d.value.slice());
  };

  let remote: { address: string; family: number } | undefined;
  let allocation: Allocation | undefined;
  let peer: TransportAddress | undefined;
  const peerData = new Waiters<{ bytes: Uint8Array; from: string }>();

  const run = async (name: StepName, body: () => Promise<string>): Promise<void> => {
    const started = performance.now();
    let step: CheckStep;
    try {
      const detail = await body();
      step = { name, title: TITLES[name], status: 'ok', ms: Math.round(performance.now() - started), detail };
    } catch (e) {
      const detail = e instanceof StepFailed ? e.message : e instanceof IntegrityMismatch ? `${e.message}: the server derives another key from these credentials (different realm or password hashing)` : explainTransportError(e, context);
      step = { name, title: TITLES[name], status: 'failed', ms: Math.round(performance.now() - started), detail };
    }
    steps.push(step);
    o.onStep?.(step);
    if (step.status === 'failed') throw step;
  };

  try {
    for (const name of plan) {
      switch (name) {
        case 'resolve':
          await run(name, async () => {
            remote = await (o.lookup ?? ((h: string) => dnsLookup(h)))(o.url.host);
            return remote.address === o.url.host ? `${o.url.host} is an address` : `${o.url.host} is ${remote.address}`;
          });
          break;
        case 'connect':
        case 'binding':
          if (connection === undefined) {
            const open = async (): Promise<string> => {
              connection = await connectToServer({
                remote: { address: remote!.address, port: o.url.port },
                transport: o.url.transport,
                timeoutMs,
                ...(o.url.transport === 'tls' ? { servername: o.url.host } : {}),
                ...(o.insecure === true ? { insecure: true } : {}),
                ...(o.ca !== undefined ? { ca: o.ca } : {}),
                handlers: {
                  onStun: (b) => tx.receive(b),
                  onChannelData: (_c, d) => channelData.deliver(d.slice()),
                  onClosed: (reason) => tx.lost(reason),
                },
              });
              tx.attach(connection);
              return `${o.url.transport.toUpperCase()} from ${connection.local.address}:${connection.local.port} to ${remote!.address}:${o.url.port}`;
            };
            if (name === 'connect') {
              await run(name, open);
              break;
            }
            await open();
          }
          await run('binding', async () => {
            const r = await client.binding();
            if (!r.ok) throw new StepFailed(`the server refused Binding: ${r.refusal.code} ${r.refusal.reason}`);
            candidates.srflx = fmt(r.value);
            return `srflx ${fmt(r.value)} in ${Math.round(r.ms)} ms`;
          });
          break;
        case 'challenge':
          await run(name, async () => {
            const r = await client.probe();
            if (r.ok) {
              allocation = r.value;
              candidates.relay = fmt(r.value.relayed);
              return `the server allocated without asking for credentials (an open relay!): relay ${fmt(r.value.relayed)}`;
            }
            if (r.refusal.code !== 401) throw new StepFailed(explainAllocateRefusal(r.refusal, context, client.serverRealm));
            if (client.serverRealm === undefined) throw new StepFailed('the server answered 401 without REALM and NONCE: it cannot be authenticated to (RFC 8489 §9.2.3)');
            if (o.credentials === undefined) throw new StepFailed(`the server asks for credentials in realm "${client.serverRealm}": give --user and --password, or --user and --secret for REST credentials`);
            return `realm "${client.serverRealm}"`;
          });
          break;
        case 'allocate':
          if (allocation !== undefined) break;
          await run(name, async () => {
            const r = await client.allocate();
            if (!r.ok) throw new StepFailed(explainAllocateRefusal(r.refusal, context, r.refusal.realm ?? client.serverRealm));
            allocation = r.value;
            candidates.relay = fmt(r.value.relayed);
            if (r.value.mapped) candidates.srflx ??= fmt(r.value.mapped);
            return `relay ${fmt(r.value.relayed)}, lifetime ${r.value.lifetime} s, ${r.value.algorithm} key`;
          });
          break;
        case 'peer':
          await run(name, async () => {
            const family = allocation!.relayed.family;
            peerSocket = await openPeerSocket(family, (bytes, from) => peerData.deliver({ bytes: new Uint8Array(bytes), from }));
            peer = await peerAddress(peerSocket, family, remote!, o.url.port, timeoutMs);
            return `${fmt(peer)} (a UDP socket of this check, ${peer.port === peerSocket.address().port ? 'at its own address' : 'as a NAT in between maps it'})`;
          });
          break;
        case 'permission':
          await run(name, async () => {
            const r = await client.createPermission(peer!);
            if (!r.ok) throw new StepFailed(explainPeerRefusal(r.refusal, fmt(peer!), 'CreatePermission'));
            return `${fmt(peer!)} permitted`;
          });
          break;
        case 'relay-out':
          await run(name, async () => {
            const payload = tag('out');
            const got = await resend(() => client.sendIndication(peer!, payload), () => peerData.next((d) => equal(d.bytes, payload)), timeoutMs);
            if (got === undefined) throw new StepFailed(explainNoRelayedData('out', fmt(allocation!.relayed), fmt(peer!), timeoutMs));
            return `${payload.length} bytes arrived from ${got.from}`;
          });
          break;
        case 'relay-in':
          await run(name, async () => {
            const payload = tag('in');
            const got = await resend(() => peerSocket!.send(payload, allocation!.relayed.port, allocation!.relayed.address), () => dataIndications.next((d) => equal(d, payload)), timeoutMs);
            if (got === undefined) throw new StepFailed(explainNoRelayedData('in', fmt(allocation!.relayed), fmt(peer!), timeoutMs));
            return `${payload.length} bytes came back in a Data indication`;
          });
          break;
        case 'channel':
          await run(name, async () => {
            const channel = 0x4000 + (randomBytes(2).readUInt16BE(0) & 0x0fff);
            const r = await client.channelBind(channel, peer!);
            if (!r.ok) throw new StepFailed(explainPeerRefusal(r.refusal, fmt(peer!), 'ChannelBind'));
            const out = tag('chan-out');
            const padded = o.url.transport !== 'udp';
            const gotOut = await resend(() => client.sendChannelData(channel, out, padded), () => peerData.next((d) => equal(d.bytes, out)), timeoutMs);
            if (gotOut === undefined) throw new StepFailed(`ChannelData on channel 0x${channel.toString(16)} did not reach ${fmt(peer!)} within ${(timeoutMs / 1000).toFixed(1)} s, though Send indications did: the server does not relay ChannelData`);
            const back = tag('chan-in');
            const gotBack = await resend(() => peerSocket!.send(back, allocation!.relayed.port, allocation!.relayed.address), () => channelData.next((d) => equal(d, back)), timeoutMs);
            if (gotBack === undefined) throw new StepFailed(`data from ${fmt(peer!)} did not come back as ChannelData on channel 0x${channel.toString(16)} within ${(timeoutMs / 1000).toFixed(1)} s`);
            return `channel 0x${channel.toString(16)}: ${out.length} bytes each way`;
          });
          break;
        case 'release':
          await run(name, async () => {
            const r = await client.refresh(0);
            if (!r.ok) throw new StepFailed(`Refresh with lifetime 0 refused: ${r.refusal.code} ${r.refusal.reason}`);
            allocation = undefined;
            return 'released';
          });
          break;
      }
    }
  } catch (e) {
    if (!isStep(e)) throw e;
    // the failed step is recorded; the rest are skipped
    for (const name of plan) {
      if (steps.some((s) => s.name === name)) continue;
      const skipped: CheckStep = { name, title: TITLES[name], status: 'skipped', detail: 'not run: an earlier step failed' };
      steps.push(skipped);
      o.onStep?.(skipped);
    }
    if (allocation !== undefined) await client.refresh(0).catch(() => undefined);
  } finally {
    connection?.close();
    peerSocket?.close();
  }
  return {
    url: o.url.text,
    ok: steps.every((s) => s.status === 'ok'),
    steps,
    candidates,
    ...(client.serverRealm !== undefined ? { realm: client.serverRealm } : {}),
  };
}

function isStep(e: unknown): e is CheckStep {
  return typeof e === 'object' && e !== null && 'status' in e && 'name' in e;
}

/** A payload that names the check and cannot be confused with another one. */
function tag(what: string): Uint8Array {
  return new TextEncoder().encode(`parley turn-check ${what} ${randomBytes(8).toString('hex')}`);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Send (UDP may lose it) up to three times within `timeoutMs` until `wait` sees it arrive. */
async function resend<T>(send: () => void, wait: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const arrived = wait();
  let done = false;
  void arrived.then(() => {
    done = true;
  });
  for (let i = 0; i < 3 && !done; i++) {
    send();
    await Promise.race([arrived, delay(timeoutMs / 3)]);
  }
  return Promise.race([arrived, delay(0).then(() => undefined)]);
}

const delay = (ms: number): Promise<undefined> => new Promise((r) => setTimeout(() => r(undefined), ms).unref());

function openPeerSocket(family: 4 | 6, onData: (bytes: Buffer, from: string) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(family === 6 ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.on('message', (b, r) => onData(b, r.family === 'IPv6' ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`));
    s.bind(0, () => {
      s.removeAllListeners('error');
      s.on('error', () => {});
      resolve(s);
    });
  });
}

/**
 * The peer's address as the relay will see it: a Binding request from the peer socket to the
 * server's UDP port (the server sees it from where the relay will, when both are one machine
 * behind the same NAT); failing that, the local address the system uses towards the server.
 */
async function peerAddress(s: UdpSocket, family: 4 | 6, server: { address: string; family: number }, port: number, timeoutMs: number): Promise<TransportAddress> {
  if ((server.family === 6) === (family === 6)) {
    const id = newTransactionId();
    const request = new StunMessageBuilder(StunMethod.Binding, 'request', id).addFingerprint().build();
    const answer = await new Promise<TransportAddress | undefined>((resolve) => {
      const onMessage = (b: Buffer): void => {
        const m = parseStunMessage(b);
        if (!m.ok || m.value.class !== 'success' || !equal(m.value.transactionId, id)) return;
        const a = m.value.get(StunAttr.XOR_MAPPED_ADDRESS);
        const r = a === undefined ? undefined : readXorAddress(a, m.value.transactionId);
        s.off('message', onMessage);
        resolve(r !== undefined && r.ok ? r.value : undefined);
      };
      s.on('message', onMessage);
      let sends = 0;
      const again = (): void => {
        if (sends++ >= 3) {
          s.off('message', onMessage);
          resolve(undefined);
          return;
        }
        s.send(request, port, server.address);
        setTimeout(again, timeoutMs / 3).unref();
      };
      again();
    });
    if (answer !== undefined) return answer;
  }
  // the address this machine uses towards the server, and the socket's port
  const probe = createSocket(family === 6 ? 'udp6' : 'udp4');
  const local = await new Promise<string>((resolve) => {
    probe.connect(port, server.family === (family === 6 ? 6 : 4) ? server.address : family === 6 ? '::1' : '127.0.0.1', () => resolve(probe.address().address));
    probe.once('error', () => resolve(family === 6 ? '::1' : '127.0.0.1'));
  });
  probe.close();
  return { family, address: local, port: s.address().port };
}

/** Values delivered by events, taken by waiters that match them (or kept for a later waiter). */
class Waiters<T> {
  private readonly kept: T[] = [];
  private readonly waiting: Array<{ match: (v: T) => boolean; resolve: (v: T) => void }> = [];

  deliver(v: T): void {
    const i = this.waiting.findIndex((w) => w.match(v));
    if (i >= 0) this.waiting.splice(i, 1)[0]!.resolve(v);
    else if (this.kept.length < 64) this.kept.push(v);
  }

  next(match: (v: T) => boolean): Promise<T> {
    const i = this.kept.findIndex(match);
    if (i >= 0) return Promise.resolve(this.kept.splice(i, 1)[0]!);
    return new Promise((resolve) => this.waiting.push({ match, resolve }));
  }
}
