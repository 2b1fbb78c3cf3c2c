/**
 * RegisteringUserAgent against an in-memory registrar whose digest policy is Parley's own
 * server-side DigestAuthenticator (nonces, nonce counts, stale=TRUE), on a fake clock
 * (testdata/memory-registrar.ts). The interop suites run it against Kamailio and Parley.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createResponse, serializeToString, SipRequest } from '../sip/index.js';
import { MemoryRegistrar } from './testdata/memory-registrar.js';
import { RegisteringUserAgent, type RegistrationDelegate, type UserAgentConfig } from './registering-user-agent.js';

const DOMAIN = 'example.com';

/** Everything the user agent reported, in order. */
class Events implements RegistrationDelegate {
  readonly log: string[] = [];
  readonly latencies: number[] = [];
  onRegistered(_ua: RegisteringUserAgent, refresh: boolean, latencyMs: number, granted: number): void {
    this.log.push(`${refresh ? 'refreshed' : 'registered'} ${granted}`);
    this.latencies.push(latencyMs);
  }
  onRegistrationFailed(_ua: RegisteringUserAgent, refresh: boolean, reason: string): void {
    this.log.push(`${refresh ? 'refresh' : 'register'} failed: ${reason}`);
  }
  onChallenged(_ua: RegisteringUserAgent, stale: boolean): void {
    this.log.push(stale ? 'stale' : 'challenged');
  }
  onUnregistered(_ua: RegisteringUserAgent, ok: boolean, reason: string): void {
    this.log.push(`unregistered ${ok} ${reason}`);
  }
  onConnectionLost(_ua: RegisteringUserAgent, reason: string): void {
    this.log.push(`lost: ${reason}`);
  }
  onPong(): void {
    this.log.push('pong');
  }
  onUnexpected(_ua: RegisteringUserAgent, what: string): void {
    this.log.push(`unexpected: ${what}`);
  }
}

function setup(options: { password?: string | undefined; users?: Record<string, string>; nonceLifetime?: number; expires?: number } = {}) {
  const clock = new FakeClock();
  const registrar = new MemoryRegistrar({ domain: DOMAIN, users: options.users ?? { alice: 's3cret' }, clock, nonceLifetime: options.nonceLifetime ?? 300 });
  const flow = registrar.connect();
  const config: UserAgentConfig = {
    user: 'alice',
    domain: DOMAIN,
    password: 'password' in options ? options.password : 's3cret',
    expires: options.expires ?? 600,
    transactionTimeoutMs: 32_000,
    userAgent: 'parley-load-test',
  };
  const ua = new RegisteringUserAgent(config, flow, clock, () => 0);
  const events = new Events();
  ua.delegate = events;
  return { clock, flow, ua, events };
}

