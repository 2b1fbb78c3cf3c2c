/**
 * rtpengine's "ng" control protocol, served over UDP, so that Parley's media plane can be driven
 * from outside as rtpengine is: by Kamailio's `rtpengine` module, or by the media benchmark.
 *
 * A message is a cookie, one space, and a bencoded dictionary (src/media/ng/bencode.ts); the reply
 * is the same cookie, a space, and a bencoded dictionary with `result` (`ok`, `pong`, `error`).
 * Commands map onto the MediaControl contract (src/lib/media-control.ts), which carries the same
 * three commands between threads:
 *
 *   ping    → `{ result: 'pong' }`
 *   offer   call-id, from-tag, sdp, via-branch (default ''), transport-protocol → MediaControl.offer
 *   answer  call-id, from-tag, to-tag, sdp, via-branch                          → MediaControl.answer
 *   delete  call-id, via-branch (optional: only that branch)                    → MediaControl.delete
 *
 * rtpengine keeps each reply for 30 s and answers a command whose cookie it has seen with the
 * reply it sent, because its clients retransmit over UDP when a reply is late; this server does
 * the same (per source address and port), and drops a retransmission that arrives while the
 * first copy is still being worked on.
 *
 * Only what the contract can express is read: `transport-protocol` with `ICE`, `DTLS` and `SDES`
 * choose the profile towards the answerer (profileOf); `flags`, `replace`, `rtcp-mux`,
 * `direction` and the rest are accepted and ignored (the media plane decides ICE, DTLS, SDES and
 * rtcp-mux from the profiles of the two sides). `query`, `list`, `statistics` and the other
 * commands of rtpengine are answered with an error.
 */
import type { Socket, RemoteInfo } from 'node:dgram';
import type { MediaControl, MediaProfile, MediaResult, SignalingSource } from '../../lib/media-control.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { silentLogger, type Logger } from '../../lib/logger.js';
import { decodeBencode, encodeBencode, type BencodeDict, type BencodeValue } from './bencode.js';

export interface NgControlServerOptions {
  readonly log?: Logger;
  readonly clock?: Clock;
  /** How long a reply is kept for a retransmitted command, ms (rtpengine: 30 s). */
  readonly replyCacheMs?: number;
  /** Most replies kept; the oldest goes first beyond it. */
  readonly maxCachedReplies?: number;
}

export interface NgControlStats {
  /** Commands worked on (not counting retransmissions). */
  readonly commands: number;
  /** Replies with `result: error`. */
  readonly errors: number;
  /** Retransmissions answered from the reply cache. */
  readonly cachedReplies: number;
  /** Datagrams without a cookie, with an undecodable body, or retransmitted while their command was still being worked on. */
  readonly dropped: number;
}

/** Longest cookie accepted (Kamailio's are 20-odd bytes). */
const MAX_COOKIE = 128;
const SPACE = 0x20;

interface CachedReply {
  /** undefined while the command is being worked on. */
  reply: Buffer | undefined;
  readonly at: number;
}

