// The connection limits of `parley serve` with small numbers, from many sources on the loopback
// (127.0.0.0/8: client sockets bound to 127.0.0.2, 127.0.0.3, … are different sources): strangers
// fill the unreserved part of the table, and then a new stranger is refused (TCP closed at once,
// WebSocket upgrade answered 503) while a source that has authenticated (a REGISTER with digest
// over UDP from its address) still gets connections. Run with SIP worker threads (the workers
// tell the socket thread of the success) and without. IPv6 /64 grouping needs more than one IPv6
// address, which the loopback has not: connection-table.test.ts checks it.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { DigestClient } from '../../src/load/digest-client.js';
import { newBranch, newTag } from '../../src/sip/index.js';
import { parseMessage } from '../../src/sip/message/parse.js';
import { SipResponse } from '../../src/sip/message/sip-message.js';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';

const pool = portPool(import.meta.url);
const ALICE = { user: 'alice', password: 'alice-secret-7' };
/** 10 connections, 3 per source, 30 % (3) kept for authenticated sources: 7 for anyone. */
const LIMITS = { maxConnections: 10, maxConnectionsPerSource: 3, authenticatedReserve: 30 };
const UNRESERVED = 7;
/** Every wait of this file is bounded by this. */
const WAIT_MS = 5000;

/** REGISTER alice from `local` over UDP, answering the 401 with digest credentials; resolves with the final status. */
async function registerOverUdp(parley: ParleyServer, local: string): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((res, rej) => {
    socket.once('error', rej);
    socket.bind(0, local, () => res());
  });
  try {
    const port = socket.address().port;
    const callId = `${newTag()}@${local}`;
    const tag = newTag();
    const digest = new DigestClient({ username: ALICE.user, password: ALICE.password, algorithm: 'MD5' });
    const uri = 'sip:127.0.0.1';
    const request = (cseq: number): string => {
      const auth = digest.authorization('REGISTER', uri);
      return [
        `REGISTER ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP ${local}:${port};branch=${newBranch()};rport`,
        'Max-Forwards: 70',
        `From: <sip:alice@127.0.0.1>;tag=${tag}`,
        'To: <sip:alice@127.0.0.1>',
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:alice@${local}:${port}>`,
        'Expires: 60',
        ...(auth === undefined ? [] : [`${auth[0]}: ${auth[1]}`]),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    };
    const exchange = (text: string): Promise<SipResponse> =>
      new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no answer to a REGISTER from ${local} within ${WAIT_MS} ms`)), WAIT_MS);
        socket.once('message', (data) => {
          clearTimeout(timer);
          const r = parseMessage(data);
          if (r.ok && r.message instanceof SipResponse) res(r.message);
          else rej(new Error(`not a SIP response: ${data.toString('latin1')}`));
        });
        socket.send(text, parley.portFor('udp'), '127.0.0.1');
      });
    const first = await exchange(request(1));
    if (first.status !== 401) return first.status;
    const taken = digest.acceptResponse(first);
    assert.ok(taken.ok, taken.ok ? '' : taken.reason);
    return (await exchange(request(2))).status;
  } finally {
    socket.close();
  }
}

/** A TCP connection from `local`, and whether Parley took it: it answers a CRLFCRLF ping with a CRLF (RFC 5626 §4.4.1). */
async function openTcp(parley: ParleyServer, local: string, open: Socket[]): Promise<'accepted' | 'refused'> {
  const socket = connect({ host: '127.0.0.1', port: parley.portFor('tcp'), localAddress: local });
  open.push(socket);
  socket.on('error', () => {});
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`a TCP connection from ${local}: neither a pong nor a close within ${WAIT_MS} ms`)), WAIT_MS);
    socket.once('connect', () => socket.write('\r\n\r\n'));
    socket.once('data', () => {
      clearTimeout(timer);
      res('accepted');
    });
    socket.once('close', () => {
      clearTimeout(timer);
      res('refused');
    });
  });
}

