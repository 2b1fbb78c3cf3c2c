import { execFileSync } from 'node:child_process';
import { PARLEY_CLI } from './parley.js';

/**
 * A new API token of `scope` for the server of `dataDir`, as an operator makes one:
 * `parley token create --data-dir DIR --name NAME --scope SCOPE --json` prints
 * `{"id": …, "name": …, "scope": …, "createdAt": …, "token": "…"}`; the token is its `token`.
 */
export function apiToken(dataDir: string, scope: 'read' | 'write' | 'admin', name = `test-${scope}`): string {
  const out = execFileSync(process.execPath, [PARLEY_CLI, 'token', 'create', '--data-dir', dataDir, '--name', name, '--scope', scope, '--json'], { encoding: 'utf8', timeout: 30_000 });
  const parsed = JSON.parse(out) as { token?: unknown };
  if (typeof parsed.token !== 'string') throw new Error(`parley token create printed no token: ${out}`);
  return parsed.token;
}
