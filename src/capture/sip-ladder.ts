/**
 * The message ladder of a call, as sngrep draws it: a column per address and port (in the order
 * they first appear), an arrow per SIP message from its source to its destination, labelled with
 * the method or status and the capture time. `buildLadder` makes the model; `ladderText` draws it
 * for a terminal, `ladderHtml` as a self-contained HTML page with an SVG (no scripts, no links).
 */
import type { AnySipMessage } from '../sip/index.js';
import type { CapturedSipMessage } from './sip-capture.js';

export interface LadderColumn {
  readonly address: string;
  readonly port: number;
  /** "192.0.2.1:5060", "[2001:db8::1]:5060". */
  readonly label: string;
}

export interface LadderStep {
  /** The message's place among the capture's SIP messages. */
  readonly index: number;
  readonly time: bigint;
  /** Seconds since the ladder's first message. */
  readonly sinceStart: number;
  readonly from: number;
  readonly to: number;
  /** "INVITE (SDP)", "180 Ringing", "200 OK (SDP)". */
  readonly label: string;
  readonly callId: string;
  /** "2 INVITE". */
  readonly cseq: string;
  readonly transport: string;
  readonly isRequest: boolean;
  /** The message as text (UTF-8, invalid bytes replaced). */
  readonly text: string;
}

export interface Ladder {
  readonly callIds: readonly string[];
  readonly columns: readonly LadderColumn[];
  readonly steps: readonly LadderStep[];
}

