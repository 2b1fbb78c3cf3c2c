/**
 * The gateway's reading and writing of SDP: a side's description → RemoteSide (what its audio
 * stream is and how to reach it), and LocalSide → the description Parley sends that side (an offer
 * of its own, or an answer that mirrors the side's offer, RFC 3264 §6). Refusals carry the SIP
 * Warning code the proxy answers 488 with (RFC 3261 §20.43).
 */
import type { MediaProfile } from '../lib/media-control.js';
import { ipv4Bytes, ipv6Bytes } from '../lib/ip-address.js';
import { err, ok, type Result } from '../lib/result.js';
import { getAttribute, getAttributes, hasAttribute } from '../sdp/attributes.js';
import { parseSdp } from '../sdp/parse.js';
import type { MediaDescription, SdpConnection, SdpLine, SessionDescription } from '../sdp/session-description.js';
import { serializeSdp } from '../sdp/serialize.js';
import { STATIC_PAYLOAD_TYPES } from '../sdp/static-payload-types.js';
import type { CodecSpec, Direction, DtlsParameters, IceCandidate, IceParameters, LocalSide, RemoteSide, SdesCrypto } from './side.js';

/**
 * Why Parley cannot serve a description, as a SIP Warning (RFC 3261 §20.43): 300 incompatible
 * network protocol, 301 incompatible network address formats, 302 incompatible transport
 * protocol, 304 media type not available, 305 incompatible media format, 399 miscellaneous.
 */
export interface SdpRefusal {
  readonly warnCode: number;
  readonly warning: string;
}

function refuse(warnCode: number, warning: string): { readonly ok: false; readonly error: SdpRefusal } {
  return err({ warnCode, warning });
}

const DTLS_PROTOS = new Set(['UDP/TLS/RTP/SAVPF', 'UDP/TLS/RTP/SAVP', 'RTP/SAVPF']);
const SDES_PROTOS = new Set(['RTP/SAVP', 'RTP/SAVPF']);
const RTP_PROTOS = new Set(['RTP/AVP', 'RTP/AVPF']);

/** The media-level value of an attribute, else the session-level one (ICE, fingerprint and setup may be at either). */
function either(sdp: SessionDescription, m: MediaDescription, name: string): string | undefined {
  return getAttribute(m, name) ?? getAttribute(sdp, name);
}

function directionOf(lines: readonly SdpLine[]): Direction | undefined {
  let found: Direction | undefined;
  for (const line of lines) {
    if (line.type !== 'a') continue;
    if (line.value === 'sendrecv' || line.value === 'sendonly' || line.value === 'recvonly' || line.value === 'inactive') found = line.value;
  }
  return found;
}

function isUnspecified(address: string): boolean {
  const v4 = ipv4Bytes(address);
  if (v4 !== undefined) return v4.every((b) => b === 0);
  const v6 = ipv6Bytes(address);
  return v6 !== undefined && v6.every((b) => b === 0);
}

function splitSpace(value: string): string[] {
  return value.split(' ').filter((f) => f.length > 0);
}