export class NgControlServer {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly replyCacheMs: number;
  private readonly maxCachedReplies: number;
  /** source and cookie → reply; a Map keeps insertion order, which is the order of arrival. */
  private readonly replies = new Map<string, CachedReply>();
  private counts = { commands: 0, errors: 0, cachedReplies: 0, dropped: 0 };
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly control: MediaControl,
    options: NgControlServerOptions = {},
  ) {
    this.log = options.log ?? silentLogger;
    this.clock = options.clock ?? systemClock;
    this.replyCacheMs = options.replyCacheMs ?? 30_000;
    this.maxCachedReplies = options.maxCachedReplies ?? 10_000;
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
  }

  stats(): NgControlStats {
    return { ...this.counts };
  }

  /** The address and port the server listens on. */
  address(): { address: string; port: number } {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** Closes the socket; commands still being worked on get no reply. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    const space = msg.indexOf(SPACE);
    if (space <= 0 || space > MAX_COOKIE) {
      this.counts.dropped++;
      this.log.debug({ from: `${rinfo.address}:${rinfo.port}`, bytes: msg.length }, 'ng: datagram without a cookie, dropped');
      return;
    }
    const cookie = msg.subarray(0, space);
    const key = `${rinfo.address} ${rinfo.port} ${cookie.toString('latin1')}`;
    const now = this.clock.now();
    this.expire(now);
    const cached = this.replies.get(key);
    if (cached !== undefined) {
      if (cached.reply === undefined) {
        this.counts.dropped++;
      } else {
        this.counts.cachedReplies++;
        this.send(cached.reply, rinfo);
      }
      return;
    }
    const decoded = decodeBencode(msg.subarray(space + 1));
    if (!decoded.ok || !isDict(decoded.value)) {
      // rtpengine answers these with an error; so does this server, as the cookie is readable
      const reason = decoded.ok ? 'the message is not a dictionary' : `could not decode the message: ${decoded.error.reason} at byte ${decoded.error.offset}`;
      this.counts.dropped++;
      this.send(this.encodeReply(cookie, { result: 'error', 'error-reason': reason }), rinfo);
      return;
    }
    const entry: CachedReply = { reply: undefined, at: now };
    this.replies.set(key, entry);
    if (this.replies.size > this.maxCachedReplies) this.replies.delete(this.replies.keys().next().value!);
    this.counts.commands++;
    this.log.debug({ from: `${rinfo.address}:${rinfo.port}`, ...describeCommand(decoded.value) }, 'ng: command');
    void this.command(decoded.value, rinfo).then(
      (reply) => this.finish(entry, cookie, reply, rinfo),
      (e: unknown) => this.finish(entry, cookie, { result: 'error', 'error-reason': `internal error: ${(e as Error)?.message ?? String(e)}` }, rinfo),
    );
  }

  private finish(entry: CachedReply, cookie: Buffer, reply: BencodeDict, rinfo: RemoteInfo): void {
    if (reply['result'] === 'error') this.counts.errors++;
    const bytes = this.encodeReply(cookie, reply);
    entry.reply = bytes;
    if (!this.closed) this.send(bytes, rinfo);
  }

  /** Drops replies older than the cache time (they were stored in order of arrival). */
  private expire(now: number): void {
    for (const [key, entry] of this.replies) {
      if (now - entry.at < this.replyCacheMs) break;
      this.replies.delete(key);
    }
  }

  private encodeReply(cookie: Buffer, reply: BencodeDict): Buffer {
    return Buffer.concat([cookie, Buffer.from(' ', 'latin1'), encodeBencode(reply)]);
  }

  private send(bytes: Buffer, rinfo: RemoteInfo): void {
    if (this.closed) return;
    this.socket.send(bytes, rinfo.port, rinfo.address, (e) => {
      if (e) this.log.debug({ err: e.message, to: `${rinfo.address}:${rinfo.port}` }, 'ng: reply not sent');
    });
  }

  private async command(req: BencodeDict, rinfo: RemoteInfo): Promise<BencodeDict> {
    const command = req['command'];
    switch (command) {
      case 'ping':
        return { result: 'pong' };
      case 'offer':
        return this.offer(req, rinfo);
      case 'answer':
        return this.answer(req, rinfo);
      case 'delete':
        return this.delete(req);
      default:
        return fail(typeof command === 'string' ? `Unrecognised command: ${command.slice(0, 40)}` : 'No command given');
    }
  }

  private async offer(req: BencodeDict, rinfo: RemoteInfo): Promise<BencodeDict> {
    const callId = text(req, 'call-id');
    const fromTag = text(req, 'from-tag');
    const sdp = text(req, 'sdp');
    if (callId === undefined) return fail('No call-id in message');
    if (fromTag === undefined) return fail('No from-tag in message');
    if (sdp === undefined) return fail('No SDP body in message');
    const result = await this.control.offer({
      callId,
      fromTag,
      branch: text(req, 'via-branch') ?? '',
      sdp,
      source: signalingSource(req, rinfo),
      towards: profileOf(text(req, 'transport-protocol'), { ice: req['ICE'], dtls: req['DTLS'], sdes: req['SDES'], sdp }),
      mode: 'always',
    });
    return reply(result, sdp);
  }

  private async answer(req: BencodeDict, rinfo: RemoteInfo): Promise<BencodeDict> {
    const callId = text(req, 'call-id');
    const fromTag = text(req, 'from-tag');
    const toTag = text(req, 'to-tag');
    const sdp = text(req, 'sdp');
    if (callId === undefined) return fail('No call-id in message');
    if (fromTag === undefined) return fail('No from-tag in message');
    if (toTag === undefined) return fail('No to-tag in message');
    if (sdp === undefined) return fail('No SDP body in message');
    const result = await this.control.answer({ callId, fromTag, toTag, branch: text(req, 'via-branch') ?? '', sdp, source: signalingSource(req, rinfo) });
    return reply(result, sdp);
  }

  private async delete(req: BencodeDict): Promise<BencodeDict> {
    const callId = text(req, 'call-id');
    if (callId === undefined) return fail('No call-id in message');
    const branch = text(req, 'via-branch');
    await this.control.delete(branch === undefined || branch === '' ? { callId, reason: 'ng delete' } : { callId, branch, reason: 'ng delete' });
    return { result: 'ok' };
  }
}

/**
 * What a command asks, for the debug log: its name, the keys it carries and their short values
 * (flags and the like), never the SDP, whose addresses and keys are the call's.
 */
