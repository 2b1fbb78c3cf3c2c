// dumpcap (Debian's tshark package pulls it in) capturing the loopback around the traffic of a
// test: started with a capture filter, ready once it names its file, stopped before the file is read.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';

/** The suite's `skip` when dumpcap cannot capture on `iface` (neither root nor the capture capabilities); never in CI. */
export function skipWithoutLoopbackCapture(iface = 'lo'): string | false {
  const r = spawnSync('dumpcap', ['-i', iface, '-L'], { encoding: 'utf8' });
  if (r.status === 0) return false;
  return process.env.CI ? false : `dumpcap cannot capture on ${iface} here (${(r.stderr ?? '').trim().split('\n')[0]}); skipped outside CI`;
}

export interface DumpcapOptions {
  /** The file dumpcap writes (pcapng). */
  readonly file: string;
  /** A capture filter (libpcap syntax) that keeps other suites' packets out. */
  readonly filter: string;
  /** `-i lo` unless given (e.g. `['-i', 'lo', '-F', 'pcap']`). */
  readonly interfaceArgs?: readonly string[];
}

export class Dumpcap {
  private constructor(
    readonly file: string,
    private readonly child: ChildProcess,
  ) {}

  /** Starts dumpcap; resolves once it names its file ("File: …"): the capture is open, every packet after that is in. */
  static async start(opts: DumpcapOptions): Promise<Dumpcap> {
    const child = spawn('dumpcap', [...(opts.interfaceArgs ?? ['-i', 'lo']), '-f', opts.filter, '-w', opts.file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('File: ')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`dumpcap exited (${code}): ${stderr}`)));
      child.on('error', reject);
    });
    return new Dumpcap(opts.file, child);
  }

  /**
   * libpcap hands packets to dumpcap in blocks, after a timeout: a marker datagram is sent to `port`
   * (which the filter must let through) until dumpcap's file holds it (bounded), so that everything
   * before it is in too.
   */
  async flush(port: number, host = '127.0.0.1'): Promise<void> {
    const marker = Buffer.from('end of capture');
    const payload = [...marker].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const sender = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    let written = false;
    try {
      for (let attempt = 0; attempt < 100 && !written; attempt++) {
        sender.send(marker, port, host);
        await new Promise((r) => setTimeout(r, 100));
        const shown = spawnSync('tshark', ['-r', this.file, '-Y', `udp.dstport == ${port} && udp.payload == ${payload}`], { encoding: 'utf8' });
        written = shown.stdout.trim() !== '';
      }
    } finally {
      sender.close();
    }
    assert.ok(written, 'dumpcap never wrote the last datagram');
  }

  /** Stops dumpcap (SIGTERM) and waits until it has closed its file; nothing when it has ended already. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    await exited;
  }
}
