// The TURN thread from the main thread's side: which listeners and relay addresses it gets, and
// what a port in use does (a default listener: a warning and no TURN; a configured one: the start
// fails naming the key).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseStunMessage, readErrorCode, StunAttr, StunMessageBuilder, StunMethod, type StunMessage } from '../stun/index.js';
import { configFromObject, keyOnly } from './config.js';
import { StartError } from './start-error.js';
import { ownAddresses, relayAddresses, startTurnThread, turnListeners, TURN_PORT } from './turn-thread.js';

const ENTRY = new URL('./turn-worker.ts', import.meta.url);

describe('TURN thread: listeners and addresses', () => {
  it('defaults to UDP and TCP 3478 (TLS 5349 with a certificate) on each address of the SIP listeners, a wildcard covering its family', () => {
    const c = configFromObject({});
    assert.deepEqual(turnListeners(c, ['127.0.0.1', '127.0.0.1', '::1']), {
      listeners: [
        { transport: 'udp', address: '127.0.0.1', port: TURN_PORT },
        { transport: 'tcp', address: '127.0.0.1', port: TURN_PORT },
        { transport: 'udp', address: '::1', port: TURN_PORT },
        { transport: 'tcp', address: '::1', port: TURN_PORT },
      ],
      required: false,
    });
    assert.deepEqual(turnListeners(c, ['0.0.0.0', '10.0.0.1']).listeners.map((l) => `${l.transport}:${l.address}`), ['udp:0.0.0.0', 'tcp:0.0.0.0']);
    assert.deepEqual(turnListeners(c, ['::']).listeners.map((l) => `${l.transport}:${l.address}`), ['udp:0.0.0.0', 'tcp:0.0.0.0', 'udp:::', 'tcp:::']);
    const withCert = configFromObject({ sip: { tls: { cert: '/x/cert.pem', key: '/x/key.pem' } } });
    assert.deepEqual(turnListeners(withCert, ['0.0.0.0']).listeners.map((l) => `${l.transport}:${l.port}`), ['udp:3478', 'tcp:3478', 'tls:5349']);
    const explicit = configFromObject({ turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 3479 }] } });
    assert.deepEqual(turnListeners(explicit, ['0.0.0.0']), { listeners: [{ transport: 'udp', address: '127.0.0.1', port: 3479 }], required: true });
  });

  it('relays on turn.relayAddresses, else on a listener\'s own address, else on the host\'s first external address', () => {
    const ifaces = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [{ address: '192.0.2.7', family: 'IPv4', internal: false }, { address: '2001:db8::7', family: 'IPv6', internal: false }] } as unknown as ReturnType<typeof import('node:os').networkInterfaces>;
    const c = configFromObject({});
    assert.deepEqual(relayAddresses(c, [{ transport: 'udp', address: '127.0.0.1', port: 1 }], ifaces), { 4: '127.0.0.1' });
    assert.deepEqual(relayAddresses(c, [{ transport: 'udp', address: '::', port: 1 }], ifaces), { 4: '192.0.2.7', 6: '2001:db8::7' });
    assert.deepEqual(relayAddresses(configFromObject({ turn: { relayAddresses: ['198.51.100.1'] } }), [{ transport: 'udp', address: '0.0.0.0', port: 1 }], ifaces), { 4: '198.51.100.1' });
    assert.deepEqual(ownAddresses(['0.0.0.0', '203.0.113.9'], ifaces).sort(), ['127.0.0.1/32', '192.0.2.7/32', '2001:db8::7/128', '203.0.113.9/32']);
  });
});

describe('TURN thread: a port in use', () => {
  let taken: Socket;
  let port: number;
  let dir: string;
  const warnings: unknown[] = [];
  const log = { debug: () => {}, info: () => {}, error: () => {}, warn: (o: unknown) => warnings.push(o) } as never;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-turn-thread-'));
    taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    port = taken.address().port;
  });

  after(async () => {
    taken.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a default listener whose port is taken: a warning, and no TURN (SIP goes on)', async () => {
    const config = configFromObject({ dataDir: dir });
    const t = await startTurnThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], domain: 'example.test', nonceSecret: new Uint8Array(32), locate: keyOnly, log, defaultPort: port });
    assert.equal(t, undefined);
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), new RegExp(`port ${port} \\(udp 127\\.0\\.0\\.1\\) is in use`));
  });

  it('a configured listener whose port is taken: the start fails, naming turn.listen[i]', async () => {
    const config = configFromObject({ dataDir: dir, turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'udp', address: '127.0.0.1', port }] } });
    await assert.rejects(
      startTurnThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], domain: 'example.test', nonceSecret: new Uint8Array(32), locate: keyOnly, log }),
      (e: unknown) => e instanceof StartError && e.message === `turn.listen[1]: port ${port} (udp 127.0.0.1) is in use (EADDRINUSE)`,
    );
  });

  it('a peer CIDR that does not parse and an empty REST secret: the start fails, naming the key', async () => {
    const start = (turn: Record<string, unknown>) =>
      startTurnThread({ config: configFromObject({ dataDir: dir, turn }), entry: ENTRY, sipAddresses: ['127.0.0.1'], domain: 'example.test', nonceSecret: new Uint8Array(32), locate: keyOnly, log });
    await assert.rejects(start({ peers: { allow: ['10.0.0.0/8', '10.0.0.0/33'] } }), (e: unknown) => e instanceof StartError && e.message === 'turn.peers.allow[1]: "10.0.0.0/33" is not an IP address or CIDR');
    await assert.rejects(start({ restSecrets: [''] }), (e: unknown) => e instanceof StartError && e.message === 'turn.restSecrets[0]: is empty');
  });

  it('a free configured port: the thread starts, reports the bound port and stops', async () => {
    const config = configFromObject({ dataDir: dir, turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] } });
    const t = await startTurnThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], domain: 'example.test', nonceSecret: new Uint8Array(32), locate: keyOnly, log });
    assert.ok(t !== undefined);
    assert.equal(t.realm, 'example.test');
    assert.ok(t.listeners[0]!.port > 0);
    assert.deepEqual(await t.allocations(), []);
    await t.stop();
  });

  it('a TURN thread that dies is started again on the same ports', async () => {
    const config = configFromObject({ dataDir: dir, turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] } });
    const t = await startTurnThread({ config, entry: ENTRY, sipAddresses: ['127.0.0.1'], domain: 'example.test', nonceSecret: new Uint8Array(32), locate: keyOnly, log });
    assert.ok(t !== undefined);
    try {
      const first = t.worker;
      await first.terminate();
      for (let i = 0; i < 100 && t.worker === first; i++) await new Promise((r) => setTimeout(r, 50));
      assert.notEqual(t.worker, first);
      assert.deepEqual(await t.allocations(), []);
      // the same port answers STUN again
      const port = t.listeners[0]!.port;
      const answer = await new Promise<Buffer | undefined>((resolve) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => (s.close(), resolve(undefined)), 2000);
        s.on('message', (m) => (clearTimeout(timer), s.close(), resolve(m)));
        s.send(Buffer.from('000100002112a442' + '00'.repeat(12), 'hex'), port, '127.0.0.1');
      });
      assert.equal(answer?.readUInt16BE(0), 0x0101);
    } finally {
      await t.stop();
    }
  });
});

