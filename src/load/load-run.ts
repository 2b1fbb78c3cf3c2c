import type { Clock, TimerHandle } from '../lib/clock.js';
import type { DigestAlgorithm } from '../sip/digest/hash.js';
import type { ClientConnection } from './client-connection.js';
import { LoadReport, type LoadReportSettings, type StopReason } from './load-report.js';
import { RateScheduler } from './rate-scheduler.js';
import { RegisteringUserAgent, type RegistrationDelegate } from './registering-user-agent.js';

/** What a run does (validated: see load-options.ts). */
export interface LoadRunSettings extends LoadReportSettings {
  /** Address-of-record user of user i (0-based). */
  readonly userName: (index: number) => string;
  readonly domain: string;
  readonly password: string | undefined;
  readonly algorithm?: DigestAlgorithm;
  /** `ping` (WebSocket Ping), `crlf` (RFC 5626 §4.4.1), or `none`. */
  readonly keepalive: 'ping' | 'crlf' | 'none';
  readonly keepaliveIntervalSeconds: number;
  /** Final response wait, ms. */
  readonly transactionTimeoutMs: number;
  /** Most users connecting or registering at once during the ramp. */
  readonly maxPending: number;
  /** Remove the bindings (Expires: 0) before closing. */
  readonly unregister: boolean;
  readonly userAgent: string;
}

/** How the run reaches the world (tests pass their own). */
export interface LoadRunDeps {
  /** Open user i's flow; rejects with an Error whose message says why, in words. */
  readonly connect: (index: number) => Promise<ClientConnection>;
  readonly clock: Clock;
  /** For the spread of refreshes; default Math.random. */
  readonly random?: () => number;
}

/** Where a run is, for a progress bar. */
export interface LoadProgress {
  readonly phase: 'ramp' | 'hold' | 'unregister' | 'closing' | 'done';
  readonly users: number;
  /** Users whose ramp is over: registered, or failed to connect or register. */
  readonly done: number;
  readonly registered: number;
  readonly failed: number;
  /** Registered with an open connection now. */
  readonly held: number;
  /** Seconds of hold left (hold phase). */
  readonly holdLeft: number;
}

/**
 * The housekeeping tick: timeouts, refreshes and keepalives of every user are handled here, once
 * a second, instead of by a timer per user.
 */
const TICK_MS = 1000;
/** RFC 5626 §4.4.1: "If a pong is not received within 10 seconds, then the flow has failed." */
const PONG_TIMEOUT_MS = 10_000;

interface User {
  readonly index: number;
  ua: RegisteringUserAgent | undefined;
  /** The ramp of this user is over (its place under maxPending was given back). */
  rampDone: boolean;
}

/**
 * A load run: connect and register `users` users at `rate` per second (at most `maxPending` at
 * once), keep them registered and alive for `holdSeconds` (refreshes before expiry, keepalives),
 * optionally unregister them, close everything, and report. Bounded: in count (users), in
 * concurrency (maxPending), and in time (durationSeconds caps the whole run; stop() ends it
 * early). Every phase still closes its connections and produces the report.
 */
export class LoadRun implements RegistrationDelegate {
  readonly report: LoadReport;
  private readonly users: User[] = [];
  private readonly byUa = new Map<RegisteringUserAgent, User>();
  private phase: LoadProgress['phase'] = 'ramp';
  private scheduler: RateScheduler | undefined;
  private tickTimer: TimerHandle | undefined;
  private tickNo = 0;
  private startedAt = 0;
  private holdEndsAt = 0;
  private stopReason: StopReason | undefined;
  private wake: (() => void) | undefined;
  private rampLeft: number;
  private unregisterLeft = 0;
  private failedCount = 0;

  constructor(
    readonly settings: LoadRunSettings,
    private readonly deps: LoadRunDeps,
  ) {
    this.report = new LoadReport(settings);
    this.rampLeft = settings.users;
  }

  /** Where the run is. */
  progress(): LoadProgress {
    return {
      phase: this.phase,
      users: this.settings.users,
      done: this.settings.users - this.rampLeft,
      registered: this.report.registrations.ok,
      failed: this.failedCount,
      held: this.countHeld(),
      holdLeft: this.phase === 'hold' ? Math.max(0, (this.holdEndsAt - this.deps.clock.now()) / 1000) : 0,
    };
  }

