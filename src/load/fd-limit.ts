import { readFileSync } from 'node:fs';

/** The open-files limits of this process (RLIMIT_NOFILE), or undefined where /proc has none. */
export interface FdLimit {
  readonly soft: number;
  readonly hard: number;
}

/** Descriptors a run needs beyond one per connection: stdio, the event loop, DNS, the bar. */
export const FD_MARGIN = 64;

/**
 * Read "Max open files" of /proc/self/limits (Linux). Node has no getrlimit, and `ulimit -n`
 * in a child shell would only show the child's. "unlimited" reads as Infinity.
 */
export function readFdLimit(text?: string): FdLimit | undefined {
  let limits = text;
  if (limits === undefined) {
    try {
      limits = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  const num = (v: string): number => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

/**
 * Undefined when `connections` fit under the soft limit (with FD_MARGIN); else what to do, in
 * words, naming the numbers.
 */
export function fdLimitProblem(connections: number, limit: FdLimit | undefined): string | undefined {
  if (limit === undefined) return undefined;
  const needed = connections + FD_MARGIN;
  if (needed <= limit.soft) return undefined;
  const raise =
    needed <= limit.hard
      ? `raise it in this shell first: ulimit -n ${Math.min(limit.hard, Math.max(needed, 1024))}`
      : `the hard limit is ${limit.hard}: raise it (as root: /etc/security/limits.conf "nofile", or LimitNOFILE= for a systemd unit, or prlimit), then ulimit -n ${needed}`;
  return `${connections} connections need about ${needed} open files, but this process may open only ${limit.soft} (ulimit -n); ${raise}`;
}
