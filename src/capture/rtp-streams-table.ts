/**
 * The RTP streams as the text table `tshark -q -z rtp,streams` prints (Wireshark 4.0's
 * ui/cli/tap-rtp.c: the same columns, widths and decimals, and its order: the stream that began
 * last comes first), so that the two outputs can be put side by side or diffed.
 */
import type { RtpStreamReport } from './rtp-streams.js';

const RULE_TOP = '========================= RTP Streams ========================';
const RULE_BOTTOM = '==============================================================';

export function formatRtpStreamsTable(reports: readonly RtpStreamReport[]): string {
  const lines = [RULE_TOP];
  lines.push(
    [
      pad('Start time', 13),
      pad('End time', 13),
      pad('Src IP addr', 15),
      pad('Port', 5),
      pad('Dest IP addr', 15),
      pad('Port', 5),
      pad('SSRC', 10),
      pad('Payload', 16),
      pad('Pkts', 5),
      pad('Lost', 12),
      pad('Min Delta(ms)', 15),
      pad('Mean Delta(ms)', 15),
      pad('Max Delta(ms)', 15),
      pad('Min Jitter(ms)', 15),
      pad('Mean Jitter(ms)', 15),
      pad('Max Jitter(ms)', 15),
      'Problems?',
    ].join(' '),
  );
  for (const r of [...reports].reverse()) {
    lines.push(
      [
        pad(fixed(r.startSeconds, 6), 13),
        pad(fixed(r.endSeconds, 6), 13),
        pad(r.src, 15),
        pad(String(r.srcPort), 5),
        pad(r.dst, 15),
        pad(String(r.dstPort), 5),
        `0x${r.ssrc.toString(16).toUpperCase().padStart(8, '0')}`,
        pad(r.payloadNames, 16),
        pad(String(r.packets), 5),
        `${pad(String(r.lost), 5)} (${fixed(r.lostPercent, 1)}%)`,
        pad(fixed(r.minDeltaMs, 3), 15),
        pad(fixed(r.meanDeltaMs, 3), 15),
        pad(fixed(r.maxDeltaMs, 3), 15),
        pad(fixed(r.minJitterMs, 3), 15),
        pad(fixed(r.meanJitterMs, 3), 15),
        pad(fixed(r.maxJitterMs, 3), 15),
        r.problem ? 'X' : '',
      ].join(' '),
    );
  }
  lines.push(RULE_BOTTOM);
  return `${lines.join('\n')}\n`;
}

/** printf's right-aligned %Ns. */
function pad(text: string, width: number): string {
  return text.padStart(width);
}

/**
 * printf's %.Nf: the exact value of the double rounded to N decimals, an exact tie to the even
 * digit (glibc), where Number#toFixed rounds a tie up (0.125 → "0.12" in C, "0.13" in JavaScript).
 */
export function fixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : value < 0 ? '-inf' : 'nan';
  const negative = value < 0 || Object.is(value, -0);
  const magnitude = Math.abs(value);
  // A tie is a dyadic fraction of at most decimals + 1 binary places, so its expansion here is
  // exact: the digits after the kept ones are "5" then zeros.
  const wide = magnitude < 1e21 ? magnitude.toFixed(Math.min(100, decimals + 30)) : '';
  const point = wide.indexOf('.');
  let text = magnitude.toFixed(decimals);
  if (point >= 0) {
    const rest = wide.slice(point + 1 + decimals);
    if (rest[0] === '5' && onlyZeros(rest, 1)) {
      const kept = wide.slice(0, decimals === 0 ? point : point + 1 + decimals);
      const lastDigit = Number(kept[kept.length - 1]);
      text = lastDigit % 2 === 0 ? kept : magnitude.toFixed(decimals);
    }
  }
  return negative ? `-${text}` : text;
}

function onlyZeros(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) if (text[i] !== '0') return false;
  return true;
}