  /** End the run early (Ctrl-C, or the duration cap): the current phase stops, then clean-up. */
  stop(reason: StopReason): void {
    if (this.stopReason !== undefined) return;
    this.stopReason = reason;
    this.scheduler?.stop();
    this.wake?.();
  }

  async run(): Promise<LoadReport> {
    const clock = this.deps.clock;
    this.startedAt = clock.now();
    const cap = clock.setTimeout(() => this.stop('duration cap reached'), this.settings.durationSeconds * 1000);
    this.scheduleTick();
    try {
      await this.ramp();
      if (this.stopReason === undefined && this.settings.holdSeconds > 0) await this.hold();
      if (this.settings.unregister && this.stopReason !== 'interrupted') await this.unregisterAll();
    } finally {
      clock.clearTimeout(cap);
      if (this.tickTimer !== undefined) clock.clearTimeout(this.tickTimer);
      this.tickTimer = undefined;
      this.phase = 'closing';
      for (const u of this.users) u.ua?.close();
      this.phase = 'done';
      this.report.stoppedBy = this.stopReason ?? 'completed';
      this.report.elapsedSeconds = (clock.now() - this.startedAt) / 1000;
    }
    return this.report;
  }

  // ---- phases ---------------------------------------------------------------------------------

  private async ramp(): Promise<void> {
    this.phase = 'ramp';
    const s = this.settings;
    this.scheduler = new RateScheduler({ rate: s.rate, total: s.users, maxInFlight: s.maxPending, clock: this.deps.clock }, (i) => this.startUser(i));
    this.scheduler.run();
    await this.until(() => this.rampLeft === 0);
    this.scheduler.stop();
  }

  private async hold(): Promise<void> {
    this.phase = 'hold';
    const clock = this.deps.clock;
    const held = this.countHeld();
    this.report.hold.heldAtStart = held;
    this.report.hold.minHeld = held;
    const start = clock.now();
    this.holdEndsAt = start + this.settings.holdSeconds * 1000;
    const timer = clock.setTimeout(() => this.wake?.(), this.settings.holdSeconds * 1000);
    await this.until(() => clock.now() >= this.holdEndsAt);
    clock.clearTimeout(timer);
    this.report.hold.seconds = (clock.now() - start) / 1000;
    this.report.hold.heldAtEnd = this.countHeld();
  }

  private async unregisterAll(): Promise<void> {
    this.phase = 'unregister';
    const targets = this.users.filter((u) => u.ua?.state === 'registered');
    this.unregisterLeft = targets.length;
    if (targets.length === 0) return;
    const clock = this.deps.clock;
    // at the ramp's rate; given up one transaction timeout after the last one should have gone
    const scheduler = new RateScheduler({ rate: this.settings.rate, total: targets.length, maxInFlight: this.settings.maxPending, clock }, (i) =>
      targets[i]!.ua!.unregister(),
    );
    this.scheduler = scheduler;
    const deadline = clock.now() + (targets.length / this.settings.rate) * 1000 + this.settings.transactionTimeoutMs + TICK_MS;
    scheduler.run();
    // only an interruption ends it early: the duration cap still lets the clean-up run
    await this.until(() => this.unregisterLeft === 0 || clock.now() >= deadline, true);
    scheduler.stop();
  }

