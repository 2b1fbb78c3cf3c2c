import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCollectorAddress } from './collector-address.js';

describe('parseCollectorAddress (hep.collectors)', () => {
  it('reads udp: and tcp: with a name, an IPv4 or a bracketed IPv6 address', () => {
    assert.deepEqual(parseCollectorAddress('udp:10.0.0.5:9060'), { ok: true, value: { transport: 'udp', host: '10.0.0.5', port: 9060 } });
    assert.deepEqual(parseCollectorAddress('TCP:homer.example.net:9061'), { ok: true, value: { transport: 'tcp', host: 'homer.example.net', port: 9061 } });
    assert.deepEqual(parseCollectorAddress('tcp:[2001:db8::5]:9060'), { ok: true, value: { transport: 'tcp', host: '2001:db8::5', port: 9060 } });
  });

  it('refuses anything else, saying why', () => {
    for (const bad of ['10.0.0.5:9060', 'sctp:10.0.0.5:9060', 'udp:10.0.0.5', 'udp:10.0.0.5:0', 'udp:10.0.0.5:65536', 'udp:2001:db8::5:9060', 'udp:[2001:db8::5]9060', 'udp:[nope]:9060', 'udp::9060']) {
      const r = parseCollectorAddress(bad);
      assert.equal(r.ok, false, bad);
    }
  });
});
