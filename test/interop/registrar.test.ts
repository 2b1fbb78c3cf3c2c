// Parley as a registrar (RFC 3261 §10.3) for sipp, a real UA, over UDP: the digest challenge,
// registration, refresh, removal, the query, wrong credentials and too brief registrations.
// Each check reads sipp's exit code (the scenario's flow happened) and its message trace.
// Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { clearBindings, queryBindings, register, registrationRun } from './support/registration.js';
import { contacts, digestParams, flow, header, headerFields, headers, received, sent, tagOf, type NameAddr, type SippTraceEntry } from './support/sip-trace.js';
import { reserveEndpoint, skipWithoutSipp, type SippEndpoint, type SippResult } from './support/sipp.js';

const ALICE = { user: 'alice', password: 'secret1' };
const CAROL = { user: 'carol', password: 'secret3' };
const pool = portPool(import.meta.url);

/** The one 200 of a registration run, or a failure that shows the run. */
function the200(r: SippResult): SippTraceEntry {
  const oks = received(r.trace, { status: 200 });
  assert.equal(oks.length, 1, `expected one 200:\n${r.describe()}`);
  return oks[0]!;
}

function expiresOf(c: NameAddr): number {
  const e = c.params.get('expires');
  assert.ok(e !== undefined && /^\d+$/.test(e), `no expires parameter on ${c.uri}`);
  return Number(e);
}

