import type { Ladder } from '../../src/api/operations.js';

/** Where each part of a ladder diagram goes, in SVG user units (px): computed apart from the DOM. */
export interface LadderLayout {
  readonly width: number;
  readonly height: number;
  /** Each participant's lifeline at `x`, named in two lines (`127.0.0.1:5060`, `udp`; `Parley`). */
  readonly columns: ReadonlyArray<{ readonly name: string; readonly lines: readonly string[]; readonly x: number }>;
  /** Where the lifelines start and end. */
  readonly top: number;
  readonly bottom: number;
  readonly rows: ReadonlyArray<{
    readonly index: number;
    /** The arrow's line: from x1 to x2 at y. */
    readonly x1: number;
    readonly x2: number;
    readonly y: number;
    /** The clickable band around the arrow (at least ROW high: a touch target). */
    readonly hit: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
    readonly label: string;
    /** The label as drawn: cut with `…` where it is wider than its arrow (the full one is `label`). */
    readonly text: string;
    /** `+12.3 ms`, `+1.20 s`. */
    readonly time: string;
    readonly kind: 'request' | 'response' | 'error';
  }>;
}

/** Room for the time at the left (less on a phone). */
export const TIME_WIDTH = 72;
const NARROW_TIME_WIDTH = 56;
/** Below this width (a phone), columns may be narrower: three fit on 390 px. */
const NARROW = 600;
/** Height of one arrow's row (≥ 40 px: a finger can take it). */
export const ROW = 44;
/** Room for the column names (two lines: address:port, transport). */
const HEAD = 48;
const MIN_COLUMN = 150;
const NARROW_MIN_COLUMN = 100;
/** Rough widths of a character of a column's name (12 px, bold) and of an arrow's label (12 px), for fitting text without measuring it. */
const NAME_CHAR = 7.4;
const LABEL_CHAR = 6.6;

/** A time since the first message, as people read it. */
export function formatOffset(ms: number): string {
  if (ms < 1000) return `+${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `+${(ms / 1000).toFixed(2)} s`;
  return `+${Math.floor(ms / 60_000)} min ${((ms % 60_000) / 1000).toFixed(0)} s`;
}

/**
 * `udp:127.0.0.1:5060` → [`127.0.0.1:5060`, `udp`]; `parley` → [`Parley`]. With `splitPort` (a
 * name wider than its column: three socket addresses on a phone) the port goes to the second
 * line: [`127.0.0.1`, `:5060 udp`].
 */
export function columnLines(name: string, splitPort = false): string[] {
  if (name === 'parley') return ['Parley'];
  const colon = name.indexOf(':');
  if (colon < 0) return [name];
  const transport = name.slice(0, colon);
  const hostPort = name.slice(colon + 1);
  const portAt = hostPort.lastIndexOf(':');
  if (!splitPort || portAt <= 0) return [hostPort, transport];
  return [hostPort.slice(0, portAt), `${hostPort.slice(portAt)} ${transport}`];
}

/** `label` cut with `…` to what fits in `width` px. */
function fit(label: string, width: number): string {
  const chars = Math.max(4, Math.floor((width - 8) / LABEL_CHAR));
  return label.length <= chars ? label : `${label.slice(0, chars - 1)}…`;
}

/** A response's class by its label (`180 Ringing`): 1xx/2xx drawn as responses, 3xx-6xx as errors. */
function kindOf(label: string): 'request' | 'response' | 'error' {
  const code = Number(label.slice(0, 3));
  if (!Number.isInteger(code) || label.length > 3 && label[3] !== ' ') return 'request';
  return code >= 300 ? 'error' : 'response';
}

/**
 * Lay a ladder out: a column per participant (the width shared out, at least MIN_COLUMN each),
 * a row per arrow, top to bottom in time order, like sngrep's call flow.
 */
export function layoutLadder(ladder: Ladder, availableWidth: number): LadderLayout {
  const n = Math.max(1, ladder.participants.length);
  const narrow = availableWidth < NARROW;
  const timeWidth = narrow ? NARROW_TIME_WIDTH : TIME_WIDTH;
  const columnWidth = Math.max(narrow ? NARROW_MIN_COLUMN : MIN_COLUMN, Math.floor((availableWidth - timeWidth) / n));
  const width = timeWidth + columnWidth * n;
  // one layout for every name: all on one line when each fits its column, else every port under its address
  const splitPort = ladder.participants.some((name) => (columnLines(name)[0]!.length * NAME_CHAR) > columnWidth - 8);
  const columns = ladder.participants.map((name, i) => ({ name, lines: columnLines(name, splitPort), x: timeWidth + columnWidth * i + columnWidth / 2 }));
  const xOf = new Map(columns.map((c) => [c.name, c.x]));
  const rows: Array<LadderLayout['rows'][number]> = [];
  ladder.arrows.forEach((a, index) => {
    const x1 = xOf.get(a.from);
    const x2 = xOf.get(a.to);
    if (x1 === undefined || x2 === undefined) return;
    const y = HEAD + ROW * (index + 1) - 10;
    const left = Math.min(x1, x2);
    rows.push({
      index,
      x1,
      x2,
      y,
      hit: { x: left - 8, y: y - ROW + 10, width: Math.abs(x2 - x1) + 16, height: ROW },
      label: a.label,
      text: fit(a.label, Math.abs(x2 - x1)),
      time: formatOffset(a.t),
      kind: kindOf(a.label),
    });
  });
  const bottom = HEAD + ROW * (ladder.arrows.length + 1) - 10 + 8;
  return { width, height: bottom + 4, columns, top: HEAD - 6, bottom, rows };
}
