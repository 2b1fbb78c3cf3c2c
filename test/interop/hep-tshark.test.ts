/**
 * tshark decodes the HEPv3 that src/hep encodes: packets written into a pcap file (HEP over UDP to
 * port 9060, as an agent sends them to Homer) and read back by tshark, every field compared with
 * what was encoded, and the SIP message inside dissected by tshark's SIP dissector.
 *
 * Wireshark ships no HEP dissector of its own (tshark 4.0 in Debian 12 has none); the one people
 * use is sipcapture's Lua plugin (github.com/sipcapture/hep-wireshark, lua/hep.lua; field names
 * hep3.*, as in its 2025 version). The test uses it when tshark already loads it (a Wireshark plugin folder),
 * or from HEP_WIRESHARK_LUA=/path/to/hep.lua, and is skipped with the reason otherwise. The
 * pcap file itself is checked in any case (tshark reads it, IP and UDP checksums good, the
 * HEP bytes are the UDP payload).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { encodeHep, HepIpFamily, HepIpProtocol, HepProtocolType, type HepPacket } from '../../src/hep/index.js';
import { pcapOf, type UdpDatagram } from '../support/pcap-writer.js';

function tsharkMissing(): string | undefined {
  const v = spawnSync('tshark', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  return v.error === undefined && v.status === 0 ? undefined : 'tshark is not installed (Debian: apt-get install tshark)';
}

/** The tshark arguments that load a HEP dissector, or why there is none. */
function hepDissector(): { readonly args: readonly string[] } | { readonly missing: string } {
  const protocols = spawnSync('tshark', ['-G', 'protocols'], { encoding: 'utf8', timeout: 30_000, maxBuffer: 64 << 20 });
  if (protocols.stdout.split('\n').some((line) => line.split('\t')[2] === 'hep3')) return { args: [] };
  const lua = process.env.HEP_WIRESHARK_LUA;
  if (lua !== undefined && existsSync(lua)) return { args: ['-X', `lua_script:${lua}`] };
  return {
    missing: 'tshark has no HEP dissector: Wireshark ships none; put sipcapture/hep-wireshark lua/hep.lua in a Wireshark plugin folder or set HEP_WIRESHARK_LUA',
  };
}

const missingTshark = tsharkMissing();
const skipAll: string | false = missingTshark === undefined ? false : process.env.CI ? false : `${missingTshark}; skipped outside CI`;
const dissector = missingTshark === undefined ? hepDissector() : { missing: missingTshark };
const skipHep: string | false = skipAll || ('missing' in dissector ? `${dissector.missing}; skipped` : false);

const enc = new TextEncoder();
const CALL_ID = 'a84b4c76e66710@pc33.example.com';
const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds',
  'From: <sip:alice@example.com>;tag=1928301774',
  'To: <sip:bob@example.com>',
  `Call-ID: ${CALL_ID}`,
  'CSeq: 314159 INVITE',
  'Max-Forwards: 70',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');