  /** Wait until `done()` is true or the run is stopped; re-checked whenever something wakes the run. */
  private until(done: () => boolean, cleanup = false): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        const stopped = cleanup ? this.stopReason === 'interrupted' : this.stopReason !== undefined;
        if (done() || stopped) {
          this.wake = undefined;
          resolve();
        }
      };
      this.wake = check;
      check();
    });
  }

  // ---- users ----------------------------------------------------------------------------------

  private startUser(index: number): void {
    const user: User = { index, ua: undefined, rampDone: false };
    this.users.push(user);
    const clock = this.deps.clock;
    const t0 = clock.now();
    this.report.connections.attempted++;
    this.deps.connect(index).then(
      (connection) => {
        this.report.connections.opened++;
        this.report.connections.latency.recordMs(clock.now() - t0);
        if (this.stopReason !== undefined) {
          connection.close();
          this.endRamp(user);
          return;
        }
        const s = this.settings;
        const ua = new RegisteringUserAgent(
          {
            user: s.userName(index),
            domain: s.domain,
            password: s.password,
            ...(s.algorithm ? { algorithm: s.algorithm } : {}),
            expires: s.expires,
            transactionTimeoutMs: s.transactionTimeoutMs,
            userAgent: s.userAgent,
          },
          connection,
          clock,
          this.deps.random,
        );
        ua.delegate = this;
        user.ua = ua;
        this.byUa.set(ua, user);
        this.report.registrations.attempted++;
        this.report.registrations.firstSentAt ??= clock.now();
        ua.register();
      },
      (e: unknown) => {
        this.report.connections.failed.add(e instanceof Error ? e.message : String(e));
        this.failedCount++;
        this.endRamp(user);
      },
    );
  }

  /** The user's ramp is over: give its place back to the scheduler, wake the run. */
  private endRamp(user: User): void {
    if (user.rampDone) return;
    user.rampDone = true;
    this.rampLeft--;
    this.scheduler?.done();
    this.wake?.();
  }

  /** Users registered over an open flow now (a refreshing user counts: its binding is live). */
  private countHeld(): number {
    let n = 0;
    for (const u of this.users) if (u.ua?.state === 'registered') n++;
    return n;
  }

  // ---- RegistrationDelegate -------------------------------------------------------------------

  onRegistered(ua: RegisteringUserAgent, refresh: boolean, latencyMs: number): void {
    if (refresh) {
      this.report.refreshes.ok++;
      this.report.refreshes.latency.recordMs(latencyMs);
      return;
    }
    this.report.registrations.ok++;
    this.report.registrations.latency.recordMs(latencyMs);
    this.report.registrations.lastOkAt = this.deps.clock.now();
    const user = this.byUa.get(ua);
    if (user) this.endRamp(user);
  }

  onRegistrationFailed(ua: RegisteringUserAgent, refresh: boolean, reason: string): void {
    if (refresh) {
      this.report.refreshes.failed.add(reason);
      this.noteHeld();
      return;
    }
    this.report.registrations.failed.add(reason);
    this.failedCount++;
    const user = this.byUa.get(ua);
    if (user) this.endRamp(user);
  }

  onChallenged(_ua: RegisteringUserAgent, stale: boolean): void {
    this.report.registrations.challenges++;
    if (stale) this.report.registrations.staleChallenges++;
  }

  onUnregistered(_ua: RegisteringUserAgent, ok: boolean, reason: string): void {
    if (ok) this.report.unregistrations.ok++;
    else this.report.unregistrations.failed.add(reason);
    this.unregisterLeft--;
    this.scheduler?.done();
    this.wake?.();
  }

  onConnectionLost(_ua: RegisteringUserAgent, reason: string): void {
    this.report.connections.lost.add(reason);
    this.noteHeld();
  }

  onPong(): void {
    this.report.keepalive.pongs++;
  }

  onRetransmission(): void {
    this.report.registrations.retransmissions++;
  }

  onUnexpected(_ua: RegisteringUserAgent, what: string): void {
    this.report.unexpected.add(what);
  }

  private noteHeld(): void {
    if (this.phase === 'hold') {
      const held = this.countHeld();
      if (this.report.hold.minHeld === undefined || held < this.report.hold.minHeld) this.report.hold.minHeld = held;
    }
  }

  // ---- housekeeping -----------------------------------------------------------------------------

  private scheduleTick(): void {
    this.tickTimer = this.deps.clock.setTimeout(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    const now = this.deps.clock.now();
    const s = this.settings;
    const interval = Math.max(1, Math.round(s.keepaliveIntervalSeconds));
    this.tickNo++;
    for (const u of this.users) {
      const ua = u.ua;
      if (ua === undefined) continue;
      ua.tick(now);
      if (s.keepalive === 'none' || ua.state !== 'registered') continue;
      if (ua.pingOutstandingSince !== undefined) {
        if (now - ua.pingOutstandingSince >= PONG_TIMEOUT_MS) {
          // RFC 5626 §4.4.1: the flow has failed; this load user stops here
          this.report.keepalive.timeouts++;
          ua.pingOutstandingSince = undefined;
          ua.onClose('keepalive unanswered within 10 s');
          ua.close();
        }
        continue;
      }
      // each user pings once per interval, users spread evenly over it
      if ((this.tickNo + u.index) % interval === 0 && ua.sendKeepalive(s.keepalive)) this.report.keepalive.sent++;
    }
    this.noteHeld();
    this.scheduleTick();
    this.wake?.();
  }
}