export function describeCommand(req: BencodeDict): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(req)) {
    if (key === 'sdp') keys[key] = typeof value === 'string' ? `${value.length} bytes` : typeof value;
    else if (typeof value === 'string') keys[key] = value.length > 80 ? `${value.slice(0, 80)}…` : value;
    else keys[key] = value;
  }
  return { command: typeof req['command'] === 'string' ? req['command'] : undefined, keys };
}

function isDict(v: BencodeValue): v is BencodeDict {
  return typeof v === 'object' && !Array.isArray(v);
}

/** A string value of the request; a number is read as its decimal (rtpengine's clients write some ids either way). */
function text(req: BencodeDict, key: string): string | undefined {
  const v = req[key];
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function fail(reason: string): BencodeDict {
  return { result: 'error', 'error-reason': reason };
}

/**
 * The MediaResult as an ng reply. A result that did not anchor (the media plane had nothing to
 * do) gives back the SDP received, as the proxy would forward the body unchanged; a refusal
 * names the SIP status and the warning the proxy would have sent.
 */
function reply(result: MediaResult, received: string): BencodeDict {
  if (!result.ok) return { result: 'error', 'error-reason': `${result.status} ${result.warning}` };
  return { result: 'ok', sdp: result.anchored ? result.sdp : received };
}

/** The keys of an ng offer that say what the side the SDP goes to speaks. */
export interface ProfileHints {
  /** `ICE`: `force`, `remove`, `default`, … */
  readonly ice?: BencodeValue | undefined;
  /** `DTLS`: `passive`, `active`, `off`, `no`, … */
  readonly dtls?: BencodeValue | undefined;
  /** `SDES`: `off`, `no`, or a list of such words. */
  readonly sdes?: BencodeValue | undefined;
  /** The offer itself, whose profile stands when no transport-protocol is given. */
  readonly sdp?: string | undefined;
}

/**
 * What the side the SDP goes to speaks, from rtpengine's `transport-protocol` and the flags that
 * go with it:
 *   UDP/TLS/RTP/SAVP(F)        WebRTC's DTLS-SRTP
 *   RTP/SAVP(F)                SDES-SRTP, but DTLS-SRTP (WebRTC) with `ICE=force`, with `DTLS`
 *                              other than off, or with `SDES` off: Kamailio's WebRTC examples
 *                              write RTP/SAVPF and leave rtpengine to add the fingerprint
 *   RTP/AVP(F)                 plain RTP
 *   none                       the offer's own profile (Kamailio's rtpengine module: "If none of
 *                              them are specified, the protocol given in the SDP is left untouched")
 */
export function profileOf(transportProtocol: string | undefined, hints: ProfileHints = {}): MediaProfile {
  if (transportProtocol === undefined) {
    const offered = hints.sdp === undefined ? undefined : firstMediaProto(hints.sdp);
    return offered === undefined ? 'rtp' : profileOf(offered, { ...hints, sdp: undefined });
  }
  if (transportProtocol.startsWith('UDP/TLS/RTP/SAVP')) return 'webrtc';
  if (transportProtocol === 'RTP/SAVP' || transportProtocol === 'RTP/SAVPF') {
    const ice = typeof hints.ice === 'string' ? hints.ice : undefined;
    const dtls = typeof hints.dtls === 'string' ? hints.dtls : undefined;
    const sdes = typeof hints.sdes === 'string' ? [hints.sdes] : Array.isArray(hints.sdes) ? hints.sdes : [];
    if (ice === 'force' || ice === 'force-relay') return 'webrtc';
    if (dtls !== undefined && dtls !== 'off' && dtls !== 'no' && dtls !== 'disable') return 'webrtc';
    if (sdes.some((w) => w === 'off' || w === 'no' || w === 'disable')) return 'webrtc';
    return 'sdes';
  }
  return 'rtp';
}

/** The proto of the first m= line of an SDP (`RTP/AVP`, `UDP/TLS/RTP/SAVPF`), or undefined. */
function firstMediaProto(sdp: string): string | undefined {
  for (const raw of sdp.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (!line.startsWith('m=')) continue;
    const proto = line.split(' ')[2];
    return proto === undefined || proto === '' ? undefined : proto;
  }
  return undefined;
}

/**
 * Where the signaling came from: rtpengine's `received-from` (`[ 'IP4', '192.0.2.1' ]`, sent by
 * Kamailio for NAT handling), else the ng client's own address. The ng protocol carries neither the
 * SIP transport nor the port, so these are `udp` and 0 unless the client's own.
 */
function signalingSource(req: BencodeDict, rinfo: RemoteInfo): SignalingSource {
  const from = req['received-from'];
  if (Array.isArray(from) && from.length === 2 && typeof from[1] === 'string') return { transport: 'udp', address: from[1], port: 0 };
  return { transport: 'udp', address: rinfo.address, port: rinfo.port };
}
