// sox (Debian's sox package; .ci/run installs it) as the independent measure of recorded audio:
// `sox FILE -n stat` prints the RMS amplitude and the rough frequency of a WAV file.
import { spawnSync } from 'node:child_process';

export function soxInstalled(): boolean {
  return spawnSync('sox', ['--version'], { encoding: 'utf8', timeout: 5000 }).status === 0;
}

/** The suite's `skip`: without sox, skipped outside CI (which installs it). */
export function skipWithoutSox(): string | false {
  if (soxInstalled()) return false;
  return process.env.CI ? false : 'sox is not installed (apt-get install sox); skipped outside CI';
}

export interface SoxStat {
  /** RMS amplitude, 0..1 of full scale. */
  readonly rms: number;
  /** sox's rough frequency estimate, Hz. */
  readonly frequency: number;
  readonly seconds: number;
  readonly text: string;
}

/** `sox FILE -n stat` (optionally `trim START`: skip the first seconds, e.g. ringing and set-up). */
export function soxStat(file: string, trimStartSecs = 0): SoxStat {
  const args = [file, '-n', ...(trimStartSecs > 0 ? ['trim', String(trimStartSecs)] : []), 'stat'];
  const r = spawnSync('sox', args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error !== undefined) throw r.error;
  const text = `${r.stdout}${r.stderr}`;
  const field = (name: string): number => {
    const line = text.split('\n').find((l) => l.startsWith(name));
    const value = line === undefined ? NaN : Number(line.slice(line.indexOf(':') + 1).trim());
    if (!Number.isFinite(value)) throw new Error(`sox stat printed no "${name}" for ${file}:\n${text}`);
    return value;
  };
  return { rms: field('RMS     amplitude'), frequency: field('Rough   frequency'), seconds: field('Length (seconds)'), text };
}
