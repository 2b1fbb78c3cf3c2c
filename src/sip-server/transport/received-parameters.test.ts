import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMessage, type SipRequest, serializeToString } from '../../sip/index.js';
import type { Flow } from './flow.js';
import { addReceivedParameters } from './received-parameters.js';
import { sampleRequest } from './testdata/loopback.js';

function request(text: string): SipRequest {
  const r = parseMessage(text);
  if (!r.ok || !r.message.isRequest) assert.fail('sample must parse as a request');
  return r.message;
}

const from = (remoteAddress: string, remotePort: number): Flow => ({ transport: 'udp', remoteAddress, remotePort });

describe('addReceivedParameters (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('adds received when sent-by is a domain name', () => {
    const req = request(sampleRequest({ sentBy: 'client.example.com:5070' }));
    assert.equal(addReceivedParameters(req, from('192.0.2.7', 5070)), true);
    assert.equal(req.topVia!.received, '192.0.2.7');
    assert.equal(req.topVia!.rport, undefined);
  });

  it('adds received when sent-by is a different IP address', () => {
    const req = request(sampleRequest({ sentBy: '10.0.0.1:5060' }));
    addReceivedParameters(req, from('192.0.2.7', 40000));
    assert.equal(req.topVia!.received, '192.0.2.7');
  });

  it('leaves the Via alone when sent-by is the source address and rport is not asked for', () => {
    const text = sampleRequest({ sentBy: '192.0.2.7:5060' });
    const req = request(text);
    assert.equal(addReceivedParameters(req, from('192.0.2.7', 40000)), false);
    assert.equal(serializeToString(req), text);
  });

  it('fills rport with the source port and adds received even when identical to sent-by', () => {
    const req = request(sampleRequest({ sentBy: '192.0.2.7:5060', viaParams: ';rport' }));
    addReceivedParameters(req, from('192.0.2.7', 40000));
    assert.equal(req.topVia!.rport, 40000);
    assert.equal(req.topVia!.received, '192.0.2.7');
    assert.match(serializeToString(req), /^Via: SIP\/2\.0\/UDP 192\.0\.2\.7:5060;branch=z9hG4bK776asdhds;rport=40000;received=192\.0\.2\.7\r$/m);
  });

  it('compares IPv6 sent-by in canonical form and writes received without brackets', () => {
    const same = request(sampleRequest({ sentBy: '[0:0:0:0:0:0:0:1]:5060' }));
    assert.equal(addReceivedParameters(same, from('::1', 5060)), false);
    const other = request(sampleRequest({ sentBy: '[2001:db8::1]:5060', viaParams: ';rport' }));
    addReceivedParameters(other, from('::1', 5999));
    assert.equal(other.topVia!.received, '::1');
    assert.equal(other.topVia!.rport, 5999);
    // the edited Via still parses when the message is read again
    const again = parseMessage(serializeToString(other));
    assert.ok(again.ok);
    assert.equal(again.message.topVia!.received, '::1');
  });

  it('edits only the first value of a combined Via field and keeps the field order', () => {
    const text = sampleRequest({ sentBy: 'proxy.example.com' }).replace(
      /^(Via: [^\r]*)\r\n/m,
      '$1, SIP/2.0/TCP second.example.com;branch=z9hG4bKsecond\r\n',
    );
    const req = request(text);
    addReceivedParameters(req, from('192.0.2.9', 5060));
    assert.equal(req.via.length, 2);
    assert.equal(req.via[0]!.received, '192.0.2.9');
    assert.equal(req.via[1]!.host, 'second.example.com');
    assert.equal(req.fields[0]!.key, 'via');
  });

  it('replaces a compact top Via with a full one', () => {
    const req = request(sampleRequest().replace(/^Via:/m, 'v:'));
    addReceivedParameters(req, from('192.0.2.9', 5060));
    assert.match(serializeToString(req), /^Via: SIP\/2\.0\/UDP client\.example\.com:5070;branch=z9hG4bK776asdhds;received=192\.0\.2\.9\r$/m);
    assert.equal(req.via.length, 1);
  });
});
