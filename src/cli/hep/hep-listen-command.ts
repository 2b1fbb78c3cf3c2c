// `parley hep listen`: a small HEP collector. HEPv3 over UDP and TCP in, a live line per message
// out (NDJSON with --json), every message stored in a SQLite file grouped by Call-ID (read back
// by `parley hep export`). Stops cleanly on SIGINT and SIGTERM: listeners closed, the store's
// last batch written.
import { Command } from 'commander';
import { CaptureStore, HepCollector, messageLabel, type CapturedMessage, type DropReason, type HepCollectorStats, type ListenAddress } from '../../collector/index.js';
import { HEP_DEFAULT_DB, HEP_DEFAULT_HOST, HEP_PORT, parseCount, parseHostPort } from './hep-options.js';

interface ListenOptions {
  udp?: ListenAddress;
  tcp?: ListenAddress;
  db: string;
  authKey?: string;
  json?: boolean;
  quiet?: boolean;
  maxConnections: number;
  idleTimeout: number;
}

/** Drops reported one by one on stderr before only the count goes on (a flood of junk must not flood the terminal). */
const DROPS_REPORTED = 100;

export function hepListenCommand(): Command {
  return new Command('listen')
    .description(`Collect HEPv3 (UDP and TCP; by default both on ${HEP_DEFAULT_HOST}:${HEP_PORT}): a line per message, all stored in SQLite grouped by Call-ID.`)
    .option('--udp <host:port>', `listen for HEP over UDP (e.g. 0.0.0.0:${HEP_PORT}, [::1]:${HEP_PORT})`, parseHostPort)
    .option('--tcp <host:port>', 'listen for HEP over TCP', parseHostPort)
    .option('--db <file>', 'the capture database (SQLite; made when missing, appended to when there)', HEP_DEFAULT_DB)
    .option('--auth-key <key>', 'keep only packets whose auth key chunk (0x000e) is this')
    .option('--json', 'one JSON object per message (NDJSON) instead of the line')
    .option('--quiet', 'no line per message (store only)')
    .option('--max-connections <n>', 'TCP connections at once (one more is closed)', parseCount('--max-connections', 1, 100_000), 64)
    .option('--idle-timeout <seconds>', 'close a TCP connection silent this long (0: never)', parseCount('--idle-timeout', 0, 86_400), 300)
    .addHelpText(
      'after',
      `\nWithout --udp and --tcp it listens on both, ${HEP_DEFAULT_HOST}:${HEP_PORT}; with one of them, only there.\n` +
        'Packets that do not decode, lack the auth key or a payload are counted and skipped (reported on stderr).\n\n' +
        `Examples:\n  parley hep listen\n  parley hep listen --udp 0.0.0.0:${HEP_PORT} --db /var/tmp/calls.db --auth-key s3cret\n  parley hep listen --json | jq .callId`,
    )
    .action(async (o: ListenOptions) => {
      process.exitCode = await runListen(o);
    });
}