const OK_200 = [
  'SIP/2.0 200 OK',
  'Via: SIP/2.0/TCP [2001:db8::10]:5061;branch=z9hG4bK74bf9',
  'From: <sip:alice@example.com>;tag=9fxced76sl',
  'To: <sip:bob@example.com>;tag=8321234356',
  'Call-ID: 3848276298220188511@[2001:db8::10]',
  'CSeq: 1 REGISTER',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

const PACKETS: readonly HepPacket[] = [
  {
    ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: '192.0.2.10', destinationIpv4: '198.51.100.20',
    sourcePort: 5062, destinationPort: 5060, timeSeconds: 1_700_000_000, timeMicroseconds: 123_456, protocolType: HepProtocolType.SIP,
    captureAgentId: 2001, authKey: 'parley-key', nodeName: 'parley-test', payload: enc.encode(INVITE),
  },
  {
    ipFamily: HepIpFamily.IPV6, ipProtocol: HepIpProtocol.TCP, sourceIpv6: '2001:db8::10', destinationIpv6: '2001:db8::20',
    sourcePort: 5061, destinationPort: 5060, timeSeconds: 1_700_000_001, timeMicroseconds: 999_999, protocolType: HepProtocolType.SIP,
    captureAgentId: 0xfffffffe, vlanId: 42, payload: enc.encode(OK_200),
  },
  {
    ipFamily: HepIpFamily.IPV4, ipProtocol: HepIpProtocol.UDP, sourceIpv4: '192.0.2.10', destinationIpv4: '198.51.100.20', sourcePort: 40000,
    destinationPort: 40002, timeSeconds: 1_700_000_002, timeMicroseconds: 0, protocolType: HepProtocolType.LOG, captureAgentId: 2001,
    correlationId: CALL_ID, payload: enc.encode('call answered'),
  },
];
const ENCODED = PACKETS.map(encodeHep);
// outer datagrams: to the collector's port 9060, over IPv4 and over IPv6
const DATAGRAMS: readonly UdpDatagram[] = ENCODED.map((payload, i) =>
  i === 1
    ? { source: '::1', sourcePort: 41000, destination: '::1', destinationPort: 9060, payload }
    : { source: '127.0.0.1', sourcePort: 41000, destination: '127.0.0.1', destinationPort: 9060, payload },
);

const dir = mkdtempSync(join(tmpdir(), 'parley-hep-tshark-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'hep.pcap');
writeFileSync(file, pcapOf(DATAGRAMS));

/** One row per frame: the named fields, every occurrence joined by ','. */
function tsharkFields(extra: readonly string[], fields: readonly string[]): Array<Record<string, string>> {
  const r = spawnSync(
    'tshark',
    ['-r', file, ...extra, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 },
  );
  assert.equal(r.status, 0, `tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.length > 0).map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? '']));
  });
}

/** How tshark -T fields prints a string field: CR and LF as \r and \n. */
const printed = (s: string): string => s.replaceAll('\r', '\\r').replaceAll('\n', '\\n');

describe('tshark reads the pcap the test writes', { skip: skipAll }, () => {
  it('one frame per datagram, checksums good, the HEP bytes as the UDP payload to port 9060', () => {
    const rows = tsharkFields([], ['frame.number', 'ip.checksum.status', 'udp.checksum.status', 'udp.dstport', 'udp.payload']);
    assert.equal(rows.length, DATAGRAMS.length);
    rows.forEach((row, i) => {
      assert.equal(row['udp.checksum.status'], '1', `frame ${i + 1}: UDP checksum (1 = good)`);
      assert.equal(row['ip.checksum.status'], i === 1 ? '' : '1', `frame ${i + 1}: IPv4 header checksum`);
      assert.equal(row['udp.dstport'], '9060');
      assert.equal(row['udp.payload'], Buffer.from(ENCODED[i]!).toString('hex'));
    });
  });
});

describe("tshark's HEP dissector decodes what src/hep encodes", { skip: skipHep }, () => {
  const args = 'args' in dissector ? dissector.args : [];
  const FIELDS = [
    'hep3.version', 'hep3.hep_packet_size', 'hep3.ip_family', 'hep3.transport_layer_protocol', 'hep3.source_ipv4_address', 'hep3.destination_ipv4_address',
    'hep3.source_ipv6_address', 'hep3.destination_ipv6_address', 'hep3.source_port', 'hep3.destination_port', 'hep3.timestamp_unix',
    'hep3.timestamp_microsec', 'hep3.application_protocol', 'hep3.capture_node_id', 'hep3.auth_key', 'hep3.node_name', 'hep3.correlation_id',
    'hep3.vlan_id', 'hep3.payload', 'sip.Method', 'sip.Status-Code', 'sip.Call-ID', 'sip.CSeq.method', '_ws.malformed', '_ws.expert.message',
  ];

  it('every field of an IPv4 SIP capture, an IPv6 one over TCP and a log line, and the SIP inside', () => {
    const rows = tsharkFields(args, FIELDS);
    assert.equal(rows.length, 3);
    const [invite, ok, log] = rows as [Record<string, string>, Record<string, string>, Record<string, string>];
    assert.deepEqual(invite, {
      'hep3.version': 'HEP3', 'hep3.hep_packet_size': String(ENCODED[0]!.length), 'hep3.ip_family': 'IPv4', 'hep3.transport_layer_protocol': 'UDP',
      'hep3.source_ipv4_address': '192.0.2.10', 'hep3.destination_ipv4_address': '198.51.100.20', 'hep3.source_ipv6_address': '', 'hep3.destination_ipv6_address': '',
      'hep3.source_port': '5062', 'hep3.destination_port': '5060', 'hep3.timestamp_unix': '1700000000', 'hep3.timestamp_microsec': '123456',
      'hep3.application_protocol': 'SIP', 'hep3.capture_node_id': '2001', 'hep3.auth_key': 'parley-key', 'hep3.node_name': 'parley-test',
      'hep3.correlation_id': '', 'hep3.vlan_id': '', 'hep3.payload': printed(INVITE), 'sip.Method': 'INVITE', 'sip.Status-Code': '',
      'sip.Call-ID': CALL_ID, 'sip.CSeq.method': 'INVITE', '_ws.malformed': '', '_ws.expert.message': '',
    });
    assert.deepEqual(ok, {
      'hep3.version': 'HEP3', 'hep3.hep_packet_size': String(ENCODED[1]!.length), 'hep3.ip_family': 'IPv6', 'hep3.transport_layer_protocol': 'TCP',
      'hep3.source_ipv4_address': '', 'hep3.destination_ipv4_address': '', 'hep3.source_ipv6_address': '2001:db8::10', 'hep3.destination_ipv6_address': '2001:db8::20',
      'hep3.source_port': '5061', 'hep3.destination_port': '5060', 'hep3.timestamp_unix': '1700000001', 'hep3.timestamp_microsec': '999999',
      'hep3.application_protocol': 'SIP', 'hep3.capture_node_id': String(0xfffffffe), 'hep3.auth_key': '', 'hep3.node_name': '',
      'hep3.correlation_id': '', 'hep3.vlan_id': '42', 'hep3.payload': printed(OK_200), 'sip.Method': '', 'sip.Status-Code': '200',
      'sip.Call-ID': '3848276298220188511@[2001:db8::10]', 'sip.CSeq.method': 'REGISTER', '_ws.malformed': '', '_ws.expert.message': '',
    });
    assert.equal(log['hep3.application_protocol'], 'LOG');
    assert.equal(log['hep3.correlation_id'], CALL_ID);
    assert.equal(log['hep3.payload'], 'call answered');
    assert.equal(log['hep3.timestamp_microsec'], '0');
    assert.equal(log['sip.Method'], '');
  });
});
