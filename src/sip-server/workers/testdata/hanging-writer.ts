/**
 * A stand-in binding writer for the pool's tests: it answers every write at once (as committed;
 * it stores nothing), but while the file `<dataDir>/hang` exists it answers nothing (a writer
 * that took the writes and dies before committing them). It reports each write it receives on
 * the BroadcastChannel `hanging-writer`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BroadcastChannel, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ToWriter, WriterControl } from '../worker-messages.js';

const control = parentPort!;
const report = new BroadcastChannel('hanging-writer');
const { dataDir } = workerData as { dataDir: string };

control.on('message', (m: WriterControl) => {
  if (m.k === 'stop') {
    report.close();
    control.close();
    return;
  }
  const port: MessagePort = m.port;
  port.on('message', (w: ToWriter) => {
    const hang = existsSync(join(dataDir, 'hang'));
    report.postMessage({ k: 'got', n: w.n, hang });
    if (!hang) port.postMessage({ k: 'done', n: w.n });
  });
});
control.postMessage({ k: 'ready' });
