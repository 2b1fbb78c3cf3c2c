import { connect, type Socket } from 'node:net';

/**
 * One attempt to open a stream to a client's control socket (TCP `{ host, port }` or a Unix
 * socket path): the socket once connected, undefined when refused (not listening yet).
 */
export function tryConnect(to: string | { readonly host: string; readonly port: number }): Promise<Socket | undefined> {
  return new Promise<Socket | undefined>((resolve) => {
    const s = typeof to === 'string' ? connect(to) : connect({ host: to.host, port: to.port });
    s.once('connect', () => resolve(s));
    s.once('error', () => {
      s.destroy();
      resolve(undefined);
    });
  });
}
