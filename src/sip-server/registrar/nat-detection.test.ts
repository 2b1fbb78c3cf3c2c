import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, type Flow, type SipRequest } from '../../sip/index.js';
import { addReceivedParameters } from '../transport/received-parameters.js';
import { addressClass, isPrivateAddress, natSigns, sendToOf, wantsOutbound, type NatDetection } from './nat-detection.js';

/** A phone on a public address, sending from the port it names. */
const PUBLIC = '198.51.100.7';

function flow(o: Partial<Flow> = {}): Flow {
  return { transport: 'udp', remoteAddress: PUBLIC, remotePort: 5062, localAddress: '203.0.113.1', localPort: 5060, ...o };
}

/** A REGISTER as it reaches the registrar: its top Via tagged with received/rport (RFC 3581) from `source`. */
function register(o: { via?: string; contact?: string; source?: Flow } = {}): SipRequest {
  const lines = [
    'REGISTER sip:example.com SIP/2.0',
    `Via: ${o.via ?? `SIP/2.0/UDP ${PUBLIC}:5062;branch=z9hG4bKnat;rport`}`,
    'Max-Forwards: 70',
    'To: <sip:bob@example.com>',
    'From: <sip:bob@example.com>;tag=1',
    'Call-ID: nat-1',
    'CSeq: 1 REGISTER',
    `Contact: ${o.contact ?? `<sip:bob@${PUBLIC}:5062>`}`,
    'Content-Length: 0',
    '',
    '',
  ];
  const r = parseMessage(lines.join('\r\n'));
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const request = r.message as SipRequest;
  addReceivedParameters(request, o.source ?? flow());
  return request;
}

/** Where the one contact of a REGISTER goes. */
function sendTo(o: { via?: string; contact?: string; source?: Flow } = {}, mode?: NatDetection): 'source' | 'contact' {
  const request = register(o);
  return sendToOf(request, request.contact[0]!, o.source ?? flow(), mode);
}

describe('addressClass', () => {
  it('classes IPv4 at the edges of each network, IPv6, IPv4-mapped IPv6 and names', () => {
    const cases: Array<[string, string]> = [
      ['10.0.0.0', 'private'], ['9.255.255.255', 'public'], ['11.0.0.0', 'public'],
      ['172.16.0.0', 'private'], ['172.31.255.255', 'private'], ['172.15.255.255', 'public'], ['172.32.0.0', 'public'],
      ['192.168.0.0', 'private'], ['192.167.255.255', 'public'], ['192.169.0.0', 'public'],
      ['100.64.0.0', 'private'], ['100.127.255.255', 'private'], ['100.63.255.255', 'public'], ['100.128.0.0', 'public'],
      ['192.0.0.0', 'private'], ['192.0.0.255', 'private'], ['192.0.1.0', 'public'], ['192.0.2.1', 'public'],
      ['169.254.0.1', 'private'], ['169.255.0.1', 'public'],
      ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['128.0.0.1', 'public'],
      ['0.0.0.0', 'nowhere'], ['0.1.2.3', 'nowhere'], ['224.0.0.1', 'nowhere'], ['255.255.255.255', 'nowhere'], ['223.255.255.255', 'public'],
      ['fd00::1', 'private'], ['[FC00::1]', 'private'], ['fe80::1', 'private'], ['febf::1', 'private'], ['fec0::1', 'public'],
      ['::1', 'loopback'], ['[::]', 'nowhere'], ['ff02::1', 'nowhere'], ['2001:db8::1', 'public'],
      ['::ffff:10.1.2.3', 'private'], ['[::ffff:127.0.0.1]', 'loopback'], ['::ffff:198.51.100.7', 'public'],
      ['phone.example.com', 'name'], ['1.2.3', 'name'], ['256.1.1.1', 'name'], ['1.2.3.4.5', 'name'], ['.1.2.3', 'name'], ['', 'name'],
    ];
    for (const [address, expected] of cases) assert.equal(addressClass(address), expected, address);
  });
});