/** The limits named by Parley's "connection refused" lines, once all of `expected` are there or after 5 s. */
async function loggedRefusals(parley: ParleyServer, expected: readonly string[]): Promise<unknown[]> {
  const limits = (): unknown[] => parley.logs.filter((l) => /^connection refused/.test(l.msg ?? '')).map((l) => l.limit);
  for (let waited = 0; waited < 5000 && !expected.every((e) => limits().includes(e)); waited += 50) await new Promise((r) => setTimeout(r, 50));
  return limits();
}

/** A SIP WebSocket from `local`: open, or the HTTP status of the refused upgrade. */
function openWebSocket(parley: ParleyServer, local: string, open: WebSocket[]): Promise<'accepted' | number> {
  const ws = new WebSocket(parley.webSocketUrl('ws'), 'sip', { localAddress: local });
  open.push(ws);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`a WebSocket from ${local}: no answer within ${WAIT_MS} ms`)), WAIT_MS);
    ws.once('open', () => {
      clearTimeout(timer);
      res('accepted');
    });
    ws.once('unexpected-response', (_req, response) => {
      clearTimeout(timer);
      res(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      rej(e);
    });
  });
}

for (const workers of [2, 0]) {
  describe(`connection limits with a reserve for authenticated sources (${workers > 0 ? `${workers} SIP worker threads` : 'SIP core in the main thread'})`, () => {
    let parley: ParleyServer;
    const sockets: Socket[] = [];
    const webSockets: WebSocket[] = [];

    before(async () => {
      parley = await ParleyServer.start({
        pool,
        workers,
        transports: ['udp', 'tcp'],
        webSockets: { ws: 'auth' },
        subscribers: [ALICE],
        config: { sip: { limits: LIMITS } },
      });
    });

    after(async () => {
      for (const s of sockets) s.destroy();
      for (const w of webSockets) w.terminate();
      await stopCleanly(parley);
    });

    it('a source registers with digest authentication over UDP (127.0.0.9)', async () => {
      assert.equal(await registerOverUdp(parley, '127.0.0.9'), 200);
    });

    it(`takes ${UNRESERVED} connections from strangers (3 per source), then refuses a fourth from one of them`, async () => {
      const sources = ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3', '127.0.0.3', '127.0.0.4'];
      for (const [i, local] of sources.entries()) assert.equal(await openTcp(parley, local, sockets), 'accepted', `connection ${i + 1} from ${local}`);
      assert.equal(await openTcp(parley, '127.0.0.2', sockets), 'refused', 'the fourth connection from 127.0.0.2 (maxConnectionsPerSource 3)');
    });

    it('refuses a new stranger once only the reserve is left, over TCP and WebSocket', async () => {
      assert.equal(await openTcp(parley, '127.0.0.5', sockets), 'refused');
      assert.equal(await openWebSocket(parley, '127.0.0.6', webSockets), 503);
      assert.equal(await openTcp(parley, '127.0.0.4', sockets), 'refused', 'a stranger with connections already is no better');
    });

    it('still accepts the source that has authenticated, over TCP and WebSocket, up to maxConnections', async () => {
      assert.equal(await openTcp(parley, '127.0.0.9', sockets), 'accepted');
      assert.equal(await openWebSocket(parley, '127.0.0.9', webSockets), 'accepted');
      assert.equal(await openTcp(parley, '127.0.0.9', sockets), 'accepted');
      // 10 open: the table is full for everyone
      assert.equal(await openTcp(parley, '127.0.0.10', sockets), 'refused');
      // the refusal's log line comes over Parley's stdout, which may trail the socket's close
      const refusals = await loggedRefusals(parley, ['authenticatedReserve', 'maxConnectionsPerSource', 'maxConnections']);
      assert.ok(refusals.includes('authenticatedReserve'), `no refusal logged for the reserve: ${JSON.stringify(refusals)}`);
      assert.ok(refusals.includes('maxConnectionsPerSource'));
      assert.ok(refusals.includes('maxConnections'));
    });

    it('logged no problem but the refusals', () => {
      assert.deepEqual(parley.problems().filter((l) => !/^connection refused/.test(l.msg ?? '')), []);
    });
  });
}