/** Let the test registrar's async answers (authenticator, then delivery) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

describe('RegisteringUserAgent', () => {
  it('registers through a 401 with RFC 7118 / RFC 5626 headers, one Call-ID, CSeq + 1', async () => {
    const { flow, ua, events } = setup();
    ua.register();
    await settle();
    assert.deepEqual(events.log, ['challenged', 'registered 600']);
    assert.equal(ua.state, 'registered');
    const [first, second] = flow.requests;
    assert.ok(first && second);
    assert.equal(first.uri, `sip:${DOMAIN}`);
    assert.match(first.get('Via')!, /^SIP\/2\.0\/WSS flow0\.invalid;branch=z9hG4bK[0-9a-f]+$/);
    assert.equal(first.to.uri.toString(), `sip:alice@${DOMAIN}`);
    assert.equal(first.from.uri.toString(), `sip:alice@${DOMAIN}`);
    assert.ok(first.from.tag);
    const contact = first.contact[0]!;
    assert.equal(contact.uri.toString(), 'sip:alice@flow0.invalid;transport=ws');
    assert.match(contact.instance!, /^<urn:uuid:[0-9a-f-]{36}>$/);
    assert.equal(contact.regId, 1);
    assert.deepEqual(first.supported, ['path', 'outbound']);
    assert.equal(first.expires, 600);
    assert.equal(first.has('Authorization'), false);
    assert.equal(second.callId, first.callId);
    assert.equal(second.cseq.seq, first.cseq.seq + 1);
    assert.notEqual(second.topVia!.branch, first.topVia!.branch);
    assert.equal(second.authorization[0]!.nc, '00000001');
    assert.equal(second.authorization[0]!.qop, 'auth');
    assert.equal(second.authorization[0]!.algorithm, 'MD5', 'the topmost challenge (Parley offers MD5 first)');
  });

  it('refreshes at 80 % of the granted time with the same nonce and nc 2 (no challenge)', async () => {
    const { clock, flow, ua, events } = setup({ expires: 200 });
    ua.register();
    await settle();
    clock.advance(159_000);
    ua.tick(clock.now());
    assert.equal(flow.requests.length, 2, 'not yet');
    clock.advance(1000);
    ua.tick(clock.now());
    await settle();
    assert.deepEqual(events.log, ['challenged', 'registered 200', 'refreshed 200']);
    const refresh = flow.requests[2]!;
    assert.equal(refresh.authorization[0]!.nc, '00000002');
    assert.equal(refresh.authorization[0]!.nonce, flow.requests[1]!.authorization[0]!.nonce);
  });

  it('answers stale=TRUE on an expired nonce with the new nonce, silently (not a failure)', async () => {
    const { clock, flow, ua, events } = setup({ nonceLifetime: 60, expires: 600 });
    ua.register();
    await settle();
    clock.advance(480_000);
    ua.tick(clock.now());
    await settle();
    assert.deepEqual(events.log, ['challenged', 'registered 600', 'stale', 'refreshed 600']);
    const [, , old, fresh] = flow.requests;
    assert.ok(old && fresh);
    assert.notEqual(fresh.authorization[0]!.nonce, old.authorization[0]!.nonce);
    assert.equal(fresh.authorization[0]!.nc, '00000001');
  });

  it('a wrong password fails with the status and says so', async () => {
    const { ua, events, flow } = setup({ password: 'wrong' });
    ua.register();
    await settle();
    assert.deepEqual(events.log, ['challenged', 'register failed: 401 Unauthorized (credentials refused: wrong password or unknown user)']);
    assert.equal(ua.state, 'failed');
    assert.equal(flow.requests.length, 2, 'no third attempt');
  });

  it('a challenge without a password fails', async () => {
    const { ua, events } = setup({ password: undefined });
    ua.register();
    await settle();
    assert.deepEqual(events.log, ['register failed: 401 Unauthorized (challenged, but no password was given)']);
  });

  it('423 Interval Too Brief: retries once with Min-Expires', async () => {
    const { ua, events, flow } = setup({ expires: 30 });
    flow.script = [{ status: 423, headers: [['Min-Expires', '120']] }, 'no-auth'];
    ua.register();
    await settle();
    assert.deepEqual(events.log, ['registered 120']);
    assert.equal(flow.requests[1]!.expires, 120);
  });

  it('a final error status fails the registration with its status line', async () => {
    const { ua, events, flow } = setup();
    flow.script = [{ status: 403 }];
    ua.register();
    await settle();
    assert.deepEqual(events.log, ['register failed: 403 Forbidden']);
  });

  it('no final response within the timeout: "timeout", on tick()', async () => {
    const { clock, ua, events, flow } = setup();
    flow.script = ['silent'];
    ua.register();
    await settle();
    clock.advance(31_999);
    ua.tick(clock.now());
    assert.deepEqual(events.log, []);
    clock.advance(1);
    ua.tick(clock.now());
    assert.deepEqual(events.log, ['register failed: timeout (no final response in 32 s)']);
  });

  it('a 200 without our binding is a failure; a 100 is ignored', async () => {
    const { ua, events, flow } = setup();
    flow.script = [{ status: 100 }];
    ua.register();
    await settle();
    assert.deepEqual(events.log, []);
    const req = flow.requests[0]!;
    flow.deliver(serializeToString(createResponse(req, 200, { toTag: 'x', headers: [['Expires', '0']] })));
    assert.deepEqual(events.log, ['register failed: 200 OK without our binding']);
  });

  it('a response to another transaction is reported as stray and changes nothing', async () => {
    const { ua, events, flow } = setup();
    flow.script = ['silent'];
    ua.register();
    const req = flow.requests[0]!;
    const other = new SipRequest('REGISTER', req.uri, req.fields.map((f) => (f.key === 'via' ? { ...f, value: 'SIP/2.0/WSS flow0.invalid;branch=z9hG4bKother', raw: undefined } : f)));
    flow.deliver(serializeToString(createResponse(other, 200, { toTag: 'x' })));
    assert.deepEqual(events.log, ['unexpected: stray response 200']);
    assert.equal(ua.state, 'registering');
  });

  it('unregisters with Expires: 0 (reusing the nonce)', async () => {
    const { ua, events, flow } = setup();
    ua.register();
    await settle();
    ua.unregister();
    await settle();
    assert.deepEqual(events.log, ['challenged', 'registered 600', 'unregistered true 200 OK']);
    assert.equal(flow.requests[2]!.expires, 0);
    assert.equal(flow.requests[2]!.authorization[0]!.nc, '00000002');
    assert.equal(ua.state, 'unregistered');
  });

  it('a lost connection is reported, and fails the transaction in progress', async () => {
    const { ua, events, flow } = setup();
    flow.script = ['silent'];
    ua.register();
    flow.drop('connection reset by the server');
    assert.deepEqual(events.log, ['register failed: connection lost: connection reset by the server', 'lost: connection reset by the server']);
    assert.equal(ua.state, 'lost');
  });

  it('answers an OPTIONS from the server with 200 and other requests with 480; ACK gets nothing', () => {
    const { flow } = setup();
    const req = (method: string): string =>
      `${method} sip:alice@flow0.invalid;transport=ws SIP/2.0\r\nVia: SIP/2.0/WSS 127.0.0.1:8443;branch=z9hG4bK${method}\r\n` +
      `From: <sip:${DOMAIN}>;tag=s1\r\nTo: <sip:alice@${DOMAIN}>\r\nCall-ID: o1\r\nCSeq: 1 ${method}\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    flow.deliver(req('OPTIONS'));
    flow.deliver(req('ACK'));
    flow.deliver(req('INVITE'));
    assert.deepEqual(
      flow.sentResponses.map((r) => (r.isRequest ? r.method : r.status)),
      [200, 480],
    );
  });

  it('keepalive: the ping is outstanding until its pong', () => {
    const { clock, flow, ua, events } = setup();
    clock.advance(5000);
    assert.ok(ua.sendKeepalive('ping'));
    assert.equal(flow.pings, 1);
    assert.equal(ua.pingOutstandingSince, 5000);
    flow.delegate!.onPong();
    assert.equal(ua.pingOutstandingSince, undefined);
    assert.deepEqual(events.log, ['pong']);
  });

  it('over UDP retransmits the same request (Timer E: 500 ms, doubling to 4 s) until a final response', async () => {
    const { clock, flow, ua, events } = setup();
    flow.reliable = false;
    flow.script = ['silent', 'silent', 'auth'];
    ua.register();
    const at: number[] = [];
    const step = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 50) {
        const before = flow.requests.length;
        clock.advance(50);
        await settle();
        for (let i = before; i < flow.requests.length; i++) at.push(clock.now());
      }
    };
    await step(2000);
    // 0: first send; 500: E = T1; 1500: E = 2 T1, answered with a 401; the answer goes at once
    assert.equal(flow.requests.length, 4);
    assert.deepEqual(at, [500, 1500, 1500]);
    assert.equal(flow.requests[1]!.topVia!.branch, flow.requests[0]!.topVia!.branch, 'a retransmission is the same request');
    assert.equal(flow.requests[2]!.topVia!.branch, flow.requests[0]!.topVia!.branch);
    assert.notEqual(flow.requests[3]!.topVia!.branch, flow.requests[0]!.topVia!.branch, 'the answer to the 401 is a new transaction');
    assert.deepEqual(events.log, ['challenged', 'registered 600']);
    await step(10_000);
    assert.equal(flow.requests.length, 4, 'no retransmission after the final response');
  });

  it('over UDP with no answer: retransmissions every 4 s at most, then the timeout', async () => {
    const { clock, flow, ua, events } = setup();
    flow.reliable = false;
    flow.script = ['silent'];
    ua.register();
    const at: number[] = [];
    for (let t = 0; t < 33_000; t += 50) {
      const before = flow.requests.length;
      clock.advance(50);
      ua.tick(clock.now());
      await settle();
      for (let i = before; i < flow.requests.length; i++) at.push(clock.now());
    }
    // 0.5, 1.5, 3.5, 7.5, then every 4 s (T2) until 32 s (Timer F)
    assert.deepEqual(at, [500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    assert.deepEqual(events.log, ['register failed: timeout (no final response in 32 s)']);
  });

  it('over UDP a provisional response sets the interval to T2', async () => {
    const { clock, flow, ua } = setup();
    flow.reliable = false;
    flow.script = [{ status: 100 }, 'silent'];
    ua.register();
    await settle();
    const at: number[] = [];
    for (let t = 0; t < 9000; t += 50) {
      const before = flow.requests.length;
      clock.advance(50);
      await settle();
      for (let i = before; i < flow.requests.length; i++) at.push(clock.now());
    }
    assert.deepEqual(at, [4000, 8000]);
  });
});
