/**
 * Pathological SIP messages for the fuzz tests (issue 14): long runs of spaces, tabs, separators,
 * quotes, backslashes, line ends, percent signs and commas put into every part of a message (start
 * line, each header, URIs, parameters, quoted strings, digest credentials), plus the plain
 * mutations of a fuzzer (byte flips, truncations, duplicated headers, huge Content-Length,
 * oversize lines, random binary). Deterministic: everything comes from a seeded generator.
 * Used by src/sip/message/fuzz.test.ts and test/interop/fuzz.test.ts.
 */

export { prng } from '../../../../test/support/prng.js';

/** What a run is made of: the characters the grammar gives meaning to, alone and in pairs. */
export const RUN_UNITS: readonly string[] = [
  ' ', '\t', ';', ',', ':', '=', '@', '<', '>', '"', '\\', '\r\n', '\r\n ', '%', '%2', '%%', ' ;', '; ', ', ', ' ,',
  '\\"', '"\\', '<>', '="', ';a=', ',<', '\t ', ' \r\n\t', '/', '.', '0', '[', ']', '?', '&', '*', 'a',
];

export interface Target {
  /** Parley's address as it appears in the messages (host:port). */
  readonly parley: string;
  /** The sender's sent-by (host:port). */
  readonly local: string;
  /** Call-ID, branch and tag material: unique per message. */
  readonly id: string;
}

