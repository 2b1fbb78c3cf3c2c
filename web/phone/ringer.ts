/**
 * Ringtone and ringback made in the page with WebAudio (no sound files): oscillators switched on
 * and off by a gain node on a cadence, looping until stop().
 *
 * - ringback (an outgoing call rings at the other side): 425 Hz, 1 s on, 4 s off, the tone of
 *   ITU-T E.180 most countries use;
 * - ringtone (someone calls): two short chirps of 660 + 880 Hz, then a pause.
 *
 * Browsers start an AudioContext "suspended" until the person has interacted with the page
 * (autoplay policy); `unlock()` is called from the page's first click or key press, so that a
 * call arriving later rings.
 */

export type RingKind = 'ringtone' | 'ringback';

/** A tone: frequencies played together, and the on/off cadence in seconds (one period, repeated). */
export interface Cadence {
  readonly frequencies: readonly number[];
  /** [on, off, on, off, …] in seconds. */
  readonly pattern: readonly number[];
  /** Peak gain (0..1). */
  readonly level: number;
}

export const CADENCES: Readonly<Record<RingKind, Cadence>> = {
  ringback: { frequencies: [425], pattern: [1, 4], level: 0.15 },
  ringtone: { frequencies: [660, 880], pattern: [0.4, 0.2, 0.4, 2], level: 0.2 },
};

export class Ringer {
  private context: AudioContext | undefined;
  private playing: { kind: RingKind; nodes: AudioNode[]; timer: number } | undefined;

  /** What rings now, if anything. */
  get kind(): RingKind | undefined {
    return this.playing?.kind;
  }

  /** The AudioContext's state ('running' when a tone can be heard), or 'none' before the first use. */
  get audioState(): string {
    return this.context?.state ?? 'none';
  }

  /** Make (or resume) the AudioContext from a user gesture, so that later tones are allowed to sound. */
  unlock(): void {
    const c = this.audio();
    if (c !== undefined && c.state === 'suspended') void c.resume().catch(() => {});
  }

  start(kind: RingKind): void {
    if (this.playing?.kind === kind) return;
    this.stop();
    const c = this.audio();
    if (c === undefined) return;
    if (c.state === 'suspended') void c.resume().catch(() => {});
    const cadence = CADENCES[kind];
    const gain = c.createGain();
    gain.gain.value = 0;
    gain.connect(c.destination);
    const oscillators = cadence.frequencies.map((f) => {
      const o = c.createOscillator();
      o.type = 'sine';
      o.frequency.value = f;
      o.connect(gain);
      o.start();
      return o;
    });
    const period = cadence.pattern.reduce((a, b) => a + b, 0);
    // schedule a few periods ahead on the audio clock, and top up before they run out
    let scheduledUntil = c.currentTime + 0.05;
    const schedule = (): void => {
      while (scheduledUntil < c.currentTime + 2 * period) {
        let t = scheduledUntil;
        cadence.pattern.forEach((d, i) => {
          const on = i % 2 === 0;
          // 10 ms ramps: no clicks at the edges
          gain.gain.setValueAtTime(on ? 0 : cadence.level, t);
          gain.gain.linearRampToValueAtTime(on ? cadence.level : 0, t + 0.01);
          t += d;
        });
        scheduledUntil = t;
      }
    };
    schedule();
    const timer = window.setInterval(schedule, (period * 1000) / 2);
    this.playing = { kind, nodes: [gain, ...oscillators], timer };
  }

  stop(): void {
    const p = this.playing;
    if (p === undefined) return;
    this.playing = undefined;
    window.clearInterval(p.timer);
    for (const n of p.nodes) {
      if (n instanceof OscillatorNode) n.stop();
      n.disconnect();
    }
  }

  private audio(): AudioContext | undefined {
    if (this.context === undefined && typeof AudioContext === 'function') {
      try {
        this.context = new AudioContext();
      } catch {
        return undefined;
      }
    }
    return this.context;
  }
}
