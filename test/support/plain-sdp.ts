// A small SDP reader and writer for the media runtime's tests, for plain RTP/AVP audio only
// (no ICE, no DTLS, no crypto): the real ones are src/sdp and src/media/sdp-side.ts. It reads
// what the tests write, and what sipp and baresip send for one audio stream.
import { err, ok } from '../../src/lib/result.js';
import type { BridgePlan } from '../../src/media/bridge.js';
import type { SdpFunctions } from '../../src/media/sdp-functions.js';
import type { CodecSpec, Direction, RemoteSide } from '../../src/media/side.js';

interface PlainSdp {
  readonly lines: readonly string[];
}

const STATIC: Record<number, [string, number]> = { 0: ['PCMU', 8000], 8: ['PCMA', 8000], 9: ['G722', 8000], 18: ['G729', 8000] };

export function readPlain(session: PlainSdp): ReturnType<SdpFunctions<PlainSdp>['readSide']> {
  let address: string | undefined;
  let family: 4 | 6 = 4;
  let port = -1;
  let proto = '';
  let pts: number[] = [];
  let direction: Direction = 'sendrecv';
  let rtcpPort: number | undefined;
  let ptime: number | undefined;
  const names = new Map<number, { name: string; clockRate: number; channels: number }>();
  for (const line of session.lines) {
    if (line.startsWith('c=IN IP')) {
      const [, fam, addr] = line.slice(2).split(' ');
      family = fam === 'IP6' ? 6 : 4;
      address = addr;
    } else if (line.startsWith('m=audio ')) {
      const f = line.slice(2).split(' ');
      port = Number(f[1]);
      proto = f[2]!;
      pts = f.slice(3).map(Number);
    } else if (line.startsWith('a=rtpmap:')) {
      const [pt, enc] = line.slice(9).split(' ');
      const [name, rate, ch] = enc!.split('/');
      names.set(Number(pt), { name: name!, clockRate: Number(rate), channels: ch === undefined ? 1 : Number(ch) });
    } else if (line === 'a=sendonly' || line === 'a=recvonly' || line === 'a=inactive' || line === 'a=sendrecv') {
      direction = line.slice(2) as Direction;
    } else if (line.startsWith('a=rtcp:')) {
      rtcpPort = Number(line.slice(7).split(' ')[0]);
    } else if (line.startsWith('a=ptime:')) {
      ptime = Number(line.slice(8));
    }
  }
  if (port < 0 || address === undefined) return err({ warnCode: 304, warning: 'no audio stream' });
  if (proto !== 'RTP/AVP') return err({ warnCode: 302, warning: `transport ${proto}` });
  if (address === '0.0.0.0' && direction === 'sendrecv') direction = 'sendonly';
  const codecs: CodecSpec[] = pts.map((pt) => {
    const n = names.get(pt) ?? (STATIC[pt] ? { name: STATIC[pt][0], clockRate: STATIC[pt][1], channels: 1 } : { name: `pt${pt}`, clockRate: 8000, channels: 1 });
    return { pt, ...n };
  });
  const remote: RemoteSide = { profile: 'rtp', mIndex: 0, address, family, port, rtcpPort: rtcpPort ?? port + 1, rtcpMux: false, direction, codecs, ...(ptime === undefined ? {} : { ptime }), ssrcs: [] };
  return ok(remote);
}

const same = (x: CodecSpec, y: CodecSpec): boolean => x.name.toLowerCase() === y.name.toLowerCase() && x.clockRate === y.clockRate;

export const plainSdp: SdpFunctions<PlainSdp> = {
  parse: (text) => (text.startsWith('v=0') ? ok({ lines: text.split(/\r?\n/) }) : err({ warnCode: 399, warning: 'line 1: not SDP' })),
  readSide: readPlain,
  writeSide: (local, shape) => {
    const o = shape.origin;
    return [
      'v=0',
      `o=${o.username} ${o.sessionId} ${o.version} IN IP${o.family} ${o.address}`,
      's=-',
      `c=IN IP${local.family} ${local.address}`,
      't=0 0',
      `m=audio ${local.port} RTP/AVP ${local.codecs.map((c) => c.pt).join(' ')}`,
      ...local.codecs.map((c) => `a=rtpmap:${c.pt} ${c.name}/${c.clockRate}${c.channels > 1 ? `/${c.channels}` : ''}`),
      `a=rtcp:${local.rtcpPort}`,
      `a=${local.direction}`,
      '',
    ].join('\r\n');
  },
  offerCodecs: (offered) => [...offered],
  bridgeCodecs: (a, b): BridgePlan | { warnCode: number; warning: string } => {
    const audio = (c: CodecSpec): boolean => c.name !== 'telephone-event';
    const dtmf = { ...(a.find((c) => !audio(c)) ? { a: a.find((c) => !audio(c))! } : {}), ...(b.find((c) => !audio(c)) ? { b: b.find((c) => !audio(c))! } : {}) };
    const first = b.find(audio);
    if (first === undefined) return { warnCode: 305, warning: 'no audio codec in the answer' };
    if (a.some((x) => same(x, first))) {
      const aToB = new Map<number, number>();
      const bToA = new Map<number, number>();
      for (const x of a) {
        const y = b.find((c) => same(c, x));
        if (y !== undefined) {
          aToB.set(x.pt, y.pt);
          bToA.set(y.pt, x.pt);
        }
      }
      return { kind: 'pass', aToB, bToA, dtmf };
    }
    const t = new Set(['opus', 'pcmu', 'pcma']);
    const mine = a.find((c) => audio(c) && t.has(c.name.toLowerCase()));
    if (mine !== undefined && t.has(first.name.toLowerCase())) return { kind: 'transcode', a: mine, b: first, dtmf };
    return { warnCode: 305, warning: 'no codec in common' };
  },
  answerCodecs: (offered, chosen) => offered.filter((x) => chosen.some((y) => same(x, y))),
};

/** An RTP/AVP offer or answer as a phone writes it. */
export function phoneSdp(address: string, port: number, codecs: readonly string[] = ['0 PCMU/8000', '101 telephone-event/8000'], direction = 'sendrecv'): string {
  return [
    'v=0',
    `o=phone 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs.map((c) => c.split(' ')[0]).join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${c}`),
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/** The audio port and address of an SDP (what Parley wrote). */
export function audioOf(sdp: string): { address: string; port: number; rtcpPort: number; version: number; lines: string[] } {
  const lines = sdp.split(/\r?\n/);
  const c = lines.find((l) => l.startsWith('c='))!.split(' ')[2]!;
  const m = Number(lines.find((l) => l.startsWith('m=audio'))!.split(' ')[1]);
  const rtcp = lines.find((l) => l.startsWith('a=rtcp:'));
  const version = Number(lines.find((l) => l.startsWith('o='))!.split(' ')[2]);
  return { address: c, port: m, rtcpPort: rtcp === undefined ? m + 1 : Number(rtcp.slice(7)), version, lines };
}
