/** What the system error codes a load run meets mean, in words an operator can act on. */
const SOCKET_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing listens there?)',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'connection timed out',
  EPIPE: 'connection closed by the server while sending',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'no local port left (EADDRNOTAVAIL): the ephemeral ports of this address are used up (net.ipv4.ip_local_port_range)',
  EADDRINUSE: 'local address in use',
  EMFILE: 'too many open files (EMFILE): raise the limit with ulimit -n',
  ENFILE: 'the system file table is full (ENFILE)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (try again later)',
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS: the server's certificate is self-signed (--insecure accepts it)",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS: the server's certificate chain has a self-signed certificate (--insecure accepts it)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS: the server's certificate cannot be verified (--insecure accepts it)",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS: the issuer of the server's certificate is unknown (--insecure accepts it)",
  CERT_HAS_EXPIRED: "TLS: the server's certificate has expired (--insecure accepts it)",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS: the server's certificate does not name the target host (--insecure accepts it)",
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS: the server did not answer with TLS (a plain ws:// listener?)',
  EPROTO: 'TLS protocol error (a plain ws:// listener?)',
};

/**
 * One line saying why a socket or WebSocket failed: a known system or TLS error code in words,
 * else the error's own message. The same failure always gives the same text, so a report can
 * count failures by it.
 */
export function describeSocketError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { code?: string };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code !== undefined && SOCKET_ERRORS[code] !== undefined) return SOCKET_ERRORS[code];
  const message = err instanceof Error ? err.message : String(e);
  if (/Opening handshake has timed out/i.test(message)) return 'WebSocket handshake timed out';
  if (/Server sent no subprotocol/i.test(message)) return 'the server accepted the WebSocket without the "sip" subprotocol';
  if (/Server sent an invalid subprotocol/i.test(message)) return 'the server chose another subprotocol than "sip"';
  if (/wrong version number/i.test(message)) return SOCKET_ERRORS.ERR_SSL_WRONG_VERSION_NUMBER!;
  // drop per-connection details (ports, addresses) so that equal failures count together
  return (code !== undefined ? `${code}: ` : '') + message.replace(/\b\d{1,3}(\.\d{1,3}){3}:\d+\b/g, 'ADDR').replace(/\s+/g, ' ').trim();
}
