// `parley hep export`: what `parley hep listen` stored, as a pcap file tshark and Wireshark open
// (raw IP frames: UDP datagrams, TCP segments with running sequence numbers per flow).
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { CaptureStore, writeCapturePcap } from '../../collector/index.js';
import { parseTimeArg } from './hep-options.js';

interface ExportOptions {
  db: string;
  pcap: string;
  callId?: string;
  since?: number;
  until?: number;
  json?: boolean;
}

/** Bytes gathered before a write to the file. */
const WRITE_CHUNK = 1 << 16;

export function hepExportCommand(): Command {
  return new Command('export')
    .description('Write the messages of a capture database (parley hep listen --db) to a pcap file: all, one call, or a time range.')
    .requiredOption('--db <file>', 'the capture database')
    .requiredOption('--pcap <file>', 'the pcap file to write (replaced when there)')
    .option('--call-id <id>', 'only this call')
    .option('--since <time>', 'only messages captured at or after this time (ISO 8601, UTC when no zone is given, or seconds since 1970)', parseTimeArg)
    .option('--until <time>', 'only messages captured at or before this time', parseTimeArg)
    .option('--json', 'print the counts as JSON')
    .addHelpText('after', '\nExamples:\n  parley hep export --db hep-capture.db --pcap all.pcap\n  parley hep export --db hep-capture.db --pcap call.pcap --call-id a84b4c76e66710@pc33 --since 2026-12-07T10:00:00Z')
    .action((o: ExportOptions) => {
      process.exitCode = runExport(o);
    });
}

function runExport(o: ExportOptions): number {
  if (!existsSync(o.db)) {
    process.stderr.write(`parley hep export: ${o.db}: no such file\n`);
    return 1;
  }
  let store: CaptureStore;
  try {
    store = CaptureStore.open(o.db);
  } catch (e) {
    process.stderr.write(`parley hep export: ${(e as Error).message}\n`);
    return 1;
  }
  let fd: number | undefined;
  try {
    fd = openSync(o.pcap, 'w', 0o600);
    const out = fd;
    let buf = new Uint8Array(WRITE_CHUNK);
    let used = 0;
    const drain = (): void => {
      let at = 0;
      while (at < used) at += writeSync(out, buf, at, used - at);
      used = 0;
    };
    const range = { ...(o.since !== undefined ? { sinceUs: o.since } : {}), ...(o.until !== undefined ? { untilUs: o.until } : {}) };
    const counts = writeCapturePcap(store.iterateMessages(range, o.callId), (b) => {
      if (used + b.length > buf.length) drain();
      if (b.length > buf.length) buf = new Uint8Array(b.length);
      buf.set(b, used);
      used += b.length;
    });
    drain();
    if (o.json === true) console.log(JSON.stringify({ pcap: o.pcap, ...counts }));
    else console.log(`${o.pcap}: ${counts.written} message${counts.written === 1 ? "" : "s"} written${counts.skipped > 0 ? `, ${counts.skipped} skipped (not UDP or TCP, no address, or not SIP/RTCP)` : ''}`);
    return 0;
  } catch (e) {
    process.stderr.write(`parley hep export: ${(e as Error).message}\n`);
    return 1;
  } finally {
    if (fd !== undefined) closeSync(fd);
    store.close();
  }
}