function endpointLabel(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function hasSdp(m: AnySipMessage): boolean {
  if (m.bodyLength === 0) return false;
  try {
    const t = m.contentType;
    return t !== undefined && t.type === 'application' && t.subtype === 'sdp';
  } catch {
    return false;
  }
}

export function messageLabel(m: AnySipMessage): string {
  const base = m.isRequest ? m.method : `${m.status} ${m.reason}`.trimEnd();
  return hasSdp(m) ? `${base} (SDP)` : base;
}

/** The ladder of these messages (in capture order). */
export function buildLadder(messages: readonly CapturedSipMessage[]): Ladder {
  const columns: LadderColumn[] = [];
  const byKey = new Map<string, number>();
  const column = (address: string, port: number): number => {
    const label = endpointLabel(address, port);
    let i = byKey.get(label);
    if (i === undefined) {
      i = columns.length;
      columns.push({ address, port, label });
      byKey.set(label, i);
    }
    return i;
  };
  const callIds: string[] = [];
  const first = messages[0]?.time ?? 0n;
  const decoder = new TextDecoder();
  const steps = messages.map((c) => {
    const callId = c.message.callId;
    if (!callIds.includes(callId)) callIds.push(callId);
    return {
      index: c.index,
      time: c.time,
      sinceStart: Number(c.time - first) / 1e9,
      from: column(c.src, c.srcPort),
      to: column(c.dst, c.dstPort),
      label: messageLabel(c.message),
      callId,
      cseq: `${c.message.cseq.seq} ${c.message.cseq.method}`,
      transport: c.transport,
      isRequest: c.message.isRequest,
      text: decoder.decode(c.bytes),
    };
  });
  return { callIds, columns, steps };
}

function timeOfDay(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(11, 23);
}

function center(text: string, width: number): string {
  const t = text.length > width ? text.slice(0, width - 1) + '…' : text;
  const left = Math.floor((width - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(width - t.length - left);
}

/**
 * The ladder for a terminal: a header of columns, then two lines per message (the label above
 * its arrow); on the left the time of day and the seconds since the first message.
 */
export function ladderText(ladder: Ladder): string {
  const longest = Math.max(0, ...ladder.steps.map((s) => s.label.length), ...ladder.columns.map((c) => c.label.length));
  const width = Math.max(20, longest + 4);
  const margin = 24; // "11:45:38.123  +12.345   "
  const n = ladder.columns.length;
  const lineLength = margin + n * width;
  const centerOf = (i: number): number => margin + i * width + Math.floor(width / 2);
  const lifelines = (): string[] => {
    const chars = Array<string>(lineLength).fill(' ');
    for (let i = 0; i < n; i++) chars[centerOf(i)] = '│';
    return chars;
  };
  const out: string[] = [];
  out.push(' '.repeat(margin) + ladder.columns.map((c) => center(c.label, width)).join(''));
  out.push(lifelines().join('').trimEnd());
  for (const s of ladder.steps) {
    const a = centerOf(s.from);
    const b = centerOf(s.to);
    const labelLine = lifelines();
    const arrowLine = lifelines();
    const stamp = `${timeOfDay(s.time)}  +${s.sinceStart.toFixed(3)}`;
    for (let i = 0; i < stamp.length && i < margin - 1; i++) arrowLine[i] = stamp[i]!;
    if (a === b) {
      // a message to itself: a short hook on the right of the lifeline
      const text = `↺ ${s.label}`;
      for (let i = 0; i < text.length && a + 2 + i < lineLength; i++) arrowLine[a + 2 + i] = text[i]!;
    } else {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      for (let i = lo + 1; i < hi; i++) arrowLine[i] = '─';
      if (b > a) arrowLine[hi - 1] = '▶';
      else arrowLine[lo + 1] = '◀';
      const room = hi - lo - 1;
      const label = s.label.length > room - 2 ? s.label.slice(0, Math.max(1, room - 3)) + '…' : s.label;
      const start = lo + 1 + Math.floor((room - label.length) / 2);
      for (let i = 0; i < label.length; i++) labelLine[start + i] = label[i]!;
    }
    out.push(labelLine.join('').trimEnd());
    out.push(arrowLine.join('').trimEnd());
  }
  return out.join('\n');
}

function escapeXml(s: string): string {
  let out = '';
  for (const ch of s) {
    if (ch === '&') out += '&amp;';
    else if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else out += ch;
  }
  return out;
}

/** A self-contained HTML page: the ladder as SVG (each arrow's tooltip is its message) and every message in full below. */
export function ladderHtml(ladder: Ladder, title: string): string {
  const colWidth = 220;
  const left = 170;
  const top = 60;
  const rowHeight = 36;
  const n = ladder.columns.length;
  const width = left + n * colWidth + 20;
  const height = top + ladder.steps.length * rowHeight + 30;
  const cx = (i: number): number => left + i * colWidth + colWidth / 2;
  const svg: string[] = [];
  svg.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="12">`);
  svg.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>');
  ladder.columns.forEach((c, i) => {
    svg.push(`<rect x="${cx(i) - colWidth / 2 + 10}" y="10" width="${colWidth - 20}" height="26" rx="4" fill="#e8eef7" stroke="#6b8cbf"/>`);
    svg.push(`<text x="${cx(i)}" y="27" text-anchor="middle">${escapeXml(c.label)}</text>`);
    svg.push(`<line x1="${cx(i)}" y1="36" x2="${cx(i)}" y2="${height - 10}" stroke="#999" stroke-dasharray="4 3"/>`);
  });
  ladder.steps.forEach((s, k) => {
    const y = top + k * rowHeight + 20;
    const color = s.isRequest ? '#1f4e9c' : s.label.startsWith('1') ? '#777' : s.label.startsWith('2') ? '#2a7a2a' : '#b02a2a';
    svg.push(`<g><title>${escapeXml(s.text)}</title>`);
    svg.push(`<text x="8" y="${y + 4}" fill="#555">${timeOfDay(s.time)} +${s.sinceStart.toFixed(3)}</text>`);
    if (s.from === s.to) {
      const x = cx(s.from);
      svg.push(`<path d="M${x},${y - 8} h30 v16 h-30" fill="none" stroke="${color}" marker-end="url(#arrow)"/>`);
      svg.push(`<text x="${x + 36}" y="${y + 4}" fill="${color}">${escapeXml(s.label)}</text>`);
    } else {
      svg.push(`<line x1="${cx(s.from)}" y1="${y}" x2="${cx(s.to)}" y2="${y}" stroke="${color}" stroke-width="1.5" marker-end="url(#arrow)"/>`);
      svg.push(`<text x="${(cx(s.from) + cx(s.to)) / 2}" y="${y - 5}" text-anchor="middle" fill="${color}"><a href="#m${k}">${escapeXml(s.label)}</a></text>`);
    }
    svg.push('</g>');
  });
  svg.push('</svg>');
  const details = ladder.steps.map(
    (s, k) =>
      `<details id="m${k}"><summary>${k + 1}. ${timeOfDay(s.time)} ${escapeXml(ladder.columns[s.from]!.label)} → ${escapeXml(ladder.columns[s.to]!.label)} ${s.transport.toUpperCase()} ${escapeXml(s.label)}</summary><pre>${escapeXml(s.text)}</pre></details>`,
  );
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeXml(title)}</title>`,
    '<style>body{font-family:sans-serif;margin:16px}pre{background:#f6f6f6;padding:8px;overflow:auto}summary{font-family:monospace;cursor:pointer}svg a{fill:inherit}</style>',
    '</head><body>',
    `<h1>${escapeXml(title)}</h1>`,
    `<p>Call-ID: ${ladder.callIds.map(escapeXml).join(', ')} · ${ladder.steps.length} messages · times UTC</p>`,
    svg.join('\n'),
    '<h2>Messages</h2>',
    details.join('\n'),
    '</body></html>',
    '',
  ].join('\n');
}
