/**
 * A secret Parley makes for itself and keeps in its data directory: 32 random bytes written as
 * 64 lower-case hex digits and a newline, mode 0600. Made on first use, atomically: written under
 * a temporary name, then linked to its own name (created in place, exclusively, on a file system
 * without hard links), so that two processes starting at once end up with the same secret. A file
 * that is there but does not hold 64 hex digits is an error, never replaced: a new secret would
 * void what the old one signed (Record-Route entries of dialogs, TURN credentials handed out).
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParleyError, type ErrorCode } from './errors.js';

/** Which secret: its file name, its error code, and the words of a bad file's error. */
export interface SecretFileKind {
  /** The file's name in the data directory. */
  readonly file: string;
  readonly code: ErrorCode;
  /** What the file holds, after "not ": e.g. "a Record-Route key". */
  readonly what: string;
  /** What removing the file costs, e.g. "dialogs in progress then lose their route". */
  readonly lost: string;
}

export interface SecretFile {
  /** 64 lower-case hex digits. */
  readonly hex: string;
  readonly path: string;
  /** Made by this call (the first start with this data directory). */
  readonly created: boolean;
  /** The file can be read by others than its owner (mode beyond 0600): worth a warning. */
  readonly readableByOthers: boolean;
}

/** Read the secret of `kind` in `dataDir`, or make it. Throws ParleyError `kind.code`. */
export function loadOrCreateSecretFile(dataDir: string, kind: SecretFileKind): SecretFile {
  const path = join(dataDir, kind.file);
  const existing = readSecret(path, kind);
  if (existing !== undefined) return { ...existing, path, created: false };
  const hex = randomBytes(32).toString('hex');
  const fail = (cause: unknown): ParleyError => new ParleyError(kind.code, `${path}: ${(cause as Error).message}`, { cause });
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (e) {
    throw fail(e);
  }
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, `${hex}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    throw fail(e);
  }
  try {
    linkSync(temporary, path);
    return { hex, path, created: true, readableByOthers: false };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      // a file system without hard links: create it in place, exclusively
      try {
        writeFileSync(path, `${hex}\n`, { mode: 0o600, flag: 'wx' });
        return { hex, path, created: true, readableByOthers: false };
      } catch (e2) {
        if ((e2 as NodeJS.ErrnoException).code !== 'EEXIST') throw fail(e2);
      }
    } else if (code !== 'EEXIST') throw fail(e);
    // another process made it first: use its secret
    const theirs = readSecret(path, kind);
    if (theirs === undefined) throw new ParleyError(kind.code, `${path}: vanished while being created`);
    return { ...theirs, path, created: false };
  } finally {
    unlinkSync(temporary);
  }
}

/** The secret in `path`; undefined when there is no such file. */
function readSecret(path: string, kind: SecretFileKind): { hex: string; readableByOthers: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ParleyError(kind.code, `${path}: ${(e as Error).message}`, { cause: e });
  }
  const hex = text.trim().toLowerCase();
  if (!isHex64(hex)) throw new ParleyError(kind.code, `${path}: not ${kind.what} (64 hex digits expected); restore it, or remove it to make a new one (${kind.lost})`);
  return { hex, readableByOthers: (statSync(path).mode & 0o077) !== 0 };
}

function isHex64(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