describe('NAT detection (nat_uac_test 1, 2, 16) for UDP bindings', () => {
  it('no sign of NAT: the Contact (also when its port is not the source port: flag 128 is not a sign)', () => {
    assert.equal(sendTo(), 'contact');
    // a provisioning tool registers from 40000 for a phone that listens on 5062 (Via names the tool)
    const tool = flow({ remotePort: 40000 });
    assert.equal(sendTo({ via: `SIP/2.0/UDP ${PUBLIC}:40000;branch=z9hG4bKt`, contact: `<sip:bob@${PUBLIC}:5062>`, source: tool }), 'contact');
    const signs = natSigns(register(), register().contact[0]!, flow());
    assert.deepEqual(signs, { privateContact: false, localContact: false, viaAddress: false, viaPort: false });
  });

  describe('flag 1: a private Contact address while the source is not private', () => {
    for (const host of ['10.0.0.5', '172.16.3.4', '172.31.255.1', '192.168.1.10', '100.64.0.1', '100.127.255.254', '192.0.0.2', '169.254.10.1', '[fd00::1]', '[fc12:3456::1]', '[fe80::1]']) {
      it(`${host} from ${PUBLIC}: the source`, () => {
        assert.equal(sendTo({ contact: `<sip:bob@${host}:5062>` }), 'source');
        assert.equal(natSigns(register({ contact: `<sip:bob@${host}:5062>` }), register({ contact: `<sip:bob@${host}:5062>` }).contact[0]!, flow()).privateContact, true);
      });
    }
    for (const host of ['11.0.0.1', '172.32.0.1', '172.15.255.255', '192.169.0.1', '100.128.0.1', '100.63.255.255', '203.0.113.9', '[2001:db8::1]', '127.0.0.1', 'phone.example.com']) {
      it(`${host} is not private: the Contact`, () => {
        const request = register({ contact: `<sip:bob@${host}:5062>` });
        assert.equal(natSigns(request, request.contact[0]!, flow()).privateContact, false);
      });
    }
    it('a private Contact from a private source (Parley and the phone on one LAN): no sign', () => {
      const lan = flow({ remoteAddress: '192.168.1.10' });
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bKl;rport', contact: '<sip:bob@192.168.1.10:5062>', source: lan }), 'contact');
      const other = flow({ remoteAddress: '10.1.2.3' });
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 10.1.2.3:5062;branch=z9hG4bKl;rport', contact: '<sip:bob@192.168.1.10:5062>', source: other }), 'contact');
    });
    it('an IPv4-mapped IPv6 source counts as its IPv4 address', () => {
      assert.equal(isPrivateAddress('::ffff:10.0.0.1'), true);
      assert.equal(isPrivateAddress('[::ffff:198.51.100.7]'), false);
      const mapped = flow({ remoteAddress: '::ffff:10.9.9.9' });
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 10.9.9.9:5062;branch=z9hG4bKm', contact: '<sip:bob@10.0.0.5:5062>', source: mapped }), 'contact');
    });
  });

  describe('a Contact on this host (loopback) from another host, or on an address nothing can be sent to', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', '[::1]', '0.0.0.0', '224.0.0.1', '255.255.255.255', '[::]', '[ff02::1]']) {
      it(`${host} from ${PUBLIC} (Via and source agree): the source`, () => {
        const request = register({ contact: `<sip:bob@${host}:5062>` });
        assert.equal(natSigns(request, request.contact[0]!, flow()).localContact, true);
        assert.equal(sendTo({ contact: `<sip:bob@${host}:5062>` }), 'source');
      });
    }
    it('the Contact\'s maddr is where a request would go: its address is the one classed', () => {
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062;maddr=127.0.0.1>` }), 'source');
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062;maddr=10.0.0.1>` }), 'source');
      assert.equal(sendTo({ contact: `<sip:bob@10.0.0.1:5062;maddr=${PUBLIC}>` }), 'contact');
    });
    it('a loopback Contact from a loopback source (a phone on Parley\'s own host): no sign', () => {
      const local = flow({ remoteAddress: '127.0.0.1' });
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKo', contact: '<sip:bob@127.0.0.1:5064>', source: local }), 'contact');
    });
  });

  describe('flag 2: the top Via sent-by host is not the source address', () => {
    it('another address: the source', () => {
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 203.0.113.50:5062;branch=z9hG4bKv', contact: '<sip:bob@203.0.113.50:5062>' }), 'source');
    });
    it('a host name: the source (RFC 3261 §18.2.1 adds received for it too)', () => {
      assert.equal(sendTo({ via: 'SIP/2.0/UDP phone.example.com:5062;branch=z9hG4bKv', contact: '<sip:bob@phone.example.com:5062>' }), 'source');
    });
    it('the same address, IPv6 written another way: the Contact', () => {
      const v6 = flow({ remoteAddress: '2001:db8::7' });
      assert.equal(sendTo({ via: 'SIP/2.0/UDP [2001:DB8:0::7]:5062;branch=z9hG4bKv', contact: '<sip:bob@[2001:db8::7]:5062>', source: v6 }), 'contact');
      assert.equal(sendTo({ via: 'SIP/2.0/UDP [2001:db8::8]:5062;branch=z9hG4bKv', contact: '<sip:bob@[2001:db8::7]:5062>', source: v6 }), 'source');
    });
  });

  describe('flag 16: the top Via sent-by port is not the source port', () => {
    it('another port: the source', () => {
      assert.equal(sendTo({ via: `SIP/2.0/UDP ${PUBLIC}:5070;branch=z9hG4bKp;rport`, contact: `<sip:bob@${PUBLIC}:5070>` }), 'source');
    });
    it('no port in the Via is 5060: the Contact from 5060, the source from another port', () => {
      const from5060 = flow({ remotePort: 5060 });
      assert.equal(sendTo({ via: `SIP/2.0/UDP ${PUBLIC};branch=z9hG4bKp`, contact: `<sip:bob@${PUBLIC}>`, source: from5060 }), 'contact');
      assert.equal(sendTo({ via: `SIP/2.0/UDP ${PUBLIC};branch=z9hG4bKp`, contact: `<sip:bob@${PUBLIC}>` }), 'source');
    });
  });

  describe('flows: a connection or RFC 5626 outbound goes to the flow whatever the signs', () => {
    it('over TCP, TLS, WebSocket: the source (the connection)', () => {
      for (const transport of ['tcp', 'tls', 'ws', 'wss'] as const) {
        const source = flow({ transport, connectionId: 3 });
        assert.equal(sendTo({ via: `SIP/2.0/${transport.toUpperCase()} ${PUBLIC}:5062;branch=z9hG4bKc`, source }), 'source', transport);
        assert.equal(sendTo({ via: `SIP/2.0/${transport.toUpperCase()} ${PUBLIC}:5062;branch=z9hG4bKc`, source }, 'never'), 'source', transport);
      }
    });
    it('+sip.instance with reg-id, or ;ob in the Contact URI: the source; an instance without reg-id is no outbound', () => {
      const instance = '+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"';
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062>;${instance};reg-id=1` }), 'source');
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062;ob>` }), 'source');
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062;ob>` }, 'never'), 'source');
      assert.equal(sendTo({ contact: `<sip:bob@${PUBLIC}:5062>;${instance}` }), 'contact');
      assert.equal(wantsOutbound(register({ contact: `<sip:bob@${PUBLIC}:5062>;reg-id=1` }).contact[0]!), false);
    });
  });

  describe('registrar.natDetection', () => {
    it('always: the source without any sign; never: the Contact with every sign', () => {
      assert.equal(sendTo({}, 'always'), 'source');
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKn', contact: '<sip:bob@10.0.0.5:5070>' }, 'never'), 'contact');
      assert.equal(sendTo({ via: 'SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKn', contact: '<sip:bob@10.0.0.5:5070>' }, 'auto'), 'source');
    });
  });
});
