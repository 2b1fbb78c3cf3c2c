import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCandidateLine, readCandidate, relayProtocolFromUrl } from './candidates.js';
import { checkIceUrl, explainIceError, verdict } from './explain.js';

describe('ICE candidate lines (RFC 8839 §5.1)', () => {
  it('reads type, protocol, address, port and priority', () => {
    assert.deepEqual(parseCandidateLine('candidate:842163049 1 udp 1677729535 192.0.2.7 54321 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag x'), {
      type: 'srflx', protocol: 'udp', address: '192.0.2.7', port: 54321, priority: 1677729535, relayProtocol: '',
    });
    assert.equal(parseCandidateLine('a=candidate:1 1 TCP 2105524479 abc.local 9 typ host tcptype active')?.protocol, 'tcp');
  });

  it('takes the relay protocol from the URL of the server that gave the candidate', () => {
    const line = 'candidate:990336252 1 udp 50339839 127.0.0.1 21621 typ relay raddr 0.0.0.0 rport 0 generation 0 ufrag bhZF network-cost 999';
    assert.equal(readCandidate({ candidate: line, relayProtocol: null }, 'turn:127.0.0.1:21500?transport=udp')?.relayProtocol, 'udp');
    assert.equal(relayProtocolFromUrl('turn:h:3478'), 'udp');
    assert.equal(relayProtocolFromUrl('TURN:h:3478?transport=tcp'), 'tcp');
    assert.equal(relayProtocolFromUrl('turns:h:5349?transport=tcp'), 'tls');
    for (const u of [null, undefined, '', 'stun:h']) assert.equal(relayProtocolFromUrl(u), '');
    // a host candidate has none, whatever the URL
    assert.equal(readCandidate({ candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host' }, 'turn:h')?.relayProtocol, '');
  });

  it('prefers what the browser says, and refuses what is not a candidate', () => {
    const c = readCandidate({ candidate: 'candidate:3 1 udp 41885439 127.0.0.1 49200 typ relay', relayProtocol: 'tls', address: null });
    assert.equal(c?.relayProtocol, 'tls');
    assert.equal(c?.address, '127.0.0.1');
    for (const l of ['', 'candidate:1 1 udp', 'candidate:1 1 udp x 1.2.3.4 5 typ host', 'candidate:1 1 udp 1 1.2.3.4 70000 typ host', 'candidate:1 1 udp 1 1.2.3.4 5 type host']) {
      assert.equal(parseCandidateLine(l), undefined, l);
    }
  });
});

describe('what the /ice page says', () => {
  const relay = { type: 'relay', protocol: 'udp', address: '203.0.113.5', port: 50000, relayProtocol: 'udp', priority: 1 };
  const base = { policy: 'relay' as const, urls: ['turn:turn.example.net:3478?transport=udp'], candidates: [], errors: [], timedOut: false, waitedMs: 1000 };

  it('a relayed candidate: the server relays', () => {
    const v = verdict({ ...base, candidates: [relay] });
    assert.equal(v.ok, true);
    assert.match(v.text, /relayed address 203\.0\.113\.5:50000 \(udp\)/);
  });

  it('401: the credentials; 701: unreachable, naming the transport; a timeout without error', () => {
    const url = 'turn:turn.example.net:3478?transport=tcp';
    assert.match(verdict({ ...base, errors: [{ errorCode: 401, errorText: 'Unauthorized', url }] }).text, /refused the credentials \(401\): wrong username or password/);
    assert.match(explainIceError({ errorCode: 701, errorText: '', url }), /could not be reached \(701\).*over TCP/);
    assert.match(explainIceError({ errorCode: 701, errorText: '', url: 'turns:h:5349' }), /over TLS/);
    const t = verdict({ ...base, timedOut: true, waitedMs: 15_000 });
    assert.equal(t.ok, false);
    assert.match(t.text, /did not answer in time \(timeout\).*after 15 s/);
    assert.match(explainIceError({ errorCode: 486, errorText: '', url }), /Allocation Quota/);
    assert.match(explainIceError({ errorCode: 499, errorText: 'Odd', url }), /answered 499 Odd/);
  });

  it('the same error twice is said once', () => {
    const e = { errorCode: 401, errorText: '', url: 'turn:h' };
    const text = verdict({ ...base, errors: [e, e] }).text;
    assert.equal(text.split('refused the credentials').length, 2);
  });

  it('a STUN URL: no relay with "relayed only"; the public address with "all"', () => {
    const stun = { ...base, urls: ['stun:stun.example.net'] };
    assert.match(verdict(stun).text, /needs a turn: or turns: URL/);
    const v = verdict({ ...stun, policy: 'all', candidates: [{ ...relay, type: 'srflx', relayProtocol: '' }] });
    assert.equal(v.ok, true);
    assert.match(v.text, /public address is 203\.0\.113\.5:50000/);
  });

  it('checks the URL a person typed', () => {
    for (const ok of ['stun:stun.example.net', 'turn:127.0.0.1:3478?transport=udp', 'turns:[2001:db8::1]:5349']) assert.equal(checkIceUrl(ok), undefined, ok);
    assert.match(checkIceUrl('https://turn.example.net') ?? '', /not a STUN or TURN URL/);
    assert.match(checkIceUrl('turn://h:3478') ?? '', /no "\/\/"/);
    assert.match(checkIceUrl('turn:') ?? '', /names no host/);
  });
});
