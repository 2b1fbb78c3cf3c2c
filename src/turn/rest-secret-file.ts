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
 * The file is made as every secret file is (lib/secret-file.ts): written under a temporary name,
 * then linked to its own, so that two processes starting at once share one secret. A file that is there but holds no secret is an error (ERR_TURN_SECRET), not replaced:
 * a new secret would void every credential handed out.
 */
import { loadOrCreateSecretFile, type SecretFileKind } from '../lib/secret-file.js';

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

const REST_SECRET_KIND: SecretFileKind = {
  file: REST_SECRET_FILE,
  code: 'ERR_TURN_SECRET',
  what: 'a TURN REST secret',
  lost: 'TURN credentials handed out before then stop working',
};

/** Read `<dataDir>/turn-rest.secret`, or make it. Throws ParleyError ERR_TURN_SECRET. */
export function loadOrCreateRestSecret(dataDir: string): RestSecretFile {
  const f = loadOrCreateSecretFile(dataDir, REST_SECRET_KIND);
  return { secret: f.hex, path: f.path, created: f.created, readableByOthers: f.readableByOthers };
}
