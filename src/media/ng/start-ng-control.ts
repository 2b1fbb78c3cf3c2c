/**
 * Starting the ng control server (`media.control.listen`): the address is checked, bound, and
 * served. Commands from the socket drive the media plane as the proxy's do, so anyone who can
 * send to it can open relays through Parley: by default only a loopback address is accepted
 * (rtpengine's own advice is a private interface), and another one needs
 * `media.control.allowRemote: true`.
 */
import { createSocket } from 'node:dgram';
import type { MediaControl } from '../../lib/media-control.js';
import { ipv4Bytes, ipv6Bytes } from '../../lib/ip-address.js';
import { err, ok, type Result } from '../../lib/result.js';
import { NgControlServer, type NgControlServerOptions } from './ng-server.js';

export interface NgListenAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** `media.control.listen` cannot be used: not an address and port, not loopback without allowRemote, or the bind failed. */
export class NgControlStartError extends Error {
  constructor(
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`media.control.listen: ${detail}`, options);
    this.name = 'NgControlStartError';
  }
}

/**
 * Reads `IPv4:port` or `[IPv6]:port` (an IP address, not a name: the control socket is bound
 * once, to one address). A non-loopback address is refused unless `allowRemote`.
 */
export function parseNgListen(listen: string, allowRemote: boolean): Result<NgListenAddress, string> {
  let host: string;
  let portText: string;
  if (listen.startsWith('[')) {
    const close = listen.indexOf(']');
    if (close < 0 || listen[close + 1] !== ':') return err(`"${listen}" is not [IPv6]:port`);
    host = listen.slice(1, close);
    portText = listen.slice(close + 2);
  } else {
    const colon = listen.lastIndexOf(':');
    if (colon < 0) return err(`"${listen}" has no port (address:port, e.g. 127.0.0.1:2223)`);
    host = listen.slice(0, colon);
    portText = listen.slice(colon + 1);
    if (host.includes(':')) return err(`"${listen}": an IPv6 address goes in brackets ([::1]:2223)`);
  }
  let port = 0;
  for (const c of portText) {
    if (c < '0' || c > '9' || portText.length > 5) return err(`"${portText}" is not a port`);
    port = port * 10 + (c.charCodeAt(0) - 0x30);
  }
  if (portText === '' || port > 65535) return err(`"${portText}" is not a port`);
  const v4 = ipv4Bytes(host);
  const v6 = v4 === undefined ? ipv6Bytes(host) : undefined;
  if (v4 === undefined && v6 === undefined) return err(`"${host}" is not an IP address`);
  const loopback = v4 !== undefined ? v4[0] === 127 : isIpv6Loopback(v6!);
  if (!loopback && !allowRemote) {
    return err(`${host} is not a loopback address: whoever can send to the control socket can open media relays; set media.control.allowRemote: true to listen there`);
  }
  return ok({ address: host, port, family: v4 !== undefined ? 4 : 6 });
}

/** ::1, or an IPv4-mapped loopback (::ffff:127.x.y.z). */
function isIpv6Loopback(b: Uint8Array): boolean {
  let zeros = 0;
  while (zeros < 10 && b[zeros] === 0) zeros++;
  if (zeros === 10 && b[10] === 0xff && b[11] === 0xff) return b[12] === 127;
  for (let i = 0; i < 15; i++) if (b[i] !== 0) return false;
  return b[15] === 1;
}

export interface StartNgControlOptions extends NgControlServerOptions {
  /** `media.control.listen`. */
  readonly listen: string;
  /** `media.control.allowRemote`. */
  readonly allowRemote: boolean;
}

/**
 * Binds the control socket and serves ng commands on it with `control`. Rejects with
 * NgControlStartError for an unusable address or a failed bind (a port in use).
 */
export async function startNgControl(control: MediaControl, options: StartNgControlOptions): Promise<NgControlServer> {
  const parsed = parseNgListen(options.listen, options.allowRemote);
  if (!parsed.ok) throw new NgControlStartError(parsed.error);
  const { address, port, family } = parsed.value;
  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      socket.close();
      reject(new NgControlStartError(`cannot listen on ${options.listen} (${e.code ?? e.message})`, { cause: e }));
    };
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      resolve();
    });
  });
  socket.on('error', (e) => options.log?.warn({ err: e.message }, 'ng: control socket error'));
  return new NgControlServer(socket, control, options);
}
