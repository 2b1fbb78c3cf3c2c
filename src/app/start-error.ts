import { CertificateFileError, ListenError } from '../sip-server/transport/index.js';
import type { ConfigLocator } from './config.js';

/**
 * A configuration that validated but cannot be used when the server starts: a listener whose
 * address does not resolve or whose port is in use, a certificate or key that cannot be read or
 * is not PEM, a data directory that cannot be made. The message names where the value came
 * from, as schema errors do (`parley.yaml:7: sip.tls.cert: cannot read /x/cert.pem (ENOENT)`), or
 * the command-line option (`--listen udp:127.0.0.1:5060: port 5060 (udp 127.0.0.1) is in use`).
 */
export class StartError extends Error {
  constructor(
    /** Where the value came from: `file:line: key`, `file: key (default)`, a key, or an option. */
    readonly where: string,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${where}: ${detail}`, options);
    this.name = 'StartError';
  }
}

/**
 * `e` as a StartError when it names a listener or a certificate file (`listeners`: whose list the
 * ListenError's index is in: `sip.listen` or `http.listen`); other errors are returned unchanged.
 */
export function locateStartError(e: unknown, listeners: 'sip' | 'http', locate: ConfigLocator): unknown {
  if (e instanceof ListenError) {
    return new StartError(locate([listeners, 'listen', e.index, ...(e.field === undefined ? [] : [e.field])]), e.detail, { cause: e });
  }
  if (e instanceof CertificateFileError) return new StartError(locate(['sip', 'tls', e.which]), e.detail, { cause: e });
  return e;
}
