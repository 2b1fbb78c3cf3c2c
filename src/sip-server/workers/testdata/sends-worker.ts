/**
 * A stand-in SIP worker for the pool's tests: for each message it is handed, whose body is a
 * list of ports (`5060 13 5060`), it asks the socket thread to send one reply per port, all in one
 * batch, numbered on from its last; the body `split 5060 5060` sends them in one batch each. Every
 * control item it gets back ('send-error', 'sent') is reported on the BroadcastChannel
 * `sends-worker` (in the order it got them).
 */
import { BroadcastChannel, parentPort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../worker-messages.js';

const port = parentPort!;
const report = new BroadcastChannel('sends-worker');
let seq = 0;

port.on('message', (m: ToWorker[] | { k: string }) => {
  if (!Array.isArray(m)) {
    if (m.k === 'stop') {
      report.close();
      port.close();
    }
    return;
  }
  for (const item of m) {
    if (item.k === 'in') {
      const text = new TextDecoder().decode(item.b);
      const words = text.slice(text.indexOf('\r\n\r\n') + 4).trim().split(/\s+/);
      const split = words[0] === 'split';
      const replies: FromWorker[] = words.filter((w) => w !== 'split').map((p) => ({
        k: 'reply',
        b: new TextEncoder().encode('SIP/2.0 200 OK\r\n\r\n'),
        t: { transport: 'udp', host: '192.0.2.1', port: Number(p), rule: 'rport' },
        s: ++seq,
      }));
      if (split) for (const r of replies) port.postMessage([r]);
      else port.postMessage(replies);
    } else if (item.k === 'send-error' || item.k === 'sent') {
      report.postMessage({ k: item.k, s: item.s });
    }
  }
});
port.postMessage({ k: 'ready', restoredBindings: 0, script: 1 });
