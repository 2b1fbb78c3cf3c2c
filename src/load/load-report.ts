import { LatencyHistogram } from './latency-histogram.js';

/** Distinct reasons kept per counter; further ones count under "other reasons". */
const MAX_REASONS = 40;

/** Counts by reason (a status line or a few words), bounded in size. */
export class ReasonCounts {
  private readonly counts = new Map<string, number>();

  add(reason: string): void {
    const key = this.counts.has(reason) || this.counts.size < MAX_REASONS ? reason : 'other reasons';
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  get total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }

  /** Most frequent first. */
  entries(): Array<[string, number]> {
    return [...this.counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.entries());
  }
}

/** Percentiles of one latency histogram, in milliseconds (null when there was no sample). */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  readonly mean: number | null;
}

export function summarize(h: LatencyHistogram): LatencySummary {
  const ms = (v: number | undefined): number | null => (v === undefined ? null : Math.round(v) / 1000);
  return {
    count: h.count,
    p50: ms(h.percentileMicros(50)),
    p90: ms(h.percentileMicros(90)),
    p99: ms(h.percentileMicros(99)),
    max: ms(h.maxMicros),
    mean: ms(h.meanMicros),
  };
}

/** What the run was asked to do (echoed in the report). */
export interface LoadReportSettings {
  readonly target: string;
  readonly transport: string;
  readonly users: number;
  readonly rate: number;
  readonly holdSeconds: number;
  readonly durationSeconds: number;
  readonly expires: number;
  readonly keepalive: string;
}

/** Why the run ended. */
export type StopReason = 'completed' | 'duration cap reached' | 'interrupted';

/**
 * Everything a load run counts, filled in as it goes (the progress bar reads it live), and its
 * two renderings: text for people, JSON for scripts (`--json`).
 */
export class LoadReport {
  readonly connections = {
    attempted: 0,
    opened: 0,
    failed: new ReasonCounts(),
    /** Closed by the server or failed after they were open. */
    lost: new ReasonCounts(),
    latency: new LatencyHistogram(),
  };
  readonly registrations = {
    attempted: 0,
    ok: 0,
    failed: new ReasonCounts(),
    challenges: 0,
    staleChallenges: 0,
    /** Requests sent again over UDP (Timer E). */
    retransmissions: 0,
    /** First REGISTER to the 2xx, challenge round trip included. */
    latency: new LatencyHistogram(),
    /** Clock ms of the first REGISTER and of the last initial 2xx. */
    firstSentAt: undefined as number | undefined,
    lastOkAt: undefined as number | undefined,
  };
  readonly refreshes = { ok: 0, failed: new ReasonCounts(), latency: new LatencyHistogram() };
  readonly unregistrations = { ok: 0, failed: new ReasonCounts() };
  readonly keepalive = { sent: 0, pongs: 0, timeouts: 0 };
  readonly hold = { seconds: 0, heldAtStart: 0, heldAtEnd: 0, minHeld: undefined as number | undefined };
  readonly unexpected = new ReasonCounts();
  stoppedBy: StopReason = 'completed';
  elapsedSeconds = 0;

  readonly settings: LoadReportSettings;

  constructor(settings: LoadReportSettings) {
    // only these fields: the run's settings also hold the password, which a report never shows
    const { target, transport, users, rate, holdSeconds, durationSeconds, expires, keepalive } = settings;
    this.settings = { target, transport, users, rate, holdSeconds, durationSeconds, expires, keepalive };
  }

  /** Initial registrations per second: successes over the time from the first REGISTER to the last 2xx. */
  get registrationRate(): number | undefined {
    const r = this.registrations;
    if (r.firstSentAt === undefined || r.lastOkAt === undefined || r.ok === 0) return undefined;
    const seconds = (r.lastOkAt - r.firstSentAt) / 1000;
    return seconds > 0 ? r.ok / seconds : undefined;
  }

  /** Seconds from the first REGISTER to the last successful initial registration. */
  get rampSeconds(): number | undefined {
    const r = this.registrations;
    return r.firstSentAt === undefined || r.lastOkAt === undefined ? undefined : (r.lastOkAt - r.firstSentAt) / 1000;
  }

  /** True when every user connected, registered, and (with a hold) stayed registered to the end. */
  get success(): boolean {
    const all = this.settings.users;
    return (
      this.stoppedBy !== 'interrupted' &&
      this.connections.failed.total === 0 &&
      this.registrations.ok === all &&
      this.refreshes.failed.total === 0 &&
      this.connections.lost.total === 0 &&
      this.keepalive.timeouts === 0 &&
      (this.settings.holdSeconds === 0 || this.hold.heldAtEnd === all)
    );
  }

  /** The errors of the run in words, most frequent first. */
  errors(): string[] {
    const out: string[] = [];
    const add = (what: string, counts: ReasonCounts): void => {
      for (const [reason, n] of counts.entries()) out.push(`${n} × ${what}: ${reason}`);
    };
    add('connection failed', this.connections.failed);
    add('registration failed', this.registrations.failed);
    add('re-registration failed', this.refreshes.failed);
    add('connection lost', this.connections.lost);
    add('unregistration failed', this.unregistrations.failed);
    add('unexpected message', this.unexpected);
    if (this.stoppedBy !== 'completed') out.push(`run stopped early: ${this.stoppedBy}`);
    return out;
  }

