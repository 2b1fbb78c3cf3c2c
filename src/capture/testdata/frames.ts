/** Building bytes for the capture tests: WebSocket frames (RFC 6455 §5.2) and SIP messages. */

/** One WebSocket frame; `mask` given: masked as a client must (RFC 6455 §5.3). */
export function wsFrame(opcode: number, payload: Uint8Array | string, fin = true, mask?: readonly number[]): Uint8Array {
  const data = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const header: number[] = [(fin ? 0x80 : 0) | opcode];
  const m = mask === undefined ? 0 : 0x80;
  if (data.length < 126) header.push(m | data.length);
  else if (data.length < 65536) header.push(m | 126, data.length >> 8, data.length & 0xff);
  else header.push(m | 127, 0, 0, 0, 0, (data.length >>> 24) & 0xff, (data.length >> 16) & 0xff, (data.length >> 8) & 0xff, data.length & 0xff);
  if (mask !== undefined) {
    header.push(...mask);
    for (let i = 0; i < data.length; i++) data[i]! ^= mask[i & 3]!;
  }
  return Buffer.concat([Buffer.from(header), data]);
}

export function sipInvite(callId: string, body = '', extra = ''): string {
  return (
    `INVITE sip:bob@example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${callId}\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: "Alice" <sip:alice@example.com>;tag=a1\r\n` +
    `To: <sip:bob@example.com>\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: 1 INVITE\r\n` +
    `Contact: <sip:alice@192.0.2.1:5060>\r\n` +
    extra +
    (body === '' ? '' : 'Content-Type: application/sdp\r\n') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

export function sipResponse(callId: string, status: number, reason: string, method = 'INVITE', cseq = 1, body = ''): string {
  return (
    `SIP/2.0 ${status} ${reason}\r\n` +
    `Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${callId}\r\n` +
    `From: "Alice" <sip:alice@example.com>;tag=a1\r\n` +
    `To: <sip:bob@example.com>;tag=b1\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: ${cseq} ${method}\r\n` +
    (body === '' ? '' : 'Content-Type: application/sdp\r\n') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

export function sipRequest(method: string, callId: string, cseq: number, toTag = ';tag=b1', body = ''): string {
  return (
    `${method} sip:bob@example.com SIP/2.0\r\n` +
    `Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK-${callId}-${method}-${cseq}\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: "Alice" <sip:alice@example.com>;tag=a1\r\n` +
    `To: <sip:bob@example.com>${toTag}\r\n` +
    `Call-ID: ${callId}\r\n` +
    `CSeq: ${cseq} ${method}\r\n` +
    (body === '' ? '' : 'Content-Type: application/sdp\r\n') +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
    body
  );
}

export const OFFER =
  'v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n' +
  'm=audio 49170 RTP/SAVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n' +
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n' +
  'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32 UNENCRYPTED_SRTCP\r\n';

export const ANSWER =
  'v=0\r\no=bob 2 2 IN IP4 192.0.2.2\r\ns=-\r\nt=0 0\r\n' +
  'm=audio 30000 RTP/SAVP 8\r\nc=IN IP4 192.0.2.2\r\na=rtcp-mux\r\na=sendonly\r\n' +
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:d0RmdmcmVCspeEc3QGZiNWpVLFJhQX1cfHAwJSoj|2^20|1:32\r\n' +
  'm=video 0 RTP/SAVP 96\r\n';
