/**
 * The REST credentials secret Parley makes for itself when `turn.restSecrets` is empty, kept in
 * `<dataDir>/turn-rest.secret` (32 random bytes as 64 hex digits, mode 0600). The web server signs
 * the phone page's TURN credentials with it and the TURN thread checks them with it
 * (rest-credentials.ts), so the browser phone gets a relay with no configuration at all; it is
 * kept so that credentials handed out before a restart stay good after it.
 *
 * The 64 hex digits are the secret as text (the HMAC key is their ASCII bytes), as coturn's
 * `static-auth-secret` is a string: an operator who moves to a coturn can copy the file's line
 * into its configuration and the credentials the phone gets keep working.
 *
 * The file is made as the Record-Route key file is (sip-server/proxy/route-key.ts): written under
 * a temporary name, then linked to its own, so that two processes starting at once share one
 * secret. A file that is there but holds no secret is an error (ERR_TURN_SECRET), not replaced:
 * a new secret would void every credential handed out.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParleyError } from '../lib/errors.js';

/** The file of the secret, in the data directory. */
export const REST_SECRET_FILE = 'turn-rest.secret';

export interface RestSecretFile {
  /** 64 lower-case hex digits. */
  readonly secret: string;
  readonly path: string;
  /** Made by this call (the first start with TURN and without `turn.restSecrets`). */
  readonly created: boolean;
  /** The file can be read by others than its owner (mode beyond 0600): worth a warning. */
  readonly readableByOthers: boolean;
}

/** Read `<dataDir>/turn-rest.secret`, or make it. Throws ParleyError ERR_TURN_SECRET. */
export function loadOrCreateRestSecret(dataDir: string): RestSecretFile {
  const path = join(dataDir, REST_SECRET_FILE);
  const existing = readSecret(path);
  if (existing !== undefined) return { ...existing, path, created: false };
  const secret = randomBytes(32).toString('hex');
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw secretError(path, e);
  }
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw secretError(path, e);
  }
  try {
    linkSync(temporary, path);
    return { secret, path, created: true, readableByOthers: false };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      // a file system without hard links: create it in place, exclusively
      try {
        writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
        return { secret, path, created: true, readableByOthers: false };
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw secretError(path, e2);
      }
    } else if (code !== 'EEXIST') throw secretError(path, e);
    // another process made it first: use its secret
    const theirs = readSecret(path);
    if (theirs === undefined) throw new ParleyError('ERR_TURN_SECRET', `${path}: vanished while being created`);
    return { ...theirs, path, created: false };
  } finally {
    unlinkSync(temporary);
  }
}

function readSecret(path: string): { secret: string; readableByOthers: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw secretError(path, e);
  }
  const secret = text.trim().toLowerCase();
  if (!isHex64(secret)) {
    throw new ParleyError('ERR_TURN_SECRET', `${path}: not a TURN REST secret (64 hex digits expected); restore it, or remove it to make a new one (TURN credentials handed out before then stop working)`);
  }
  return { secret, readableByOthers: (statSync(path).mode & 0o077) !== 0 };
}

function isHex64(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function secretError(path: string, cause: unknown): ParleyError {
  return new ParleyError('ERR_TURN_SECRET', `${path}: ${(cause as Error).message}`, { cause });
}