/** The messages mutations start from, in the shape real phones send them. */
export function seedMessages(t: Target): string[] {
  const [host] = t.parley.split(':');
  const via = `Via: SIP/2.0/UDP ${t.local};branch=z9hG4bK-${t.id};rport`;
  const common = (method: string, ruri: string, cseq: number, extra: string[] = [], body = ''): string =>
    [
      `${method} ${ruri} SIP/2.0`,
      via,
      'Max-Forwards: 70',
      `From: "Alice \\"A\\" Liddell" <sip:alice@${host};transport=udp>;tag=${t.id}a`,
      `To: <sip:bob@${host}>`,
      `Call-ID: ${t.id}@fuzz`,
      `CSeq: ${cseq} ${method}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
  const sdp = ['v=0', `o=alice 1 1 IN IP4 ${host}`, 's=-', `c=IN IP4 ${host}`, 't=0 0', 'm=audio 49170 RTP/AVP 0 8', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');
  return [
    common('OPTIONS', `sip:${t.parley}`, 1, ['Accept: application/sdp', 'Supported: path, outbound']),
    common('REGISTER', `sip:${host}`, 2, [
      `Contact: <sip:alice@${t.local};transport=udp;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000000000001>";reg-id=1;expires=3600;q=0.7`,
      `Authorization: Digest username="alice", realm="${host}", nonce="bm9uY2UtdmFsdWU", uri="sip:${host}", response="0123456789abcdef0123456789abcdef", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
      'Expires: 3600',
    ]),
    common('INVITE', `sip:bob@${host};user=phone`, 3, [
      `Contact: "Alice" <sip:alice@${t.local};transport=udp>`,
      'Content-Type: application/sdp',
      `Proxy-Authorization: Digest username="alice", realm="${host}", nonce="bm9uY2U", uri="sip:bob@${host}", response="00112233445566778899aabbccddeeff"`,
      'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS',
      'Date: Sat, 13 Nov 2010 23:29:00 GMT',
    ], sdp),
    common('MESSAGE', `sip:bob@${host}`, 4, ['Content-Type: text/plain; charset="utf-8"', 'Subject: =?utf-8?q?hi?='], 'hello, bob'),
    common('BYE', `sip:bob@${t.local};lr`, 5, ['Require: timer', 'Proxy-Require: foo']),
    [`SIP/2.0 200 OK`, via, `From: <sip:alice@${host}>;tag=${t.id}`, `To: <sip:bob@${host}>;tag=b${t.id}`, `Call-ID: ${t.id}@fuzz`, 'CSeq: 9 INVITE', 'Content-Length: 0', '', ''].join('\r\n'),
  ];
}

/** A length from 1 to max, more often short than long (log-uniform). */
function runLength(rnd: () => number, max: number): number {
  return Math.max(1, Math.floor(Math.exp(rnd() * Math.log(max))));
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** Offsets in `line` where a run does the most harm: after each separator, at the ends. */
function interestingOffsets(line: string): number[] {
  const out = [0, line.length];
  for (let i = 0; i < line.length; i++) if (' \t;,:=@<>"\\%/.?'.includes(line[i]!)) out.push(i, i + 1);
  return out;
}

/**
 * Put a long run of one RUN_UNIT into one part of the message: the start line or a header line
 * (so: the method, the Request-URI and its parameters, the version, a header name, a value, a
 * quoted string, a digest parameter), at a separator. `maxRun` bounds the run's length in units.
 */
export function insertRun(message: string, rnd: () => number, maxRun: number): string {
  const headEnd = message.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? message : message.slice(0, headEnd);
  const rest = headEnd < 0 ? '' : message.slice(headEnd);
  const lines = head.split('\r\n');
  const li = rnd() < 0.3 ? 0 : Math.floor(rnd() * lines.length);
  const line = lines[li]!;
  const at = pick(rnd, interestingOffsets(line));
  const unit = pick(rnd, RUN_UNITS);
  const n = runLength(rnd, Math.max(1, Math.floor(maxRun / unit.length)));
  lines[li] = line.slice(0, at) + unit.repeat(n) + line.slice(at);
  return lines.join('\r\n') + rest;
}

/** Mutations other than runs. Each returns the new message (binary where it says so). */
export function mutateBytes(src: Uint8Array, rnd: () => number, maxSize: number): Uint8Array {
  let b = Buffer.from(src);
  const ops = 1 + Math.floor(rnd() * 3);
  for (let k = 0; k < ops; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 8)) {
      case 0: // byte flips
        for (let j = 0, flips = 1 + Math.floor(rnd() * 8); j < flips && b.length > 0; j++) { const k = Math.floor(rnd() * b.length); b[k] = b[k]! ^ (1 << Math.floor(rnd() * 8)); }
        break;
      case 1: // truncation
        b = b.subarray(0, at);
        break;
      case 2: {
        // a duplicated header line
        const text = b.toString('latin1');
        const lines = text.split('\r\n');
        const end = lines.indexOf('');
        if (end > 1) {
          const i = 1 + Math.floor(rnd() * (end - 1));
          const copies = runLength(rnd, 200);
          lines.splice(i, 0, ...Array<string>(copies).fill(lines[i]!));
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
        break;
      }
      case 3: // a huge or odd Content-Length
        b = Buffer.from(b.toString('latin1').replace(/Content-Length: \d+/i, `Content-Length: ${pick(rnd, ['4294967296', '99999999999999999999', '65536', '-1', '1e9', '0x10', ' 12 34'])}`), 'latin1');
        break;
      case 4: {
        // an oversize line: a header of 16-64 kB
        const text = b.toString('latin1');
        const eol = text.indexOf('\r\n');
        if (eol >= 0) b = Buffer.from(`${text.slice(0, eol + 2)}X-Big: ${'x'.repeat(16_000 + Math.floor(rnd() * 48_000))}\r\n${text.slice(eol + 2)}`, 'latin1');
        break;
      }
      case 5: {
        // random binary spliced in
        const junk = Buffer.alloc(runLength(rnd, 2000));
        for (let j = 0; j < junk.length; j++) junk[j] = Math.floor(rnd() * 256);
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
        break;
      }
      case 6: // a piece of itself repeated
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + Math.floor(rnd() * 60)), b.subarray(at)]);
        break;
      default: // bytes removed
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(rnd() * 20))]);
    }
  }
  return b.length > maxSize ? b.subarray(0, maxSize) : b;
}

/** Random bytes, mostly printable. */
export function randomBinary(rnd: () => number, max: number): Uint8Array {
  const b = Buffer.alloc(runLength(rnd, max));
  const printable = rnd() < 0.5;
  for (let j = 0; j < b.length; j++) b[j] = printable && rnd() < 0.8 ? 32 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256);
  return b;
}

/**
 * One fuzzed message from the seeds: a run in one part (half of the time, sometimes two runs),
 * plain mutations, or random bytes; at most `maxSize` bytes.
 */
export function fuzzMessage(seeds: readonly string[], rnd: () => number, maxSize: number, maxRun = maxSize): Uint8Array {
  const r = rnd();
  if (r < 0.04) return randomBinary(rnd, Math.min(maxSize, 4000));
  let text = pick(rnd, seeds);
  if (r < 0.6) {
    text = insertRun(text, rnd, maxRun);
    if (rnd() < 0.2) text = insertRun(text, rnd, maxRun);
    const b = Buffer.from(text, 'latin1');
    return b.length > maxSize ? b.subarray(0, maxSize) : b;
  }
  if (r < 0.75) text = insertRun(text, rnd, 64);
  return mutateBytes(Buffer.from(text, 'latin1'), rnd, maxSize);
}
