import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.js';
import { silentLogger } from '../lib/logger.js';
import type { TraceReportJson, TraceSink } from './trace-recorder.js';

/**
 * The directory of a call's traces: the Call-ID made safe as one file name (percent-encoded, a
 * leading dot escaped, a long one cut and suffixed with a hash), so that no Call-ID can name a
 * path outside the traces directory.
 */
export function traceDirName(callId: string): string {
  let name = encodeURIComponent(callId).replace(/^\./, '%2E');
  if (name.length > 180) name = `${name.slice(0, 160)}~${createHash('sha256').update(callId).digest('hex').slice(0, 16)}`;
  return name;
}

/**
 * Reports as files: `<dir>/<call>/<seq>-<METHOD>.json`, one per traced request, written
 * asynchronously. The sequence of a call goes on after a restart (it counts the files there).
 */
export class TraceFileSink implements TraceSink {
  private readonly seqs = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly log: Logger = silentLogger,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  nextSeq(callId: string): number {
    let n = this.seqs.get(callId);
    if (n === undefined) {
      try {
        n = readdirSync(join(this.dir, traceDirName(callId))).filter((f) => f.endsWith('.json')).length;
      } catch {
        n = 0;
      }
      // a bounded memory of calls: the oldest goes first
      if (this.seqs.size >= 10_000) this.seqs.delete(this.seqs.keys().next().value!);
    }
    this.seqs.set(callId, ++n);
    return n;
  }

  write(report: TraceReportJson): void {
    const dir = join(this.dir, traceDirName(report.callId));
    const file = join(dir, `${String(report.seq).padStart(4, '0')}-${report.method.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
    mkdir(dir, { recursive: true })
      .then(() => writeFile(file, JSON.stringify(report, null, 2) + '\n'))
      .catch((e: unknown) => this.log.warn({ err: (e as Error).message, file }, 'trace could not be written'));
  }
}

/** One traced call on disk. */
export interface TracedCall {
  readonly callId: string;
  readonly requests: number;
  /** The newest report's modification time. */
  readonly modified: Date;
}

/**
 * The traced calls under `dir`, newest first, without blocking the thread (the API's
 * `GET /api/v1/traces` runs in the main thread); none when there is no such directory.
 */
export async function listTraces(dir: string): Promise<TracedCall[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const calls: TracedCall[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let files: string[];
    try {
      files = (await readdir(path)).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    if (files.length === 0) continue;
    const times = await Promise.all(files.map((f) => stat(join(path, f)).then((s) => s.mtimeMs, () => 0)));
    let callId = name;
    try {
      callId = (JSON.parse(await readFile(join(path, files.sort()[0]!), 'utf8')) as TraceReportJson).callId;
    } catch {
      // keep the directory name
    }
    calls.push({ callId, requests: files.length, modified: new Date(Math.max(...times)) });
  }
  return calls.sort((a, b) => b.modified.getTime() - a.modified.getTime());
}

/** Every report of a call, in order, without blocking the thread; empty when the call has none. */
export async function readTraces(dir: string, callId: string): Promise<TraceReportJson[]> {
  const path = join(dir, traceDirName(callId));
  let files: string[];
  try {
    files = (await readdir(path)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  const texts = await Promise.all(files.map((f) => readFile(join(path, f), 'utf8')));
  return texts.map((t) => JSON.parse(t) as TraceReportJson);
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'undefined');
const firstLine = (m: string): string => m.slice(0, m.indexOf('\r\n') >= 0 ? m.indexOf('\r\n') : m.length);
const ms = (t: number): string => `+${t.toFixed(1).padStart(7)} ms`;

/** A report as a timeline for people: the request, each step, each message. */
export function formatTrace(r: TraceReportJson): string {
  const lines = [
    `#${r.seq} ${firstLine(r.received.message)}  from ${r.received.peer}  ${r.at}  (script v${r.script.version} ${r.script.source}, core ${r.core}, ${r.durationMs} ms)`,
  ];
  const events: Array<{ t: number; order: number; text: string }> = [];
  let order = 0;
  for (const s of r.steps) {
    let text = `${s.handler} ${s.action}`;
    if (s.action !== 'start' && s.action !== 'end' && s.action !== 'throw') text += `(${(s.args ?? []).map(show).join(', ')})`;
    if (s.result !== undefined) text += ` → ${show(s.result)}`;
    if (s.vars !== undefined) text += `  vars ${JSON.stringify(s.vars)}`;
    events.push({ t: s.t, order: order++, text: `  ${text}` });
  }
  for (const m of r.sent) events.push({ t: m.t, order: order++, text: `  >> ${firstLine(m.message)}  to ${m.peer}` });
  for (const m of r.responses) events.push({ t: m.t, order: order++, text: `  << ${firstLine(m.message)}  from ${m.peer}` });
  events.sort((a, b) => a.t - b.t || a.order - b.order);
  for (const e of events) lines.push(`${ms(e.t)}${e.text}`);
  return lines.join('\n');
}
