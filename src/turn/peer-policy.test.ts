/**
 * The peer policy by name: each default-denied range, each spelling of a denied address (coturn's
 * CVE-2020-26262 and CVE-2026-27624 among them), the operator's allow and deny lists both ways,
 * and the own addresses. Node's net.isIP is the independent judge of which spellings are addresses.
 */
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import { canonicalPeerAddress, PeerPolicy } from './peer-policy.js';

const policy = new PeerPolicy();

function denied(address: string, reasonPart: string, p = policy): void {
  const v = p.check(address);
  assert.equal(v.ok, false, `${address} must be denied`);
  if (!v.ok) assert.ok(v.reason.includes(reasonPart), `${address}: reason "${v.reason}" should name "${reasonPart}"`);
}

function allowed(address: string, p = policy): void {
  const v = p.check(address);
  assert.equal(v.ok, true, `${address} must be allowed${v.ok ? '' : `, denied: ${v.reason}`}`);
}

describe('default-denied IPv4 ranges', () => {
  const cases: [string, string, string][] = [
    ['loopback 127.0.0.0/8', '127.0.0.1', 'loopback'],
    ['loopback, top of 127.0.0.0/8', '127.255.255.254', 'loopback'],
    ['unspecified 0.0.0.0 (CVE-2020-26262)', '0.0.0.0', 'unspecified'],
    ['0.0.0.0/8', '0.1.2.3', 'unspecified'],
    ['link-local 169.254.0.0/16', '169.254.1.1', 'link-local'],
    ['cloud metadata 169.254.169.254', '169.254.169.254', 'link-local'],
    ['multicast 224.0.0.0/4', '224.0.0.1', 'multicast'],
    ['multicast, top of 224.0.0.0/4', '239.255.255.250', 'multicast'],
    ['broadcast 255.255.255.255', '255.255.255.255', 'broadcast'],
    ['reserved 240.0.0.0/4', '240.0.0.1', 'reserved'],
    ['private 10.0.0.0/8', '10.1.2.3', 'private'],
    ['private 172.16.0.0/12', '172.16.0.1', 'private'],
    ['private, top of 172.16.0.0/12', '172.31.255.255', 'private'],
    ['private 192.168.0.0/16', '192.168.1.1', 'private'],
    ['CGNAT 100.64.0.0/10', '100.64.0.1', 'CGNAT'],
    ['CGNAT, top of 100.64.0.0/10', '100.127.255.255', 'CGNAT'],
    ['IETF protocol assignments 192.0.0.0/24', '192.0.0.8', 'IETF'],
    ['documentation 192.0.2.0/24', '192.0.2.1', 'documentation'],
    ['documentation 198.51.100.0/24', '198.51.100.7', 'documentation'],
    ['documentation 203.0.113.0/24', '203.0.113.9', 'documentation'],
    ['6to4 relay anycast 192.88.99.0/24', '192.88.99.1', '6to4 relay'],
    ['benchmarking 198.18.0.0/15', '198.19.255.1', 'benchmarking'],
  ];
  for (const [name, address, reason] of cases) it(name, () => denied(address, reason));
});

describe('default-denied IPv6 ranges', () => {
  const cases: [string, string, string][] = [
    ['loopback ::1 (CVE-2020-26262)', '::1', 'loopback'],
    ['unspecified ::', '::', 'unspecified'],
    ['link-local fe80::/10', 'fe80::1', 'link-local'],
    ['link-local, top of fe80::/10', 'febf:ffff::1', 'link-local'],
    ['multicast ff00::/8', 'ff02::1', 'multicast'],
    ['unique local fc00::/7', 'fd12:3456::1', 'unique local'],
    ['unique local fc00::/8 half', 'fc00::1', 'unique local'],
    ['site-local fec0::/10', 'fec0::1', 'site-local'],
    ['documentation 2001:db8::/32', '2001:db8::1', 'documentation'],
    ['documentation 3fff::/20', '3fff::1', 'documentation'],
    ['discard-only 100::/64', '100::1', 'discard'],
    ['benchmarking 2001:2::/48', '2001:2::1', 'benchmarking'],
    ['ORCHIDv2 2001:20::/28', '2001:20::1', 'ORCHIDv2'],
    ['local-use NAT64 64:ff9b:1::/48', '64:ff9b:1::8.8.8.8', 'local-use NAT64'],
    ['ORCHID 2001:10::/28', '2001:10::1', 'ORCHID'],
    ['segment routing 5f00::/16', '5f00::1', 'segment routing'],
  ];
  for (const [name, address, reason] of cases) it(name, () => denied(address, reason));
});

