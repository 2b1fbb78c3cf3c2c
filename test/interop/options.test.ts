// sipp (a real SIP peer) sends OPTIONS to Parley over UDP, TCP and TLS; every one must get a 200
// with Allow (RFC 3261 §11.2). Run by `npm run test:interop` (builds dist/ first).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ParleyServer, stopCleanly } from './support/parley.js';
import { portPool } from './support/ports.js';
import { header } from './support/sip-trace.js';
import { runSipp, sippInfo, skipWithoutSipp, type SippTransport } from './support/sipp.js';

const N = 20;
const pool = portPool(import.meta.url);

describe('OPTIONS from sipp', { skip: skipWithoutSipp() }, () => {
  let parley: ParleyServer;

  before(async () => {
    parley = await ParleyServer.start({ pool });
  });

  after(() => stopCleanly(parley));

  for (const transport of ['udp', 'tcp', 'tls'] as const satisfies readonly SippTransport[]) {
    it(`answers ${N} OPTIONS over ${transport.toUpperCase()} with 200 and Allow`, async () => {
      const r = await runSipp({ ...parley.sippTarget(transport), scenario: 'options.xml', calls: N, rate: 50, timeoutSecs: 20 });
      assert.equal(r.code, 0, `sipp failed:\n${r.describe()}`);

      const sent = r.trace.filter((e) => e.direction === 'sent' && e.method === 'OPTIONS');
      const received = r.trace.filter((e) => e.direction === 'received');
      assert.equal(sent.length, N, `sipp sent ${sent.length} OPTIONS (retransmissions?):\n${r.describe()}`);
      assert.equal(received.length, N, `expected exactly ${N} responses:\n${r.describe()}`);
      const callIds = new Set<string>();
      for (const res of received) {
        assert.equal(res.status, 200, res.text);
        assert.match(header(res, 'Allow') ?? '', /\bOPTIONS\b/, `no Allow listing OPTIONS:\n${res.text}`);
        callIds.add(header(res, 'Call-ID') ?? '');
        // the response came back over the transport sipp sent on (for TLS sipp may speak TCP to the relay)
        assert.equal(res.transport, sent[0]!.transport);
      }
      assert.equal(callIds.size, N, 'one 200 per OPTIONS (distinct Call-IDs)');

      if (transport === 'tls') {
        if (r.tlsRelay !== undefined) {
          // sipp without OpenSSL: the relay carried sipp's TCP over TLS; check what it negotiated
          assert.deepEqual(r.tlsRelay.errors, []);
          assert.ok(r.tlsRelay.sessions.length >= 1, 'no TLS session was opened');
          const tlsLog = parley.logs.find((l) => typeof l.fingerprint256 === 'string');
          for (const s of r.tlsRelay.sessions) {
            assert.match(s.protocol ?? '', /^TLSv1\.[23]$/);
            if (tlsLog !== undefined) assert.equal(s.peerFingerprint256, tlsLog.fingerprint256, 'Parley served another certificate than the one it logged');
          }
        } else {
          assert.ok(sippInfo().tls);
          assert.equal(sent[0]!.transport, 'TLS');
        }
      }
    });
  }

  it('logged no warning or error', () => {
    assert.deepEqual(parley.problems(), []);
    assert.equal(parley.alive, true);
  });
});
