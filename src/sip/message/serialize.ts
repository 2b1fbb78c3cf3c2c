import type { AnySipMessage, SipMessage } from './sip-message.js';

const encoder = new TextEncoder();

/**
 * The start line and header fields as text, ending with the empty line. Fields that were not
 * edited come out byte-exact (their `raw`); Content-Length is set to the body's length, and added
 * when missing (it is mandatory on streams, §20.14, and harmless on datagrams).
 */
export function serializeHead(m: SipMessage): string {
  const pristine = m.pristineHead();
  if (pristine !== undefined) return pristine + '\r\n\r\n';
  let out = m.startLine() + '\r\n';
  let sawLength = false;
  for (const f of m.fields) {
    if (f.key === 'content-length') {
      if (sawLength) continue;
      sawLength = true;
      if (f.raw !== undefined && Number(f.value) === m.bodyLength) out += f.raw + '\r\n';
      else out += `${f.name}: ${m.bodyLength}\r\n`;
      continue;
    }
    out += (f.raw ?? `${f.name}: ${f.value}`) + '\r\n';
  }
  if (!sawLength) out += `Content-Length: ${m.bodyLength}\r\n`;
  return out + '\r\n';
}

/** The whole message as bytes, ready for a socket. */
export function serialize(m: AnySipMessage): Uint8Array {
  const head = serializeHead(m);
  if (m.bodyLength === 0) return encoder.encode(head);
  // worst case three bytes per UTF-16 unit
  const out = new Uint8Array(head.length * 3 + m.bodyLength);
  const { written } = encoder.encodeInto(head, out);
  out.set(m.body, written);
  return out.subarray(0, written + m.bodyLength);
}

/** The whole message as text (bodies are decoded as UTF-8): for logs and tests. */
export function serializeToString(m: AnySipMessage): string {
  return serializeHead(m) + new TextDecoder().decode(m.body);
}