describe('denied IPv4 addresses in IPv6 spellings', () => {
  it('IPv4-mapped ::ffff:127.0.0.1 (CVE-2026-27624) is 127.0.0.1', () => {
    denied('::ffff:127.0.0.1', 'loopback');
    assert.equal(policy.check('::ffff:127.0.0.1').address, '127.0.0.1');
  });
  it('IPv4-mapped in hex ::ffff:7f00:1', () => denied('::ffff:7f00:1', 'loopback'));
  it('IPv4-mapped unspecified ::ffff:0.0.0.0', () => denied('::ffff:0.0.0.0', 'unspecified'));
  it('IPv4-mapped fully written 0:0:0:0:0:ffff:7f00:0001', () => denied('0:0:0:0:0:FFFF:7F00:0001', 'loopback'));
  it('IPv4-mapped metadata ::ffff:169.254.169.254', () => denied('::ffff:169.254.169.254', 'link-local'));
  it('IPv4-mapped private ::ffff:10.0.0.1', () => denied('::ffff:10.0.0.1', 'private'));
  it('IPv4-compatible ::127.0.0.1', () => {
    denied('::127.0.0.1', 'loopback');
    assert.equal(canonicalPeerAddress('::127.0.0.1'), '127.0.0.1');
  });
  it('IPv4-compatible in hex ::7f00:1', () => denied('::7f00:1', 'loopback'));
  it('IPv4-compatible ::0.0.0.2 is 0.0.0.2', () => denied('::0.0.0.2', 'unspecified'));
  it('NAT64 64:ff9b::127.0.0.1', () => denied('64:ff9b::127.0.0.1', 'embedded 127.0.0.1'));
  it('NAT64 in hex 64:ff9b::a9fe:a9fe (metadata)', () => denied('64:ff9b::a9fe:a9fe', 'embedded 169.254.169.254'));
  it('NAT64 of a public address is allowed', () => allowed('64:ff9b::8.8.8.8'));
  it('6to4 2002:7f00:1::1 carries 127.0.0.1', () => denied('2002:7f00:1::1', 'embedded 127.0.0.1'));
  it('6to4 2002:c0a8:101::1 carries 192.168.1.1', () => denied('2002:c0a8:101::1', 'embedded 192.168.1.1'));
  it('6to4 of a public address is allowed', () => allowed('2002:808:808::1'));
  it('Teredo 2001:0:…:80ff:fffe carries 127.0.0.1 (inverted)', () => denied('2001:0:4136:e378:8000:63bf:80ff:fffe', 'embedded 127.0.0.1'));
  it('IPv4-translated (SIIT) ::ffff:0:127.0.0.1 carries 127.0.0.1', () => denied('::ffff:0:127.0.0.1', 'embedded 127.0.0.1'));
  it('IPv4-translated of a public address is allowed', () => allowed('::ffff:0:8.8.8.8'));
  it('Teredo of a public address is allowed', () => allowed('2001:0:4136:e378:8000:63bf:f7f7:f7f7'));
});