  toJSON(): Record<string, unknown> {
    const rate = this.registrationRate;
    const ramp = this.rampSeconds;
    return {
      settings: this.settings,
      success: this.success,
      stoppedBy: this.stoppedBy,
      elapsedSeconds: round(this.elapsedSeconds, 3),
      connections: {
        attempted: this.connections.attempted,
        opened: this.connections.opened,
        failed: this.connections.failed.total,
        failures: this.connections.failed.toJSON(),
        lost: this.connections.lost.total,
        lostReasons: this.connections.lost.toJSON(),
        latencyMs: summarize(this.connections.latency),
      },
      registrations: {
        attempted: this.registrations.attempted,
        ok: this.registrations.ok,
        failed: this.registrations.failed.total,
        failures: this.registrations.failed.toJSON(),
        challenges: this.registrations.challenges,
        staleChallenges: this.registrations.staleChallenges,
        retransmissions: this.registrations.retransmissions,
        perSecond: rate === undefined ? null : round(rate, 1),
        rampSeconds: ramp === undefined ? null : round(ramp, 3),
        latencyMs: summarize(this.registrations.latency),
      },
      refreshes: {
        ok: this.refreshes.ok,
        failed: this.refreshes.failed.total,
        failures: this.refreshes.failed.toJSON(),
        latencyMs: summarize(this.refreshes.latency),
      },
      unregistrations: { ok: this.unregistrations.ok, failed: this.unregistrations.failed.total, failures: this.unregistrations.failed.toJSON() },
      hold: { ...this.hold, minHeld: this.hold.minHeld ?? null },
      keepalive: this.keepalive,
      unexpected: this.unexpected.toJSON(),
      errors: this.errors(),
    };
  }

  /** The report for people: a few aligned lines. */
  toText(): string {
    const s = this.settings;
    const c = this.connections;
    const r = this.registrations;
    const rate = this.registrationRate;
    const lines: string[] = [];
    lines.push(
      `parley load: ${s.users} users → ${s.target} (${s.transport.toUpperCase()}), ${fmt(s.rate)}/s offered, hold ${s.holdSeconds} s, ` +
        `expires ${s.expires} s, keepalive ${s.keepalive}; ${this.stoppedBy} after ${fmt(this.elapsedSeconds, 1)} s`,
    );
    lines.push(`connections    opened ${c.opened} of ${c.attempted}, failed ${c.failed.total}, lost ${c.lost.total}`);
    lines.push(`  connect      ${latencyLine(c.latency)}`);
    lines.push(
      `registrations  ok ${r.ok} of ${s.users}, failed ${r.failed.total}` +
        (rate === undefined ? '' : `, ${fmt(rate, 1)}/s over ${fmt(this.rampSeconds ?? 0, 2)} s`) +
        ` (${r.challenges} challenges answered, ${r.staleChallenges} stale${r.retransmissions > 0 ? `, ${r.retransmissions} retransmissions` : ''})`,
    );
    lines.push(`  latency      ${latencyLine(r.latency)}`);
    if (this.refreshes.ok + this.refreshes.failed.total > 0 || s.holdSeconds > 0) {
      lines.push(`re-register    ok ${this.refreshes.ok}, failed ${this.refreshes.failed.total}${this.refreshes.latency.count > 0 ? `; ${latencyLine(this.refreshes.latency)}` : ''}`);
    }
    if (s.holdSeconds > 0) {
      lines.push(
        `held           ${this.hold.heldAtEnd} registered and connected after ${fmt(this.hold.seconds, 1)} s of hold` +
          ` (${this.hold.heldAtStart} at its start, at least ${this.hold.minHeld ?? 0} throughout)`,
      );
    }
    if (this.keepalive.sent > 0) lines.push(`keepalive      ${this.keepalive.sent} sent, ${this.keepalive.pongs} answered, ${this.keepalive.timeouts} timed out`);
    if (this.unregistrations.ok + this.unregistrations.failed.total > 0) {
      lines.push(`unregistered   ${this.unregistrations.ok}, failed ${this.unregistrations.failed.total}`);
    }
    const errors = this.errors();
    lines.push(errors.length === 0 ? 'errors         none' : `errors         ${errors[0]}`);
    for (const e of errors.slice(1, 12)) lines.push(`               ${e}`);
    if (errors.length > 12) lines.push(`               … and ${errors.length - 12} more (--json lists all)`);
    return lines.join('\n') + '\n';
  }
}

function latencyLine(h: LatencyHistogram): string {
  if (h.count === 0) return 'no samples';
  const v = summarize(h);
  return `p50 ${ms(v.p50)}  p90 ${ms(v.p90)}  p99 ${ms(v.p99)}  max ${ms(v.max)}  (n=${v.count})`;
}

function ms(v: number | null): string {
  if (v === null) return '-';
  return v < 10 ? `${v.toFixed(2)} ms` : v < 100 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`;
}

function fmt(v: number, digits = 0): string {
  return v.toFixed(digits);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
