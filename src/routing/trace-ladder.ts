import type { TraceMessage, TraceReportJson } from './trace-recorder.js';

/** The column of this server in a ladder. */
export const PARLEY_COLUMN = 'parley';

/** One message between two columns of a ladder diagram. */
export interface LadderArrow {
  /** ms since the call's first message. */
  readonly t: number;
  readonly from: string;
  readonly to: string;
  /** `INVITE`, `180 Ringing`, … */
  readonly label: string;
  /** The message as it went on the wire. */
  readonly message: string;
}

/** A call's messages as sngrep draws them: a column per participant, an arrow per message. */
export interface TraceLadder {
  readonly callId: string;
  /** The first peer (who started the call), this server, then the other peers as they appear. */
  readonly participants: readonly string[];
  readonly arrows: readonly LadderArrow[];
}

/** The first line of a message: its request line or status line. */
function startLine(message: string): string {
  const end = message.indexOf('\r\n');
  return end < 0 ? message : message.slice(0, end);
}

/**
 * The label of an arrow: a request's method (`INVITE`), a response's status and reason
 * (`180 Ringing`). RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF;
 * §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF.
 */
export function arrowLabel(message: string): string {
  const line = startLine(message);
  if (line.startsWith('SIP/')) {
    const sp = line.indexOf(' ');
    return sp < 0 ? line : line.slice(sp + 1).trim();
  }
  const sp = line.indexOf(' ');
  return sp < 0 ? line : line.slice(0, sp);
}

/** `UDP:127.0.0.1:5060` and `udp:127.0.0.1:5060` are one peer. */
function peerName(peer: string): string {
  const colon = peer.indexOf(':');
  return colon < 0 ? peer : peer.slice(0, colon).toLowerCase() + peer.slice(colon);
}

/**
 * Two reports' times of one message differ by less than this (their bases are wall-clock ms);
 * a retransmission comes T1 (500 ms, RFC 3261 §17.1.1.2) or more after the first.
 */
const SAME_MESSAGE_MS = 5;

interface Timed {
  readonly at: number;
  readonly order: number;
  readonly from: string;
  readonly to: string;
  readonly message: string;
}

/**
 * The ladder of a traced call from its reports (each request's report: the request received,
 * what was sent for it, the responses its branches got), in time order. A report's times are ms
 * since its request was received (`atMs`, or `at` in older reports), so each message's time is
 * that + `t`. A message found
 * in two reports (same direction, peer and text, within a few ms) is drawn once; a retransmission, sent
 * again later, is drawn again, as on the wire.
 */
export function buildLadder(callId: string, reports: readonly TraceReportJson[]): TraceLadder {
  const timed: Timed[] = [];
  const seen = new Map<string, number[]>();
  let order = 0;
  const add = (base: number, m: TraceMessage, inbound: boolean): void => {
    const peer = peerName(m.peer);
    const at = base + m.t;
    const from = inbound ? peer : PARLEY_COLUMN;
    const to = inbound ? PARLEY_COLUMN : peer;
    const key = `${from}\n${to}\n${m.message}`;
    const times = seen.get(key);
    if (times?.some((t) => Math.abs(t - at) < SAME_MESSAGE_MS)) return;
    if (times === undefined) seen.set(key, [at]);
    else times.push(at);
    timed.push({ at, order: order++, from, to, message: m.message });
  };
  for (const r of reports) {
    const base = r.atMs ?? Date.parse(r.at);
    if (!Number.isFinite(base)) continue;
    add(base, r.received, true);
    for (const m of r.sent) add(base, m, false);
    for (const m of r.responses) add(base, m, true);
  }
  timed.sort((a, b) => a.at - b.at || a.order - b.order);

  const participants: string[] = [];
  const first = timed[0];
  if (first !== undefined) participants.push(first.from === PARLEY_COLUMN ? first.to : first.from);
  participants.push(PARLEY_COLUMN);
  for (const m of timed) for (const p of [m.from, m.to]) if (!participants.includes(p)) participants.push(p);

  const start = first?.at ?? 0;
  return {
    callId,
    participants,
    arrows: timed.map((m) => ({ t: Math.round((m.at - start) * 1000) / 1000, from: m.from, to: m.to, label: arrowLabel(m.message), message: m.message })),
  };
}
