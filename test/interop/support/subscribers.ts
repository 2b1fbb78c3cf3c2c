// The test domain's subscribers: the CSV `parley user import` reads (support/parley.ts imports it
// before Parley starts) and the sipp injection file that carries their credentials (support/sipp.ts).
import { writeFile } from 'node:fs/promises';

/** A user name and clear password, as a sipp phone sends them. */
export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** A subscriber of the test domain: `user@domain` with a clear password (the store keeps HA1). */
export interface Subscriber extends Credentials {
  /** Default 127.0.0.1, the domain the suites' sipp scenarios use ([remote_ip]). */
  readonly domain?: string;
}

/** The lines of a `parley user import` file: `user@domain,password`. */
export function subscribersCsv(subscribers: readonly Subscriber[]): string {
  return subscribers.map((s) => `${s.user}@${s.domain ?? '127.0.0.1'},${s.password}\n`).join('');
}

/**
 * A sipp injection file (-inf) with one line per credential: field0 = the user name, field1 =
 * sipp's `[authentication username=... password=...]` keyword (sipp 3.6 cannot put [field0]
 * inside [authentication], so the whole keyword is a field). Read in order (SEQUENTIAL): call
 * N uses line N.
 */
export async function writeInjectionFile(path: string, credentials: readonly Credentials[]): Promise<string> {
  for (const c of credentials) {
    if (/[;\s\]\[]/.test(c.user + c.password)) throw new Error(`"${c.user}" / "${c.password}": no ; [ ] or space in an injection field`);
  }
  const lines = credentials.map((c) => `${c.user};[authentication username=${c.user} password=${c.password}];`);
  await writeFile(path, ['SEQUENTIAL', ...lines, ''].join('\n'));
  return path;
}
