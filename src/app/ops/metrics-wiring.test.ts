import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import pino from 'pino';
import { configFromObject } from '../config.js';
import { runServer } from '../run-server.js';
import { REST_SECRET_FILE } from '../../turn/rest-secret-file.js';
import { restPassword } from '../../turn/rest-credentials.js';

/** An OPTIONS over UDP to `port`; resolves with the response's status line. */
async function options(port: number): Promise<string> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const local = socket.address().port;
    const request = [
      'OPTIONS sip:example.com SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK-metrics-1;rport`,
      'Max-Forwards: 70',
      `From: <sip:probe@127.0.0.1>;tag=m1`,
      'To: <sip:example.com>',
      'Call-ID: metrics-wiring-1@127.0.0.1',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString('latin1').split('\r\n')[0]!)));
    socket.send(request, port, '127.0.0.1');
    return await answer;
  } finally {
    socket.close();
  }
}

describe('the metrics, TURN and media operations of a running server (SIP core in the main thread)', () => {
  it('/metrics and MetricsOps count an OPTIONS both ways; TurnOps signs with the TURN thread\'s secret; MediaOps has no session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-metrics-wiring-'));
    const config = configFromObject({
      dataDir: dir,
      sip: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }], workers: 0, domains: ['example.com'] },
      http: { listen: [{ transport: 'http', address: '127.0.0.1', port: 0 }] },
      turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] },
      routing: { watch: false },
    });
    const server = await runServer(config, pino({ level: 'silent' }));
    try {
      // whatever the default routing answers (403 to a domain it does not take as its own): one response
      const status = await options(server.listeners[0]!.port);
      assert.match(status, /^SIP\/2\.0 [1-6]\d\d /);
      const klass = `${status[8]}xx`;
      const r = await fetch(`http://127.0.0.1:${server.web!.listeners[0]!.port}/metrics`);
      assert.equal(r.status, 200);
      const body = await r.text();
      assert.match(body, /^parley_sip_requests_total\{method="OPTIONS",direction="in"\} 1$/m);
      assert.ok(body.includes(`\nparley_sip_responses_total{method="OPTIONS",class="${klass}",direction="out"} 1\n`), body);
      // one core, in the main thread: one lag series for it, and the TURN and media threads'
      assert.deepEqual([...body.matchAll(/^parley_event_loop_lag_seconds\{thread="([a-z0-9-]+)"\}/gm)].map((m) => m[1]).sort(), ['main', 'media', 'turn']);
      const s = await server.ops.metrics.stats();
      assert.equal(s.requests, 1);
      assert.equal(s.responses, 1);
      const c = server.ops.turn.credentials('alice', 600);
      assert.equal(c.password, restPassword(readFileSync(join(dir, REST_SECRET_FILE), 'latin1').trim(), c.username));
      assert.deepEqual(c.uris, [`turn:127.0.0.1:${server.turn!.listeners[0]!.port}?transport=udp`]);
      assert.deepEqual(await server.ops.turn.allocations(), []);
      assert.equal(server.ops.media.enabled, true);
      assert.deepEqual(await server.ops.media.sessions(), []);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