describe('spellings of IPv6', () => {
  it('zero compression and full form are one address', () => {
    for (const s of ['0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001', '::0:1', '0::1', '::0001']) denied(s, 'loopback');
  });
  it('uppercase', () => denied('FE80::ABCD', 'link-local'));
  it('leading zeros in groups', () => denied('fe80:0000::00ab', 'link-local'));
  it('zone id', () => {
    denied('fe80::1%eth0', 'link-local');
    denied('::1%lo', 'loopback');
    assert.equal(canonicalPeerAddress('fe80::1%eth0'), 'fe80::1');
  });
  it('brackets (CVE-2020-26262 spelling [::1])', () => denied('[::1]', 'loopback'));
  it('embedded dotted quad in a non-mapped address', () => assert.equal(canonicalPeerAddress('2001:db8::192.0.2.1'), '2001:db8::c000:201'));
  it('canonical text is RFC 5952', () => {
    assert.equal(canonicalPeerAddress('2001:0DB8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
    assert.equal(canonicalPeerAddress('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(canonicalPeerAddress('2606:4700::0:1111'), '2606:4700::1111');
    assert.equal(canonicalPeerAddress('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
    assert.equal(canonicalPeerAddress('::'), '::');
  });
  it('a public IPv6 address is allowed, canonical', () => {
    const v = policy.check('2606:4700:4700:0000:0000:0000:0000:1111');
    assert.deepEqual(v, { ok: true, address: '2606:4700:4700::1111' });
  });
});

describe('spellings of IPv4: what Node accepts', () => {
  it('dotted decimal is accepted', () => assert.equal(canonicalPeerAddress('8.8.8.8'), '8.8.8.8'));
  it('shorthands and other bases are refused, and so denied', () => {
    for (const s of ['127.1', '2130706433', '0x7f.0.0.1', '0177.0.0.1', '127.000.000.001', '01.2.3.4']) {
      assert.equal(canonicalPeerAddress(s), undefined, s);
      denied(s, 'not an IP address');
    }
  });
  it('garbage is refused and denied, never thrown', () => {
    for (const s of ['', ' ', '127.0.0.1 ', '1.2.3.4.', '256.0.0.1', '1.2.3', ':::1', '1::2::3', '00000::1', '::ffff:1.2.3.04',
      '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%', '[::1', 'localhost', '::g', '-1.0.0.0', '1.2.3.4/8', '1:2:3:4:5:6:7:8:9']) {
      assert.equal(canonicalPeerAddress(s), undefined, JSON.stringify(s));
      denied(s, 'not an IP address');
    }
  });
  it('accepts exactly what net.isIP accepts (brackets aside)', () => {
    const samples = ['1.2.3.4', '01.2.3.4', '127.1', '::ffff:127.0.0.1', '::127.0.0.1', 'fe80::1%eth0', '1:2:3:4:5:6:7::',
      '::1:2:3:4:5:6:7', '0::0:1', '00000::1', '1::2::3', '::ffff:1.2.3.04', 'FE80::1', '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%', '::%eth0', '255.255.255.255', '256.1.1.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9'];
    for (const s of samples) assert.equal(canonicalPeerAddress(s) !== undefined, isIP(s) !== 0, s);
  });
});

describe('operator lists', () => {
  it('allow 127.0.0.0/8 lets loopback through, in every spelling', () => {
    const p = new PeerPolicy({ allow: ['127.0.0.0/8'] });
    allowed('127.0.0.1', p);
    allowed('::ffff:127.0.0.1', p);
    denied('::1', 'loopback', p);
    denied('10.0.0.1', 'private', p);
  });
  it('allow ::1 allows only IPv6 loopback', () => {
    const p = new PeerPolicy({ allow: ['::1'] });
    allowed('::1', p);
    denied('127.0.0.1', 'loopback', p);
  });
  it('an allowed IPv4-mapped CIDR is the IPv4 CIDR', () => {
    const p = new PeerPolicy({ allow: ['::ffff:10.0.0.0/104'] });
    allowed('10.9.8.7', p);
    allowed('::ffff:10.9.8.7', p);
    denied('192.168.0.1', 'private', p);
  });
  it('deny adds ranges, public ones included', () => {
    const p = new PeerPolicy({ deny: ['8.8.8.0/24', '2606:4700::/32'] });
    denied('8.8.8.8', 'denied by configuration', p);
    denied('::ffff:8.8.8.8', 'denied by configuration', p);
    denied('2606:4700::1111', 'denied by configuration', p);
    allowed('8.8.4.4', p);
  });
  it('a longer deny inside an allow wins', () => {
    const p = new PeerPolicy({ allow: ['10.0.0.0/8'], deny: ['10.1.0.0/16'] });
    allowed('10.2.3.4', p);
    denied('10.1.2.3', 'denied by configuration', p);
  });
  it('a longer allow inside a deny wins', () => {
    const p = new PeerPolicy({ allow: ['10.1.2.3/32'], deny: ['10.0.0.0/8'] });
    allowed('10.1.2.3', p);
    denied('10.1.2.4', 'denied by configuration', p);
  });
  it('allow and deny of the same range: deny', () => {
    const p = new PeerPolicy({ allow: ['10.0.0.0/8'], deny: ['10.0.0.0/8'] });
    denied('10.0.0.1', 'denied by configuration', p);
  });
  it('allowing the IPv6 form does not allow a denied embedded IPv4 address', () => {
    const p = new PeerPolicy({ allow: ['2002::/16'] });
    denied('2002:7f00:1::1', 'embedded 127.0.0.1', p);
  });
  it('a bad CIDR in the configuration throws', () => {
    assert.throws(() => new PeerPolicy({ allow: ['10.0.0.0/33'] }), /not an address or CIDR/);
    assert.throws(() => new PeerPolicy({ deny: ['nonsense'] }), /not an address or CIDR/);
  });
});

describe("Parley's own addresses", () => {
  it('a public own address is denied, in every spelling', () => {
    const p = new PeerPolicy({ ownAddresses: ['198.41.0.4', '2606:4700::6810:1'] });
    denied('198.41.0.4', 'own listening address', p);
    denied('::ffff:198.41.0.4', 'own listening address', p);
    denied('2606:4700:0:0:0:0:6810:0001', 'own listening address', p);
    allowed('198.41.0.5', p);
  });
  it('an own address is allowed when the operator allows it', () => {
    const p = new PeerPolicy({ ownAddresses: ['127.0.0.1'], allow: ['127.0.0.0/8'] });
    allowed('127.0.0.1', p);
  });
});
