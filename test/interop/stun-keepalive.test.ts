// STUN keepalives on the SIP UDP port (RFC 5626 §8.4, RFC 8489 §6.3.1), and the STUN message
// library against coturn's turnserver (at the end). Keepalives: coturn's
// turnutils_stunclient (a real STUN client) sends a Binding request to Parley's SIP UDP port, with
// SIP worker threads (the workers' own sockets) and without (the main thread's socket), and must
// print as its reflexive address the address and port its request came from. tshark, when it can
// capture on loopback, says which source port that was. SIP goes on on the same port right after.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { spawnBounded, signalPid } from './support/child.js';
import { ParleyServer, REPO_ROOT, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { openUdpProbe, type UdpProbe } from './support/udp-probe.js';
import { Coturn, skipWithoutCoturn } from './support/coturn.js';

const pool = portPool(import.meta.url);
/** The client binds this loopback address (-L), so the mapped address cannot be a constant 127.0.0.1. */
const CLIENT_ADDRESS = '127.0.0.5';

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

const skipWithoutStunclient = skipWithoutCoturn();

/** A tshark capture of UDP datagrams to `port` on loopback: source address and port of each. */
async function captureTo(port: number): Promise<{ stop: () => Promise<string[]> } | undefined> {
  if (!has('tshark')) return undefined;
  const child = spawn('tshark', ['-i', 'lo', '-l', '-n', '-a', 'duration:30', '-f', `udp dst port ${port}`, '-T', 'fields', '-e', 'ip.src', '-e', 'udp.srcport'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const closed = new Promise<void>((res) => child.once('close', () => res()));
  // capturing once it says so ("Capture started", after "Capturing on"); without capture rights it exits instead
  const started = await Promise.race([
    new Promise<boolean>((res) => {
      const check = (): void => {
        if (err.includes('Capture started')) res(true);
      };
      child.stderr.on('data', check);
    }),
    closed.then(() => false),
    new Promise<boolean>((res) => setTimeout(() => res(false), 10_000)),
  ]);
  if (!started) {
    if (child.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGKILL');
    await closed;
    return undefined;
  }
  return {
    stop: async () => {
      await new Promise((res) => setTimeout(res, 500)); // let the last datagram reach the output
      if (child.pid !== undefined && child.exitCode === null) signalPid(child.pid, 'SIGINT');
      await closed;
      return out.split('\n').filter((l) => l.trim() !== '');
    },
  };
}

function optionsRequest(port: number, from: number, callId: string): Buffer {
  return Buffer.from(
    [
      `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${from};branch=z9hG4bK-${callId}`,
      'From: <sip:probe@example.org>;tag=stun1',
      `To: <sip:127.0.0.1:${port}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Max-Forwards: 70',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

for (const workers of [2, 0]) {
  describe(`turnutils_stunclient against the SIP UDP port (--workers ${workers})`, { skip: skipWithoutStunclient }, () => {
    let parley: ParleyServer;

    before(async () => {
      parley = await ParleyServer.start({ pool, transports: ['udp'], workers, config: { log: { statsInterval: 1 } } });
    });

    after(() => stopCleanly(parley));

    it('prints as its reflexive address the address and port its Binding request came from', async () => {
      const capture = await captureTo(parley.port!);
      const run = spawnBounded('turnutils_stunclient', ['-p', String(parley.port), '-L', CLIENT_ADDRESS, parley.host], { cwd: REPO_ROOT, timeoutMs: 15_000 });
      const exit = await run.done;
      const captured = (await capture?.stop()) ?? [];
      const output = `${exit.stdout}${exit.stderr}\n---- Parley's log:\n${parley.outputTail(10)}`;
      assert.equal(exit.code, 0, output);
      const printed = /UDP reflexive addr: ([0-9.]+):(\d+)/.exec(exit.stdout);
      assert.ok(printed, `no reflexive address printed:\n${output}`);
      assert.equal(printed[1], CLIENT_ADDRESS, output);
      const port = Number(printed[2]);
      assert.ok(port > 0 && port < 65536 && port !== parley.port, output);
      if (capture !== undefined) {
        // every Binding request the client sent came from the port it printed
        const sources = captured.map((l) => l.split('\t')).filter(([address]) => address === CLIENT_ADDRESS);
        assert.ok(sources.length >= 1, `tshark saw no datagram from ${CLIENT_ADDRESS}:\n${captured.join('\n')}`);
        for (const [, source] of sources) assert.equal(Number(source), port, `captured:\n${captured.join('\n')}`);
      }
    });

    it('answers SIP on the same port right after (OPTIONS → 200)', async () => {
      const probe = await openUdpProbe(pool);
      try {
        const answers = await probe.exchange(optionsRequest(parley.port!, probe.port, `stun-keepalive-${workers}`), parley.host, parley.port!, 1000);
        const texts = answers.map((b) => b.toString('latin1'));
        assert.ok(texts.some((t) => t.startsWith('SIP/2.0 200 ')), `no 200:\n${texts.join('\n----\n')}\n---- Parley's log:\n${parley.outputTail(10)}`);
      } finally {
        await probe.close();
      }
    });

    it('counts the answered Binding requests in its stats lines, and no parse error for them', async () => {
      const deadline = Date.now() + 10_000;
      let answered = 0;
      while (Date.now() < deadline) {
        // with workers each thread writes its own stats line: the last line of each thread counts
        const last = new Map<unknown, Record<string, unknown>>();
        for (const l of parley.logs) if (l.msg === 'stats') last.set(l.worker ?? 'main', l);
        answered = [...last.values()].reduce((n, l) => n + Number(l.stunAnswered ?? 0), 0);
        if (answered >= 1) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      assert.ok(answered >= 1, `no stats line counted the Binding request:\n${parley.outputTail(20)}`);
      const parseErrors = parley.logs.filter((l) => l.msg === 'stats').reduce((n, l) => Math.max(n, Number(l.parseErrors ?? 0)), 0);
      assert.equal(parseErrors, 0, 'a STUN datagram reached the SIP parser');
    });

    it('logged no warning or error', () => {
      assert.deepEqual(parley.problems(), []);
      assert.equal(parley.alive, true);
    });
  });
}

// ---- The message library (src/stun) against coturn's turnserver --------------------------------
// A TURN client written with src/stun alone (builder, parser, long-term key, XOR addresses,
// ChannelData, the stream framer) talks to Debian's turnserver: every message coturn sends must
// parse and check out (MESSAGE-INTEGRITY, FINGERPRINT), and coturn must accept ours. This file's
// port slice is the library's too, so that it needs no other.

const skipWithoutTurnserver = skipWithoutCoturn();
const REALM = 'example.org';
const USER = 'alice';
const PASSWORD = 'secret';

/** A UDP socket on a pool port that collects what it receives. */
const udpSocket = (): Promise<UdpProbe> => openUdpProbe(pool);

/** Waits (bounded) until `inbox` holds an item `match` accepts, and takes it out. */
async function take<T>(inbox: T[], match: (item: T) => boolean, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const i = inbox.findIndex(match);
    if (i >= 0) return inbox.splice(i, 1)[0]!;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

describe('the STUN message library against coturn turnserver', { skip: skipWithoutTurnserver }, () => {
  let stun: typeof import('../../src/stun/index.js');
  let coturn: Coturn;
  let turnPort = 0;
  let relayFirst = 0;
  let RELAY_PORTS = 0;
  const serverLog = (): string => coturn.log();

  before(async () => {
    stun = await import('../../src/stun/index.js');
    coturn = await Coturn.start({ pool, realm: REALM, auth: { kind: 'long-term', users: [{ user: USER, password: PASSWORD }] }, relayPorts: 20 });
    turnPort = coturn.port;
    relayFirst = coturn.relayRange.min;
    RELAY_PORTS = coturn.relayRange.max - coturn.relayRange.min + 1;
  });

  after(async () => {
    await coturn?.stop();
  });

  /** Sends `request` and waits for the response with its transaction ID, parsed. */
  async function transact(client: Awaited<ReturnType<typeof udpSocket>>, request: Uint8Array): Promise<import('../../src/stun/index.js').StunMessage> {
    const tid = Buffer.from(request.subarray(8, 20));
    client.socket.send(request, turnPort, '127.0.0.1');
    const bytes = await take(client.inbox, (b) => b.length >= 20 && Buffer.from(b.subarray(8, 20)).equals(tid), 'response');
    const r = stun.parseStunMessage(bytes);
    assert.ok(r.ok, r.ok ? '' : `coturn's response does not parse: ${r.error.reason} at ${r.error.offset}`);
    return r.value;
  }

  it('Binding: coturn answers our request; its XOR-MAPPED-ADDRESS is our address and its FINGERPRINT checks out', async () => {
    const client = await udpSocket();
    try {
      const m = await transact(client, new stun.StunMessageBuilder(stun.StunMethod.Binding, 'request', stun.newTransactionId()).addFingerprint().build());
      assert.equal(m.class, 'success');
      assert.deepEqual(stun.readXorAddress(m.get(stun.StunAttr.XOR_MAPPED_ADDRESS)!, m.transactionId), { ok: true, value: { family: 4, address: '127.0.0.1', port: client.port } });
      assert.equal(stun.verifyFingerprint(m), true);
    } finally {
      await client.close();
    }
  });

  it('an unknown comprehension-required attribute: coturn answers 420, and UNKNOWN-ATTRIBUTES names it', async () => {
    const client = await udpSocket();
    try {
      const m = await transact(client, new stun.StunMessageBuilder(stun.StunMethod.Binding, 'request', stun.newTransactionId()).add(0x7f31, Uint8Array.of(1, 2, 3, 4)).build());
      assert.equal(m.class, 'error');
      const code = stun.readErrorCode(m.get(stun.StunAttr.ERROR_CODE)!);
      assert.ok(code.ok && code.value.code === 420, JSON.stringify(code));
      assert.deepEqual(stun.readUnknownAttributes(m.get(stun.StunAttr.UNKNOWN_ATTRIBUTES)!), { ok: true, value: [0x7f31] });
    } finally {
      await client.close();
    }
  });

  /** 401 with REALM and NONCE, then an authenticated Allocate; returns the client, key, nonce and relayed address. */
  async function allocate(password = PASSWORD): Promise<{
    client: Awaited<ReturnType<typeof udpSocket>>; key: Uint8Array; nonce: string; relayed: import('../../src/stun/index.js').TransportAddress; answer: import('../../src/stun/index.js').StunMessage;
  }> {
    const client = await udpSocket();
    const first = await transact(
      client,
      new stun.StunMessageBuilder(stun.StunMethod.Allocate, 'request', stun.newTransactionId())
        .add(stun.StunAttr.REQUESTED_TRANSPORT, stun.requestedTransportValue(stun.TransportProtocol.UDP))
        .addFingerprint()
        .build(),
    );
    assert.equal(first.class, 'error');
    const challenge = stun.readErrorCode(first.get(stun.StunAttr.ERROR_CODE)!);
    assert.ok(challenge.ok && challenge.value.code === 401, JSON.stringify(challenge));
    const realm = stun.readText(first.get(stun.StunAttr.REALM)!);
    const nonce = stun.readText(first.get(stun.StunAttr.NONCE)!);
    assert.ok(realm.ok && nonce.ok);
    assert.equal(realm.value, REALM);
    const key = stun.longTermKey(USER, realm.value, password, 'md5');
    const answer = await transact(
      client,
      new stun.StunMessageBuilder(stun.StunMethod.Allocate, 'request', stun.newTransactionId())
        .add(stun.StunAttr.REQUESTED_TRANSPORT, stun.requestedTransportValue(stun.TransportProtocol.UDP))
        .addUint32(stun.StunAttr.LIFETIME, 600)
        .addString(stun.StunAttr.USERNAME, USER)
        .addString(stun.StunAttr.REALM, realm.value)
        .addString(stun.StunAttr.NONCE, nonce.value)
        .addMessageIntegrity(key)
        .addFingerprint()
        .build(),
    );
    const relayedAttr = answer.get(stun.StunAttr.XOR_RELAYED_ADDRESS);
    const relayed = relayedAttr === undefined ? undefined : stun.readXorAddress(relayedAttr, answer.transactionId);
    return { client, key, nonce: nonce.value, relayed: relayed?.ok ? relayed.value : { family: 4, address: '', port: 0 }, answer };
  }

  it('Allocate with long-term credentials: coturn accepts our MESSAGE-INTEGRITY, and its answer checks out under our key', async () => {
    const { client, key, relayed, answer } = await allocate();
    try {
      assert.equal(answer.class, 'success', `${JSON.stringify(stun.readErrorCode(answer.get(stun.StunAttr.ERROR_CODE) ?? { type: 9, value: new Uint8Array(4), offset: 0 }))}\n${serverLog().slice(-2000)}`);
      assert.equal(stun.verifyMessageIntegrity(answer, key), true);
      assert.equal(stun.verifyFingerprint(answer), true);
      assert.equal(relayed.address, '127.0.0.1');
      assert.ok(relayed.port >= relayFirst && relayed.port < relayFirst + RELAY_PORTS, `relayed port ${relayed.port}`);
      assert.deepEqual(stun.readXorAddress(answer.get(stun.StunAttr.XOR_MAPPED_ADDRESS)!, answer.transactionId), { ok: true, value: { family: 4, address: '127.0.0.1', port: client.port } });
      const lifetime = stun.readLifetime(answer.get(stun.StunAttr.LIFETIME)!);
      assert.ok(lifetime.ok && lifetime.value > 0 && lifetime.value <= 600, JSON.stringify(lifetime));
    } finally {
      await client.close();
    }
  });

  it('a wrong password: coturn answers 401 (our MESSAGE-INTEGRITY under the wrong key is refused)', async () => {
    const { client, answer } = await allocate('wrong');
    try {
      assert.equal(answer.class, 'error');
      const code = stun.readErrorCode(answer.get(stun.StunAttr.ERROR_CODE)!);
      assert.ok(code.ok && code.value.code === 401, JSON.stringify(code));
    } finally {
      await client.close();
    }
  });

  it('CreatePermission, Send and Data indications, ChannelBind and ChannelData both ways through coturn', async () => {
    const { client, key, nonce, relayed } = await allocate();
    const peer = await udpSocket();
    try {
      const signed = (b: import('../../src/stun/index.js').StunMessageBuilder): Uint8Array =>
        b.addString(stun.StunAttr.USERNAME, USER).addString(stun.StunAttr.REALM, REALM).addString(stun.StunAttr.NONCE, nonce).addMessageIntegrity(key).addFingerprint().build();
      const peerAddress = { family: 4 as const, address: '127.0.0.1', port: peer.port };
      const permitted = await transact(client, signed(new stun.StunMessageBuilder(stun.StunMethod.CreatePermission, 'request', stun.newTransactionId()).addXorAddress(stun.StunAttr.XOR_PEER_ADDRESS, peerAddress)));
      assert.equal(permitted.class, 'success');
      assert.equal(stun.verifyMessageIntegrity(permitted, key), true);

      // Send indication → the peer gets the data from the relayed address
      client.socket.send(
        new stun.StunMessageBuilder(stun.StunMethod.Send, 'indication', stun.newTransactionId())
          .addXorAddress(stun.StunAttr.XOR_PEER_ADDRESS, peerAddress)
          .add(stun.StunAttr.DATA, Buffer.from('send indication'))
          .build(),
        turnPort,
        '127.0.0.1',
      );
      assert.equal((await take(peer.inbox, () => true, 'relayed Send data')).toString(), 'send indication');
      // the peer answers to the relayed address → a Data indication with XOR-PEER-ADDRESS and DATA
      peer.socket.send(Buffer.from('data indication'), relayed.port, relayed.address);
      const dataBytes = await take(client.inbox, (b) => stun.isStunMessage(b), 'Data indication');
      const data = stun.parseStunMessage(dataBytes);
      assert.ok(data.ok);
      assert.equal(data.value.class, 'indication');
      assert.equal(data.value.method, stun.StunMethod.Data);
      assert.deepEqual(stun.readXorAddress(data.value.get(stun.StunAttr.XOR_PEER_ADDRESS)!, data.value.transactionId), { ok: true, value: peerAddress });
      assert.equal(Buffer.from(data.value.get(stun.StunAttr.DATA)!.value).toString(), 'data indication');

      // ChannelBind, then ChannelData both ways (5 bytes: coturn must read our unpadded datagram)
      const bound = await transact(
        client,
        signed(new stun.StunMessageBuilder(stun.StunMethod.ChannelBind, 'request', stun.newTransactionId())
          .add(stun.StunAttr.CHANNEL_NUMBER, stun.channelNumberValue(0x4000))
          .addXorAddress(stun.StunAttr.XOR_PEER_ADDRESS, peerAddress)),
      );
      assert.equal(bound.class, 'success');
      client.socket.send(stun.buildChannelData(0x4000, Buffer.from('chan1'), false), turnPort, '127.0.0.1');
      assert.equal((await take(peer.inbox, () => true, 'relayed ChannelData')).toString(), 'chan1');
      peer.socket.send(Buffer.from('from peer'), relayed.port, relayed.address);
      const channelBytes = await take(client.inbox, (b) => stun.packetKind(b[0]!) === 'turn-channel', 'ChannelData');
      const channel = stun.parseChannelData(channelBytes);
      assert.ok(channel.ok, channel.ok ? '' : channel.error.reason);
      assert.equal(channel.value.channel, 0x4000);
      assert.equal(Buffer.from(channel.value.data).toString(), 'from peer');
    } finally {
      await peer.close();
      await client.close();
    }
  });

  it('over TCP: the stream framer splits what coturn sends into STUN messages and padded ChannelData', async () => {
    const { connect } = await import('node:net');
    const peer = await udpSocket();
    const socket = connect({ host: '127.0.0.1', port: turnPort });
    const stunIn: import('../../src/stun/index.js').StunMessage[] = [];
    const channelIn: { channel: number; data: string }[] = [];
    const framer = new stun.StunStreamFramer({
      onStun: (b) => {
        const r = stun.parseStunMessage(b.slice());
        assert.ok(r.ok, r.ok ? '' : r.error.reason);
        stunIn.push(r.value);
      },
      onChannelData: (channel, data) => channelIn.push({ channel, data: Buffer.from(data).toString() }),
    });
    const framingErrors: string[] = [];
    socket.on('data', (d: Buffer) => {
      const e = framer.push(d);
      if (e) framingErrors.push(e.reason);
    });
    socket.on('error', () => {});
    try {
      await new Promise<void>((res, rej) => {
        socket.once('connect', () => res());
        socket.once('error', rej);
      });
      const exchange = async (bytes: Uint8Array): Promise<import('../../src/stun/index.js').StunMessage> => {
        const tid = Buffer.from(bytes.subarray(8, 20));
        socket.write(bytes);
        return take(stunIn, (m) => Buffer.from(m.transactionId).equals(tid), 'response over TCP');
      };
      const first = await exchange(new stun.StunMessageBuilder(stun.StunMethod.Allocate, 'request', stun.newTransactionId())
        .add(stun.StunAttr.REQUESTED_TRANSPORT, stun.requestedTransportValue(stun.TransportProtocol.UDP)).build());
      const nonce = stun.readText(first.get(stun.StunAttr.NONCE)!);
      assert.ok(nonce.ok);
      const key = stun.longTermKey(USER, REALM, PASSWORD, 'md5');
      const signed = (b: import('../../src/stun/index.js').StunMessageBuilder): Uint8Array =>
        b.addString(stun.StunAttr.USERNAME, USER).addString(stun.StunAttr.REALM, REALM).addString(stun.StunAttr.NONCE, nonce.value).addMessageIntegrity(key).addFingerprint().build();
      const allocated = await exchange(signed(new stun.StunMessageBuilder(stun.StunMethod.Allocate, 'request', stun.newTransactionId())
        .add(stun.StunAttr.REQUESTED_TRANSPORT, stun.requestedTransportValue(stun.TransportProtocol.UDP))));
      assert.equal(allocated.class, 'success');
      assert.equal(stun.verifyMessageIntegrity(allocated, key), true);
      const relayed = stun.readXorAddress(allocated.get(stun.StunAttr.XOR_RELAYED_ADDRESS)!, allocated.transactionId);
      assert.ok(relayed.ok);
      const peerAddress = { family: 4 as const, address: '127.0.0.1', port: peer.port };
      const bound = await exchange(signed(new stun.StunMessageBuilder(stun.StunMethod.ChannelBind, 'request', stun.newTransactionId())
        .add(stun.StunAttr.CHANNEL_NUMBER, stun.channelNumberValue(0x4abc))
        .addXorAddress(stun.StunAttr.XOR_PEER_ADDRESS, peerAddress)));
      assert.equal(bound.class, 'success');
      // our padded ChannelData over the stream reaches the peer; the peer's 5-byte answers come back padded, one frame each
      socket.write(stun.buildChannelData(0x4abc, Buffer.from('tcp-1'), true));
      assert.equal((await take(peer.inbox, () => true, 'relayed ChannelData over TCP')).toString(), 'tcp-1');
      for (const text of ['abcde', 'fghij', 'k']) peer.socket.send(Buffer.from(text), relayed.value.port, relayed.value.address);
      for (const text of ['abcde', 'fghij', 'k']) assert.deepEqual(await take(channelIn, (c) => c.data === text, `ChannelData "${text}" over TCP`), { channel: 0x4abc, data: text });
      assert.deepEqual(framingErrors, []);
    } finally {
      socket.destroy();
      await peer.close();
    }
  });
});
