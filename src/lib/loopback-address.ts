/**
 * Whether a socket's address (`socket.localAddress`, `socket.remoteAddress`, `request.ip`, as
 * Node gives them: no brackets, IPv4 clients of a dual-stack listener as `::ffff:a.b.c.d`) is a
 * loopback address: 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6. Undefined (a closed
 * socket) is not. No regular expression: it runs on every API request.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return v4.startsWith('127.') || a === '::1';
}