async function runListen(o: ListenOptions): Promise<number> {
  const both = o.udp === undefined && o.tcp === undefined;
  const udp = both ? { host: HEP_DEFAULT_HOST, port: HEP_PORT } : o.udp;
  const tcp = both ? { host: HEP_DEFAULT_HOST, port: HEP_PORT } : o.tcp;
  let store: CaptureStore;
  try {
    store = CaptureStore.open(o.db, { onError: (e) => process.stderr.write(`parley hep listen: ${e.message}\n`) });
  } catch (e) {
    process.stderr.write(`parley hep listen: ${(e as Error).message}\n`);
    return 1;
  }
  let drops = 0;
  // a reader that goes away (`| head`) ends the lines, not the collector
  let printing = o.quiet !== true;
  process.stdout.on('error', () => {
    printing = false;
  });
  const print = (line: string): void => {
    if (printing) process.stdout.write(`${line}\n`);
  };
  const collector = new HepCollector({
    ...(udp ? { udp } : {}),
    ...(tcp ? { tcp } : {}),
    ...(o.authKey !== undefined ? { authKey: o.authKey } : {}),
    maxConnections: o.maxConnections,
    idleTimeoutMs: o.idleTimeout * 1000,
    store,
    onMessage: o.json === true ? (m) => print(JSON.stringify(messageJson(m))) : (m) => print(messageLine(m)),
    onDrop: (reason: DropReason, detail: string, from: string) => {
      drops++;
      if (drops <= DROPS_REPORTED) process.stderr.write(`parley hep listen: dropped (${reason}) from ${from}: ${detail}\n`);
      if (drops === DROPS_REPORTED) process.stderr.write('parley hep listen: further drops are counted, not shown\n');
    },
  });
  try {
    await collector.start();
  } catch (e) {
    store.close();
    const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
    process.stderr.write(`parley hep listen: cannot listen${err.address ? ` on ${err.address}:${err.port}` : ''}: ${err.code ?? err.message}\n`);
    return 1;
  }
  const a = collector.addresses();
  const where = [a.udp ? `udp ${hostPort(a.udp.host, a.udp.port)}` : '', a.tcp ? `tcp ${hostPort(a.tcp.host, a.tcp.port)}` : ''].filter((s) => s !== '').join(', ');
  process.stderr.write(`parley hep listen: listening on ${where}, storing in ${o.db} (Ctrl-C to stop)\n`);

  const signal = await new Promise<NodeJS.Signals>((res) => {
    process.once('SIGINT', () => res('SIGINT'));
    process.once('SIGTERM', () => res('SIGTERM'));
  });
  // a second signal during the stop ends the process at once
  const hurry = (): void => process.exit(1);
  process.once('SIGINT', hurry);
  process.once('SIGTERM', hurry);
  let status = 0;
  try {
    await collector.stop();
    store.close();
  } catch (e) {
    process.stderr.write(`parley hep listen: ${(e as Error).message}\n`);
    status = 1;
  }
  process.stderr.write(`parley hep listen: ${signal}: stopped; ${statsLine(collector.stats, store.stats.stored)}\n`);
  process.off('SIGINT', hurry);
  process.off('SIGTERM', hurry);
  return status;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function isoMicro(timeUs: number): string {
  const iso = new Date(Math.floor(timeUs / 1000)).toISOString();
  return `${iso.slice(0, -1)}${String(timeUs % 1000).padStart(3, '0')}Z`;
}

/** The live line: time (UTC, µs), source → destination, transport, method or status, Call-ID. */
export function messageLine(m: CapturedMessage): string {
  return `${isoMicro(m.timeUs)}  ${hostPort(m.srcAddr, m.srcPort)} → ${hostPort(m.dstAddr, m.dstPort)}  ${m.transport.toUpperCase()}  ${messageLabel(m)}  ${m.callId}`;
}

/** The NDJSON object of a message (no payload: `parley hep export` writes those). */
export function messageJson(m: CapturedMessage): Record<string, unknown> {
  return {
    time: isoMicro(m.timeUs), timeUs: m.timeUs, src: m.srcAddr, srcPort: m.srcPort, dst: m.dstAddr, dstPort: m.dstPort, transport: m.transport,
    protocolType: m.protocolType, method: m.method, status: m.status, reason: m.reason, callId: m.callId, cseq: m.cseq, from: m.fromUri,
    fromTag: m.fromTag, to: m.toUri, toTag: m.toTag, captureAgentId: m.captureAgentId, nodeName: m.nodeName, size: m.payload.length,
  };
}

function statsLine(s: HepCollectorStats, stored: number): string {
  const dropped = s.badPacket + s.tooLarge + s.authFailed + s.noPayload + s.storeError;
  return `${s.packets} packets (${s.datagrams} datagrams, ${s.tcpConnections} TCP connections), ${s.kept} kept, ${stored} stored, ${dropped} dropped ` +
    `(bad ${s.badPacket}, too large ${s.tooLarge}, auth ${s.authFailed}, no payload ${s.noPayload}, store ${s.storeError}), ${s.framingError} TCP framing errors, ` +
    `${s.tcpRejected} connections refused, ${s.tcpIdleClosed} closed idle`;
}
