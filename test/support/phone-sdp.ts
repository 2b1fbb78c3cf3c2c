// SDP as a plain phone writes it (RTP/AVP audio), and what the media runtime's tests read back
// from what Parley wrote (its audio address and ports, the o= version, the lines).
/** An RTP/AVP offer or answer as a phone writes it. */
export function phoneSdp(address: string, port: number, codecs: readonly string[] = ['0 PCMU/8000', '101 telephone-event/8000'], direction = 'sendrecv'): string {
  return [
    'v=0',
    `o=phone 1 1 IN IP4 ${address}`,
    's=-',
    `c=IN IP4 ${address}`,
    't=0 0',
    `m=audio ${port} RTP/AVP ${codecs.map((c) => c.split(' ')[0]).join(' ')}`,
    ...codecs.map((c) => `a=rtpmap:${c}`),
    `a=${direction}`,
    '',
  ].join('\r\n');
}

/** The audio port and address of an SDP (what Parley wrote). */
export function audioOf(sdp: string): { address: string; port: number; rtcpPort: number; version: number; lines: string[] } {
  const lines = sdp.split(/\r?\n/);
  const c = lines.find((l) => l.startsWith('c='))!.split(' ')[2]!;
  const m = Number(lines.find((l) => l.startsWith('m=audio'))!.split(' ')[1]);
  const rtcp = lines.find((l) => l.startsWith('a=rtcp:'));
  const version = Number(lines.find((l) => l.startsWith('o='))!.split(' ')[2]);
  return { address: c, port: m, rtcpPort: rtcp === undefined ? m + 1 : Number(rtcp.slice(7).split(" ")[0]), version, lines };
}
