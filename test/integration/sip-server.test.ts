/**
 * The SIP server over real loopback sockets: a UDP and a TCP listener, the transaction layer and
 * the basic handler. A raw socket plays the client so every byte the server sends is checked.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { parseMessage, SipResponse } from '../../src/sip/index.js';
import { SipServer } from '../../src/sip-server/index.js';

let server: SipServer;
let udpPort: number;
let tcpPort: number;
let client: Socket;
let clientPort: number;
const inbox: SipResponse[] = [];

function request(method: string, opts: { branch?: string; cseqMethod?: string; extra?: string[]; callId?: string; to?: string } = {}): string {
  const branch = opts.branch ?? `z9hG4bK${Math.random().toString(36).slice(2)}`;
  return [
    `${method} sip:127.0.0.1:${udpPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${clientPort};branch=${branch};rport`,
    'Max-Forwards: 70',
    `To: ${opts.to ?? `<sip:127.0.0.1:${udpPort}>`}`,
    'From: <sip:tester@127.0.0.1>;tag=abc',
    `Call-ID: ${opts.callId ?? Math.random().toString(36).slice(2)}`,
    `CSeq: 1 ${opts.cseqMethod ?? method}`,
    ...(opts.extra ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function send(text: string, wait = 1): Promise<SipResponse[]> {
  const start = inbox.length;
  client.send(text, udpPort, '127.0.0.1');
  const deadline = Date.now() + 2000;
  while (inbox.length - start < wait && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, wait === 0 ? 300 : 30));
  return inbox.slice(start);
}

before(async () => {
  server = new SipServer({ listeners: [{ transport: 'udp', address: '127.0.0.1', port: 0 }, { transport: 'tcp', address: '127.0.0.1', port: 0 }] });
  const ls = await server.start();
  udpPort = ls.find((l) => l.transport === 'udp')!.port;
  tcpPort = ls.find((l) => l.transport === 'tcp')!.port;
  client = createSocket('udp4');
  await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));
  clientPort = client.address().port;
  client.on('message', (b) => {
    const r = parseMessage(b);
    if (r.ok && r.message instanceof SipResponse) inbox.push(r.message);
  });
});

after(async () => {
  client.close();
  await server.stop();
});

describe('SipServer over loopback', () => {
  it('answers OPTIONS with 200 listing Allow and Accept, with a To tag and a Server header', async () => {
    const [r] = await send(request('OPTIONS'));
    assert.equal(r?.status, 200);
    assert.ok(r!.allow.includes('OPTIONS'));
    assert.equal(r!.get('accept'), 'application/sdp');
    assert.ok(r!.to.tag);
    assert.equal(r!.server, 'Parley');
    assert.equal(r!.topVia?.rport, clientPort, 'rport filled (RFC 3581)');
    assert.equal(r!.topVia?.received, '127.0.0.1');
  });

  it('answers OPTIONS over TCP on the same connection', async () => {
    const sock = connect(tcpPort, '127.0.0.1');
    const text = await new Promise<string>((resolve, reject) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\r\n\r\n')) resolve(buf);
      });
      sock.on('error', reject);
      sock.write(request('OPTIONS').replace('SIP/2.0/UDP', 'SIP/2.0/TCP'));
    });
    sock.destroy();
    assert.match(text, /^SIP\/2\.0 200 OK\r\n/);
  });

  it('answers other methods with 501 until a registrar or proxy handles them', async () => {
    const [r] = await send(request('MESSAGE'));
    assert.equal(r?.status, 501);
  });

  it('absorbs a retransmitted request and resends the same response', async () => {
    const text = request('MESSAGE', { branch: 'z9hG4bKretrans1' });
    const [a] = await send(text);
    const [b] = await send(text);
    assert.equal(a?.status, 501);
    assert.equal(b?.status, 501);
    assert.equal(a!.to.tag, b!.to.tag, 'the same response, not a new transaction');
    assert.ok(server.stats.absorbed >= 1);
  });

  it('answers a CANCEL that matches nothing with 481', async () => {
    const [r] = await send(request('CANCEL'));
    assert.equal(r?.status, 481);
  });

  it('answers a request with a malformed header with 400 naming the place', async () => {
    const [r] = await send(request('OPTIONS', { extra: ['Max-Forwards: 300'] }).replace('Max-Forwards: 70\r\n', ''));
    assert.equal(r?.status, 400);
    assert.equal(r!.reason, 'Bad Request (header/Max-Forwards)');
    assert.match(r!.get('warning') ?? '', /^399 parley "/);
  });

  it('answers a request with a CSeq method mismatch with 400', async () => {
    const [r] = await send(request('OPTIONS', { cseqMethod: 'INVITE' }));
    assert.equal(r?.status, 400);
  });

  it('answers an unsupported SIP version with 505', async () => {
    const [r] = await send(request('OPTIONS').replace(' SIP/2.0\r\n', ' SIP/3.0\r\n'));
    assert.equal(r?.status, 505);
  });

  it('answers a malformed request to its source, whatever its Via says (no rport, another port, TCP)', async () => {
    const text = request('OPTIONS', { cseqMethod: 'INVITE' }).replace(`SIP/2.0/UDP 127.0.0.1:${clientPort};branch=`, `SIP/2.0/TCP 127.0.0.1:${tcpPort + 1};branch=`).replace(';rport', '');
    const [r] = await send(text);
    assert.equal(r?.status, 400);
    assert.equal(r!.topVia?.transport, 'TCP', 'the Via is copied as it came');
  });

  it('drops what it cannot answer (garbage, a malformed response) and keeps serving', async () => {
    assert.deepEqual(await send('\x00\x01garbage\r\n\r\n', 0), []);
    assert.deepEqual(await send('SIP/2.0 999 Nope\r\nVia: SIP/2.0/UDP x\r\n\r\n', 0), []);
    assert.deepEqual(await send('\r\n', 0), [], 'a CRLF keepalive datagram is ignored');
    const [r] = await send(request('OPTIONS'));
    assert.equal(r?.status, 200);
  });
});
