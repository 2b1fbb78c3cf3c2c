import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVia } from '../../sip/index.js';
import type { Flow } from './flow.js';
import { responseTarget, sourceTarget } from './response-target.js';

const udpSource: Flow = { transport: 'udp', remoteAddress: '192.0.2.7', remotePort: 40000, localAddress: '0.0.0.0', localPort: 5060 };
const tcpSource: Flow = { transport: 'tcp', remoteAddress: '192.0.2.7', remotePort: 40001, connectionId: 12 };

/** Table of RFC 3261 §18.2.2 / RFC 3581 §4 cases: Via → where the response goes. */
const cases: Record<string, { via: string; source: Flow; expect: Record<string, unknown> }> = {
  'UDP with received and rport → received:rport (RFC 3581 §4)': {
    via: 'SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;rport=40000;received=192.0.2.7',
    source: udpSource,
    expect: { transport: 'udp', host: '192.0.2.7', port: 40000, rule: 'rport', localAddress: '0.0.0.0', localPort: 5060 },
  },
  'UDP with received only → received:sent-by port': {
    via: 'SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;received=192.0.2.7',
    source: udpSource,
    expect: { host: '192.0.2.7', port: 5070, rule: 'received' },
  },
  'UDP with received and no sent-by port → received:5060': {
    via: 'SIP/2.0/UDP pc.example.com;branch=z9hG4bK1;received=192.0.2.7',
    source: udpSource,
    expect: { host: '192.0.2.7', port: 5060, rule: 'received' },
  },
  'UDP with maddr → maddr:sent-by port, before received and rport': {
    via: 'SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;maddr=198.51.100.3;rport=40000;received=192.0.2.7',
    source: udpSource,
    expect: { host: '198.51.100.3', port: 5070, rule: 'maddr' },
  },
  'UDP with maddr and no port → maddr:5060': {
    via: 'SIP/2.0/UDP pc.example.com;branch=z9hG4bK1;maddr=198.51.100.3',
    source: udpSource,
    expect: { host: '198.51.100.3', port: 5060, rule: 'maddr' },
  },
  'UDP not receiver-tagged → sent-by': {
    via: 'SIP/2.0/UDP 192.0.2.7:5080;branch=z9hG4bK1',
    source: udpSource,
    expect: { host: '192.0.2.7', port: 5080, rule: 'sent-by' },
  },
  'UDP IPv6 sent-by loses its brackets': {
    via: 'SIP/2.0/UDP [2001:db8::9];branch=z9hG4bK1',
    source: udpSource,
    expect: { host: '2001:db8::9', port: 5060, rule: 'sent-by' },
  },
  'TCP with the request connection → that connection': {
    via: 'SIP/2.0/TCP pc.example.com:5070;branch=z9hG4bK1;received=192.0.2.7',
    source: tcpSource,
    expect: { transport: 'tcp', connectionId: 12, host: '192.0.2.7', port: 5070, rule: 'connection' },
  },
  'TCP without a connection → received:sent-by port': {
    via: 'SIP/2.0/TCP pc.example.com:5070;branch=z9hG4bK1;received=192.0.2.7;rport=40001',
    source: { transport: 'tcp', remoteAddress: '192.0.2.7', remotePort: 40001 },
    expect: { transport: 'tcp', host: '192.0.2.7', port: 5070, rule: 'received', connectionId: undefined },
  },
  'TLS without port → received:5061 (default port of the transport)': {
    via: 'SIP/2.0/TLS pc.example.com;branch=z9hG4bK1;received=192.0.2.7',
    source: { transport: 'tls', remoteAddress: '192.0.2.7', remotePort: 40001 },
    expect: { transport: 'tls', host: '192.0.2.7', port: 5061, rule: 'received' },
  },
  'a UDP request whose Via says TCP is answered over UDP, no connection opened (DEVIATION)': {
    via: 'SIP/2.0/TCP 192.0.2.7:5070;branch=z9hG4bK1;rport=40000;received=192.0.2.7',
    source: udpSource,
    expect: { transport: 'udp', host: '192.0.2.7', port: 40000, rule: 'rport', connectionId: undefined },
  },
  'a TCP request whose Via says UDP is answered over its connection (DEVIATION)': {
    via: 'SIP/2.0/UDP pc.example.com:5070;branch=z9hG4bK1;received=192.0.2.7',
    source: tcpSource,
    expect: { transport: 'tcp', connectionId: 12, rule: 'connection' },
  },
  'WSS keeps the connection': {
    via: 'SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1;received=192.0.2.7',
    source: { transport: 'wss', remoteAddress: '192.0.2.7', remotePort: 40001, connectionId: 3 },
    expect: { transport: 'wss', connectionId: 3, rule: 'connection' },
  },
};

describe('responseTarget (RFC 3261 §18.2.2, RFC 3581 §4)', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      const target = responseTarget(parseVia(c.via), c.source);
      assert.ok(target);
      for (const [k, v] of Object.entries(c.expect)) assert.equal((target as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it('sourceTarget: the source address and port over the arrival transport and connection, whatever the Via', () => {
    assert.deepEqual(sourceTarget(udpSource), { transport: 'udp', host: '192.0.2.7', port: 40000, localAddress: '0.0.0.0', localPort: 5060, rule: 'source' });
    assert.deepEqual(sourceTarget(tcpSource), { transport: 'tcp', connectionId: 12, host: '192.0.2.7', port: 40001, rule: 'source' });
  });

  it('gives undefined for a transport Parley does not speak (SCTP)', () => {
    assert.equal(responseTarget(parseVia('SIP/2.0/SCTP pc.example.com;branch=z9hG4bK1'), udpSource), undefined);
  });
});
