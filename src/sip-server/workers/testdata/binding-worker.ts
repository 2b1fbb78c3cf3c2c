/**
 * A stand-in SIP worker for the pool's writer tests: its ForwardingBindingStore writes one binding
 * for each message it is handed (the body names the user) and reports on the BroadcastChannel
 * `binding-worker` when the write settles (`committed` or `failed`, with the user). A new writer
 * channel ('writer' control message) goes to the store, as in app/sip-worker.ts.
 */
import { BroadcastChannel, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ForwardingBindingStore } from '../forwarding-binding-store.js';
import type { ToWorker } from '../worker-messages.js';

const port = parentPort!;
const report = new BroadcastChannel('binding-worker');
const data = workerData as { writer?: MessagePort };
const store = new ForwardingBindingStore({ loadAll: async () => [] }, data.writer);

port.on('message', (m: ToWorker[] | { k: string; port?: MessagePort }) => {
  if (!Array.isArray(m)) {
    if (m.k === 'writer') store.setWriter(m.port);
    if (m.k === 'stop') {
      store.close();
      report.close();
      port.close();
    }
    return;
  }
  for (const item of m) {
    if (item.k !== 'in') continue;
    const text = new TextDecoder().decode(item.b);
    const user = text.slice(text.indexOf('\r\n\r\n') + 4).trim();
    store
      .save({
        aor: `${user}@example.com`, contact: `sip:${user}@192.0.2.1`, expires: Date.now() + 3_600_000, q: 1, callId: user, cseq: 1, path: [],
        received: { transport: 'udp', address: '192.0.2.1', port: 5060 }, node: 'test', updatedAt: Date.now(),
      })
      .then(
        () => report.postMessage({ k: 'committed', user }),
        (e: Error) => report.postMessage({ k: 'failed', user, error: e.message }),
      );
  }
});
port.postMessage({ k: 'ready', restoredBindings: 0, script: 1 });
