/**
 * Tables of the operator's commands: on a terminal, columns padded to their widths (long cells
 * cut with `…`); piped, one line per row with the cells separated by tabs (for cut, awk), the
 * header first in both.
 */
export function formatTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, terminal: boolean, maxCell = 48): string {
  if (!terminal) return [headers, ...rows].map((r) => r.join('\t')).join('\n');
  const cut = (s: string): string => (s.length > maxCell ? s.slice(0, maxCell - 1) + '…' : s);
  const cells = [headers, ...rows].map((r) => r.map(cut));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** `42s`, `3m05s`, `1h02m`, `2d03h`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}
