/** UDP (RFC 768) and TCP (RFC 9293) headers: ports, and for TCP what stream reassembly needs. */

export interface TcpHeader {
  readonly seq: number;
  readonly ack: number;
  /** The control bits, low 9 bits of the 13th and 14th bytes: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10 … */
  readonly flags: number;
  readonly window: number;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TransportHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
  readonly tcp: TcpHeader | undefined;
}

export type TransportParse = { readonly ok: true; readonly header: TransportHeader } | { readonly ok: false; readonly reason: string };

/**
 * The UDP header and data of `b` (the IP payload). `truncated`: the snapshot length cut the
 * packet, so the Length field may exceed what was captured.
 */
export function parseUdp(b: Uint8Array, truncated: boolean): TransportParse {
  if (b.length < 8) return { ok: false, reason: `UDP header: 8 bytes expected, ${b.length} captured` };
  // RFC 768: "Length is the length in octets of this user datagram including this header and the data."
  // A Length of 0 is an IPv6 jumbogram's (RFC 2675 §4): the IP payload's length counts.
  const length = (b[4]! << 8) | b[5]!;
  let end = length === 0 ? b.length : length;
  if (end < 8) return { ok: false, reason: `UDP header: length ${length}, less than its 8-byte header` };
  if (end > b.length) {
    if (!truncated) return { ok: false, reason: `UDP header: length ${length}, but the IP payload holds ${b.length} bytes` };
    end = b.length;
  }
  return { ok: true, header: { srcPort: (b[0]! << 8) | b[1]!, dstPort: (b[2]! << 8) | b[3]!, payload: b.subarray(8, end), tcp: undefined } };
}

export function parseTcp(b: Uint8Array): TransportParse {
  if (b.length < 20) return { ok: false, reason: `TCP header: 20 bytes expected, ${b.length} captured` };
  // RFC 9293 §3.1: "Data Offset (DOffset): 4 bits. The number of 32-bit words in the TCP header."
  const headerLength = (b[12]! >> 4) * 4;
  if (headerLength < 20) return { ok: false, reason: `TCP header: data offset ${headerLength} bytes, expected at least 20` };
  if (b.length < headerLength) return { ok: false, reason: `TCP header: ${headerLength} bytes expected, ${b.length} captured` };
  return {
    ok: true,
    header: {
      srcPort: (b[0]! << 8) | b[1]!,
      dstPort: (b[2]! << 8) | b[3]!,
      payload: b.subarray(headerLength),
      tcp: {
        seq: ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0,
        ack: ((b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!) >>> 0,
        flags: ((b[12]! & 0x01) << 8) | b[13]!,
        window: (b[14]! << 8) | b[15]!,
      },
    },
  };
}
