import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIceServerUrl } from './ice-server-url.js';

const parsed = (s: string) => {
  const r = parseIceServerUrl(s);
  assert.ok(r.ok, `${s}: ${r.ok ? '' : r.error}`);
  return r.value;
};
const refused = (s: string): string => {
  const r = parseIceServerUrl(s);
  assert.ok(!r.ok, `${s} should be refused`);
  return r.error;
};

describe('STUN/TURN URLs (RFC 7064, RFC 7065)', () => {
  it('default ports: 3478, and 5349 for the secure schemes', () => {
    assert.deepEqual(parsed('stun:stun.example.net'), { scheme: 'stun', host: 'stun.example.net', port: 3478, transport: 'udp', text: 'stun:stun.example.net:3478' });
    assert.equal(parsed('stuns:stun.example.net').port, 5349);
    assert.equal(parsed('turn:turn.example.net').port, 3478);
    assert.equal(parsed('turns:turn.example.net').port, 5349);
  });

  it('transports: turn: is UDP unless ?transport=tcp; turns: is TLS', () => {
    assert.equal(parsed('turn:h').transport, 'udp');
    assert.equal(parsed('turn:h?transport=udp').transport, 'udp');
    assert.equal(parsed('turn:h:3479?transport=tcp').transport, 'tcp');
    assert.equal(parsed('TURN:h?Transport=TCP').transport, 'tcp');
    assert.equal(parsed('turns:h').transport, 'tls');
    assert.equal(parsed('turns:h?transport=tcp').transport, 'tls');
    assert.match(refused('turns:h?transport=udp'), /DTLS/);
    assert.match(refused('turn:h?transport=sctp'), /neither udp nor tcp/);
    assert.match(refused('stun:h?transport=tcp'), /takes no query/);
  });

  it('IPv4 and bracketed IPv6 hosts, with and without a port', () => {
    assert.deepEqual(parsed('turn:192.0.2.1:3480?transport=tcp'), { scheme: 'turn', host: '192.0.2.1', port: 3480, transport: 'tcp', text: 'turn:192.0.2.1:3480?transport=tcp' });
    const v6 = parsed('turn:[2001:db8::1]:3478');
    assert.equal(v6.host, '2001:db8::1');
    assert.equal(v6.text, 'turn:[2001:db8::1]:3478?transport=udp');
    assert.equal(parsed('stun:[::1]').port, 3478);
    assert.match(refused('turn:2001:db8::1'), /in brackets/);
    assert.match(refused('turn:[2001:db8::1'), /lacks its "]"/);
    assert.match(refused('turn:[example.net]'), /not an IPv6 address/);
  });

  it('refuses what is not a STUN/TURN URL, saying why', () => {
    assert.match(refused('turn.example.net'), /not a STUN or TURN URL/);
    assert.match(refused('http://turn.example.net'), /unknown scheme "http"/);
    assert.match(refused('turn://turn.example.net:3478'), /no "\/\/"/);
    assert.match(refused('turn:'), /no host/);
    assert.match(refused('turn:h:0'), /1 to 65535/);
    assert.match(refused('turn:h:65536'), /1 to 65535/);
    assert.match(refused('turn:h:34x'), /not a number/);
    assert.match(refused('turn:bad_host!'), /not a host name/);
  });
});
