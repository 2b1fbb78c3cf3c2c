// rtpengine (Debian's rtpengine-daemon) in userspace, the reference media relay of the media
// suites: started in the foreground on loopback with its ng control socket and a port range from
// the test file's pool, under a watchdog, ready once it answers an ng `ping`, and stopped by its PID.
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { signalPid, spawnBounded, type BoundedChild } from './child.js';

/** Why rtpengine cannot run here, or undefined. */
export function rtpengineMissing(): string | undefined {
  const v = spawnSync('rtpengine', ['--version'], { encoding: 'utf8', timeout: 5000 });
  if (v.error !== undefined) return 'rtpengine is not installed (Debian: apt-get install rtpengine-daemon)';
  return undefined;
}

export interface RtpengineOptions {
  /** Port of its ng control socket on 127.0.0.1. */
  readonly ngPort: number;
  /** Its media ports (--port-min, --port-max). */
  readonly ports: { readonly min: number; readonly max: number };
  /** The watchdog: SIGKILL after this long (default 300 s). */
  readonly lifetimeMs?: number;
}

/** A running rtpengine. */
export class Rtpengine {
  private constructor(
    private readonly child: BoundedChild,
    readonly ngPort: number,
    readonly ports: { readonly min: number; readonly max: number },
  ) {}

  /** What it has logged (stderr), for failure messages. */
  output = '';

  outputTail(chars = 3000): string {
    return this.output.slice(-chars);
  }

  /** `udp:127.0.0.1:<ng port>`, as Kamailio's rtpengine_sock names it. */
  get ngSocket(): string {
    return `udp:127.0.0.1:${this.ngPort}`;
  }

  static async start(o: RtpengineOptions): Promise<Rtpengine> {
    const missing = rtpengineMissing();
    if (missing !== undefined) throw new Error(missing);
    // userspace forwarding (no kernel table), no config file, logs to stderr; a deleted call's
    // ports are freed at once (--delete-delay=0) so that a test can count them
    const args = [
      '--config-file=none', '--foreground', '--table=-1', '--log-stderr', '--log-level=6',
      '--interface=127.0.0.1', `--listen-ng=127.0.0.1:${o.ngPort}`,
      `--port-min=${o.ports.min}`, `--port-max=${o.ports.max}`, '--delete-delay=0', '--timeout=60',
    ];
    const child = spawnBounded('rtpengine', args, { cwd: '/', timeoutMs: o.lifetimeMs ?? 300_000, onOutput: (text) => (r.output += text) });
    const r = new Rtpengine(child, o.ngPort, o.ports);
    for (let i = 0; i < 50; i++) {
      if (!child.running()) break;
      if (await ngPing(o.ngPort, 200)) return r;
    }
    child.kill();
    const exit = await child.done.catch((e: Error) => ({ stderr: e.message, stdout: '' }));
    throw new Error(`rtpengine did not answer an ng ping on 127.0.0.1:${o.ngPort}: rtpengine ${args.join(' ')}\n${exit.stdout}${exit.stderr.slice(-3000)}`);
  }

  /** UDP sockets bound in its media range, from /proc/net/udp (every process of this network namespace). */
  async socketsOpen(): Promise<number> {
    return udpSocketsInRange(this.ports.min, this.ports.max);
  }

  /** SIGTERM to its PID, SIGKILL after 5 s. */
  async stop(): Promise<void> {
    if (this.child.running()) {
      signalPid(this.child.pid!, 'SIGTERM');
      const t = setTimeout(() => this.child.kill(), 5000);
      await this.child.done.catch(() => undefined);
      clearTimeout(t);
    }
  }
}

/** Sends one ng `ping` (`<cookie> d7:command4:pinge`) to 127.0.0.1:port; true on a `pong` within timeoutMs. */
export function ngPing(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const done = (v: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on('message', (m) => done(m.toString('latin1').includes('pong')));
    socket.on('error', () => done(false));
    socket.send(Buffer.from('ping1 d7:command4:pinge', 'latin1'), port, '127.0.0.1');
  });
}

/** UDP sockets bound on 127.0.0.1 to a port in [min, max], from /proc/net/udp. */
export async function udpSocketsInRange(min: number, max: number): Promise<number> {
  const table = await readFile('/proc/net/udp', 'utf8');
  let n = 0;
  for (const line of table.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1];
    if (local === undefined) continue;
    const port = parseInt(local.split(':')[1] ?? '', 16);
    if (port >= min && port <= max) n++;
  }
  return n;
}