function isDigits(text: string): boolean {
  if (text.length === 0 || text.length > 10) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

/** The address of a c= line as Parley can use it, or the refusal (RFC 3261 §20.43: 300, 301). */
function readConnection(c: SdpConnection): Result<{ address: string; family: 4 | 6 }, SdpRefusal> {
  if (c.netType !== 'IN') return refuse(300, `network type ${c.netType} is not served (only IN)`);
  if (c.addrType === 'IP4') {
    if (ipv4Bytes(c.address) === undefined) return refuse(301, `c= address ${c.address} is not an IPv4 address (no multicast, no host names)`);
    return ok({ address: c.address, family: 4 });
  }
  if (c.addrType === 'IP6') {
    if (c.address.includes('%') || ipv6Bytes(c.address) === undefined) return refuse(301, `c= address ${c.address} is not an IPv6 address (no multicast, no host names)`);
    return ok({ address: c.address, family: 6 });
  }
  return refuse(301, `address type ${c.addrType} is not served (only IP4 and IP6)`);
}

/** a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>] (RFC 8866 §6.6). */
function readCodecs(m: MediaDescription): CodecSpec[] {
  const codecs: CodecSpec[] = [];
  const seen = new Set<number>();
  for (const format of m.formats) {
    if (!isDigits(format)) continue;
    const pt = Number(format);
    if (pt > 127 || seen.has(pt)) continue;
    seen.add(pt);
    let name: string | undefined;
    let clockRate = 0;
    let channels = 1;
    const rtpmap = rtpmapOf(m, format);
    if (rtpmap !== undefined) {
      const parts = rtpmap.split('/');
      if (parts.length < 2 || parts.length > 3 || parts[0]!.length === 0 || !isDigits(parts[1]!)) continue;
      name = parts[0]!;
      clockRate = Number(parts[1]);
      if (parts.length === 3) {
        if (!isDigits(parts[2]!)) continue;
        channels = Number(parts[2]);
      }
    } else {
      // RFC 3551 §6: the static payload types are used without a=rtpmap.
      const known = STATIC_PAYLOAD_TYPES.get(pt);
      if (known === undefined) continue; // a dynamic payload type without its rtpmap means nothing
      name = known.name;
      clockRate = known.clockRate;
      channels = known.channels;
    }
    const fmtp = keyed(m, 'fmtp', format);
    codecs.push(fmtp !== undefined && fmtp.length > 0 ? { pt, name, clockRate, channels, fmtp } : { pt, name, clockRate, channels });
  }
  return codecs;
}

function keyed(m: MediaDescription, name: string, key: string): string | undefined {
  for (const value of getAttributes(m, name)) {
    const space = value.indexOf(' ');
    if (space > 0 && value.slice(0, space) === key) return value.slice(space + 1).trim();
  }
  return undefined;
}

function rtpmapOf(m: MediaDescription, format: string): string | undefined {
  return keyed(m, 'rtpmap', format);
}

/**
 * a=candidate:<foundation> <component-id> <transport> <priority> <connection-address> <port>
 * typ <cand-type> [...] (RFC 8839 §5.1). Lines that do not read are skipped.
 */
export function readCandidate(value: string): IceCandidate | undefined {
  const f = splitSpace(value);
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  const protocol = f[2]!.toLowerCase();
  const type = f[7]!;
  if (protocol !== 'udp' && protocol !== 'tcp') return undefined;
  if (type !== 'host' && type !== 'srflx' && type !== 'prflx' && type !== 'relay') return undefined;
  if (!isDigits(f[1]!) || !isDigits(f[3]!) || !isDigits(f[5]!)) return undefined;
  const port = Number(f[5]);
  if (port > 65535) return undefined;
  return { foundation: f[0]!, component: Number(f[1]), protocol, priority: Number(f[3]), address: f[4]!, port, type };
}

/**
 * a=crypto:<tag> <crypto-suite> <key-params> [<session-params>] (RFC 4568 §9.1), key-params
 * "inline:" <key||salt> ["|" lifetime] ["|" MKI ":" length]; the first key-param is read.
 */
export function readCrypto(value: string): SdesCrypto | undefined {
  const f = splitSpace(value);
  if (f.length < 3 || !isDigits(f[0]!)) return undefined;
  const keyParam = f[2]!.split(';')[0]!;
  if (!keyParam.startsWith('inline:')) return undefined;
  const inline = keyParam.slice('inline:'.length);
  const bar = inline.indexOf('|');
  const keySalt = bar < 0 ? inline : inline.slice(0, bar);
  if (keySalt.length === 0) return undefined;
  const crypto: SdesCrypto = { tag: Number(f[0]), suite: f[1]!, keySalt };
  return bar < 0 ? crypto : { ...crypto, rest: inline.slice(bar) };
}

function readFingerprints(sdp: SessionDescription, m: MediaDescription): { algorithm: string; value: string }[] {
  // RFC 8122 §5: the fingerprint attribute may be at session level or media level; media level wins.
  const values = getAttributes(m, 'fingerprint');
  const source = values.length > 0 ? values : getAttributes(sdp, 'fingerprint');
  const out: { algorithm: string; value: string }[] = [];
  for (const v of source) {
    const f = splitSpace(v);
    if (f.length === 2) out.push({ algorithm: f[0]!.toLowerCase(), value: f[1]! });
  }
  return out;
}

function readSetup(sdp: SessionDescription, m: MediaDescription, role: 'offer' | 'answer'): DtlsParameters['setup'] {
  const setup = either(sdp, m, 'setup');
  if (setup === 'active' || setup === 'passive' || setup === 'actpass') return setup;
  // RFC 4145 §4.1: the default value of the setup attribute in an offer/answer exchange is
  // 'active' in the offer and 'passive' in the answer. (holdconn is read as absent: Parley does
  // not hold DTLS connections.)
  return role === 'offer' ? 'active' : 'passive';
}

function readIce(sdp: SessionDescription, m: MediaDescription): IceParameters | undefined {
  const ufrag = either(sdp, m, 'ice-ufrag');
  const pwd = either(sdp, m, 'ice-pwd');
  if (ufrag === undefined || pwd === undefined || ufrag.length === 0 || pwd.length === 0) return undefined;
  const candidates: IceCandidate[] = [];
  for (const value of getAttributes(m, 'candidate')) {
    const candidate = readCandidate(value);
    if (candidate !== undefined) candidates.push(candidate);
  }
  return { ufrag: ufrag.trim(), pwd: pwd.trim(), candidates, lite: hasAttribute(sdp, 'ice-lite') };
}

function readSsrcs(m: MediaDescription): number[] {
  const out: number[] = [];
  for (const value of getAttributes(m, 'ssrc')) {
    const space = value.indexOf(' ');
    const id = space < 0 ? value : value.slice(0, space);
    if (!isDigits(id)) continue;
    const n = Number(id);
    if (n <= 0xffffffff && !out.includes(n)) out.push(n);
  }
  return out;
}

/** The anchored m-line: the first audio one with a port other than 0. */
export function anchoredMediaIndex(sdp: SessionDescription): number {
  // RFC 3264 §5.1: "A port number of zero in the offer indicates that the stream is offered but
  // MUST NOT be used." A held stream keeps its port (§8.4); a rejected or removed one has 0.
  return sdp.media.findIndex((m) => m.media === 'audio' && m.port !== 0);
}

/**
 * What a side's description says about its audio stream, or why Parley cannot serve it. `role`
 * says whether the description is an offer or an answer (only the default of a=setup depends on it).
 */
export function readSide(sdp: SessionDescription, role: 'offer' | 'answer' = 'offer'): Result<RemoteSide, SdpRefusal> {
  const mIndex = anchoredMediaIndex(sdp);
  if (mIndex < 0) {
    return sdp.media.some((m) => m.media === 'audio')
      ? refuse(304, 'the audio stream is rejected (port 0)')
      : refuse(304, 'no audio stream (m=audio)');
  }
  const m = sdp.media[mIndex]!;

  let profile: MediaProfile;
  const fingerprints = readFingerprints(sdp, m);
  const cryptoLines = getAttributes(m, 'crypto');
  if (DTLS_PROTOS.has(m.proto) && fingerprints.length > 0) profile = 'webrtc';
  else if (SDES_PROTOS.has(m.proto) && cryptoLines.length > 0) profile = 'sdes';
  else if (RTP_PROTOS.has(m.proto)) profile = 'rtp';
  else if (DTLS_PROTOS.has(m.proto) && m.proto.startsWith('UDP/TLS')) return refuse(302, `${m.proto} without a=fingerprint`);
  else if (SDES_PROTOS.has(m.proto)) return refuse(302, `${m.proto} without a=crypto or a=fingerprint`);
  else return refuse(302, `transport ${m.proto} is not served (RTP/AVP, RTP/SAVP, UDP/TLS/RTP/SAVPF)`);

  // RFC 8866 §5.7: "A session description MUST contain either at least one "c=" line in each media
  // description or a single "c=" line at the session level."
  const c = m.connection ?? sdp.connection;
  if (c === undefined) return refuse(301, 'no c= line for the audio stream');
  const connection = readConnection(c);
  if (!connection.ok) return connection;

  const codecs = readCodecs(m);
  if (codecs.length === 0) return refuse(305, `no payload type Parley can read in "${m.formats.join(' ')}"`);

  // RFC 3264 §5.1: "If the offerer wishes to only send media on a stream to its peer, it MUST
  // mark the stream as sendonly ..." The media-level direction wins over the session level;
  // sendrecv when neither says.
  let direction: Direction = directionOf(m.lines) ?? directionOf(sdp.lines) ?? 'sendrecv';
  // RFC 3264 §8.4: older implementations hold a stream by setting its connection address to
  // 0.0.0.0: the side then receives nothing, so its stream is at most sendonly. Not with ICE:
  // there c=IN IP4 0.0.0.0 (port 9) only says that no default candidate is known yet (JSEP,
  // RFC 8829 §5.2.1), and the media goes where the connectivity checks find it.
  const ice = readIce(sdp, m);
  if (isUnspecified(connection.value.address) && ice === undefined) {
    if (direction === 'sendrecv') direction = 'sendonly';
    else if (direction === 'recvonly') direction = 'inactive';
  }

  const rtcpMux = hasAttribute(m, 'rtcp-mux');
  let rtcpPort = m.port + 1;
  // RFC 3605 §2.1: "a=rtcp:" port [nettype space addrtype space connection-address]
  const rtcp = getAttribute(m, 'rtcp');
  if (rtcp !== undefined) {
    const port = splitSpace(rtcp)[0] ?? '';
    if (isDigits(port) && Number(port) > 0 && Number(port) <= 65535) rtcpPort = Number(port);
  }
  // RFC 5761 §5.1.3: with rtcp-mux both RTP and RTCP go to the RTP port.
  if (rtcpMux) rtcpPort = m.port;

  let ptime: number | undefined;
  const ptimeText = getAttribute(m, 'ptime')?.trim();
  if (ptimeText !== undefined && isDigits(ptimeText) && Number(ptimeText) > 0) ptime = Number(ptimeText);

  const side: {
    -readonly [K in keyof RemoteSide]: RemoteSide[K];
  } = {
    profile,
    mIndex,
    address: connection.value.address,
    family: connection.value.family,
    port: m.port,
    rtcpPort,
    rtcpMux,
    direction,
    codecs,
    ssrcs: readSsrcs(m),
  };
  const mid = getAttribute(m, 'mid');
  if (mid !== undefined && mid.length > 0) side.mid = mid;
  if (ptime !== undefined) side.ptime = ptime;
  if (ice !== undefined) side.ice = ice;
  if (profile === 'webrtc') {
    if (ice === undefined) return refuse(302, 'DTLS-SRTP without ICE (a=ice-ufrag, a=ice-pwd) is not served');
    side.dtls = { setup: readSetup(sdp, m, role), fingerprints };
  }
  if (profile === 'sdes') {
    const crypto: SdesCrypto[] = [];
    for (const value of cryptoLines) {
      const parsed = readCrypto(value);
      if (parsed !== undefined) crypto.push(parsed);
    }
    if (crypto.length === 0) return refuse(302, 'no a=crypto line Parley can read');
    side.crypto = crypto;
  }
  return ok(side);
}

/**
 * An SDP body as received: parsed and read, or the refusal. A body that does not parse is a 399
 * whose warning is the parser's (`bad SDP: line 4: c= needs "IN IP4|IP6 <address>"`).
 */
export function readSdpText(text: string, role: 'offer' | 'answer' = 'offer'): Result<{ sdp: SessionDescription; side: RemoteSide }, SdpRefusal> {
  const parsed = parseSdpOrRefuse(text);
  if (!parsed.ok) return parsed;
  const side = readSide(parsed.value, role);
  if (!side.ok) return side;
  return ok({ sdp: parsed.value, side: side.value });
}

/** Parse a body for the media plane: a description that does not parse is a 399 naming the line. */
export function parseSdpOrRefuse(text: string): Result<SessionDescription, SdpRefusal> {
  const parsed = parseSdp(text);
  return parsed.ok ? parsed : refuse(399, `bad SDP: ${parsed.error.message}`);
}

/** The o= line Parley writes (RFC 8866 §5.2): `o=parley <sess-id> <sess-version> IN IP4|IP6 <address>`. */
export interface Origin {
  readonly username: string;
  readonly sessionId: string;
  readonly version: number;
  readonly address: string;
  readonly family: 4 | 6;
}

/**
 * One o= line across the offers and answers Parley writes to one side of a call.
 *
 * RFC 3264 §8: "When issuing an offer that modifies the session, the "o=" line of the new SDP
 * MUST be identical to that in the previous SDP, except that the version in the origin field MUST
 * increment by one from the previous SDP. If the version in the origin line does not increment,
 * the SDP MUST be identical to the SDP with that version number."
 */
export class OriginState {
  readonly sessionId: string;
  #version: number;
  #written = false;

  constructor(
    readonly address: string,
    readonly family: 4 | 6,
    sessionId: string = randomSessionId(),
    version = 1,
  ) {
    this.sessionId = sessionId;
    this.#version = version;
  }

  get version(): number {
    return this.#version;
  }

  /** The origin for the next description: the version moves on by one when it differs from the one written before. */
  next(changed: boolean): Origin {
    if (this.#written && changed) this.#version++;
    this.#written = true;
    return { username: 'parley', sessionId: this.sessionId, version: this.#version, address: this.address, family: this.family };
  }
}

/** RFC 8866 §5.2: "<sess-id> is a numeric string such that the tuple of <username>, <sess-id>, <nettype>, <addrtype>, and <unicast-address> forms a globally unique identifier". */
export function randomSessionId(): string {
  const words = globalThis.crypto.getRandomValues(new Uint32Array(2));
  // 53 bits, without a leading zero
  return String((words[0]! & 0x1fffff) * 0x100000000 + words[1]! + 1);
}

/**
 * How Parley's description is shaped: an offer of its own (one audio m-line), or an answer that
 * mirrors `offer` (RFC 3264 §6: "The answer MUST contain exactly the same number of "m=" lines as
 * the offer"), the m-line at `mIndex` filled from the LocalSide and every other one rejected.
 */
export type SdpShape =
  | { readonly kind: 'offer'; readonly origin: Origin }
  | { readonly kind: 'answer'; readonly origin: Origin; readonly offer: SessionDescription; readonly mIndex: number };

function addrType(family: 4 | 6): string {
  return family === 6 ? 'IP6' : 'IP4';
}

function a(value: string): SdpLine {
  return { type: 'a', value };
}

/** a=rtpmap:<pt> <name>/<clock rate>[/<channels>], and a=fmtp when the codec has parameters. */
function codecLines(codec: CodecSpec, profile: MediaProfile): SdpLine[] {
  const channels = codec.channels > 1 ? `/${codec.channels}` : '';
  const lines = [a(`rtpmap:${codec.pt} ${codec.name}/${codec.clockRate}${channels}`)];
  let fmtp = codec.fmtp;
  // What Chromium itself offers for Opus: 10 ms frames allowed, in-band FEC.
  if (fmtp === undefined && profile === 'webrtc' && codec.name.toLowerCase() === 'opus') fmtp = 'minptime=10;useinbandfec=1';
  if (fmtp !== undefined && fmtp.length > 0) lines.push(a(`fmtp:${codec.pt} ${fmtp}`));
  return lines;
}

function protoFor(profile: MediaProfile, offered: string | undefined): string {
  switch (profile) {
    case 'webrtc':
      return offered !== undefined && DTLS_PROTOS.has(offered) ? offered : 'UDP/TLS/RTP/SAVPF';
    case 'sdes':
      return offered !== undefined && SDES_PROTOS.has(offered) ? offered : 'RTP/SAVP';
    case 'rtp':
      return offered !== undefined && RTP_PROTOS.has(offered) ? offered : 'RTP/AVP';
  }
}

/** Parley's stream id and track id towards browsers (a=msid, RFC 8830). */
const MSID_STREAM = 'parley';
const MSID_TRACK = 'parley-audio';

function sends(direction: Direction): boolean {
  return direction === 'sendrecv' || direction === 'sendonly';
}

/** The m-line Parley anchors, filled from `local`. */
function anchoredMedia(local: LocalSide, proto: string, mid: string | undefined): MediaDescription {
  const lines: SdpLine[] = [];
  const at = `IN ${addrType(local.family)} ${local.address}`;
  // RFC 3605 §2.1: the a=rtcp attribute gives the RTCP port (and address) when RTCP does not go
  // to the RTP port + 1; Parley writes it always (as Chromium does), so that no reader guesses.
  lines.push(a(`rtcp:${local.rtcpPort} ${at}`));
  if (local.profile === 'webrtc') {
    const ice = local.ice;
    if (ice !== undefined) {
      const candidates =
        ice.candidates.length > 0
          ? ice.candidates
          : [{ foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, address: local.address, port: local.port, type: 'host' } as const];
      for (const c of candidates) lines.push(a(`candidate:${c.foundation} ${c.component} ${c.protocol} ${c.priority} ${c.address} ${c.port} typ ${c.type}`));
      // RFC 8840: a=end-of-candidates says that no more candidates will come; a lite agent has
      // only its host candidates, all known when it writes.
      lines.push(a('end-of-candidates'));
      lines.push(a(`ice-ufrag:${ice.ufrag}`), a(`ice-pwd:${ice.pwd}`));
    }
    for (const f of local.dtls?.fingerprints ?? []) lines.push(a(`fingerprint:${f.algorithm} ${f.value}`));
    if (local.dtls !== undefined) lines.push(a(`setup:${local.dtls.setup}`));
  }
  if (mid !== undefined) lines.push(a(`mid:${mid}`));
  lines.push(a(local.direction));
  if (local.profile === 'webrtc' && sends(local.direction)) lines.push(a(`msid:${MSID_STREAM} ${MSID_TRACK}`));
  if (local.rtcpMux || local.profile === 'webrtc') lines.push(a('rtcp-mux'));
  for (const codec of local.codecs) lines.push(...codecLines(codec, local.profile));
  if (local.profile === 'sdes') {
    // RFC 4568 §9.1: a=crypto:<tag> <crypto-suite> inline:<key||salt>[|lifetime][|MKI:length]
    for (const c of local.crypto ?? []) lines.push(a(`crypto:${c.tag} ${c.suite} inline:${c.keySalt}${c.rest ?? ''}`));
  }
  if (local.profile !== 'webrtc') lines.push(a(`ptime:${local.ptime ?? 20}`));
  else if (local.ptime !== undefined) lines.push(a(`ptime:${local.ptime}`));
  // No a=ssrc towards a browser: what Parley relays carries its source's SSRC (the phone's, or a
  // transcoder's), which is not known when this is written and changes with the source. An
  // a=ssrc naming another one binds the browser's track to an SSRC no packet carries: Chromium
  // then counts the packets in a stream of their own that plays nowhere (received, never
  // heard). Without it, the packets of the one audio m-line reach its track whatever their SSRC
  // (RFC 8843 §9.2: by payload type when there is no MID extension).
  return { media: 'audio', port: local.port, proto, formats: local.codecs.map((c) => String(c.pt)), lines };
}

/**
 * The description Parley sends a side. Towards a browser it is one Chromium takes from an
 * ICE-lite DTLS endpoint: a=ice-lite, BUNDLE of the one audio mid, rtcp-mux, host candidates,
 * fingerprint and setup, a=msid (no a=ssrc: see anchoredMedia).
 */
export function writeSide(local: LocalSide, shape: SdpShape): string {
  const origin = shape.origin;
  const session: SessionDescription = {
    version: 0,
    origin: {
      username: origin.username,
      sessionId: origin.sessionId,
      sessionVersion: String(origin.version),
      netType: 'IN',
      addrType: addrType(origin.family),
      address: origin.address,
    },
    sessionName: 'parley',
    connection: { netType: 'IN', addrType: addrType(local.family), address: local.address },
    lines: [{ type: 't', value: '0 0' }],
    media: [],
  };

  let mid: string | undefined;
  let bundle = local.profile === 'webrtc';
  if (shape.kind === 'offer') {
    if (local.profile === 'webrtc') mid = '0';
    session.media.push(anchoredMedia(local, protoFor(local.profile, undefined), mid));
  } else {
    const offered = shape.offer.media[shape.mIndex];
    mid = offered === undefined ? undefined : getAttribute(offered, 'mid');
    if (mid === '') mid = undefined;
    // RFC 8843 §7.3: the answerer bundles only what the offer put in a BUNDLE group.
    bundle &&= getAttributes(shape.offer, 'group').some((g) => {
      const f = splitSpace(g);
      return f[0] === 'BUNDLE' && mid !== undefined && f.includes(mid);
    });
    shape.offer.media.forEach((m, index) => {
      if (index === shape.mIndex) {
        session.media.push(anchoredMedia(local, protoFor(local.profile, m.proto), mid));
        return;
      }
      // RFC 3264 §6: "An offered stream MAY be rejected in the answer, for any reason. If a
      // stream is rejected, the offerer and answerer MUST NOT generate media (or RTCP packets)
      // for that stream. To reject an offered stream, the port number in the corresponding
      // stream in the answer MUST be set to zero."
      const rejected: MediaDescription = { media: m.media, port: 0, proto: m.proto, formats: [...m.formats], lines: [] };
      const otherMid = getAttribute(m, 'mid');
      if (otherMid !== undefined && otherMid.length > 0) rejected.lines.push(a(`mid:${otherMid}`));
      session.media.push(rejected);
    });
  }

  if (local.profile === 'webrtc') {
    // RFC 8839 §5.3: a=ice-lite, a session-level attribute, says the agent is a lite implementation
    // (RFC 8445 §2.5: it answers connectivity checks and never sends its own).
    if (local.ice?.lite ?? true) session.lines.push(a('ice-lite'));
    if (bundle && mid !== undefined) session.lines.push(a(`group:BUNDLE ${mid}`));
    session.lines.push(a(`msid-semantic: WMS ${MSID_STREAM}`));
  }
  return serializeSdp(session);
}
