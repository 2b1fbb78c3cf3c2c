// `parley load`, the tool under test, run from the built CLI as a user runs it: a child process
// bounded by a watchdog, its JSON report parsed.
import { spawnBounded } from './child.js';
import { PARLEY_CLI, REPO_ROOT } from './parley.js';

/** What one run printed and how it ended. */
export interface LoadToolRun {
  readonly code: number | null;
  /** The --json report (undefined when it printed none). */
  readonly report: LoadToolReport | undefined;
  readonly stdout: string;
  readonly stderr: string;
  /** The command line and output, for failure messages. */
  describe(): string;
}

/** The parts of the JSON report the suites read. */
export interface LoadToolReport {
  readonly success: boolean;
  readonly stoppedBy: string;
  readonly connections: { attempted: number; opened: number; failed: number; failures: Record<string, number>; lost: number; lostReasons: Record<string, number> };
  readonly registrations: {
    attempted: number;
    ok: number;
    failed: number;
    failures: Record<string, number>;
    challenges: number;
    staleChallenges: number;
    perSecond: number | null;
    latencyMs: { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null };
  };
  readonly refreshes: { ok: number; failed: number; failures: Record<string, number> };
  readonly unregistrations: { ok: number; failed: number };
  readonly hold: { seconds: number; heldAtStart: number; heldAtEnd: number; minHeld: number | null };
  readonly keepalive: { sent: number; pongs: number; timeouts: number };
  readonly unexpected: Record<string, number>;
  readonly errors: string[];
}

/** Run `parley load ARGS --json`, killed after `timeoutMs`. */
export async function runLoadTool(args: readonly string[], timeoutMs: number): Promise<LoadToolRun> {
  const argv = [PARLEY_CLI, 'load', ...args, '--json'];
  const r = await spawnBounded(process.execPath, argv, { cwd: REPO_ROOT, timeoutMs }).done;
  let report: LoadToolReport | undefined;
  try {
    report = JSON.parse(r.stdout) as LoadToolReport;
  } catch {
    report = undefined;
  }
  return {
    code: r.code,
    report,
    stdout: r.stdout,
    stderr: r.stderr,
    describe: () => `parley ${argv.slice(1).join(' ')}\nexit ${r.code ?? r.signal}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-2000)}`,
  };
}
