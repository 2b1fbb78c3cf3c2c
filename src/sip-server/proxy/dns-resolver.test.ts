import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUri } from '../../sip/index.js';
import { resolveSipUri, type DnsLookup } from './dns-resolver.js';

/** A fixed DNS (the server around the resolver is a stand-in; the resolver is what is tested). */
function table(t: { naptr?: Record<string, Array<[string, string, string, number, number]>>; srv?: Record<string, Array<[string, number, number, number]>>; a?: Record<string, string[]> }): DnsLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    naptr: async (n) => {
      asked.push(`NAPTR ${n}`);
      return (t.naptr?.[n] ?? []).map(([flags, service, replacement, order, preference]) => ({ flags, service, replacement, order, preference }));
    },
    srv: async (n) => {
      asked.push(`SRV ${n}`);
      return (t.srv?.[n] ?? []).map(([name, port, priority, weight]) => ({ name, port, priority, weight }));
    },
    addresses: async (n) => {
      asked.push(`A ${n}`);
      const a = t.a?.[n];
      if (!a) throw new Error('ENOTFOUND');
      return a;
    },
  };
}

const resolve = (uri: string, dns: DnsLookup) => resolveSipUri(parseUri(uri), dns);

describe('resolveSipUri (RFC 3263 §4)', () => {
  it('uses a numeric IP and port as they are, with no DNS', async () => {
    const dns = table({});
    assert.deepEqual(await resolve('sip:bob@192.0.2.4:5070;transport=tcp', dns), [{ transport: 'tcp', address: '192.0.2.4', port: 5070 }]);
    assert.deepEqual(await resolve('sip:bob@[2001:db8::1]', dns), [{ transport: 'udp', address: '2001:db8::1', port: 5060 }]);
    assert.deepEqual(await resolve('sips:bob@192.0.2.4', dns), [{ transport: 'tls', address: '192.0.2.4', port: 5061 }]);
    assert.deepEqual(dns.asked, []);
  });

  it('a name with a port gets A/AAAA only', async () => {
    const dns = table({ a: { 'pbx.example.com': ['192.0.2.9'] } });
    assert.deepEqual(await resolve('sip:pbx.example.com:5080', dns), [{ transport: 'udp', address: '192.0.2.9', port: 5080 }]);
    assert.deepEqual(dns.asked, ['A pbx.example.com']);
  });

  it('follows NAPTR then SRV in order of preference', async () => {
    const dns = table({
      naptr: { 'example.com': [['s', 'SIP+D2T', '_sip._tcp.example.com', 10, 20], ['s', 'SIP+D2U', '_sip._udp.example.com', 10, 10]] },
      srv: { '_sip._udp.example.com': [['b.example.com', 5062, 20, 0], ['a.example.com', 5060, 10, 0]] },
      a: { 'a.example.com': ['192.0.2.1'], 'b.example.com': ['192.0.2.2'] },
    });
    assert.deepEqual(await resolve('sip:bob@example.com', dns), [
      { transport: 'udp', address: '192.0.2.1', port: 5060 },
      { transport: 'udp', address: '192.0.2.2', port: 5062 },
    ]);
  });

  it('without NAPTR tries SRV per transport, then A with the default port', async () => {
    const srvOnly = table({ srv: { '_sip._tcp.example.org': [['sip.example.org', 5060, 0, 0]] }, a: { 'sip.example.org': ['192.0.2.7'] } });
    assert.deepEqual(await resolve('sip:example.org', srvOnly), [{ transport: 'tcp', address: '192.0.2.7', port: 5060 }]);
    const aOnly = table({ a: { 'example.net': ['192.0.2.8'] } });
    assert.deepEqual(await resolve('sip:example.net', aOnly), [{ transport: 'udp', address: '192.0.2.8', port: 5060 }]);
    assert.deepEqual(await resolve('sip:example.net;transport=tcp', aOnly), [{ transport: 'tcp', address: '192.0.2.8', port: 5060 }]);
  });

  it('returns nothing for what does not resolve or a transport not supported', async () => {
    assert.deepEqual(await resolve('sip:nowhere.invalid', table({})), []);
    assert.deepEqual(await resolve('sip:192.0.2.1;transport=sctp', table({})), []);
    assert.deepEqual(await resolve('tel:+15551234', table({})), []);
  });
});