describe('registrar with sipp over UDP', { skip: skipWithoutSipp(), timeout: 120_000 }, () => {
  let parley: ParleyServer;
  /** alice's phone: every registration of hers comes from this port with one Call-ID. */
  let alicePhone: SippEndpoint;
  const aliceCallId = `alice-${process.pid}-${Date.now()}@127.0.0.1`;

  before(async () => {
    // SHA-256 offered besides MD5 (the default is MD5 alone): sipp answers the first, MD5
    parley = await ParleyServer.start({ pool, logLevel: 'debug', transports: ['udp'], subscribers: [ALICE, CAROL], config: { auth: { algorithms: ['MD5', 'SHA-256'] } } });
    alicePhone = await reserveEndpoint(pool);
  });

  after(() => stopCleanly(parley));

  it('REGISTER: 401 with an MD5 then a SHA-256 challenge, then 200 listing the contact with its expiry', async () => {
    const r = await register(parley, ALICE, { endpoint: alicePhone, expires: 3600, callId: aliceCallId, baseCseq: 1 });
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
    assert.deepEqual(flow(r.trace), ['> REGISTER', '< 401', '> REGISTER', '< 200'], r.describe());

    const [challenge] = received(r.trace, { status: 401 });
    const offers = headers(challenge!, 'WWW-Authenticate').map(digestParams);
    assert.deepEqual(offers.map((o) => o.get('algorithm')), ['MD5', 'SHA-256'], `challenges in order MD5, SHA-256:\n${challenge!.text}`);
    for (const o of offers) {
      assert.equal(o.get('realm'), '127.0.0.1');
      assert.match(o.get('qop') ?? '', /\bauth\b/);
      assert.ok((o.get('nonce') ?? '').length >= 16, `a nonce: ${challenge!.text}`);
    }
    const [, answer] = sent(r.trace, { method: 'REGISTER' });
    const credentials = digestParams(header(answer!, 'Authorization') ?? '');
    assert.equal(credentials.get('username'), 'alice');
    assert.equal(credentials.get('nonce'), offers[0]!.get('nonce'), 'sipp answered the first (MD5) challenge');

    const ok = the200(r);
    assert.equal(header(ok, 'Call-ID'), aliceCallId);
    assert.equal(header(ok, 'CSeq'), '2 REGISTER');
    const bound = contacts(ok);
    assert.equal(bound.length, 1, `one binding:\n${ok.text}`);
    assert.equal(bound[0]!.uri, `sip:alice@127.0.0.1:${alicePhone.port};transport=UDP`);
    const expires = expiresOf(bound[0]!);
    assert.ok(expires > 3590 && expires <= 3600, `expires=${expires}, asked 3600`);
  });

  it('refresh (same Call-ID, higher CSeq, another Expires): 200, still one binding, with the new expiry', async () => {
    const r = await register(parley, ALICE, { endpoint: alicePhone, expires: 1800, callId: aliceCallId, baseCseq: 11 });
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
    assert.deepEqual(flow(r.trace), ['> REGISTER', '< 401', '> REGISTER', '< 200'], r.describe());
    const ok = the200(r);
    assert.equal(header(ok, 'CSeq'), '12 REGISTER');
    const bound = contacts(ok);
    assert.equal(bound.length, 1, `still one binding after the refresh:\n${ok.text}`);
    assert.equal(bound[0]!.uri, `sip:alice@127.0.0.1:${alicePhone.port};transport=UDP`);
    const expires = expiresOf(bound[0]!);
    assert.ok(expires > 1790 && expires <= 1800, `expires=${expires} after a refresh asking 1800`);

    const { bindings } = await queryBindings(parley, ALICE);
    assert.deepEqual(bindings.map((b) => b.uri), [`sip:alice@127.0.0.1:${alicePhone.port};transport=UDP`], 'a query lists the one binding');
  });

  it('un-REGISTER (Expires: 0): 200 without that contact, and a query lists nothing', async () => {
    const r = await register(parley, ALICE, { endpoint: alicePhone, expires: 0, callId: aliceCallId, baseCseq: 21 });
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
    assert.deepEqual(flow(r.trace), ['> REGISTER', '< 401', '> REGISTER', '< 200'], r.describe());
    const ok = the200(r);
    assert.deepEqual(headers(ok, 'Contact'), [], `no Contact left:\n${ok.text}`);
    const { bindings } = await queryBindings(parley, ALICE);
    assert.deepEqual(bindings, []);
  });

  /** reg-wrong-password.xml for one user: REGISTER -> 401 -> REGISTER + Authorization -> 401. */
  async function refused(user: string, password: string): Promise<{ run: SippResult; request: SippTraceEntry; response: SippTraceEntry }> {
    const run = await registrationRun(parley, 'reg-wrong-password.xml', { user, password }, { expires: 3600 });
    assert.equal(run.code, 0, `sipp did not see REGISTER/401/REGISTER/401:\n${run.describe()}`);
    assert.deepEqual(flow(run.trace), ['> REGISTER', '< 401', '> REGISTER', '< 401'], run.describe());
    const request = sent(run.trace, { method: 'REGISTER' })[1]!;
    assert.match(header(request, 'Authorization') ?? '', new RegExp(`username="${user}"`), 'the second REGISTER carries credentials');
    return { run, request, response: received(run.trace, { status: 401 })[1]! };
  }

  it('a wrong password gets 401 again, and nothing is stored', async () => {
    const { response } = await refused('carol', 'not-her-password');
    assert.equal(headers(response, 'WWW-Authenticate').length, 2, `a fresh challenge:\n${response.text}`);
    assert.deepEqual(headers(response, 'Contact'), []);
    const { bindings } = await queryBindings(parley, CAROL);
    assert.deepEqual(bindings, [], 'the refused REGISTER stored a binding');
  });

  it('an unknown user gets the same response as a wrong password (same status, headers and values but the nonce)', async () => {
    const wrong = await refused('carol', 'still-not-her-password');
    const unknown = await refused('mallory', 'whatever1');
    const a = wrong.response;
    const b = unknown.response;
    assert.equal(b.startLine, a.startLine);
    const fa = headerFields(a);
    const fb = headerFields(b);
    assert.deepEqual(fb.map(([n]) => n), fa.map(([n]) => n), `header names differ:\n${a.text}\n---\n${b.text}`);
    for (const [i, [name, va]] of fa.entries()) {
      const vb = fb[i]![1];
      if (['via', 'from', 'call-id', 'cseq'].includes(name)) {
        // echoed from each request (RFC 3261 §8.2.6.2): compare each with its own request; the
        // Via gains received and the rport value (RFC 3261 §18.2.1, RFC 3581 §4)
        const echo = (v: string): string => (name === 'via' ? v.replace(/;received=[^;,]*/, '').replace(/;rport=\d+/, ';rport') : v);
        assert.deepEqual(headers(a, name).map(echo), headers(wrong.request, name), `${name} of the wrong-password 401`);
        assert.deepEqual(headers(b, name).map(echo), headers(unknown.request, name), `${name} of the unknown-user 401`);
      } else if (name === 'to') {
        assert.equal(va.replace(/;\s*tag=[^;]*/, ''), header(wrong.request, 'To'));
        assert.equal(vb.replace(/;\s*tag=[^;]*/, ''), header(unknown.request, 'To'));
        assert.ok(tagOf(va) && tagOf(vb), 'both To headers carry a tag');
      } else if (name === 'date') {
        assert.ok(!Number.isNaN(Date.parse(vb)), `Date: ${vb}`);
      } else {
        const strip = (v: string): string => v.replace(/nonce="[^"]*"/, 'nonce="…"');
        assert.equal(strip(vb), strip(va), `${name} differs between an unknown user and a wrong password`);
      }
    }
    const nonces = (e: SippTraceEntry): string[] => headers(e, 'WWW-Authenticate').map((v) => digestParams(v).get('nonce') ?? '');
    assert.notDeepEqual(nonces(b), nonces(a), 'each challenge has a fresh nonce');
  });

  it('Expires below 60 s gets 423 Interval Too Brief with Min-Expires: 60, and no binding', async () => {
    const r = await registrationRun(parley, 'reg-too-brief.xml', ALICE, { expires: 30 });
    assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);
    assert.deepEqual(flow(r.trace), ['> REGISTER', '< 401', '> REGISTER', '< 423'], r.describe());
    const [brief] = received(r.trace, { status: 423 });
    assert.equal(header(brief!, 'Min-Expires'), '60', brief!.text);
    const { bindings } = await queryBindings(parley, ALICE);
    assert.deepEqual(bindings, []);
  });

  it('Contact: * with Expires: 0 removes every binding of the AOR', async () => {
    const first = await register(parley, CAROL, { expires: 600 });
    const second = await register(parley, CAROL, { expires: 600 });
    assert.equal(first.code, 0, first.describe());
    assert.equal(second.code, 0, second.describe());
    assert.equal(contacts(the200(second)).length, 2, `two phones, two bindings:\n${the200(second).text}`);
    const cleared = await clearBindings(parley, CAROL);
    assert.deepEqual(headers(the200(cleared), 'Contact'), []);
    const { bindings } = await queryBindings(parley, CAROL);
    assert.deepEqual(bindings, []);
  });

  it('Parley logged no error and is still running', () => {
    assert.equal(parley.alive, true);
    assert.deepEqual(parley.logs.filter((l) => (l.level ?? 0) >= 50), []);
  });
});
