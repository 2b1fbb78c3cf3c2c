import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import type { OpRequest } from './control-ops.js';

/** The control socket of a server, in its data directory. */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'parley.sock');
}

/** Longest unix socket path Linux accepts (sun_path is 108 bytes with its NUL). */
const MAX_SOCKET_PATH = 107;

/** A command and its answer, one JSON line each way. */
export type ControlRequest =
  | { readonly cmd: 'reload' }
  | { readonly cmd: 'status' }
  /** `parley user` changed a subscriber (`username`@`domain`; neither: many) in the database. */
  | { readonly cmd: 'subscriber-changed'; readonly username?: string; readonly domain?: string }
  /** An operation of src/api/operations.ts from the allowlist (control-ops.ts). */
  | OpRequest;

/**
 * The longest request line: the old commands are short; an operation may carry a routing script
 * (script-ops.ts takes up to 1 MiB of text, which JSON may escape to more).
 */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
export type ControlHandler = (request: ControlRequest) => Promise<Record<string, unknown>>;

/**
 * The server side of `parley reload` (and `parley status`): a unix socket in the data directory,
 * readable by the server's user only (mode 0600). One JSON line in, one JSON line out. Works
 * without the REST API and reports the outcome (unlike SIGHUP, which only logs it).
 */
export class ControlSocket {
  private constructor(
    private readonly server: Server,
    readonly path: string,
  ) {}

  /**
   * Listen at `<dataDir>/parley.sock`. Resolves undefined (and logs why) when it cannot: the path
   * is too long for a unix socket, or another server of the same data directory answers there.
   */
  static async open(dataDir: string, handle: ControlHandler, log: Logger): Promise<ControlSocket | undefined> {
    const path = controlSocketPath(dataDir);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      log.warn({ path }, 'control socket path too long for a unix socket: `parley reload` will not reach this server (SIGHUP still reloads)');
      return undefined;
    }
    if (existsSync(path)) {
      if (await answers(path)) {
        log.error({ path }, 'another Parley answers on this data directory\'s control socket: `parley reload` reaches that one');
        return undefined;
      }
      unlinkSync(path); // left by a server that did not stop cleanly
    }
    const server = createServer((socket) => serve(socket, handle, log));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(path, 0o600);
    server.unref();
    return new ControlSocket(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }
}

function serve(socket: Socket, handle: ControlHandler, log: Logger): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  socket.on('error', () => {});
  socket.on('data', (chunk: Buffer) => {
    if (done) return;
    const nl = chunk.indexOf(0x0a);
    const take = nl < 0 ? chunk : chunk.subarray(0, nl);
    length += take.length;
    if (length > MAX_REQUEST_BYTES) {
      done = true;
      socket.end(JSON.stringify({ ok: false, status: 413, error: `control request longer than ${MAX_REQUEST_BYTES} bytes` }) + '\n');
      return;
    }
    chunks.push(take);
    if (nl < 0) return;
    done = true;
    const line = Buffer.concat(chunks).toString('utf8');
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
      if (request.cmd !== 'reload' && request.cmd !== 'status' && request.cmd !== 'subscriber-changed' && request.cmd !== 'op') {
        throw new Error(`unknown command ${JSON.stringify((request as { cmd?: unknown }).cmd)}`);
      }
      if (request.cmd === 'subscriber-changed' && (!optionalString(request.username) || !optionalString(request.domain))) {
        throw new Error('subscriber-changed: username and domain are strings');
      }
      if (request.cmd === 'op' && (typeof request.part !== 'string' || typeof request.method !== 'string' || (request.args !== undefined && !Array.isArray(request.args)))) {
        throw new Error('op: part and method are strings, args a list');
      }
    } catch (e) {
      socket.end(JSON.stringify({ ok: false, error: { message: `bad control request: ${(e as Error).message}` } }) + '\n');
      return;
    }
    handle(request).then(
      (answer) => socket.end(JSON.stringify(answer) + '\n'),
      (e: unknown) => {
        log.error({ err: (e as Error).message, cmd: request.cmd }, 'control command failed');
        socket.end(JSON.stringify({ ok: false, error: { message: (e as Error).message } }) + '\n');
      },
    );
  });
}

function optionalString(v: unknown): boolean {
  return v === undefined || (typeof v === 'string' && v.length <= 512);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (alive: boolean): void => {
      s.destroy();
      resolve(alive);
    };
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
    s.setTimeout(1000, () => done(false));
  });
}

/**
 * The client side: send one command to the server of `dataDir` and resolve its answer. Rejects
 * with a message for people when no server listens there.
 */
export function sendControl(dataDir: string, request: ControlRequest, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const path = controlSocketPath(dataDir);
  return new Promise((resolve, reject) => {
    const s = connect(path);
    let text = '';
    s.setEncoding('utf8');
    s.setTimeout(timeoutMs, () => {
      s.destroy();
      reject(new Error(`no answer from the server at ${path} within ${timeoutMs / 1000} s`));
    });
    s.once('connect', () => s.write(JSON.stringify(request) + '\n'));
    s.on('data', (d: string) => (text += d));
    s.once('end', () => {
      try {
        resolve(JSON.parse(text) as Record<string, unknown>);
      } catch {
        reject(new Error(`unreadable answer from ${path}: ${text.slice(0, 200)}`));
      }
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new NoServerError(dataDir, path) : new Error(`${path}: ${e.message}`));
    });
  });
}

/** No server listens on the data directory's control socket. */
export class NoServerError extends Error {
  constructor(
    readonly dataDir: string,
    readonly path: string,
  ) {
    super(`no Parley is running with data directory ${dataDir} (no control socket at ${path})`);
    this.name = 'NoServerError';
  }
}
