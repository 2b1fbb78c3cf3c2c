import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PARLEY_CLI, REPO_ROOT } from './parley.js';

/** A subscriber of the test domain: `user@domain` with a clear password (the store keeps HA1). */
export interface Subscriber {
  readonly user: string;
  readonly password: string;
  /** Default 127.0.0.1, the domain the suites' sipp scenarios use ([remote_ip]). */
  readonly domain?: string;
}

/** Add subscribers to a data directory with `parley user import FILE.csv` (all or nothing). */
export async function importSubscribers(dataDir: string, subscribers: readonly Subscriber[]): Promise<void> {
  const csv = join(dataDir, 'subscribers.csv');
  await writeFile(csv, subscribers.map((s) => `${s.user}@${s.domain ?? '127.0.0.1'},${s.password}\n`).join(''), { mode: 0o600 });
  const args = [PARLEY_CLI, 'user', 'import', csv, '--data-dir', dataDir];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const watchdog = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 30_000);
  const code = await new Promise<number | null>((res, rej) => {
    child.once('error', rej);
    child.once('close', (c) => res(c));
  });
  clearTimeout(watchdog);
  await rm(csv, { force: true });
  if (code !== 0) throw new Error(`parley ${args.slice(1).join(' ')} exited with ${code}:\n${out}`);
}

/**
 * A sipp injection file (-inf) with one line per credential: field0 = the user name, field1 =
 * sipp's `[authentication username=... password=...]` keyword (sipp 3.6 cannot put [field0]
 * inside [authentication], so the whole keyword is a field). Read in order (SEQUENTIAL): call
 * N uses line N.
 */
export async function writeInjectionFile(path: string, credentials: ReadonlyArray<{ readonly user: string; readonly password: string }>): Promise<string> {
  for (const c of credentials) {
    if (/[;\s\]\[]/.test(c.user + c.password)) throw new Error(`"${c.user}" / "${c.password}": no ; [ ] or space in an injection field`);
  }
  const lines = credentials.map((c) => `${c.user};[authentication username=${c.user} password=${c.password}];`);
  await writeFile(path, ['SEQUENTIAL', ...lines, ''].join('\n'));
  return path;
}
