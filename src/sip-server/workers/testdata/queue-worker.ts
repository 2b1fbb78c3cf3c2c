/**
 * A stand-in SIP worker for the pool's queue and watchdog tests. For each message it is handed,
 * by its body:
 * - `hold`: blocks its thread (Atomics.wait) until the test sets the first Int32 of
 *   `workerData.gate` to 1, after marking the second one (so the test knows it is held);
 * - `hang`: loops forever (a routing script stuck in an endless loop);
 * - `busy N`: computes for N ms, then goes on (a long but legitimate burst);
 * - anything else: answers one reply to 192.0.2.1:5060.
 * After each batch it reports what it took (`took`, cumulative), as the real worker does, and it
 * beats when it is given a heartbeat.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker } from '../worker-messages.js';
import { beat, type Heartbeat } from '../worker-watchdog.js';

const port = parentPort!;
const gate = new Int32Array((workerData as { gate: SharedArrayBuffer }).gate);
let seq = 0;
let taken = 0;
let takenBytes = 0;
let heartbeat: NodeJS.Timeout | undefined;

port.on('message', (m: ToWorker[] | Heartbeat | { k: 'stop' }) => {
  if (!Array.isArray(m)) {
    if (m.k === 'heartbeat') heartbeat = beat(m);
    else if (m.k === 'stop') {
      clearInterval(heartbeat);
      port.close();
    }
    return;
  }
  const out: FromWorker[] = [];
  for (const item of m) {
    if (item.k !== 'in') continue;
    taken++;
    takenBytes += item.b.byteLength;
    const text = new TextDecoder().decode(item.b);
    const body = text.slice(text.indexOf('\r\n\r\n') + 4).trim();
    if (body === 'hold') {
      Atomics.store(gate, 1, 1);
      Atomics.wait(gate, 0, 0);
    } else if (body === 'hang') {
      for (;;);
    } else if (body.startsWith('busy ')) {
      const until = Date.now() + Number(body.slice(5));
      while (Date.now() < until);
    } else {
      out.push({ k: 'reply', b: new TextEncoder().encode('SIP/2.0 200 OK\r\n\r\n'), t: { transport: 'udp', host: '192.0.2.1', port: 5060, rule: 'rport' }, s: ++seq });
    }
  }
  out.push({ k: 'took', n: taken, b: takenBytes });
  port.postMessage(out);
});
port.postMessage({ k: 'ready', restoredBindings: 0, script: 1 });