/** One STUN transaction over UDP to 127.0.0.1:port from a fresh socket: the answer, or undefined after 1 s. */
function stunTransact(port: number, bytes: Uint8Array): Promise<StunMessage | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const timer = setTimeout(() => (s.close(), resolve(undefined)), 1000);
    s.on('message', (m) => {
      const r = parseStunMessage(m);
      clearTimeout(timer);
      s.close();
      resolve(r.ok ? r.value : undefined);
    });
    s.send(bytes, port, '127.0.0.1');
  });
}

describe('TURN thread: the failed-auth limiter it shares with SIP', () => {
  let dir: string;
  const log = { debug: () => {}, info: () => {}, error: () => {}, warn: () => {} } as never;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-turn-thread-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a failed TURN authentication to the main thread (onAuthFailure), drops a source the main thread blocks, and gets the blocks in force when it is restarted', async () => {
    const failures: string[] = [];
    let blocked: Array<{ source: string; remainingMs: number }> = [];
    const config = configFromObject({ dataDir: dir, turn: { listen: [{ transport: 'udp', address: '127.0.0.1', port: 0 }] } });
    const t = await startTurnThread({
      config,
      entry: ENTRY,
      sipAddresses: ['127.0.0.1'],
      domain: 'example.test',
      nonceSecret: new Uint8Array(32),
      locate: keyOnly,
      log,
      onAuthFailure: (a) => failures.push(a),
      blocked: () => blocked,
    });
    assert.ok(t !== undefined);
    const port = t.listeners[0]!.port;
    const allocate = (): StunMessageBuilder => new StunMessageBuilder(StunMethod.Allocate, 'request', randomBytes(12)).add(StunAttr.REQUESTED_TRANSPORT, Uint8Array.of(17, 0, 0, 0));
    const code = (m: StunMessage | undefined): number | undefined => {
      const a = m?.get(StunAttr.ERROR_CODE);
      const r = a && readErrorCode(a);
      return r?.ok ? r.value.code : undefined;
    };
    const binding = new StunMessageBuilder(StunMethod.Binding, 'request', randomBytes(12)).build();
    try {
      const challenge = await stunTransact(port, allocate().build());
      assert.equal(code(challenge), 401);
      const nonce = new TextDecoder().decode(challenge!.get(StunAttr.NONCE)!.value);
      // an unknown user: a failure as a wrong password is
      const key = createHash('md5').update('nobody:example.test:pw').digest();
      const refused = await stunTransact(port, allocate().addString(StunAttr.USERNAME, 'nobody').addString(StunAttr.REALM, 'example.test').addString(StunAttr.NONCE, nonce).addMessageIntegrity(key).build());
      assert.equal(code(refused), 401);
      for (let i = 0; i < 100 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(failures, ['127.0.0.1']);
      // blocked by the main thread: no answer, not even a challenge
      t.block('127.0.0.1', 60_000);
      let answer: StunMessage | undefined = challenge;
      for (let i = 0; i < 20 && answer !== undefined; i++) answer = await stunTransact(port, allocate().build());
      assert.equal(answer, undefined);
      // a restarted thread gets the blocks in force
      blocked = [{ source: '127.0.0.1', remainingMs: 60_000 }];
      const first = t.worker;
      await first.terminate();
      for (let i = 0; i < 100 && t.worker === first; i++) await new Promise((r) => setTimeout(r, 50));
      assert.notEqual(t.worker, first);
      assert.equal((await stunTransact(port, binding))?.class, 'success', 'the new thread serves');
      assert.equal(await stunTransact(port, allocate().build()), undefined, 'and drops the blocked source');
    } finally {
      await t.stop();
    }
  });
});
