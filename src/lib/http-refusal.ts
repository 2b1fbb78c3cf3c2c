import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Answer an HTTP request on a raw socket (an `upgrade` that is refused) with a status and a short
 * plain-text reason, then close the socket. Used before a WebSocket handshake completes, when no
 * `ServerResponse` exists. Safe on a socket the peer already closed.
 */
export function refuseUpgrade(socket: Duplex, status: number, detail?: string, headers: Readonly<Record<string, string>> = {}): void {
  if (socket.destroyed) return;
  socket.on('error', () => {}); // a reset while writing the refusal is not our problem
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = `${detail ?? reason}\n`;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
  // a peer that never reads must not keep the socket: destroy it if the end does not finish soon
  setTimeout(() => socket.destroy(), 2000).unref();
}
